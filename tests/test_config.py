"""config.yaml: each problem is one positioned line with its exact message."""

from __future__ import annotations

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
