"""Reconciliation: the brand's own posts settle unknown and approved messages."""

from __future__ import annotations

from x_helpers import add_contact, add_customer, contact, settings_for

from engine import clock
from engine.history.db import Database
from engine.ledger.states import Channel, ContactState
from engine.x.client import XClient
from engine.x.reconcile import normalise, reconcile
from engine.x.stand_in import StandIn

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
