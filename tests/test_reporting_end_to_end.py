"""`rapport report` on planted effects, through the real importers, ledger and CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RunCli
from reporting_helpers import SENT, Arm, import_all, plant

from engine.cli import cli
from engine.config import Report
from engine.history.db import Database
from engine.reporting import Scope, measure
from engine.reporting.text import render_text

pytestmark = pytest.mark.backends

LATER = SENT + timedelta(days=60)  # every window has closed


def report_cli(tmp_path: Path, db_url: str, *args: str) -> str:
    """The real `rapport report` in this process (statsmodels is imported once per run);
    the exit codes and one-line errors are checked through a subprocess below."""
    config = tmp_path / "config.yaml"
    config.write_text("timezone: UTC\n")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "report", *args], env={"RAPPORT_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    return result.output


def scope(**kwargs: object) -> Scope:
    return Scope(
        since=None,
        until=None,
        cadence=None,
        as_of=LATER,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_planted_four_point_lift_is_measured_with_an_interval_that_excludes_zero(
    db: Database, tmp_path: Path
) -> None:
    arms = [Arm("treatment", 2_500, 0.12), Arm("holdout", 2_000, 0.08)]
    import_all(db, plant(tmp_path, arms))
    report = measure(db, scope(), Report())
    (cadence,) = report.cadences
    lift = cadence.row.lift
    assert (lift.treatment_n, lift.control_n) == (2_500, 2_000)
    assert (lift.treatment_rate, lift.control_rate) == (0.12, 0.08)
    assert lift.interval is not None
    assert lift.interval[0] > 0 and lift.interval[0] < 0.04 < lift.interval[1]
    assert cadence.row.incremental_responses == pytest.approx(100)
    assert cadence.row.messages.sent == 2_500


def test_with_no_effect_the_interval_covers_zero(db: Database, tmp_path: Path) -> None:
    arms = [Arm("treatment", 2_000, 0.08), Arm("holdout", 1_500, 0.08)]
    import_all(db, plant(tmp_path, arms, seed=3))
    lift = measure(db, scope(), Report()).cadences[0].row.lift
    assert lift.interval is not None
    assert lift.interval[0] < 0 < lift.interval[1]


def test_a_cadence_without_controls_reports_lift_unknown(
    db: Database, tmp_path: Path, db_url: str
) -> None:
    import_all(db, plant(tmp_path / "a", [Arm("treatment", 300, 0.1)], cadence="nocontrol"))
    import_all(
        db,
        plant(tmp_path / "b", [Arm("treatment", 30, 0.1), Arm("holdout", 3, 0.0)], cadence="tiny"),
    )
    report = measure(db, scope(), Report())
    notes = {c.row.cadence: c.row.lift.note for c in report.cadences}
    assert notes == {
        "nocontrol": "control of 0: lift unknown",
        "tiny": "control of 3: lift unknown",
    }
    assert "control of 0: lift unknown" in render_text(report)
    out = report_cli(tmp_path, db_url, "--format", "json")
    rows = {c["cadence"]: c for c in json.loads(out)["cadences"]}
    assert rows["tiny"]["lift"] is None and rows["tiny"]["lift_ci"] is None
    assert rows["tiny"]["note"] == "control of 3: lift unknown"


def test_json_has_the_keys_scripts_rely_on(db: Database, tmp_path: Path, db_url: str) -> None:
    arms = [
        Arm("treatment", 400, 0.12),
        Arm("holdout", 200, 0.08),
        Arm("global_holdout", 100, 0.08),
    ]
    import_all(db, plant(tmp_path, arms))
    data = json.loads(report_cli(tmp_path, db_url, "--format", "json", "--cadence", "spring"))
    (row,) = data["cadences"]
    for key in ("cadence", "treatment_n", "control_n", "treatment_rate", "control_rate", "lift",
                "lift_ci", "incremental_revenue", "roi"):  # fmt: skip
        assert key in row, key
    assert (row["treatment_n"], row["control_n"]) == (400, 300)
    assert row["sent_only"]["treatment_n"] == 400
    assert data["global_holdout"]["control_n"] == 100
    assert "Newcombe" in data["method"]["lift"] and "Welch" in data["method"]["revenue"]
    assert data["primary"].startswith("intent-to-treat")


def test_only_responses_inside_the_window_count(db: Database, tmp_path: Path) -> None:
    paths = plant(tmp_path, [Arm("treatment", 40, 0.0), Arm("holdout", 40, 0.0)])
    _customers, _contacts, events = paths
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    lines = [
        f"spring-000001,purchase,{(SENT - timedelta(hours=1)).strftime(stamp)},10",  # before
        f"spring-000002,purchase,{(SENT + timedelta(days=13)).strftime(stamp)},10",  # inside
        f"spring-000003,purchase,{(SENT + timedelta(days=15)).strftime(stamp)},10",  # after
        f"spring-000041,purchase,{(SENT + timedelta(days=2)).strftime(stamp)},10",  # control
        f"spring-000042,reply,{(SENT + timedelta(days=2)).strftime(stamp)},",  # engagement
    ]
    events.write_text("customer_id,type,occurred_at,amount\n" + "\n".join(lines) + "\n")
    import_all(db, paths)
    row = measure(db, scope(), Report()).cadences[0].row
    assert (row.lift.treatment_responses, row.lift.control_responses) == (1, 1)
    assert row.revenue.difference == 0.0
    three_days = measure(db, scope(), Report(window=timedelta(days=3)))
    assert three_days.cadences[0].row.lift.treatment_responses == 0


def test_open_windows_are_left_out_and_counted_apart(db: Database, tmp_path: Path) -> None:
    import_all(db, plant(tmp_path, [Arm("treatment", 30, 0.1), Arm("holdout", 30, 0.1)]))
    early = Scope(since=None, until=None, cadence=None, as_of=SENT + timedelta(days=5))
    report = measure(db, early, Report())
    assert (report.cadences, report.maturing) == ((), 60)
    assert "60 steps whose response window is still open" in render_text(report)


def test_since_and_until_select_exposures(db: Database, tmp_path: Path) -> None:
    import_all(db, plant(tmp_path, [Arm("treatment", 30, 0.1), Arm("holdout", 30, 0.1)]))
    after = Scope(since=SENT + timedelta(seconds=1), until=None, cadence=None, as_of=LATER)
    assert measure(db, after, Report()).cadences == ()
    window = Scope(since=SENT, until=SENT + timedelta(days=1), cadence=None, as_of=LATER)
    assert measure(db, window, Report()).cadences[0].row.lift.treatment_n == 30


def test_html_is_one_self_contained_file_and_png_writes_the_charts(
    db: Database, tmp_path: Path, db_url: str
) -> None:
    import_all(db, plant(tmp_path, [Arm("treatment", 300, 0.12), Arm("holdout", 100, 0.08)]))
    out = report_cli(tmp_path, db_url, "--format", "html", "--out", str(tmp_path / "r.html"))
    assert out.strip() == f"wrote {tmp_path / 'r.html'}"
    page = (tmp_path / "r.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "Newcombe" in page and "spring" in page
    report_cli(tmp_path, db_url, "--format", "png", "--out", str(tmp_path / "charts"))
    names = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert names == ["lift_forest.png", "messages_per_week.png", "response_curve.png"]
    assert (tmp_path / "charts" / "lift_forest.png").read_bytes()[:4] == b"\x89PNG"


def test_usage_and_input_errors_are_one_line(db: Database, run_cli: RunCli) -> None:
    code, _, err = run_cli("report", "--format", "png")
    assert code == 2
    assert "--format png writes one file per chart: give --out DIR" in err
    code, _, err = run_cli("report", "--cadence", "nope")
    assert (code, err.strip()) == (
        1,
        "error: --cadence nope: no enrolment of this cadence in the ledger "
        "(nothing has been measured yet)",
    )
    code, _, err = run_cli("report", "--since", "2026-02-01", "--until", "2026-01-01")
    assert code == 2 and "is not after --since" in err


def test_an_empty_ledger_says_so(db: Database, tmp_path: Path, db_url: str) -> None:
    out = report_cli(tmp_path, db_url)
    assert "No enrolment has a closed response window in this period." in out
