"""SIGTERM while the daemon waits on X: the reply in flight is finished and committed, no
other starts, no row is left `sending`, and the process exits 0 within 10 s."""

from __future__ import annotations

import time
from pathlib import Path

from daemon_x_helpers import POST, mention_brand, replies, start, x_project

from engine.x.stand_in import StandIn


def test_sigterm_during_a_slow_post_exits_0_within_10s_with_no_row_left_sending(
    tmp_path: Path, stand_in: StandIn
) -> None:
    project = x_project(tmp_path, stand_in, timeout="5s")
    mention_brand(stand_in, 3)
    stand_in.fail(POST, delay=3, times=3)  # slow, but inside the client's timeout
    daemon = start(project)
    deadline = time.monotonic() + 60
    while not stand_in.requests_to(POST):  # X has the first reply and is thinking
        assert daemon.alive and time.monotonic() < deadline, daemon.tail()
        time.sleep(0.05)
    code, seconds = daemon.stop(timeout=10)
    assert (code, seconds < 10) == (0, True), daemon.tail()
    states = sorted(state for _id, state, *_ in replies(project))
    assert states == ["planned", "planned", "sent"]  # the one in flight finished; no other began
    assert len(stand_in.requests_to(POST)) == 1
    assert [e["event"] for e in daemon.events()][-1] == "daemon_stopped"
