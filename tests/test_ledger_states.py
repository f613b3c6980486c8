"""Contact transitions: the table in engine.ledger.states is the only way a state changes."""

from __future__ import annotations

import pytest

from engine.ledger.states import (
    Channel,
    ContactState,
    EnrolmentState,
    IllegalTransition,
)

S = ContactState


@pytest.mark.parametrize(
    ("channel", "old", "new"),
    [
        ("x", S.PLANNED, S.SENDING),
        ("x", S.SENDING, S.SENT),
        ("x", S.SENDING, S.PLANNED),
        ("x", S.UNKNOWN, S.FAILED),
        ("x", S.PLANNED, S.CANCELLED),
        ("review", S.PENDING_REVIEW, S.APPROVED),
        ("review", S.PENDING_REVIEW, S.PENDING_REVIEW),
        ("review", S.APPROVED, S.SENT),
        ("review", S.APPROVED, S.CANCELLED),
    ],
)
def test_allowed_transitions(channel: str, old: ContactState, new: ContactState) -> None:
    old.check(new, channel=channel)


def test_a_refused_transition_says_where_the_row_can_go() -> None:
    with pytest.raises(IllegalTransition) as caught:
        S.PENDING_REVIEW.check(S.SENDING, channel=Channel.REVIEW)
    assert str(caught.value) == (
        "a review message cannot go from pending_review to sending "
        "(from pending_review it can go to approved, cancelled, expired, pending_review, rejected)"
    )
    with pytest.raises(IllegalTransition, match="it is final"):
        S.SENT.check(S.PLANNED, channel="x")


def test_first_states_and_counting() -> None:
    assert ContactState.first("x") is S.PLANNED
    assert ContactState.first(Channel.REVIEW) is S.PENDING_REVIEW
    assert not S.CANCELLED.counts_for_caps and S.PENDING_REVIEW.counts_for_caps
    assert {s for s in S if s.queued} == {S.PLANNED, S.PENDING_REVIEW, S.APPROVED}
    assert {s for s in S if s.final} == {S.SENT, S.FAILED, S.REJECTED, S.EXPIRED, S.CANCELLED}
    assert EnrolmentState.HELD_OUT.ongoing and not EnrolmentState.EXITED.ongoing
    assert f"{S.SENT}" == "sent" and S.SENT == "sent"
