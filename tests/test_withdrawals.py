"""An opt-out, a complaint or a suppression withdraws the customer's queued messages
(planned, pending_review, approved → cancelled, with the reason) in the evaluation that
records it; what already left, or was planned after a complaint, stays as it is."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from pathlib import Path

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project
from sqlalchemy import select

from engine.history.db import Database
from engine.history.models import Contact, Suppression
from engine.ledger.states import Channel, ContactState
from engine.ledger.withdraw import withdraw_queued

pytestmark = pytest.mark.backends

S = ContactState
KEYS = count(1)
# (channel, state) of the ledger rows each test starts from, planned a day before.
QUEUE = [
    (Channel.X, S.PLANNED),
    (Channel.REVIEW, S.PENDING_REVIEW),
    (Channel.REVIEW, S.APPROVED),
    (Channel.REVIEW, S.SENT),
    (Channel.X, S.UNKNOWN),
]


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    # A cadence nobody can enter: the ledger rows below are the only messages.
    rules = {"w": cadence("w", "event: never_happens", ONE_STEP, STARTS)}
    return World(db, write_project(tmp_path / "project", rules, config="timezone: UTC\n"))


def queue(world: World, customer: int, planned_at: datetime, rows: list[tuple[Channel, S]]) -> None:
    with world.db.write() as session:
        for channel, state in rows:
            session.add(
                Contact(
                    customer_id=customer,
                    cadence="w",
                    step="only",
                    idempotency_key=f"k{next(KEYS)}",
                    text="hello",
                    channel=channel.value,
                    state=state.value,
                    planned_at=planned_at,
                    updated_at=planned_at,
                )
            )


def states(world: World, customer: int) -> list[tuple[str, str, str | None]]:
    with world.db.read() as session:
        rows = session.execute(
            select(Contact.channel, Contact.state, Contact.reason)
            .where(Contact.customer_id == customer)
            .order_by(Contact.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def withdrawn(reason: str) -> list[tuple[str, str, str | None]]:
    return [
        ("x", "cancelled", reason),
        ("review", "cancelled", reason),
        ("review", "cancelled", reason),
        ("review", "sent", None),
        ("x", "unknown", None),
    ]


UNTOUCHED = [(c.value, s.value, None) for c, s in QUEUE]


def test_an_opt_out_withdraws_the_queue_in_the_same_run(world: World) -> None:
    ann, bob = world.customer("ann"), world.customer("bob")
    queue(world, ann, at(-1), QUEUE)
    queue(world, bob, at(-1), QUEUE)
    world.event(ann, "reply", at(-0.5), text="please STOP")
    world.preview(at(0))
    assert states(world, ann) == UNTOUCHED  # a preview writes nothing
    world.run(at(0))
    assert states(world, ann) == withdrawn("opted_out")
    assert states(world, bob) == UNTOUCHED


def test_a_complaint_withdraws_what_was_queued_before_it(world: World) -> None:
    ann = world.customer("ann")
    queue(world, ann, at(-1), QUEUE)
    world.event(ann, "complaint", at(-0.5))
    queue(world, ann, at(-0.25), [(Channel.X, S.PLANNED)])  # a reply planned after it
    world.run(at(0))
    assert states(world, ann) == [*withdrawn("complaint_block"), ("x", "planned", None)]


def test_a_suppression_made_by_another_tool_withdraws_at_the_next_run(world: World) -> None:
    ann = world.customer("ann", handle="Ann_X")
    queue(world, ann, at(-1), QUEUE)
    with world.db.write() as session:  # by handle, as a suppression list would name her
        session.add(Suppression(handle_key="ann_x", reason="legal", created_at=at(-0.5)))
    world.run(at(0))
    assert states(world, ann) == withdrawn("suppressed")


def test_withdrawing_respects_each_channel_s_transitions(world: World) -> None:
    ann = world.customer("ann")
    # An x message never waits for review: such a row is left alone, not forced along.
    queue(world, ann, at(-1), [(Channel.X, S.PENDING_REVIEW), (Channel.REVIEW, S.PLANNED)])
    queue(world, ann, at(-1), QUEUE)
    with world.db.write() as session:
        assert withdraw_queued(session, ann, reason="opted_out", at=at(0)) == 3
    assert states(world, ann)[:2] == [("x", "pending_review", None), ("review", "planned", None)]
