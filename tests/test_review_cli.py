"""The review queue from the terminal: list, approve, edit, reject, bulk, expiry, the
re-checks at approval, and two processes approving one message at once."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT, RunCli
from review_helpers import EVIL_NAME, HTML_POST, POST_ID, Queue, standard_queue, write_config

from engine.history.db import Database
from engine.ledger.states import ContactState

pytestmark = pytest.mark.backends


@pytest.fixture
def queue(db: Database, tmp_path: Path) -> Queue:
    write_config(tmp_path)
    return Queue(db)


def test_list_shows_why_text_length_age_and_the_intent_link(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    code, out, err = run_cli("review")
    assert (code, err) == (0, "")
    assert f"#{ids.bob}  @bob ({EVIL_NAME})  prospects/hello  age 1h00m" in out
    assert "    why:  keyword at " in out and HTML_POST in out
    assert "    text: @jane_doe thank you for your first order!  [41/280]" in out
    assert out.endswith(
        "3 pending (rapport approve ID…, reject ID…, edit ID --text T; expire after 3d)\n"
    )
    code, out, _ = run_cli("review", "--format", "json", "--cadence", "prospects")
    (item,) = json.loads(out)
    assert (item["id"], item["handle"], item["weighted_length"]) == (ids.bob, "bob", 38)
    assert item["why"]["text"] == HTML_POST
    link = urlsplit(item["intent_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "x.com", "/intent/post")
    assert parse_qs(link.query) == {
        "text": ["@bob glad you like it & thanks #coffee"],
        "in_reply_to": [POST_ID],
    }
    assert "&text" not in link.query and " " not in item["intent_url"]


def test_a_thank_you_for_a_purchase_answers_no_post(queue: Queue, run_cli: RunCli) -> None:
    standard_queue(queue)
    _, out, _ = run_cli("review", "--format", "json", "--cadence", "thanks")
    assert "in_reply_to" not in json.loads(out)[0]["intent_url"]


def test_older_than_filters(queue: Queue, run_cli: RunCli) -> None:
    jane = queue.customer("jane_doe")
    old = queue.message(jane, "@jane_doe old", ago=timedelta(hours=30))
    queue.message(jane, "@jane_doe new", ago=timedelta(hours=1))
    _, out, _ = run_cli("review", "--older-than", "1d", "--format", "json")
    assert [item["id"] for item in json.loads(out)] == [old]
    code, _, err = run_cli("review", "--older-than", "1 day")
    assert code == 2 and "'1 day' is not a duration (use 3d, 12h, 30m)" in err


def test_approve_records_the_os_user_and_both_texts(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    code, out, err = run_cli("approve", str(ids.jane))
    assert (code, err) == (0, "")
    assert out.startswith(
        f"approved {ids.jane} @jane_doe: post it at https://x.com/intent/post?text=%40jane_doe"
    )
    row = queue.contact(ids.jane)
    assert row.state == ContactState.APPROVED
    assert row.reviewed_by == getpass.getuser() and row.reviewed_at is not None
    assert row.approved_text == row.generated_text == "@jane_doe thank you for your first order!"


def test_edit_checks_like_a_rendered_text(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    cases = {
        "@jane_doe " + "x" * 280: f"error: message {ids.jane}: the text is 290 weighted characters,"
        " over X's 280 (shorten it by 10; links count 23, emoji and most non-Latin characters 2)\n",
        "@jane thanks!": f"error: message {ids.jane}: the text does not mention the recipient"
        " @jane_doe; add it\n",
        "@jane_doe thanks, say hi to @bob": f"error: message {ids.jane}: the text mentions @bob;"
        " only the recipient @jane_doe may be mentioned (the step does not set"
        " allow_mentions: true)\n",
    }
    for text, message in cases.items():
        assert run_cli("edit", str(ids.jane), "--text", text)[::2] == (1, message)
    assert queue.contact(ids.jane).text == "@jane_doe thank you for your first order!"
    # emoji weigh 2: 10 + 135 × 2 = 280 fits exactly
    fits = "@jane_doe " + "🎉" * 135
    code, out, _ = run_cli("edit", str(ids.jane), "--text", fits)
    assert (code, out) == (0, f"edited {ids.jane} @jane_doe [280/280]\n")
    row = queue.contact(ids.jane)
    assert (row.state, row.text) == (ContactState.PENDING_REVIEW, fits)
    assert row.generated_text == "@jane_doe thank you for your first order!"


def test_plain_reject_keeps_the_enrolment_and_stop_ends_it(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    assert run_cli("reject", str(ids.jane), "--reason", "late order")[:2] == (
        0,
        f"rejected {ids.jane}\n",
    )
    row = queue.contact(ids.jane)
    assert (row.state, row.reason) == (ContactState.REJECTED, "rejected: late order")
    assert queue.enrolment_state(ids.jane) == "active"
    code, out, _ = run_cli("reject", str(ids.bob), "--stop")
    assert (code, out) == (0, f"rejected {ids.bob} and ended its enrolment\n")
    assert queue.enrolment_state(ids.bob) == "exited"
    again = run_cli("reject", str(ids.bob))
    assert again[0] == 1 and "it is rejected, no longer pending review (rejected by" in again[2]


def test_bulk_acts_on_one_cadence(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    other = queue.message(queue.customer("zoe"), "@zoe thanks!", cadence="thanks")
    code, out, err = run_cli("approve", "--all", "--cadence", "thanks")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "approved 2, refused 0"
    assert queue.contact(other).state == queue.contact(ids.jane).state == ContactState.APPROVED
    assert queue.contact(ids.ann).state == ContactState.PENDING_REVIEW
    code, out, _ = run_cli(
        "edit", "--all", "--cadence", "check-in", "--text", "@{handle} all good?"
    )
    assert (code, out.splitlines()[-1]) == (0, "edited 1, refused 0")
    assert queue.contact(ids.ann).text == "@ann_lee all good?"
    code, out, _ = run_cli("reject", "--all", "--cadence", "check-in")
    assert (code, out.splitlines()[-1]) == (0, "rejected 1, refused 0")
    assert run_cli("approve", "--all")[::2] == (
        2,
        _usage("--all needs --cadence NAME (one cadence at a time)", "approve"),
    )
    assert run_cli("approve", "1", "--all", "--cadence", "x")[0] == 2
    code, _, err = run_cli("edit", "--all", "--cadence", "thanks", "--text", "hi")
    assert code == 2 and "with --all, --text needs {handle}" in err


def _usage(message: str, command: str) -> str:
    return (
        f"Usage: python -m engine {command} [OPTIONS] [IDS]...\n"
        f"Try 'python -m engine {command} --help' for help.\n\nError: {message}\n"
    )


def test_overdue_messages_expire_and_cannot_be_approved(queue: Queue, run_cli: RunCli) -> None:
    jane = queue.customer("jane_doe")
    stale = queue.message(jane, "@jane_doe thanks!", ago=timedelta(days=3, minutes=1))
    code, out, _ = run_cli("review")
    assert (code, out) == (0, "The review queue is empty.\n")
    row = queue.contact(stale)
    assert (row.state, row.reason) == (
        ContactState.EXPIRED,
        "expired: not reviewed within review.expires 3d",
    )
    assert run_cli("approve", str(stale))[::2] == (
        1,
        f"error: message {stale}: it is expired, no longer pending review"
        " (expired: not reviewed within review.expires 3d)\n",
    )


def test_an_opt_out_since_generation_refuses_approval(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    queue.event(
        queue.contact(ids.jane).customer_id, "reply", timedelta(minutes=10), text="STOP please"
    )
    code, out, err = run_cli("approve", str(ids.jane))
    assert (code, out) == (1, "")
    assert err.startswith(
        f"error: message {ids.jane}: the customer opted out ('stop' in the customer's reply) at "
    )
    assert queue.contact(ids.jane).state == ContactState.PENDING_REVIEW
    bob = queue.contact(ids.bob).customer_id
    queue.event(bob, "complaint", timedelta(minutes=5))
    err = run_cli("approve", str(ids.bob))[2]
    assert "the customer complained at" in err and "blocks proactive contact" in err


def test_a_cap_full_since_generation_refuses_approval(
    queue: Queue, run_cli: RunCli, tmp_path: Path
) -> None:
    write_config(tmp_path, "policy:\n  caps: [{max: 1, per: 1d}]\n")
    ids = standard_queue(queue)
    jane = queue.contact(ids.jane).customer_id
    # a reply went out automatically half an hour ago, after the thank-you was generated
    sent = queue.message(
        jane,
        "@jane_doe hi",
        cadence="mention-reply",
        step="reply",
        ago=timedelta(minutes=30),
        state=ContactState.SENT,
        channel="x",
    )
    code, _, err = run_cli("approve", str(ids.jane))
    assert code == 1
    assert err.startswith(
        f"error: message {ids.jane}: cap 1 per 1d is full now: message {sent}"
        " (mention-reply/reply, sent) at "
    )
    assert queue.contact(ids.jane).state == ContactState.PENDING_REVIEW
    write_config(tmp_path, "policy:\n  min_gap: 2h\n")
    err = run_cli("approve", str(ids.jane))[2]
    assert f"min_gap 2h: message {sent} (mention-reply/reply, sent)" in err


def test_mark_sent_takes_the_post_id_from_the_url(queue: Queue, run_cli: RunCli) -> None:
    ids = standard_queue(queue)
    assert run_cli("mark-sent", str(ids.jane), "--url", "https://x.com/acme/status/1")[::2] == (
        1,
        f"error: message {ids.jane}: only an approved message can be marked sent"
        " (approve it first)\n",
    )
    run_cli("approve", str(ids.jane))
    assert run_cli("mark-sent", str(ids.jane), "--url", "https://example.com/acme/status/1")[
        ::2
    ] == (
        1,
        "error: 'https://example.com/acme/status/1' is not the URL of an X post"
        " (copy it from the post, e.g. https://x.com/acme/status/1790000000000000000)\n",
    )
    url = "https://x.com/acme/status/1790000000000000099"
    assert run_cli("mark-sent", str(ids.jane), "--url", url)[:2] == (
        0,
        f"sent {ids.jane}: post 1790000000000000099\n",
    )
    row = queue.contact(ids.jane)
    assert (row.state, row.remote_id, row.post_url) == (
        ContactState.SENT,
        "1790000000000000099",
        url,
    )


def test_two_processes_approving_one_message_one_wins(
    queue: Queue, db_url: str, tmp_path: Path
) -> None:
    ids = standard_queue(queue)
    env = {**os.environ, "RAPPORT_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "engine", "approve", str(ids.jane)]
    processes = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = sorted((p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in processes)  # type: ignore[union-attr]
    assert [code for code, _, _ in results] == [0, 1]
    assert results[0][1].startswith(f"approved {ids.jane} @jane_doe")
    assert results[1][2].startswith(f"error: message {ids.jane}: ")
    assert "no longer pending review (approved by" in results[1][2]
