"""The emergency stop against the stand-in X: a pause taken while posts are going out stops
the pass before its next HTTP call; resuming sends the rest; a cadence can be paused alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import RunCli
from sqlalchemy import select
from x_helpers import add_contact, add_customer, settings_for

from engine import clock
from engine.delivery.outbox import deliver_due
from engine.history.db import Database
from engine.history.models import Contact
from engine.ops.pause import pause, paused_hook, pauses, resume
from engine.x.client import XClient
from engine.x.stand_in import StandIn

POST = "POST /2/tweets"


def _queue(db: Database, stand_in: StandIn, cadences: list[str]) -> list[int]:
    ids = []
    for n, cadence in enumerate(cadences):
        handle = f"fan_{n}"
        customer = add_customer(db, handle)
        mention = stand_in.mention(handle, f"@acme question {n}")
        ids.append(
            add_contact(
                db, customer, f"@{handle} answer {n}", in_reply_to=mention["id"], cadence=cadence
            )
        )
    return ids


def _states(db: Database) -> dict[int, str]:
    with db.read() as session:
        return {i: s for i, s in session.execute(select(Contact.id, Contact.state))}


def _deliver(db: Database, stand_in: StandIn, client: XClient) -> Any:
    return deliver_due(
        db, settings_for(stand_in.base_url), now=clock.now(), client=client, paused=paused_hook(db)
    )


def test_a_pause_while_posting_stops_before_the_next_call_and_resume_sends_the_rest(
    db: Database, db_url: str, stand_in: StandIn, client: XClient
) -> None:
    ids = _queue(db, stand_in, ["mention-reply"] * 5)
    operator = Database.open(db_url)  # the operator's own connection, as `rapport pause` has

    def pause_at_second_post(entry: dict[str, Any]) -> None:
        if entry["endpoint"] == POST and len(stand_in.requests_to(POST)) == 2:
            pause(operator, cadence=None, now=clock.now())  # the request in flight finishes

    stand_in.on_request = pause_at_second_post
    report = _deliver(db, stand_in, client)
    assert report.sent == ids[:2]
    assert report.paused == ids[2:]
    posted = [r["body"]["text"] for r in stand_in.requests_to(POST)]
    assert posted == ["@fan_0 answer 0", "@fan_1 answer 1"]
    assert [_states(db)[i] for i in ids] == ["sent", "sent", "planned", "planned", "planned"]

    stand_in.on_request = None
    assert _deliver(db, stand_in, client).sent == []  # still paused: nothing leaves
    assert len(stand_in.requests_to(POST)) == 2

    assert resume(operator, cadence=None)
    report = _deliver(db, stand_in, client)
    assert report.sent == ids[2:]
    assert [r["body"]["text"] for r in stand_in.requests_to(POST)] == [
        f"@fan_{n} answer {n}" for n in range(5)
    ]
    operator.dispose()


def test_a_cadence_paused_alone_holds_only_its_own_messages(
    db: Database, stand_in: StandIn, client: XClient
) -> None:
    ids = _queue(db, stand_in, ["mention-reply", "thanks", "mention-reply"])
    assert pause(db, cadence="thanks", now=clock.now())
    assert not pause(db, cadence="thanks", now=clock.now())  # already: nothing changes
    report = _deliver(db, stand_in, client)
    assert (report.sent, report.paused) == ([ids[0], ids[2]], [ids[1]])
    assert set(pauses(db)) == {"thanks"}
    assert resume(db, cadence="thanks") and not resume(db, cadence="thanks")
    assert _deliver(db, stand_in, client).sent == [ids[1]]


def test_pause_and_resume_commands_are_recorded_and_shown_by_status(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "templates").mkdir()
    assert run_cli("pause")[:2] == (0, "paused all sending\n")
    assert run_cli("pause")[:2] == (0, "all sending was already paused\n")
    code, _out, err = run_cli("pause", "--cadence", "nope")
    assert code == 2 and "no cadence named 'nope' (cadences: none)" in err
    status = run_cli("status", "--format", "json")[1]
    assert '"all": true' in status
    assert "paused     ALL SENDING since" in run_cli("status")[1]
    assert set(pauses(db)) == {"*"}
    assert run_cli("resume")[:2] == (0, "resumed all sending\n")
    assert run_cli("resume")[::2] == (
        1,
        "error: all sending was not paused (`rapport status` shows what is)\n",
    )
    assert pauses(db) == {}


def test_a_cadence_can_be_paused_while_the_rules_are_broken(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    from engine.history.models import CadenceLaunch

    (tmp_path / "rules").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "rules" / "half.yaml").write_text("version: 1\ncadence: hal")  # mid-save
    with db.write() as session:
        session.add(CadenceLaunch(cadence="thanks", first_seen_at=clock.now()))
    assert run_cli("pause", "--cadence", "thanks")[:2] == (0, "paused cadence thanks\n")
    assert run_cli("pause")[0] == 0
    assert run_cli("resume", "--cadence", "thanks")[:2] == (
        0,
        "resumed cadence thanks (all sending is still paused)\n",
    )
    assert run_cli("pause", "--cadence", "thanks")[0] == 0
    assert run_cli("resume")[:2] == (0, "resumed all sending (cadences still paused: thanks)\n")
