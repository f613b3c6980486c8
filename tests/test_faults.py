"""A named crash point kills the process it runs in, and only when asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from conftest import ROOT

SCRIPT = "from engine.faults import crash_point\ncrash_point('a')\ncrash_point('a')\nprint('alive')"


def run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_crash_points_kill_only_when_named() -> None:
    assert run().stdout.strip() == "alive"
    assert run(RAPPORT_CRASH_AT="b").stdout.strip() == "alive"
    assert run(RAPPORT_CRASH_AT="a").returncode == -signal.SIGKILL
    assert run(RAPPORT_CRASH_AT="a", RAPPORT_CRASH_AFTER="2").returncode == -signal.SIGKILL
    assert run(RAPPORT_CRASH_AT="a", RAPPORT_CRASH_AFTER="3").stdout.strip() == "alive"
