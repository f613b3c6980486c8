"""Hot reload: a valid edit replaces the running rules at the next tick; an invalid or
half-written one is logged FILE:LINE:COL and the last good rules keep planning; an edit
never plans again what was already planned."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from daemon_helpers import MENTION_RULE, TEMPLATE, DaemonProject

from engine.daemon.lock import read_heartbeat
from engine.daemon.reload import check_for_changes, load_project

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BAD_AFTER = MENTION_RULE.replace("    template: t.j2", "    after: 3 dayz\n    template: t.j2")
BAD_MESSAGE = (
    "rules/mention.yaml:12:12: steps[0].after: '3 dayz' is not a duration "
    "(use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)"
)


def texts(project: DaemonProject) -> list[tuple[str, str]]:
    rows = project.rows(
        "SELECT cu.external_id, co.text FROM contacts co"
        " JOIN customers cu ON cu.id = co.customer_id ORDER BY co.id"
    )
    return [(str(who), str(text)) for who, text in rows]


def test_a_bad_edit_keeps_the_last_good_rules_and_a_fixed_edit_is_picked_up(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path)
    first, second, third = project.customers(3)
    project.mention(first, ago=timedelta(minutes=1))
    daemon = project.start()
    good = daemon.wait_for("tick_done", where=lambda e: e["planned"] == 1)["rules_hash"]

    project.write_rule("mention", BAD_AFTER)
    assert daemon.wait_for("reload_refused")["message"] == BAD_MESSAGE
    assert daemon.wait_for("reload_kept")["rules_hash"] == good
    project.mention(second)
    project.wait_for_contacts(2)  # still planning, from the last good rules
    beat = read_heartbeat(project.db)
    assert beat is not None and (beat.rules_hash, beat.last_reload_error) == (good, BAD_MESSAGE)

    (project.root / "templates" / "t.j2").write_text(TEMPLATE.replace("v1", "v2"))
    project.write_rule("mention", MENTION_RULE.replace("Thank every", "Warmly thank every"))
    reloaded = daemon.wait_for(
        "rules_reloaded", where=lambda e: e["rules_hash"] != good, timeout=30
    )
    assert reloaded["old_rules_hash"] == good
    # One pool per version of the rules: the old workers (and their rulesets) are gone.
    pools = daemon.named("pool_started")
    assert len(pools) >= 2 and pools[0]["rules_hash"] == good
    assert not psutil.pid_exists(pools[0]["pids"][0])
    ticks = len(daemon.named("tick_done"))
    project.mention(third)
    project.wait_for_contacts(3)
    daemon.wait_for("tick_done", after=ticks + 2)  # two more ticks on the edited rules
    assert daemon.stop()[0] == 0
    assert texts(project) == [
        ("c0", "@h0 thanks, Name 0 (thanks-for-mention) v1"),
        ("c1", "@h1 thanks, Name 1 (thanks-for-mention) v1"),
        ("c2", "@h2 thanks, Name 2 (thanks-for-mention) v2"),
    ]  # the edit planned nothing again for c0 and c1
    beat = read_heartbeat(project.db)
    assert beat is not None
    assert (beat.rules_hash, beat.last_reload_error) == (reloaded["rules_hash"], None)


def test_a_half_written_file_is_refused_once_then_the_finished_one_is_taken(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path)
    config = project.root / "config.yaml"
    running, problems = load_project(config, now=NOW)
    assert running is not None and problems == []
    assert check_for_changes(config, running, refused=None, now=NOW)[0].project is None

    (project.root / "rules" / "mention.yaml").write_text(MENTION_RULE[:150])
    found, refused = check_for_changes(config, running, refused=None, now=NOW)
    assert found.project is None and refused is not None
    assert found.problems and all(
        re.match(r"\S*rules/mention\.yaml:\d+:\d+: ", str(p)) for p in found.problems
    )
    # The same broken bytes are not checked (nor logged) again at every tick:
    assert check_for_changes(config, running, refused=refused, now=NOW) == (
        found.__class__(),
        refused,
    )

    project.write_rule("mention", MENTION_RULE.replace("Thank every", "Thank each"))
    found, refused = check_for_changes(config, running, refused=refused, now=NOW)
    assert refused is None and found.project is not None
    assert found.project.rules_hash != running.rules_hash


def test_policy_changes_apply_and_schedule_changes_wait_for_a_restart(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    config = project.root / "config.yaml"
    running, _ = load_project(config, now=NOW)
    assert running is not None
    config.write_text(
        "timezone: UTC\npolicy: {min_gap: 2d}\n"
        "schedule: {evaluate_every: 1m, deliver_every: 1s, poll_x_every: 1s}\n"
    )
    found, _ = check_for_changes(config, running, refused=None, now=NOW)
    assert found.project is not None and found.restart_needed == ("schedule",)
    assert found.project.settings.policy.min_gap == timedelta(days=2)
    assert found.project.settings.schedule == running.settings.schedule  # the running one
