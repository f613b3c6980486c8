"""The core of one evaluation, pure and in memory: triggers → matching → enrolments →
contacting, driven batch by batch by `pipeline`. Reads come from engine.facts, writes go
to a sink in engine.ledger; engine.modes runs it as run, preview, explain or simulate."""
