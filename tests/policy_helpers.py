"""Builders for contact-policy tests (no tests here): real model objects, short to write."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from engine.cap import Cap
from engine.config import Policy, QuietHours
from engine.durations import parse_duration
from engine.facts import CustomerFacts, EventFacts, PastContact, SuppressionFacts
from engine.policy import Candidate, CustomerPolicyState, Verdict, idempotency_key
from engine.strategy.model import Cadence, EventTrigger, Reentry, Source, Step

NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)  # 11:00 in Los Angeles, 20:00 in Paris


def cadence(
    name: str = "thanks",
    *,
    priority: int = 50,
    channel: str = "review",
    cap: Cap | None = None,
    holdout: float = 0.0,
    trigger: str = "purchase",
) -> Cadence:
    source = Source("rules/x.yaml", 1)
    step = Step(
        name="step",
        after=timedelta(0),
        expires=None,
        templates=(("", "x.j2"),),
        fallback=None,
        when=None,
        unless=None,
        allow_mentions=False,
        source=source,
    )
    return Cadence(
        name=name,
        description="",
        audience="everyone",
        priority=priority,
        channel=channel,  # type: ignore[arg-type]
        trigger=EventTrigger(trigger),
        reentry=Reentry("always"),
        exit_on=(),
        holdout=holdout,
        cap=cap,
        steps=(step,),
        starts=None,
        source=source,
    )


def customer(
    external_id: str = "c1",
    *,
    timezone: str = "America/Los_Angeles",
    kind: str = "customer",
    consent_at: datetime | None = datetime(2026, 1, 1, tzinfo=UTC),
) -> CustomerFacts:
    return CustomerFacts(1, external_id, "handle", timezone, kind, consent_at, {})


def event(type_: str = "purchase", **properties: Any) -> EventFacts:
    return EventFacts(1, type_, NOW - timedelta(minutes=5), properties, f"e-{type_}")


def candidate(
    cad: Cadence | None = None,
    *,
    who: CustomerFacts | None = None,
    trigger: EventFacts | None = None,
    in_reply_to: str | None = None,
    start: datetime = NOW - timedelta(days=1),
) -> Candidate:
    cad = cad or cadence()
    who = who or customer()
    step = cad.steps[0]
    key = idempotency_key(who.external_id, cad.name, start, step.name, in_reply_to)
    return Candidate(
        customer=who,
        cadence=cad,
        step=step,
        step_index=0,
        enrolment_id=None,
        enrolment_start=start,
        due=start,
        trigger_event=trigger,
        variant="",
        template="x.j2",
        idempotency_key=key,
        in_reply_to=in_reply_to,
    )


def mention_candidate(post_id: str = "t1", text: str = "@acme hi", **kw: Any) -> Candidate:
    cad = kw.pop("cad", None) or cadence("mention-reply", channel="x", priority=90)
    return candidate(
        cad, trigger=event("mention", post_id=post_id, text=text), in_reply_to=post_id, **kw
    )


def state(
    past: tuple[PastContact, ...] = (),
    suppressions: tuple[SuppressionFacts, ...] = (),
    last_complaint_at: datetime | None = None,
) -> CustomerPolicyState:
    return CustomerPolicyState(past, suppressions, last_complaint_at)


def past(
    cadence_name: str, at: datetime, channel: str = "review", reply_to: str | None = None
) -> PastContact:
    return PastContact(cadence_name, at, channel, reply_to)


def policy(**overrides: Any) -> Policy:
    return Policy(**overrides)


def quiet(text: str) -> QuietHours:
    start, end = (time.fromisoformat(part) for part in text.split("-"))
    return QuietHours(start, end)


def caps(*rules: tuple[int, str]) -> tuple[Cap, ...]:
    return tuple(Cap(max_, parse_duration(per)) for max_, per in rules)


def one(verdicts: list[Verdict]) -> tuple[str, str, str]:
    """(outcome, reason, detail) of the only verdict."""
    assert len(verdicts) == 1
    v = verdicts[0]
    return v.outcome, v.reason, v.detail
