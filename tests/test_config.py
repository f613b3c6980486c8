"""config.yaml: each problem is one positioned line with its exact message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.errors import InvalidInput


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_settings(path)
    return [str(problem).replace(f"{path}:", "config.yaml:") for problem in caught.value.problems]


@pytest.mark.parametrize("zone", ["America", "A" * 300])
def test_a_zone_naming_a_folder_or_too_long_is_a_problem(tmp_path: Path, zone: str) -> None:
    assert problems_of(tmp_path, f"timezone: {zone}\n") == [
        f"config.yaml:1:11: timezone: {zone!r} is not an IANA time zone"
        " (e.g. America/Los_Angeles, Europe/Paris)"
    ]


def test_a_relative_sqlite_path_is_beside_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text("database: sqlite:///data/rapport.db\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(project / "config.yaml").database == (
        f"sqlite:///{project / 'data' / 'rapport.db'}"
    )
    (project / "config.yaml").write_text("timezone: UTC\n")  # the default database too
    assert load_settings(project / "config.yaml").database == (
        f"sqlite:///{project / 'rapport.db'}"
    )


def test_rapport_database_url_is_taken_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///here.db")
    (tmp_path / "config.yaml").write_text("database: sqlite:///data/rapport.db\n")
    assert load_settings(tmp_path / "config.yaml").database == "sqlite:///here.db"


def test_zero_retention_means_keep_none(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("retention: {decisions: 0d}\n")
    assert load_settings(tmp_path / "config.yaml").decision_retention == timedelta(0)


def test_durations_that_would_stall_or_overflow_are_problems(tmp_path: Path) -> None:
    text = (
        "policy:\n"
        "  caps: [{max: 1, per: 0d}]\n"
        "  min_gap: 99999999999999w\n"
        "  complaint_block: 1000000w\n"
        "schedule: {evaluate_every: 0s, deliver_every: 0m, poll_x_every: 1s}\n"
        "retention: {decisions: 0d}\n"
    )
    assert problems_of(tmp_path, text) == [
        "config.yaml:2:24: policy.caps[0].per: '0d' is too short (use at least 1s)",
        "config.yaml:3:12: policy.min_gap: '99999999999999w' is too long (use at most 3650d)",
        "config.yaml:4:20: policy.complaint_block: '1000000w' is too long (use at most 3650d)",
        "config.yaml:5:28: schedule.evaluate_every: '0s' is too short (use at least 1s)",
        "config.yaml:5:47: schedule.deliver_every: '0m' is too short (use at least 1s)",
    ]


def test_an_empty_quiet_window_and_a_cap_of_zero_are_refused_with_a_reason(
    tmp_path: Path,
) -> None:
    text = 'policy:\n  quiet_hours: "21:00-21:00"\n  caps: [{max: 0, per: 1d}, {max: 2, per: 7d}]\n'
    assert problems_of(tmp_path, text) == [
        "config.yaml:2:16: policy.quiet_hours: '21:00-21:00' starts and ends at the same time,"
        " an empty window that never applies (remove quiet_hours for none, or give a"
        " window such as 21:00-09:00)",
        "config.yaml:3:16: policy.caps[0].max: 0 would forbid every message (use at least 1;"
        " to stop sending, pause it or remove the cadences)",
    ]


def test_a_duration_too_large_for_the_calendar_is_too_long(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "policy:\n  min_gap: 99999999999999w\n") == [
        "config.yaml:2:12: policy.min_gap: '99999999999999w' is too long (use at most 3650d)"
    ]


def test_the_x_channel_takes_refresh_and_timeout_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "channels:\n  x: {refresh_env: RAPPORT_X_REFRESH, client_id_env: RAPPORT_X_CLIENT_ID,"
        " timeout: 30s, max_attempts: 3}\n",
        encoding="utf-8",
    )
    x = load_settings(path).x
    assert (x.refresh_env, x.client_id_env) == ("RAPPORT_X_REFRESH", "RAPPORT_X_CLIENT_ID")
    assert (x.timeout, x.max_attempts) == (timedelta(seconds=30), 3)


def test_an_x_timeout_of_zero_is_a_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "channels:\n  x: {timeout: 0s}\n") == [
        "config.yaml:2:16: channels.x.timeout: '0s' is too short (use at least 1s)"
    ]


def test_review_defaults_expire_after_3d_and_listen_on_loopback(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("timezone: UTC\n")
    review = load_settings(tmp_path / "config.yaml").review
    assert (review.expires, review.host, review.port) == (timedelta(days=3), "127.0.0.1", 8765)


def test_review_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text('review: {expires: 12h, listen: "[::1]:9000"}\n')
    review = load_settings(tmp_path / "config.yaml").review
    assert (review.expires, review.host, review.port) == (timedelta(hours=12), "::1", 9000)
    assert review.listen == "[::1]:9000"


def test_review_problems_name_the_key_and_the_fix(tmp_path: Path) -> None:
    text = "review:\n  expires: 0d\n  listen: 127.0.0.1:99999\n"
    assert problems_of(tmp_path, text) == [
        "config.yaml:2:12: review.expires: '0d' is too short (use at least 1s)",
        "config.yaml:3:11: review.listen: port 99999 is out of range (use 1-65535, e.g. 8765)",
    ]
    assert problems_of(tmp_path, "review: {listen: localhost, colour: red}\n") == [
        "config.yaml:1:18: review.listen: 'localhost' is not an address"
        " (use HOST:PORT, e.g. 127.0.0.1:8765)",
        "config.yaml:1:29: 'colour' is not a key of review (allowed: expires, listen)",
    ]


def test_report_defaults_and_values(tmp_path: Path) -> None:
    from engine.config import Report

    (tmp_path / "config.yaml").write_text("timezone: UTC\n")
    assert load_settings(tmp_path / "config.yaml").report == Report(
        responses=("purchase",), window=timedelta(days=14), value_property="amount",
        cost_per_message=0.0,
    )  # fmt: skip
    (tmp_path / "config.yaml").write_text(
        "report: {responses: [purchase, signup], window: 7d, value_property: total,"
        " cost_per_message: 0.25}\n"
    )
    assert load_settings(tmp_path / "config.yaml").report == Report(
        ("purchase", "signup"), timedelta(days=7), "total", 0.25
    )


def test_report_problems_are_positioned(tmp_path: Path) -> None:
    text = (
        "report:\n"
        "  windw: 14d\n"
        "  responses: [purchase, 'bad type']\n"
        "  cost_per_message: -1\n"
        "  window: 0d\n"
        "  value_property: ''\n"
    )
    assert problems_of(tmp_path, text) == [
        "config.yaml:2:3: 'windw' is not a key of report; did you mean 'window'?",
        "config.yaml:3:25: report.responses[1]: 'bad type' is not an event type"
        " (letters, digits and _)",
        "config.yaml:4:21: report.cost_per_message: -1 is out of range (use a number of 0 or more)",
        "config.yaml:5:11: report.window: '0d' is too short (use at least 1s)",
        "config.yaml:6:19: report.value_property: '' is not a property name"
        " (the purchase property with the value, e.g. amount)",
    ]


def test_daemon_metrics_is_a_host_and_port(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "daemon: {metrics: 9464}\n") == [
        "config.yaml:1:19: daemon.metrics: 9464 is not an address"
        " (use HOST:PORT, e.g. 127.0.0.1:9464)"
    ]
    assert problems_of(tmp_path, "daemon: {metrics: localhost}\n") == [
        "config.yaml:1:19: daemon.metrics: 'localhost' is not an address"
        " (use HOST:PORT, e.g. 127.0.0.1:9464)"
    ]
    assert problems_of(tmp_path, "daemon: {metrics: '127.0.0.1:70000'}\n") == [
        "config.yaml:1:19: daemon.metrics: port 70000 is out of range"
        " (use 1-65535, e.g. 127.0.0.1:9464)"
    ]
    assert problems_of(tmp_path, "daemon: {metric: '127.0.0.1:9464'}\n") == [
        "config.yaml:1:10: 'metric' is not a key of daemon; did you mean 'metrics'?"
    ]
    path = tmp_path / "config.yaml"
    path.write_text("daemon: {metrics: '127.0.0.1:9464'}\n", encoding="utf-8")
    assert load_settings(path).daemon.metrics_address == ("127.0.0.1", 9464)
    path.write_text("timezone: UTC\n", encoding="utf-8")
    assert load_settings(path).daemon.metrics_address is None
