"""`rapport forget`: no trace of the customer's identity or messages in any text column of
any table; the anonymous rows still count for measurement; a later post from the same
account is a stranger's. And the text of posts deleted on X is removed."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import func, select, text, update
from x_helpers import settings_for

from engine import clock
from engine.history.db import Database
from engine.history.models import Contact, Customer, Enrolment, Event
from engine.ops.forget import purge_deleted_posts, record_deleted_posts
from engine.x.client import XClient
from engine.x.ingest import poll_x
from engine.x.stand_in import StandIn

STEPS = "- name: hello\n  template: t.j2\n- name: later\n  after: 1d\n  template: t.j2\n"
RULES = {"thanks": cadence("thanks", "event: purchase", STEPS, STARTS)}


def _everywhere(db_file: Path, needle: str) -> list[str]:
    """Every (table.column) of every table whose value contains `needle`, any case."""
    found = []
    with sqlite3.connect(db_file) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for column in [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]:
                hits = connection.execute(
                    f'SELECT count(*) FROM "{table}" WHERE instr(lower(CAST("{column}" AS TEXT)),'
                    " lower(?)) > 0",
                    (needle,),
                ).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
    return found


def _by_cadence_and_state(db: Database) -> Counter[tuple[str, str]]:
    with db.read() as session:
        return Counter((c, s) for c, s in session.execute(select(Contact.cadence, Contact.state)))


def test_forget_leaves_no_trace_and_measurement_still_counts_the_contacts(
    db: Database,
    db_url: str,
    tmp_path: Path,
    run_cli: RunCli,
    stand_in: StandIn,
    client: XClient,
) -> None:
    world = World(db, write_project(tmp_path, RULES))
    jane = world.customer("c-jane", handle="jane_doe", city="Lisbon")
    bob = world.customer("c-bob", handle="bob_b", city="Porto")
    for who in (jane, bob):
        world.event(who, "purchase", at(0), amount=25, note="the blue grinder")
    stand_in.mention("jane_doe", "@acme my grinder squeaks")
    stand_in.mention("bob_b", "@acme my kettle sings")
    poll_x(db, settings_for(stand_in.base_url), now=clock.now(), client=client)
    world.run(at(0, hours=1))
    world.run(at(2))
    with db.write() as session:  # one of jane's messages was posted from the review queue
        first = session.scalar(select(func.min(Contact.id)).where(Contact.customer_id == jane))
        session.execute(
            update(Contact).where(Contact.id == first).values(state="sent", remote_id="555")
        )
    with db.read() as session:
        texts = list(session.scalars(select(Contact.text).where(Contact.customer_id == jane)))
        x_post = session.scalars(
            select(Event.properties).where(Event.customer_id == jane, Event.source == "x")
        ).one()
    x_user = x_post["author_id"]
    assert len(texts) == 2 and all("@jane_doe" in t and "Name c-jane" in t for t in texts)
    before = _by_cadence_and_state(db)
    db_file = Path(db_url.removeprefix("sqlite:///"))
    needles = ["jane_doe", "Name c-jane", "c-jane", "Lisbon", "grinder squeaks", x_user, *texts]
    assert all(_everywhere(db_file, n) for n in needles)

    assert run_cli("forget", "c-jane", input="n\n")[0] == 1  # asked, refused: nothing changes
    assert _everywhere(db_file, "jane_doe")
    code, out, err = run_cli("forget", "c-jane", "--yes")
    assert code == 0, err
    assert out == (
        f"forgotten: customer c-jane is now forgotten:{jane} (2 events and 2 messages "
        "anonymised, 1 queued messages cancelled)\n"
    )

    for needle in needles:
        assert _everywhere(db_file, needle) == [], needle
    for needle in ("bob_b", "Name c-bob", "Porto", "kettle sings"):  # the others stay
        assert _everywhere(db_file, needle), needle
    # Measurement: every row is still there by cadence and state; only the queued one is
    # withdrawn (it can never be sent now).
    after = _by_cadence_and_state(db)
    assert sum(after.values()) == sum(before.values())
    assert after[("thanks", "sent")] == before[("thanks", "sent")] == 1
    assert after[("thanks", "cancelled")] == before[("thanks", "cancelled")] + 1
    with db.read() as session:
        kept = session.execute(
            select(Event.type, Event.occurred_at).where(Event.customer_id == jane)
        ).all()
        enrolment = session.execute(
            select(Enrolment.cadence, Enrolment.state).where(Enrolment.customer_id == jane)
        ).all()
    assert sorted(t for t, _ in kept) == ["mention", "purchase"]
    assert enrolment == [("thanks", "finished")]  # kept as it ended

    # A new post from the same account: a new prospect, no link to the forgotten row.
    stand_in.mention("jane_doe", "@acme hello again")
    poll_x(db, settings_for(stand_in.base_url), now=clock.now(), client=client)
    with db.read() as session:
        newcomer = session.execute(
            select(Customer.id, Customer.kind).where(Customer.handle_key == "jane_doe")
        ).one()
        old_events = session.scalar(
            text("SELECT count(*) FROM events WHERE customer_id = :id"), {"id": jane}
        )
    assert newcomer.id != jane and newcomer.kind == "prospect"
    assert old_events == 2
    assert world.run(at(3)).evaluated >= 2  # evaluation copes with the anonymous row
    assert run_cli("forget", f"forgotten:{jane}", "--yes")[::2] == (
        1,
        f"error: customer 'forgotten:{jane}' has already been forgotten\n",
    )
    assert run_cli("forget", "nobody", "--yes")[0] == 1


def test_deleted_posts_lose_their_text_at_the_next_housekeeping(
    db: Database, tmp_path: Path, run_cli: RunCli, stand_in: StandIn, client: XClient
) -> None:
    first = stand_in.mention("jane_doe", "@acme secret one")
    second = stand_in.mention("jane_doe", "@acme secret two")
    poll_x(db, settings_for(stand_in.base_url), now=clock.now(), client=client)

    def texts() -> dict[str, str | None]:
        with db.read() as session:
            rows = session.execute(select(Event.external_id, Event.properties)).all()
        return {post: props.get("text") for post, props in rows}

    assert record_deleted_posts(db, [first["id"]], now=clock.now(), source="x") == 1
    assert texts()[first["id"]] == "@acme secret one"  # not yet: housekeeping does it
    assert purge_deleted_posts(db, now=clock.now()) == 1
    assert texts() == {first["id"]: None, second["id"]: "@acme secret two"}
    assert purge_deleted_posts(db, now=clock.now()) == 0  # done once

    listing = tmp_path / "deleted.txt"
    listing.write_text(
        f"# from the compliance export\nhttps://x.com/jane_doe/status/{second['id']}\n"
    )
    assert run_cli("forget", "--posts", str(listing))[:2] == (
        0,
        "1 deleted posts listed (1 new); text removed from 1 rows\n",
    )
    assert texts()[second["id"]] is None
    listing.write_text("https://example.com/nope\n")
    assert run_cli("forget", "--posts", str(listing))[::2] == (
        1,
        f"error: {listing}:1: 'https://example.com/nope' is neither a post id nor a post's "
        "address (one id (digits) or https://x.com/<user>/status/<id> a line)\n",
    )
