"""Worker processes that evaluate batches of customers, so durable_rules never runs in the
daemon itself (docs/daemon.md, "Isolation").

durable_rules is a C library: a crash in it (a segfault, a double free) kills its process,
and every ruleset it was given stays in that process's memory until it ends. So the daemon
keeps a pool of worker processes that live exactly as long as one version of the rules:
each compiles the rules once, evaluates any number of ticks' batches, and ends when the
rules change (the pool is replaced) or the daemon stops.

A worker that dies while evaluating a batch is logged and replaced; its batch is tried
once more in the fresh worker. If that one dies too, the batch's customers get an
`evaluation_error` decision (the next tick tries them again) and the tick goes on.
Results come back in batch order, so the writes equal those of a one-process pass.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from engine.config import Settings
from engine.daemon.logs import emit
from engine.faults import crash_point
from engine.strategy.model import Strategy

ATTEMPTS = 2  # the first try, then once more in a fresh worker
STOP_WAIT_SECONDS = 5.0
# A batch of 500 customers takes about a second; one that takes this long is stuck in C
# code (no Python exception can end it): its worker is killed and the batch retried.
BATCH_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class PoolSetup:
    """What a worker needs for its whole life: one version of the rules and settings."""

    database_url: str
    strategy: Strategy
    settings: Settings


@dataclass(frozen=True)
class Task:
    number: int
    ids: list[int]
    now: datetime
    go_lives: dict[str, datetime]
    attempt: int = 1


@dataclass
class BatchResult:
    number: int
    changes: Any  # engine.evaluation Changes
    evaluated: int


def _serve(connection: Connection, setup: PoolSetup) -> None:
    """A worker's life: compile the rules once, then evaluate batches until told to stop."""
    from engine.daemon.evaluation_seam import worker_evaluator

    # Ctrl-C reaches the whole process group: the daemon decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    evaluate = worker_evaluator(setup.database_url, setup.strategy, setup.settings)
    connection.send(("ready", None))  # a batch's time limit starts after this boot
    while True:
        try:
            task: Task | None = connection.recv()
        except (EOFError, OSError):  # the daemon is gone
            return
        if task is None:
            return
        crash_point("worker_batch")
        try:
            changes, evaluated = evaluate(task.ids, task.now, task.go_lives)
        except Exception as exc:  # the daemon logs it and retries the batch
            connection.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            connection.send(("ok", (changes, evaluated)))


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    task: Task | None = None
    booted: bool = False  # said "ready": the rules are compiled
    busy_since: float | None = None  # when its batch's time limit started

    def overdue(self, limit: float) -> float | None:
        """Seconds left for its batch (negative: overdue); None while booting or idle."""
        if self.task is None or self.busy_since is None:
            return None
        return self.busy_since + limit - time.monotonic()


