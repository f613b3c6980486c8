"""Caps, min_gap and arbitration by priority: the exact outcome, reason, detail and retry time."""

from __future__ import annotations

from datetime import timedelta

from policy_helpers import NOW, cadence, candidate, caps, one, past, policy, state

from engine.policy import decide
from engine.strategy.model import Cap


def test_global_cap_counts_every_cadence() -> None:
    s = state(past=(past("other", NOW - timedelta(hours=2)),))
    (v,) = decide([candidate()], s, NOW, policy(caps=caps((1, "1d"))))
    assert (v.outcome, v.reason, v.detail) == ("defer", "cap", "cap 1 per 1d reached")
    assert v.retry_at == NOW + timedelta(hours=22)


def test_cap_window_is_half_open() -> None:
    s = state(past=(past("other", NOW - timedelta(days=1)),))  # exactly `per` ago: out
    assert one(decide([candidate()], s, NOW, policy(caps=caps((1, "1d")))))[0] == "send"


def test_cadence_cap_counts_only_its_own_contacts() -> None:
    capped = cadence("thanks", cap=Cap(1, timedelta(days=30)))
    mine = state(past=(past("thanks", NOW - timedelta(days=10)),))
    assert one(decide([candidate(capped)], mine, NOW, policy())) == (
        "defer",
        "cadence_cap",
        "cadence cap 1 per 30d reached",
    )
    others = state(past=(past("other", NOW - timedelta(days=10)),))
    assert one(decide([candidate(capped)], others, NOW, policy()))[0] == "send"


def test_min_gap() -> None:
    s = state(past=(past("other", NOW - timedelta(hours=5)),))
    (v,) = decide([candidate()], s, NOW, policy(min_gap=timedelta(hours=24)))
    assert (v.outcome, v.reason, v.detail) == (
        "defer",
        "min_gap",
        "min_gap 1d: a contact at 2026-06-15T13:00:00Z",
    )
    assert v.retry_at == NOW + timedelta(hours=19)


def test_zero_cap_never_sends() -> None:
    assert one(decide([candidate()], state(), NOW, policy(caps=caps((0, "1d")))))[1] == "cap"


def test_arbitration_by_priority_then_cadence_name() -> None:
    low = candidate(cadence("winback", priority=40))
    high = candidate(cadence("thanks", priority=60))
    tie = candidate(cadence("birthday", priority=60))
    verdicts = decide([low, high, tie], state(), NOW, policy(caps=caps((2, "1d"))))
    assert [(v.candidate.cadence.name, v.outcome, v.reason) for v in verdicts] == [
        ("birthday", "send", "sent_to_outbox"),
        ("thanks", "send", "sent_to_outbox"),
        ("winback", "defer", "cap"),
    ]


def test_sends_in_one_call_count_for_min_gap() -> None:
    verdicts = decide(
        [candidate(cadence("a")), candidate(cadence("b"))],
        state(),
        NOW,
        policy(min_gap=timedelta(hours=1)),
    )
    assert [(v.outcome, v.reason) for v in verdicts] == [
        ("send", "sent_to_outbox"),
        ("defer", "min_gap"),
    ]


def test_a_contact_planned_after_now_still_counts() -> None:
    s = state(past=(past("other", NOW + timedelta(hours=2)),))
    assert one(decide([candidate()], s, NOW, policy(caps=caps((1, "1d")))))[1] == "cap"
    assert one(decide([candidate()], s, NOW, policy(min_gap=timedelta(hours=3))))[1] == "min_gap"
