"""`rapport daemon` as a real process: one per database, heartbeat, clean stop, logs."""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

from conftest import RunCli
from daemon_helpers import MENTION_RULE, DaemonProject

from engine.daemon.lock import read_heartbeat


def test_a_second_daemon_refuses_naming_the_running_one(tmp_path: Path, run_cli: RunCli) -> None:
    project = DaemonProject(tmp_path / "p")
    first = project.start()
    first.wait_for("tick_done")
    code, _, err = run_cli("daemon", cwd=project.root, env={"RAPPORT_DATABASE_URL": project.db_url})
    beat = read_heartbeat(project.db)
    assert beat is not None
    since = beat.started_at.isoformat().replace("+00:00", "Z")
    assert code == 1
    assert err == (
        f"error: another daemon is running on this database: pid {first.popen.pid} on "
        f"{beat.host}, since {since} (stop it first (SIGTERM), or use another database)\n"
    )
    assert first.stop()[0] == 0


def test_a_daemon_killed_by_sigkill_leaves_the_database_to_its_successor(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    project.start().kill()
    second = project.start()
    second.wait_for("tick_done")
    assert second.stop()[0] == 0


def test_sigterm_mid_tick_finishes_the_batch_and_exits_0_within_10s(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    for customer in project.customers(300):
        project.mention(customer, ago=timedelta(minutes=1))
    daemon = project.start(batch_size=5)
    daemon.wait_for("pool_started")
    project.wait_for_contacts(1)  # the first tick is writing batch after batch
    code, seconds = daemon.stop()
    assert (code, seconds < 10) == (0, True), daemon.tail()
    names = [e["event"] for e in daemon.events()]
    assert names[names.index("stop_requested") :] == [
        "stop_requested",
        "tick_done",
        "daemon_stopped",
    ]
    assert daemon.named("tick_done")[-1]["complete"] is False  # the rest: next tick
    # Every run row finished (the one in flight too); whole batches only:
    assert project.rows("SELECT count(*) FROM runs WHERE finished_at IS NULL") == [(0,)]
    thanked = project.rows("SELECT count(*) FROM contacts")[0][0]
    enrolled = project.rows("SELECT count(*) FROM enrolments")[0][0]
    assert thanked == enrolled and thanked % 5 == 0
    beat = read_heartbeat(project.db)
    assert beat is not None and beat.stopped_at is not None and beat.pid == daemon.popen.pid


def test_sigint_stops_it_too(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    daemon = project.start()
    daemon.wait_for("tick_done")
    daemon.popen.send_signal(signal.SIGINT)
    assert daemon.popen.wait(timeout=10) == 0


def test_the_heartbeat_names_the_daemon_and_json_logs_are_one_object_per_line(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path)
    daemon = project.start()
    started = daemon.wait_for("daemon_started")
    daemon.wait_for("x_not_configured", after=1)
    tick = daemon.wait_for("tick_done", after=2)  # a few runs of every job
    beat = read_heartbeat(project.db)
    assert beat is not None
    assert (beat.pid, beat.host, beat.rules_hash) == (
        daemon.popen.pid,
        started["host"],
        started["rules_hash"],
    )
    assert beat.last_tick_at is not None and beat.last_tick_seconds is not None
    assert beat.rules_loaded_at == beat.started_at and beat.last_reload_error is None
    assert beat.stopped_at is None and tick["rules_hash"] == beat.rules_hash
    daemon.stop()
    lines = daemon.log.read_text().splitlines()
    for line in lines:
        event = json.loads(line)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])
        assert event["level"] in ("info", "warning", "error") and event["event"]
    names = [json.loads(line)["event"] for line in lines]
    assert names[:2] == ["daemon_started", "pool_started"]
    assert names.count("x_not_configured") == 2  # once per X job, not once per run


def test_text_logs_are_one_line_per_event(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    daemon = project.start("--log-format", "text")
    for _ in range(600):
        if " tick_done " in daemon.log.read_text():
            break
        time.sleep(0.05)
    daemon.stop()
    tick = next(line for line in daemon.log.read_text().splitlines() if " tick_done " in line)
    assert re.fullmatch(
        r"\S+Z INFO tick_done evaluated=0 enrolled=0 planned=0 errors=0 complete=True "
        r"seconds=[\d.]+ rules_hash=[0-9a-f]{64}",
        tick,
    )


def test_a_daemon_whose_workers_keep_dying_records_evaluation_errors_and_goes_on(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path)
    for customer in project.customers(3):
        project.mention(customer, ago=timedelta(minutes=1))
    daemon = project.start(env={"RAPPORT_CRASH_AT": "worker_batch"})  # every worker dies
    daemon.wait_for("tick_done", where=lambda e: e["errors"] == 3)
    daemon.wait_for("tick_done", where=lambda e: e["errors"] == 3, after=1)  # and goes on
    assert daemon.stop()[0] == 0
    assert len(daemon.named("worker_died")) >= 4 and daemon.named("batch_given_up")
    assert project.contact_count() == 0


def test_a_daemon_never_starts_on_a_broken_project(tmp_path: Path, run_cli: RunCli) -> None:
    project = DaemonProject(tmp_path / "p")
    project.write_rule("mention", MENTION_RULE.replace("audience: everyone", "audience: all"))
    code, out, err = run_cli(
        "daemon", cwd=project.root, env={"RAPPORT_DATABASE_URL": project.db_url}
    )
    assert (code, out) == (1, "")
    assert err == (
        "error: rules/mention.yaml:4:11: audience: 'all' is not allowed"
        " (use one of: customers, prospects, everyone)\n"
    )
    assert read_heartbeat(project.db) is None
