"""bench/scale.py end to end on a tiny base: one JSON object with the promised keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "customers",
    "full_pass_s",
    "customers_per_s",
    "baseline_customers_per_s",
    "ratio",
    "incremental_tick_s",
    "peak_rss_mb",
    "import_events_per_s",
}


def scale(*args: str, work: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "bench" / "scale.py"), *args, "--work", str(work)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_one_json_object_with_every_figure(tmp_path: Path) -> None:
    done = scale(
        "--customers", "300", "--events-per-customer", "3", "--workers", "1", "--json",
        work=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert set(result) >= KEYS
    assert result["customers"] == 300 and result["events"] == 900
    assert result["import_events_per_s"] > 0 and result["baseline_customers_per_s"] > 0
    assert result["ratio"] == pytest.approx(
        result["customers_per_s"] / result["baseline_customers_per_s"], rel=0.01
    )
    if result["incremental_tick_s"] is None:
        assert "incremental" in result["note"]
    assert list(tmp_path.iterdir()) == []  # the work folder is removed


def test_a_run_that_would_not_fit_on_the_disk_stops_first(tmp_path: Path) -> None:
    done = scale("--customers", "10000000000", "--json", work=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "free some space or pass --work DIR on a larger disk" in done.stderr
    assert "customers x 10 events need about" in done.stderr
