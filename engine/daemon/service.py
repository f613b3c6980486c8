"""The daemon: APScheduler 3.x jobs built from `schedule:`, signals, a graceful stop.

Jobs (all with coalesce=True, max_instances=1 and a misfire grace of one interval, so a
daemon that was busy or suspended runs a late job once, not once per missed run):

- evaluate, every `schedule.evaluate_every` (and at once at start): hot reload at the tick
  boundary, then one evaluation tick (engine/daemon/evaluating.py);
- deliver, every `schedule.deliver_every`; poll_x (with reconciliation), every
  `schedule.poll_x_every` (engine/daemon/jobs.py);
- housekeeping, hourly: unsent x replies past their expiry, old decisions.

Evaluation and housekeeping share one thread, deliver and poll_x another: jobs of one
thread never overlap, and a long evaluation never holds up a reply to a mention.

SIGTERM or SIGINT: no new job or batch starts; the batch in flight is committed, the run
row finished, the workers stopped, the heartbeat marked stopped, and the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from engine import clock
from engine.daemon import jobs
from engine.daemon import lock as heartbeat
from engine.daemon.evaluating import DEFAULT_BATCH_SIZE, evaluate_tick
from engine.daemon.logs import emit
from engine.daemon.pool import PoolSetup, WorkerPool
from engine.daemon.reload import Project, check_for_changes
from engine.durations import format_duration
from engine.errors import RapportError
from engine.faults import crash_point
from engine.history.db import Database
from engine.ops.metrics import MetricsServer, start_metrics_server
from engine.ops.pause import paused_hook
from engine.ops.removal import cancel_removed_cadences

HOUSEKEEPING_EVERY = timedelta(hours=1)


@dataclass
class Daemon:
    config_path: Path
    db: Database
    project: Project
    workers: int = 1
    batch_size: int = DEFAULT_BATCH_SIZE
    stopping: threading.Event = field(default_factory=threading.Event)
    _refused: str | None = None
    _pool: WorkerPool | None = None
    _scheduler: BlockingScheduler | None = None
    _stopper: threading.Thread | None = None
    _ended: threading.Event = field(default_factory=threading.Event)
    x: jobs.XChannelJobs = field(init=False)
    _metrics: MetricsServer | None = None

    def __post_init__(self) -> None:
        # Channels are fixed at start (a reload keeps them): one X client for the daemon.
        self.x = jobs.XChannelJobs(
            self.project.settings, stopping=self.stopping.is_set, paused=paused_hook(self.db)
        )

    # -- life ---------------------------------------------------------------------------

    def run(self) -> None:
        """Block until SIGTERM/SIGINT; the caller holds the daemon lock around this."""
        now = clock.now()
        settings = self.project.settings
        heartbeat.record_start(self.db, now=now, rules_hash=self.project.rules_hash)
        emit(
            "daemon_started",
            pid=os.getpid(),
            host=heartbeat.this_host(),
            rules_hash=self.project.rules_hash,
            workers=self.workers,
            evaluate_every=format_duration(settings.schedule.evaluate_every),
            deliver_every=format_duration(settings.schedule.deliver_every),
            poll_x_every=format_duration(settings.schedule.poll_x_every),
        )
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.x.recover_interrupted(self.db, now=now)
            self._cancel_removed(now)
            self._metrics = start_metrics_server(settings, self.db)
            self._pool = self._new_pool()
            self._scheduler = self._build_scheduler()
            self._scheduler.start()  # returns once a signal has shut it down
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            # start() may return as soon as the scheduler is marked stopped, before the
            # job in flight has finished: wait for it before the pool goes away.
            self._ended.set()
            if self._stopper is not None:
                self._stopper.join()
            if self._pool is not None:
                self._pool.close()
            if self._metrics is not None:
                self._metrics.close()
            heartbeat.record(self.db, stopped_at=clock.now())
            emit("daemon_stopped", "stopped cleanly")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        emit("stop_requested", "finishing the batch in flight", signal=signal.Signals(signum).name)
        # Not from inside the handler: shutdown waits for running jobs, and the handler
        # may have interrupted the scheduler's own loop while it held its locks.
        self._stopper = threading.Thread(target=self._shutdown, name="rapport-stop")
        self._stopper.start()

    def _shutdown(self) -> None:
        """Stop the scheduler once it runs (a signal may come while it is starting)."""
        while self._scheduler is None or not self._scheduler.running:
            if self._ended.is_set():  # start-up failed before the scheduler ran
                return
            time.sleep(0.05)
        self._scheduler.shutdown(wait=True)

    def _build_scheduler(self) -> BlockingScheduler:
        schedule = self.project.settings.schedule
        scheduler = BlockingScheduler(
            timezone="UTC",
            executors={
                "default": ThreadPoolExecutor(1),  # evaluate, housekeeping
                "x": ThreadPoolExecutor(1),  # deliver, poll_x
            },
        )
        self._add(scheduler, "evaluate", self.evaluate, schedule.evaluate_every, first_now=True)
        self._add(scheduler, "deliver", self.deliver, schedule.deliver_every, executor="x")
        self._add(scheduler, "poll_x", self.poll_x, schedule.poll_x_every, executor="x")
        self._add(scheduler, "housekeeping", self.housekeeping, HOUSEKEEPING_EVERY)
        return scheduler

    def _add(
        self,
        scheduler: BlockingScheduler,
        name: str,
        job: Callable[[], None],
        every: timedelta,
        *,
        executor: str = "default",
        first_now: bool = False,
    ) -> None:
        scheduler.add_job(
            self._guarded(name, job),
            "interval",
            seconds=every.total_seconds(),
            id=name,
            name=name,
            executor=executor,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(every.total_seconds())),
            **({"next_run_time": clock.now()} if first_now else {}),
        )

    def _guarded(self, name: str, job: Callable[[], None]) -> Callable[[], None]:
        """A job's failure is logged and the daemon goes on: the next run tries again."""

        def run() -> None:
            if self.stopping.is_set():
                return
            try:
                job()
            except RapportError as exc:
                emit(f"{name}_skipped", str(exc), level=logging.WARNING)
            except Exception as exc:  # a database locked too long, a bug: never fatal
                emit(
                    f"{name}_failed",
                    f"{type(exc).__name__}: {exc}",
                    level=logging.ERROR,
                )

        return run

    # -- jobs ---------------------------------------------------------------------------

    def evaluate(self) -> None:
        now = clock.now()
        crash_point("daemon_tick_start")
        self.reload(now)
        started = time.monotonic()
        assert self._pool is not None
        result = evaluate_tick(
            self.db,
            self._pool,
            strategy=self.project.strategy,
            settings=self.project.settings,
            now=now,
            batch_size=self.batch_size,
            stopping=self.stopping.is_set,
        )
        seconds = round(time.monotonic() - started, 3)
        heartbeat.record(self.db, last_tick_at=now, last_tick_seconds=seconds)
        summary = result.summary
        if self._metrics is not None:
            self._metrics.metrics.tick_done(seconds=seconds, evaluated=summary.evaluated)
        emit(
            "tick_done",
            evaluated=summary.evaluated,
            enrolled=summary.enrolled,
            planned=sum(summary.planned.values()),
            errors=summary.dropped.get("evaluation_error", 0),
            complete=result.complete,
            seconds=seconds,
            rules_hash=self.project.rules_hash,
        )

    def reload(self, now: datetime) -> None:
        found, self._refused = check_for_changes(
            self.config_path, self.project, refused=self._refused, now=now
        )
        for problem in found.problems:
            emit("reload_refused", str(problem), level=logging.WARNING)
        if found.problems:
            emit(
                "reload_kept",
                "the last good version keeps running",
                level=logging.WARNING,
                rules_hash=self.project.rules_hash,
                problems=len(found.problems),
            )
            heartbeat.record(self.db, last_reload_error="\n".join(str(p) for p in found.problems))
            if self._metrics is not None:
                self._metrics.metrics.reload_failed()
        if found.project is None:
            return
        old_hash, self.project = self.project.rules_hash, found.project
        old_pool, self._pool = self._pool, self._new_pool()
        if old_pool is not None:
            old_pool.close()
        emit(
            "rules_reloaded",
            old_rules_hash=old_hash,
            rules_hash=self.project.rules_hash,
            cadences=len(self.project.strategy.cadences),
        )
        for name in found.restart_needed:
            emit(
                "restart_needed",
                f"a change to {name} applies at the next start",
                level=logging.WARNING,
            )
        heartbeat.record(
            self.db,
            rules_hash=self.project.rules_hash,
            rules_loaded_at=now,
            last_reload_error=None,
        )
        self._cancel_removed(now)

    def _cancel_removed(self, now: datetime) -> None:
        """A cadence whose file is gone from valid rules: its queue is cancelled and its
        enrolments end (engine/ops/removal.py), at start and after each accepted reload."""
        removal = cancel_removed_cadences(self.db, self.project.strategy, now=now)
        if removal.cadences:
            emit(
                "cadences_removed",
                cadences=",".join(removal.cadences),
                cancelled=removal.cancelled,
                ended=removal.ended,
            )

    def deliver(self) -> None:
        self.x.deliver(self.db, now=clock.now())

    def poll_x(self) -> None:
        self.x.poll_x(self.db, now=clock.now())

    def housekeeping(self) -> None:
        jobs.housekeeping(self.db, self.project.strategy, self.project.settings, now=clock.now())

    def _new_pool(self) -> WorkerPool:
        setup = PoolSetup(self.db.url, self.project.strategy, self.project.settings)
        pool = WorkerPool(setup, size=self.workers)
        pool.start()
        emit("pool_started", rules_hash=self.project.rules_hash, pids=pool.pids)
        return pool
