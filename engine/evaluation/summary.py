"""What one evaluation did, counted: the `run --once` summary and the runs.counts row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.evaluation.records import Changes, json_safe
from engine.ledger.decisions import DecisionOutcome as Outcome
from engine.ledger.states import EnrolmentState


@dataclass
class Summary:
    """Counts of one evaluation. `held_out` counts steps resolved without a message."""

    now: datetime
    evaluated: int = 0
    enrolled: int = 0
    enrolled_held_out: int = 0
    planned: Counter[str] = field(default_factory=Counter)  # by channel
    held_out: int = 0
    deferred: Counter[str] = field(default_factory=Counter)  # by reason
    dropped: Counter[str] = field(default_factory=Counter)  # by reason
    skipped: int = 0
    expired: int = 0
    exited: int = 0
    finished: int = 0
    opted_out: int = 0  # new opt-out suppressions
    withdrawn: int = 0  # customers whose queued messages were withdrawn
    decisions: int = 0

    def add(self, changes: Changes, customers: int) -> None:
        self.evaluated += customers
        self.enrolled += len(changes.new_enrolments)
        self.enrolled_held_out += sum(
            e.state is EnrolmentState.HELD_OUT for e in changes.new_enrolments
        )
        self.planned.update(c.channel for c in changes.contacts)
        self.opted_out += len(changes.suppressions)
        self.withdrawn += len(changes.withdrawals)
        self.decisions += len(changes.decisions)
        for d in changes.decisions:
            if d.outcome is Outcome.HELD_OUT and d.step is not None:
                self.held_out += 1
            elif d.outcome is Outcome.DEFERRED:
                self.deferred[d.reason] += 1
            elif d.outcome is Outcome.DROPPED:
                self.dropped[d.reason] += 1
            elif d.outcome is Outcome.SKIPPED:
                self.skipped += 1
            elif d.outcome is Outcome.EXPIRED:
                self.expired += 1
            elif d.outcome is Outcome.EXITED:
                self.exited += 1
        for e in [*changes.new_enrolments, *changes.enrolment_updates]:
            self.finished += e.ended_at == self.now and e.state in (
                EnrolmentState.FINISHED,
                EnrolmentState.HELD_OUT,
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated_at": json_safe(self.now),
            "evaluated": self.evaluated,
            "enrolled": self.enrolled,
            "enrolled_held_out": self.enrolled_held_out,
            "planned": sum(self.planned.values()),
            "planned_by_channel": dict(sorted(self.planned.items())),
            "held_out": self.held_out,
            "deferred": sum(self.deferred.values()),
            "deferred_by_reason": dict(sorted(self.deferred.items())),
            "dropped": sum(self.dropped.values()),
            "dropped_by_reason": dict(sorted(self.dropped.items())),
            "skipped": self.skipped,
            "expired": self.expired,
            "exited": self.exited,
            "finished": self.finished,
            "opted_out": self.opted_out,
            "withdrawn": self.withdrawn,
            "decisions": self.decisions,
        }

    def merge(self, other: Summary) -> None:
        """Add another evaluation's counts (a simulation's grand total)."""
        for name, value in vars(other).items():
            if name in ("now", "evaluated"):
                continue
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)

    def text(self, *, dry_run: bool = False) -> str:
        """One line: "evaluated 200 customers at …: enrolled 12, planned 9 (review 7, x 2), …".

        A dry run (preview) writes nothing, so it says what it would record.
        """
        # Waiting steps are decided (and recorded) again at every run: say how many.
        if not self.decisions:
            recorded = ""
        elif dry_run:
            recorded = f"; would record {self.decisions} decisions"
        else:
            recorded = f"; {self.decisions} decisions recorded"
        return (
            f"evaluated {self.evaluated} customers at {json_safe(self.now)}: "
            + self.counts_text()
            + recorded
        )

    def counts_text(self) -> str:
        """ "enrolled 12, planned 9 (review 7, x 2), held out 1, …"."""
        parts = [
            f"enrolled {self.enrolled}",
            _with_breakdown("planned", self.planned),
            f"held out {self.held_out}",
            _with_breakdown("deferred", self.deferred),
            _with_breakdown("dropped", self.dropped),
            f"skipped {self.skipped}",
            f"expired {self.expired}",
            f"exited {self.exited}",
        ]
        if self.opted_out:
            parts.append(f"new opt-outs {self.opted_out}")
        if self.withdrawn:
            parts.append(f"queues withdrawn {self.withdrawn}")
        return ", ".join(parts)


def _with_breakdown(label: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    if not total:
        return f"{label} 0"
    inside = ", ".join(
        f"{key} {n}" for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"{label} {total} ({inside})"
