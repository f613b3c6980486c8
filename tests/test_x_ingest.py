"""Ingestion from a real stand-in X API into a real SQLite file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from x_helpers import add_contact, add_customer, contact, settings_for

from engine import clock
from engine.history.db import Database
from engine.history.models import Customer, Event, Suppression, XCursor
from engine.ledger.states import ContactState
from engine.x.client import XClient
from engine.x.ingest import poll_x, search_query
from engine.x.stand_in import StandIn

pytestmark = pytest.mark.backends


def poll(db: Database, stand_in: StandIn, client: XClient) -> Any:
    return poll_x(db, settings_for(stand_in.base_url), now=clock.now(), client=client)


def events(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    with db.read() as session:
        rows = session.execute(
            select(Customer.handle, Event.type, Event.properties)
            .join(Customer, Customer.id == Event.customer_id)
            .order_by(Event.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_search_query_quotes_phrases_and_leaves_out_our_own_posts() -> None:
    assert search_query(["acme", "acme coffee"], "acme") == (
        '(acme OR "acme coffee") -is:retweet -from:acme'
    )


def test_posts_become_events_once_with_their_kind_and_x_properties(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    add_customer(db, "jane_doe")
    brand_post = stand_in.mention("acme", "New beans today")
    mention = stand_in.mention("jane_doe", "@acme is the grinder back?")
    stand_in.mention("kenji", "so good", in_reply_to=brand_post["id"])
    stand_in.mention("amara", "look at this", quote_of=brand_post["id"])
    stand_in.mention("luis", "acme coffee vs the rest?")
    stand_in.mention("mei", "globex delivery late again")
    report = poll(db, stand_in, client)
    assert dict(report.events) == {"mention": 1, "reply": 1, "quote": 1, "keyword": 2}
    found = events(db)
    kinds = {handle: (kind, props) for handle, kind, props in found}
    assert kinds["jane_doe"][0] == "mention"
    assert kinds["jane_doe"][1] == {
        "post_id": mention["id"],
        "text": "@acme is the grinder back?",
        "url": f"https://x.com/jane_doe/status/{mention['id']}",
        "author_id": mention["author_id"],
        "conversation_id": mention["id"],
    }
    assert kinds["kenji"][0] == "reply" and kinds["kenji"][1]["in_reply_to"] == brand_post["id"]
    assert kinds["amara"][0] == "quote"
    assert kinds["luis"][0] == "keyword"
    assert kinds["luis"][1]["term"] == "acme coffee" and kinds["luis"][1]["about"] == "brand"
    assert kinds["mei"][1]["term"] == "globex" and kinds["mei"][1]["about"] == "competitor"
    assert sorted(report.prospects) == ["amara", "kenji", "luis", "mei"]
    # A second poll finds nothing new: the cursors moved, and the keys would refuse it anyway.
    again = poll(db, stand_in, client)
    assert sum(again.events.values()) == 0
    assert len(events(db)) == 5


def test_cursors_are_kept_per_endpoint_and_sent_as_since_id(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    first = stand_in.mention("jane_doe", "@acme one")
    poll(db, stand_in, client)
    with db.read() as session:
        cursor = session.get(XCursor, "mentions")
        assert cursor is not None and cursor.since_id == first["id"]
        assert cursor.last_success_at is not None
    second = stand_in.mention("jane_doe", "@acme two")
    report = poll(db, stand_in, client)
    assert dict(report.events) == {"mention": 1}
    asked = stand_in.requests_to("GET /2/users/:id/mentions")[-1]["query"]
    assert asked["since_id"] == first["id"]
    assert report.cursors["mentions"] == second["id"]


def test_a_known_customer_is_found_by_handle_whatever_the_case(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    jane = add_customer(db, "Jane_Doe")
    stand_in.mention("jane_doe", "@acme hi")
    report = poll(db, stand_in, client)
    assert report.prospects == []
    with db.read() as session:
        assert session.scalar(select(Event.customer_id)) == jane


def test_an_unknown_author_becomes_a_prospect_keyed_by_handle(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    post = stand_in.mention("new_person", "@acme hello")
    poll(db, stand_in, client)
    with db.read() as session:
        prospect = session.scalar(select(Customer).where(Customer.handle_key == "new_person"))
        assert prospect is not None and prospect.kind == "prospect"
        assert prospect.external_id == f"x:{post['author_id']}"


def test_an_opt_out_word_suppresses_the_author_at_once_and_withdraws_queued_messages(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    jane = add_customer(db, "jane_doe")
    queued = add_contact(db, jane, "@jane_doe hello")
    stand_in.mention("jane_doe", "@acme STOP messaging me")
    report = poll(db, stand_in, client)
    assert report.opted_out == [jane]
    with db.read() as session:
        [suppression] = session.scalars(select(Suppression)).all()
        assert (suppression.customer_id, suppression.reason) == (jane, "opted_out")
        assert suppression.until is None and suppression.source_event_id is not None
    row = contact(db, queued)
    assert row.state == ContactState.CANCELLED and row.reason == "opted_out"


def test_the_brand_user_id_is_asked_once(db: Database, stand_in: StandIn, client: XClient) -> None:
    poll(db, stand_in, client)
    poll(db, stand_in, client)
    assert len(stand_in.requests_to("GET /2/users/me")) == 1


def test_pagination_reads_every_page(db: Database, stand_in: StandIn, client: XClient) -> None:
    for n in range(130):
        stand_in.mention(f"fan_{n}", f"@acme hello {n}")
    report = poll(db, stand_in, client)
    assert report.events["mention"] == 130
    pages = stand_in.requests_to("GET /2/users/:id/mentions")
    assert [p["query"].get("pagination_token") for p in pages] == [None, "100"]


def test_a_failed_read_keeps_its_cursor_and_the_others_go_on(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    stand_in.mention("jane_doe", "@acme one")
    stand_in.mention("luis", "acme coffee?")
    stand_in.fail("GET /2/users/:id/mentions", status=429, reset_in=60)
    report = poll(db, stand_in, client)
    assert report.problems == ["mentions: GET /2/users/:id/mentions: HTTP 429: scripted failure"]
    # The search found both (a post that @mentions the brand is a mention wherever found).
    assert dict(report.events) == {"mention": 1, "keyword": 1}
    assert report.cursors.keys() == {"search:brand", "search:competitor"}
    again = poll(db, stand_in, client)
    assert "since_id" not in stand_in.requests_to("GET /2/users/:id/mentions")[-1]["query"]
    assert (sum(again.events.values()), again.already_seen) == (0, 1)
