"""The daemon runs the operator's tools: metrics on `daemon.metrics`, removed cadences."""

from __future__ import annotations

import socket
import urllib.request
from datetime import timedelta
from pathlib import Path

from daemon_helpers import CONFIG, DaemonProject


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_daemon_serves_metrics_and_counts_its_ticks(tmp_path: Path) -> None:
    port = free_port()
    project = DaemonProject(tmp_path, config=CONFIG + f"daemon: {{metrics: '127.0.0.1:{port}'}}\n")
    daemon = project.start()
    daemon.wait_for("tick_done")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        page = answer.read().decode()
    assert "rapport_ticks_total" in page and "rapport_outbox_messages" in page
    ticks = [line for line in page.splitlines() if line.startswith("rapport_ticks_total ")]
    assert ticks and float(ticks[0].split()[1]) >= 1
    assert daemon.stop()[0] == 0


def test_removing_a_cadence_file_while_running_cancels_its_queue(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    for customer in project.customers(3):
        project.mention(customer, ago=timedelta(minutes=1))
    daemon = project.start()
    project.wait_for_contacts(3)
    (project.root / "rules" / "mention.yaml").unlink()
    daemon.wait_for("cadences_removed")
    states = project.rows("SELECT DISTINCT state, reason FROM contacts WHERE state = 'cancelled'")
    assert daemon.stop()[0] == 0
    queued = project.rows(
        "SELECT count(*) FROM contacts WHERE state IN ('planned', 'pending_review', 'approved')"
    )
    assert (queued, states) == ([(0,)], [("cancelled", "cadence_removed")])
