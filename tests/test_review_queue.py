"""The queue's transitions called directly: suppressions, a complaint block that ends,
expiry after approval, and the loser of a race on one row."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from review_helpers import Queue, now, standard_queue

from engine.config import Policy, Settings
from engine.history.db import Database
from engine.history.models import Suppression
from engine.ledger.states import ContactState
from engine.review import queue as review
from engine.review.queue import Reviewer, ReviewRefused

pytestmark = pytest.mark.backends


@pytest.fixture
def queue(db: Database) -> Queue:
    return Queue(db)


def _approve(queue: Queue, contact_id: int, settings: Settings | None = None) -> None:
    reviewer = Reviewer("alice", settings or Settings())
    review.approve(queue.db, contact_id, reviewer=reviewer, now=now())


def test_a_suppression_refuses_edit_and_approval(queue: Queue) -> None:
    ids = standard_queue(queue)
    with queue.db.write() as session:
        session.add(Suppression(handle_key="jane_doe", reason="bounced", created_at=now()))
    with pytest.raises(ReviewRefused) as refused:
        _approve(queue, ids.jane)
    assert str(refused.value) == f"message {ids.jane}: the customer is suppressed (bounced) forever"
    with pytest.raises(ReviewRefused):
        review.edit(
            queue.db, ids.jane, text="@jane_doe hi", reviewer=Reviewer("a", Settings()), now=now()
        )
    assert queue.contact(ids.jane).state == ContactState.PENDING_REVIEW


def test_a_complaint_blocks_until_complaint_block_ends(queue: Queue) -> None:
    ids = standard_queue(queue)
    queue.event(queue.contact(ids.jane).customer_id, "complaint", timedelta(days=2))
    short = replace(Settings(), policy=Policy(complaint_block=timedelta(days=1)))
    _approve(queue, ids.jane, short)  # the one-day block is over
    queue.event(queue.contact(ids.ann).customer_id, "complaint", timedelta(hours=2))
    with pytest.raises(ReviewRefused) as refused:
        _approve(queue, ids.ann, short)
    assert refused.value.reason == "complaint_block"
    assert str(refused.value).endswith("that blocks proactive contact for 1d")


def test_an_approved_message_expires_if_nobody_posts_it(queue: Queue) -> None:
    ids = standard_queue(queue)
    _approve(queue, ids.jane)
    expires = timedelta(days=3)
    assert review.expire_overdue(queue.db, expires=expires, now=now() + timedelta(days=2)) == []
    later = now() + timedelta(days=3, minutes=1)
    assert set(review.expire_overdue(queue.db, expires=expires, now=later)) == {
        ids.jane,
        ids.bob,
        ids.ann,
    }
    row = queue.contact(ids.jane)
    assert (row.state, row.reason) == (
        ContactState.EXPIRED,
        "expired: not posted within review.expires 3d",
    )


def test_the_loser_of_a_race_is_told_who_won(queue: Queue) -> None:
    ids = standard_queue(queue)
    _approve(queue, ids.jane)  # the winner, already committed
    with queue.db.write() as session, pytest.raises(ReviewRefused) as refused:
        # the loser read the row as pending before the winner committed (PostgreSQL, read
        # committed); its conditional UPDATE then finds no pending row
        review._move(
            session,
            ids.jane,
            old=ContactState.PENDING_REVIEW,
            new=ContactState.REJECTED,
            now=now(),
            values={},
        )
    assert refused.value.reason == "lost_race"
    assert str(refused.value).startswith(
        f"message {ids.jane}: someone acted first: it is approved, no longer pending review"
        " (approved by alice at "
    )
    assert queue.contact(ids.jane).state == ContactState.APPROVED
