"""Reconciliation: the brand's own posts settle unknown and approved messages."""

from __future__ import annotations

import time

import pytest
from x_helpers import add_contact, add_customer, contact, settings_for

from engine import clock
from engine.delivery.outbox import deliver_due
from engine.history.db import Database
from engine.ledger.states import Channel, ContactState
from engine.x.client import XClient
from engine.x.reconcile import normalise, reconcile
from engine.x.stand_in import StandIn

pytestmark = pytest.mark.backends

S = ContactState


def test_posted_messages_are_marked_sent_with_the_post_id(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    jane = add_customer(db, "jane_doe")
    mention = stand_in.mention("jane_doe", "@acme hi")
    timed_out = add_contact(db, jane, "@jane_doe hello & welcome", in_reply_to=mention["id"],
                            state=S.UNKNOWN)  # fmt: skip
    approved = add_contact(db, jane, "@jane_doe thanks for your order", in_reply_to=None,
                           channel=Channel.REVIEW, state=S.APPROVED)  # fmt: skip
    never = add_contact(db, jane, "@jane_doe never posted", state=S.UNKNOWN, in_reply_to="5")
    reply = stand_in.mention("acme", "@jane_doe hello &amp; welcome", in_reply_to=mention["id"])
    post = stand_in.mention("acme", "@jane_doe thanks for your   order")
    report = reconcile(db, settings_for(stand_in.base_url), now=clock.now(), client=client)
    assert report.sent == {
        timed_out: f"https://x.com/acme/status/{reply['id']}",
        approved: f"https://x.com/acme/status/{post['id']}",
    }
    assert report.still_open == 1
    assert (contact(db, timed_out).state, contact(db, timed_out).remote_id) == (S.SENT, reply["id"])
    assert contact(db, approved).state == S.SENT
    assert contact(db, never).state == S.UNKNOWN


def test_the_reply_target_must_match_too(db: Database, stand_in: StandIn, client: XClient) -> None:
    jane = add_customer(db, "jane_doe")
    cid = add_contact(db, jane, "@jane_doe hi", in_reply_to="999", state=S.UNKNOWN)
    stand_in.mention("acme", "@jane_doe hi")  # same text, not a reply to 999
    reconcile(db, settings_for(stand_in.base_url), now=clock.now(), client=client)
    assert contact(db, cid).state == S.UNKNOWN


def test_nothing_open_means_no_call_to_x(db: Database, stand_in: StandIn, client: XClient) -> None:
    reconcile(db, settings_for(stand_in.base_url), now=clock.now(), client=client)
    assert stand_in.received == []


def test_links_and_spacing_are_made_uniform() -> None:
    assert normalise("see  https://acme.example/x\n&amp; more") == "see <link> & more"


def test_a_reply_that_timed_out_but_was_posted_is_settled_as_sent(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    jane = add_customer(db, "jane_doe")
    mention = stand_in.mention("jane_doe", "@acme hi")
    cid = add_contact(db, jane, "@jane_doe slow but there", in_reply_to=mention["id"])
    stand_in.fail(delay=1.5)  # the client gives up after 1 s; the post is made at 1.5 s
    settings = settings_for(stand_in.base_url)
    assert deliver_due(db, settings, now=clock.now(), client=client).unknown == [cid]
    deadline = time.monotonic() + 10
    while "@jane_doe slow but there" not in stand_in.world.brand_texts():
        assert time.monotonic() < deadline, "the stand-in never made the slow post"
        time.sleep(0.05)
    assert cid in reconcile(db, settings, now=clock.now(), client=client).sent
    assert contact(db, cid).state == S.SENT
