"""`rapport daemon` replying on X, killed (SIGKILL) at the delivery's crash points and at
random moments, then restarted: the stand-in X API receives every reply at most once, no
reply is lost (each ends `sent`, `failed` with a reason, or `unknown`), and the ledger
agrees with what X posted.

Before each start new people @mention the brand on the stand-in, so every start has
replies in flight when it dies. The random moments include the worst one: the stand-in
has read the POST (and will post it) when the daemon dies, so the answer is lost between
the HTTP call and the commit; reconciliation must then find the post. A few seeds in a
local run, 20 when CI=true (never skipped). Real daemon processes, a real SQLite file,
real SIGKILLs (engine/faults.py), real HTTP on loopback.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from daemon_helpers import DaemonProcess
from daemon_x_helpers import (
    POST,
    assert_at_most_once_and_nothing_lost,
    mention_brand,
    start,
    wait_settled,
    x_project,
)

from engine.x.stand_in import StandIn

MENTIONS_PER_START = 4
SEEDS = 20 if os.environ.get("CI") == "true" else 3
DELIVERY_POINTS = [
    "before_send_commit",  # `sending` not yet committed: nothing happened
    "after_send_commit",  # `sending` committed, X never called: unknown, never resent
    "after_http_before_commit",  # X posted it, the answer never written
    "before_outcome_commit",  # inside the outcome's transaction
    "after_sent_commit",  # `sent` committed, the pass not finished
    "after_outcome_commit",  # a refusal (scripted 403) committed as `failed`
]


def finish_cleanly(project: Any, stand_in: StandIn) -> None:
    """A clean daemon settles everything; SIGTERM; then the ledger must be exactly right."""
    daemon = start(project)
    wait_settled(project, stand_in, daemon)
    code, _ = daemon.stop()
    assert code == 0, daemon.tail()
    assert_at_most_once_and_nothing_lost(project, stand_in)
    # At least one answer was lost between the HTTP call and the commit (a kill after X
    # read the POST): reconciliation found that post, nothing sent it again.
    found = project.rows("SELECT count(*) FROM contacts WHERE reason LIKE 'found on X by%'")
    assert found[0][0] >= 1


def test_a_daemon_killed_at_each_delivery_crash_point_never_posts_twice_nor_loses_a_reply(
    tmp_path: Path, stand_in: StandIn
) -> None:
    project = x_project(tmp_path, stand_in)
    for point in DELIVERY_POINTS:
        mention_brand(stand_in, MENTIONS_PER_START)
        if point == "after_outcome_commit":
            stand_in.fail(POST, status=403)  # duplicate content: `failed`, with the reason
        daemon = start(project, RAPPORT_CRASH_AT=point)
        assert daemon.popen.wait(timeout=120) == -signal.SIGKILL, (point, daemon.tail())
    finish_cleanly(project, stand_in)
    assert any(r["status"] == "failed" for r in _states(project)), "no scripted refusal seen"


def _states(project: Any) -> list[dict[str, Any]]:
    return [
        {"status": state, "reason": reason}
        for state, reason in project.rows("SELECT state, reason FROM contacts")
    ]


def kill_when_x_has_read_a_post(stand_in: StandIn, daemon: DaemonProcess, nth: int) -> None:
    """SIGKILL the daemon the moment the stand-in has read its `nth` POST of this start,
    before X answers (the stand-in then posts it anyway, to a dead connection)."""
    seen = len(stand_in.requests_to(POST))

    def on_request(entry: dict[str, Any]) -> None:
        if entry["endpoint"] == POST and len(stand_in.requests_to(POST)) - seen == nth:
            daemon.popen.send_signal(signal.SIGKILL)

    stand_in.on_request = on_request


def test_a_daemon_killed_at_random_moments_never_posts_twice_nor_loses_a_reply(
    tmp_path: Path, stand_in: StandIn
) -> None:
    project = x_project(tmp_path, stand_in)
    for seed in range(SEEDS):
        rng = random.Random(seed)
        mention_brand(stand_in, MENTIONS_PER_START)
        if rng.random() < 0.3:  # a slow answer widens the window between call and commit
            stand_in.fail(POST, delay=rng.uniform(0.2, 1.0))
        daemon = start(project)
        if seed % 2 == 0:
            kill_when_x_has_read_a_post(stand_in, daemon, rng.randint(1, MENTIONS_PER_START))
            daemon.wait_for("pool_started")
            deadline = time.monotonic() + 30
            while daemon.alive and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            daemon.wait_for("pool_started")
            time.sleep(rng.uniform(0.0, 3.0))  # often mid-pass, at any line
        if daemon.alive:
            daemon.kill()
        else:
            daemon.popen.wait(timeout=30)
        stand_in.on_request = None
    finish_cleanly(project, stand_in)