@dataclass
class WorkerPool:
    """`size` worker processes for one PoolSetup; `close` ends them."""

    setup: PoolSetup
    size: int = 1
    batch_timeout: float = BATCH_TIMEOUT_SECONDS
    _workers: list[_Worker] = field(default_factory=list)

    def start(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        # spawn, not fork: a forked child would inherit the daemon's threads and connections.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self.setup), name="rapport-worker", daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def evaluate(
        self,
        batches: Iterable[list[int]],
        *,
        now: datetime,
        go_lives: dict[str, datetime],
        stopping: Callable[[], bool] = lambda: False,
    ) -> Iterator[BatchResult]:
        """Each batch's result in batch order. When `stopping()` turns true no new batch
        starts; those in flight still finish and are yielded."""
        self.start()
        waiting = (Task(n, ids, now, go_lives) for n, ids in enumerate(batches))
        retries: list[Task] = []
        done: dict[int, BatchResult] = {}
        next_number = 0
        while True:
            for worker in self._workers:
                if worker.task is None and not stopping():
                    task = retries.pop(0) if retries else next(waiting, None)
                    if task is None:
                        break
                    worker.task = task
                    worker.busy_since = time.monotonic() if worker.booted else None
                    # A worker that died while idle: its sentinel reports it just below.
                    with contextlib.suppress(OSError):
                        worker.connection.send(task)
            busy = [w for w in self._workers if w.task is not None]
            if not busy:
                break
            for worker in self._ready(busy):
                result = self._collect(worker, retries)
                if result is not None:
                    done[result.number] = result
            while next_number in done:
                yield done.pop(next_number)
                next_number += 1
        # Stopped early, or a retry's number was passed over: nothing is left in flight.
        for number in sorted(done):
            yield done[number]

    def _ready(self, busy: list[_Worker]) -> list[_Worker]:
        handles: dict[Any, _Worker] = {}
        for worker in busy:
            handles[worker.connection] = worker
            handles[worker.process.sentinel] = worker
        left = [t for w in busy if (t := w.overdue(self.batch_timeout)) is not None]
        ready = wait(list(handles), timeout=max(0.0, min(left)) if left else None)
        if not ready:  # stuck: kill it; its sentinel fires at the next wait, and its batch
            for worker in busy:  # is retried like a dead worker's
                if (t := worker.overdue(self.batch_timeout)) is not None and t <= 0.05:
                    emit(
                        "batch_timeout",
                        "a batch took too long: its worker is killed",
                        level=logging.ERROR,
                        pid=worker.process.pid,
                        seconds=self.batch_timeout,
                    )
                    worker.process.kill()
                    worker.busy_since = None  # no second kill: wait for its sentinel
            return []
        return list({id(handles[h]): handles[h] for h in ready}.values())

    def _collect(self, worker: _Worker, retries: list[Task]) -> BatchResult | None:
        """The finished batch's result, or None when it is to be retried (queued)."""
        task = worker.task
        assert task is not None
        try:
            if not worker.connection.poll():
                raise EOFError  # the sentinel fired: the process ended without answering
            status, payload = worker.connection.recv()
        except (EOFError, OSError):
            worker.task = None
            return self._worker_died(worker, task, retries)
        if status == "ready":  # booted; its batch is already in the pipe
            worker.booted, worker.busy_since = True, time.monotonic()
            return None
        worker.task = worker.busy_since = None
        if status == "ok":
            changes, evaluated = payload
            return BatchResult(task.number, changes, evaluated)
        emit(
            "batch_failed", payload, level=logging.WARNING, batch=task.number, attempt=task.attempt
        )
        return self._retry_or_give_up(task, retries, payload)

    def _worker_died(self, worker: _Worker, task: Task, retries: list[Task]) -> BatchResult | None:
        worker.process.join(timeout=STOP_WAIT_SECONDS)
        code = worker.process.exitcode
        emit(
            "worker_died",
            "a worker process ended while evaluating a batch; starting a fresh one",
            level=logging.ERROR,
            pid=worker.process.pid,
            exit_code=code,
            batch=task.number,
            customers=len(task.ids),
            attempt=task.attempt,
        )
        worker.connection.close()
        index = self._workers.index(worker)
        self._workers[index] = self._spawn()
        return self._retry_or_give_up(task, retries, f"the worker process died (exit code {code})")

    def _retry_or_give_up(self, task: Task, retries: list[Task], why: str) -> BatchResult | None:
        if task.attempt < ATTEMPTS:
            retries.append(replace(task, attempt=task.attempt + 1))
            return None
        from engine.daemon.evaluation_seam import error_changes

        emit(
            "batch_given_up",
            "customers recorded as evaluation_error; the next tick tries them again",
            level=logging.ERROR,
            batch=task.number,
            customers=len(task.ids),
            reason=why,
        )
        return BatchResult(task.number, error_changes(task.ids, task.now, why), 0)

    def close(self) -> None:
        """Ask every worker to stop, then end those that do not (a hung C call)."""
        for worker in self._workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(timeout=STOP_WAIT_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self._workers.clear()

    @property
    def pids(self) -> list[int | None]:
        return [w.process.pid for w in self._workers]


__all__ = ["BatchResult", "PoolSetup", "WorkerPool"]
