"""`rapport resolve`: an operator settles an `unknown` message, and only such a message."""

from __future__ import annotations

import pytest
from conftest import RunCli
from x_helpers import add_contact, add_customer, contact

from engine.history.db import Database
from engine.ledger.states import ContactState
from engine.ops.resolve import post_id_from_url

S = ContactState
POST_URL = "https://x.com/acme/status/1799999999999999999"


@pytest.mark.parametrize(
    ("url", "post_id"),
    [
        (POST_URL, "1799999999999999999"),
        ("https://twitter.com/acme/status/42?s=20", "42"),
        ("http://mobile.twitter.com/acme/status/42/photo/1", "42"),
        ("https://x.com/i/web/status/7", "7"),
    ],
)
def test_the_post_id_comes_from_the_address(url: str, post_id: str) -> None:
    assert post_id_from_url(url) == post_id


def test_resolve_sent_takes_the_post_id_and_not_sent_fails_it_for_good(
    db: Database, run_cli: RunCli
) -> None:
    jane = add_customer(db, "jane_doe")
    posted = add_contact(db, jane, "@jane_doe one", state=S.UNKNOWN)
    lost = add_contact(db, jane, "@jane_doe two", state=S.UNKNOWN)

    assert run_cli("resolve", str(posted), "--sent", POST_URL)[:2] == (
        0,
        f"message {posted} is sent (post 1799999999999999999)\n",
    )
    row = contact(db, posted)
    assert (row.state, row.remote_id, row.sent_at is not None) == (
        S.SENT,
        "1799999999999999999",
        True,
    )

    code, out, _ = run_cli("resolve", str(lost), "--not-sent")
    assert code == 0 and out.startswith(f"message {lost} is failed: not sent: an operator checked")
    assert contact(db, lost).state == S.FAILED
    # Final: neither can be resolved again, and delivery never picks a failed row up.
    assert run_cli("resolve", str(lost), "--sent", POST_URL)[::2] == (
        1,
        f"error: message {lost} is failed, not unknown: only a message whose sending is "
        "uncertain can be resolved (nothing to do)\n",
    )


def test_resolve_refuses_rows_that_are_not_unknown_and_addresses_that_are_not_posts(
    db: Database, run_cli: RunCli
) -> None:
    jane = add_customer(db, "jane_doe")
    planned = add_contact(db, jane, "@jane_doe hi")
    unknown = add_contact(db, jane, "@jane_doe hey", state=S.UNKNOWN)
    assert run_cli("resolve", str(planned), "--not-sent")[::2] == (
        1,
        f"error: message {planned} is planned, not unknown: only a message whose sending is "
        "uncertain can be resolved (leave it to delivery)\n",
    )
    assert run_cli("resolve", "999", "--not-sent")[::2] == (
        1,
        "error: no message with id 999 (see `rapport status`)\n",
    )
    hint = "(give the post's address, e.g. https://x.com/acme/status/1799999999999999999)"
    assert run_cli("resolve", str(unknown), "--sent", "https://example.com/acme/status/1")[::2] == (
        1,
        f"error: --sent 'https://example.com/acme/status/1' is not the address of a post on X "
        f"{hint}\n",
    )
    assert run_cli("resolve", str(unknown), "--sent", "https://x.com/acme")[::2] == (
        1,
        f"error: --sent 'https://x.com/acme' is an X address but not a post's (no /status/<id>) "
        f"{hint}\n",
    )
    code, _, err = run_cli("resolve", str(unknown))
    assert code == 2 and "give exactly one of --sent URL or --not-sent" in err
    code, _, err = run_cli("resolve", str(unknown), "--not-sent", "--sent", POST_URL)
    assert code == 2
    assert contact(db, unknown).state == S.UNKNOWN
