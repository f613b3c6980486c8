"""`rapport daemon` against the stand-in X API: a project that replies to every mention on
channel x, mentions posted to the stand-in, and the checks that no reply went out twice and
none was lost.

The stand-in runs in the test's process (engine/x/stand_in.py), the daemon is a real child
process (tests/daemon_helpers.py) that reads mentions from it, evaluates, and posts replies
to it: the whole way, on loopback HTTP and a real SQLite file.
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import count
from pathlib import Path
from typing import Any

from daemon_helpers import DaemonProcess, DaemonProject

from engine.ledger.states import ContactState
from engine.x.stand_in import StandIn

POST = "POST /2/tweets"
TOKEN_ENV = {"RAPPORT_X_TOKEN": "stand-in-token"}
# A unique text per mention (the post id is in it), so X's duplicate-content refusal only
# ever comes from a scripted 403.
REPLY_TEMPLATE = "@{{ customer.handle }} thanks for post {{ event.post_id }}!"
REPLY_RULE = """\
version: 1
cadence: reply
description: Reply to every post that mentions the brand.
audience: everyone
priority: 90
starts: 2020-01-01T00:00:00Z
channel: x
trigger:
  event: mention
reentry: always
steps:
  - name: reply
    expires: 1h
    template: t.j2
"""
# The client's timeout is short so a scripted slow answer past it ends quickly.
CONFIG = """\
timezone: UTC
brand: {{handle: acme}}
schedule: {{evaluate_every: 1s, deliver_every: 1s, poll_x_every: 1s}}
channels:
  x: {{base_url: "{base_url}", timeout: {timeout}, max_attempts: 2}}
"""
# Where a reply may end: anything else is lost or stuck.
SETTLED = {ContactState.SENT.value, ContactState.FAILED.value, ContactState.UNKNOWN.value}
_authors = count(1)


def x_project(root: Path, stand_in: StandIn, *, timeout: str = "3s") -> DaemonProject:
    return DaemonProject(
        root,
        rules={"reply": REPLY_RULE},
        config=CONFIG.format(base_url=stand_in.base_url, timeout=timeout),
        template=REPLY_TEMPLATE,
    )


def start(project: DaemonProject, **env: str) -> DaemonProcess:
    return project.start(env={**TOKEN_ENV, **env})


def mention_brand(stand_in: StandIn, n: int) -> list[str]:
    """`n` new people @mention the brand now; their post ids."""
    return [stand_in.mention(f"fan{next(_authors)}", "@acme hello!")["id"] for _ in range(n)]


def mention_ids(stand_in: StandIn) -> list[str]:
    world = stand_in.world
    return [p["id"] for p in world.mentions_of(world.brand_id)]


def brand_replies(stand_in: StandIn) -> dict[str, str]:
    """The stand-in's posts by the brand: post id -> the post it replies to."""
    world = stand_in.world
    return {
        p["id"]: next(r["id"] for r in p["referenced_tweets"] if r["type"] == "replied_to")
        for p in world.posts_by(world.brand_id)
    }


def replies(project: DaemonProject) -> list[tuple[int, str, str | None, str | None, str | None]]:
    """(id, state, in_reply_to, remote_id, reason) of every channel-x message."""
    return project.rows(
        "SELECT id, state, in_reply_to, remote_id, reason FROM contacts WHERE channel = 'x'"
    )


def settled(project: DaemonProject, stand_in: StandIn) -> bool:
    """Every mention has its reply row, none is still on its way, and every reply X made is
    known as sent (reconciliation found those whose answer was lost)."""
    rows = replies(project)
    posted = set(brand_replies(stand_in).values())
    return (
        {r[2] for r in rows} == set(mention_ids(stand_in))
        and all(r[1] in SETTLED for r in rows)
        and all(r[1] == ContactState.SENT.value for r in rows if r[2] in posted)
    )


def wait_settled(
    project: DaemonProject, stand_in: StandIn, daemon: DaemonProcess, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while not settled(project, stand_in):
        if not daemon.alive:
            raise AssertionError(f"daemon exited {daemon.popen.returncode}:\n{daemon.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {timeout}s: {replies(project)}")
        time.sleep(0.2)


def assert_at_most_once_and_nothing_lost(project: DaemonProject, stand_in: StandIn) -> None:
    """The stand-in received each reply at most once and posted it at most once; every
    mention has exactly one reply row that ended `sent` (with X's post id), `failed` with a
    reason, or `unknown` (then X never posted it); the attempts ledger agrees."""
    received = Counter(
        r["body"]["reply"]["in_reply_to_tweet_id"] for r in stand_in.requests_to(POST)
    )
    assert [post for post, n in received.items() if n > 1] == []
    made = brand_replies(stand_in)
    assert all(n == 1 for n in Counter(made.values()).values())
    rows = replies(project)
    assert Counter(r[2] for r in rows) == Counter(mention_ids(stand_in))
    by_target = {target: post for post, target in made.items()}
    for contact_id, state, target, remote_id, reason in rows:
        assert state in SETTLED, (contact_id, state)
        if state == ContactState.SENT.value:
            assert target is not None and remote_id == by_target[target], (contact_id, remote_id)
        else:
            assert target not in by_target, (contact_id, state, "posted on X but not sent")
            assert reason, (contact_id, state, "no reason")
    assert_attempts_consistent(project)


def assert_attempts_consistent(project: DaemonProject) -> None:
    """Each reply that reached X or might have has its attempt rows, all with an outcome;
    a sent reply has its last attempt `sent`."""
    attempts: dict[int, list[str | None]] = {}
    for contact_id, outcome in project.rows(
        "SELECT contact_id, outcome FROM x_post_attempts ORDER BY id"
    ):
        attempts.setdefault(contact_id, []).append(outcome)
    for contact_id, state, *_ in replies(project):
        outcomes: list[Any] = attempts.get(contact_id, [])
        assert None not in outcomes, (contact_id, outcomes)
        if state in (ContactState.SENT.value, ContactState.UNKNOWN.value):
            assert outcomes, (contact_id, state, "no attempt recorded")
        if state == ContactState.SENT.value and outcomes[-1] != ContactState.SENT.value:
            # settled by reconciliation: the attempt's answer was lost
            assert outcomes[-1] == ContactState.UNKNOWN.value, (contact_id, outcomes)
