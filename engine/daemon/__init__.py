"""`rapport daemon`: the long-running scheduler (docs/daemon.md).

Modules, by concept:
- logs.py       one line per event, text or JSON
- lock.py       one daemon per database: a file or advisory lock, and the heartbeat row
- pool.py       worker processes that run durable_rules, so the daemon never does
- evaluating.py one evaluation tick through the pool, batch by batch, stoppable
- evaluation_seam.py  the only door into engine.evaluation
- reload.py     hot reload: a changed project is validated, then replaces the running one
- jobs.py       the seam to delivery, X ingestion and housekeeping
- service.py    the scheduler wiring, signals and the graceful stop
"""
