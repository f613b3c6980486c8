"""`make demo`, then `rapport preview` where the user stands: it reads the demo's data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent.parent
DEMO_AT = "2026-06-15T18:00:00Z"


def test_the_next_preview_after_make_demo_reads_the_demo_database(tmp_path: Path) -> None:
    for name in ("Makefile", "config.yaml", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("rules", "templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    make = ("make", "--no-print-directory", "-o", f"{VENV}/.installed", "demo")
    done = run(*make, f"VENV={VENV}", "DEMO_CUSTOMERS=20")
    assert done.returncode == 0, done.stderr
    assert f"next: {VENV}/bin/rapport preview --at {DEMO_AT}" in done.stdout
    preview = run(f"{VENV}/bin/rapport", "preview", "--at", DEMO_AT, "--all", "--format", "json")
    assert preview.returncode == 0, preview.stderr
    assert "warning" not in preview.stderr
    assert {row["customer_id"] for row in json.loads(preview.stdout)}
    assert (tmp_path / "rapport.db").is_file()
