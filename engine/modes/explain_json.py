"""`explain --format json`: the same answer as the text, for tools.

One object per customer: the cadences (enrolments, why not enrolled, conditions with
their values, decisions), the caps with their contacts, quiet hours and `wake_at`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.durations import format_duration
from engine.evaluation.records import EnrolmentRecord, json_safe
from engine.modes.explain_values import ConditionValues, ExplainValues

if TYPE_CHECKING:
    from engine.modes.explain import Explained


def explain_document(run: Explained) -> dict[str, Any]:
    """`explain --format json`: the same answer, for tools."""
    values = ExplainValues.of(run)
    c = run.history.customer
    cadences = []
    for cadence in run.evaluation.strategy.cadences:
        mine = [e for e in run.enrolments if e.cadence == cadence.name]
        cadences.append(
            {
                "cadence": cadence.name,
                "priority": cadence.priority,
                "channel": cadence.channel,
                "enrolments": [_enrolment(e) for e in mine[-2:]],
                "not_enrolled": None if mine else run.not_enrolled.get(cadence.name),
                "conditions": [_condition(v) for v in values.conditions[cadence.name]],
                "decisions": [
                    {
                        "step": d.step,
                        "decision": d.outcome,
                        "reason": d.reason,
                        "detail": d.detail,
                        "text": d.text or None,
                    }
                    for d in run.sink.changes.decisions
                    if d.cadence == cadence.name
                ],
            }
        )
    return {
        "customer_id": c.external_id,
        "handle": c.handle,
        "kind": c.kind,
        "timezone": c.timezone,
        "at": json_safe(run.now),
        "cadences": cadences,
        "caps": [
            {
                "rule": u.rule,
                "limit": u.limit,
                "full": u.full,
                "contacts": [
                    {"planned_at": json_safe(t), "cadence": cad, "step": s}
                    for t, cad, s in u.contacts
                ],
            }
            for u in values.caps
        ],
        "quiet_hours": values.quiet_hours,
        "wake_at": json_safe(values.wake_at),
        "wake_reason": values.wake_reason,
    }


def _enrolment(e: EnrolmentRecord) -> dict[str, Any]:
    return {
        "entered_at": json_safe(e.entered_at),
        "state": e.state,
        "last_step": e.last_step,
        "ended_at": json_safe(e.ended_at),
        "new": e.id is None,
    }


def _condition(v: ConditionValues) -> dict[str, Any]:
    return {
        "role": v.role,
        "condition": v.text,
        "holds": v.holds,
        "comparisons": [
            {"text": c.text, "left": _plain(c.left), "right": _plain(c.right), "holds": c.holds}
            for c in v.comparisons
        ],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, timedelta):
        return format_duration(value)
    return json_safe(value)
