"""Golden files: the sample rules in rules/ compiled, one JSON file per cadence.

A change to the compiler or to the sample rules shows up here as a readable diff.
Regenerate after an intended change with:

    .venv/bin/python tests/test_rules_golden.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "strategy"


def compiled_sample() -> dict[str, str]:
    """File name -> expected JSON text, for every file under tests/golden/strategy/."""
    from engine.strategy import load_strategy
    from engine.strategy.dump import cadence_data, strategy_data

    here = Path.cwd()
    os.chdir(ROOT)  # sources are shown relative to the project, whoever runs this
    try:
        strategy = load_strategy(ROOT / "rules", templates_dir=ROOT / "templates")
        files = {f"{c.name}.json": _json(cadence_data(c)) for c in strategy.cadences}
        index = strategy_data(strategy, with_hash=False)
        index["cadences"] = [c.name for c in strategy.cadences]  # in priority order
        files["_strategy.json"] = _json(index)
        return files
    finally:
        os.chdir(here)


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_sample_rules_compile_to_the_golden_files() -> None:
    expected = {p.name: p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.json")}
    assert compiled_sample() == expected, "regenerate: .venv/bin/python tests/test_rules_golden.py"


def regenerate() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for old in GOLDEN.glob("*.json"):
        old.unlink()
    for name, text in compiled_sample().items():
        (GOLDEN / name).write_text(text, encoding="utf-8")
        print(f"wrote {(GOLDEN / name).relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    regenerate()
