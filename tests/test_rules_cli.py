"""`rapport validate` and `rapport schema` as a marketer runs them: a real process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

RunCli = Callable[..., tuple[int, str, str]]  # the conftest fixture's type

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "rules"


def _project(tmp_path: Path) -> Path:
    """A copy of the sample project (rules, templates, config) to break on purpose."""
    project = tmp_path / "project"
    for folder in ("rules", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copy(ROOT / "config.yaml", project / "config.yaml")
    return project


def test_validate_says_ok_on_the_sample_rules(run_cli: RunCli) -> None:
    code, out, err = run_cli("validate", cwd=ROOT)
    assert (code, out, err) == (0, "OK: 3 cadences, 5 steps, 7 templates\n", "")


def test_validate_prints_file_line_col_for_every_problem(run_cli: RunCli) -> None:
    bad = ("tests/fixtures/rules/bad_duration.yaml", "tests/fixtures/rules/x_prospects.yaml")
    code, out, _ = run_cli("validate", *bad, cwd=ROOT)
    assert code == 1
    assert out.splitlines() == [
        "tests/fixtures/rules/bad_duration.yaml:12:12: steps[2].after: '3 dayz' is not a "
        "duration (use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)",
        "tests/fixtures/rules/x_prospects.yaml:6:10: trigger.event: channel: x is not allowed "
        "with event 'keyword' (only mention, quote, reply: X allows automated replies only to "
        "people who addressed the brand first; use channel: review)",
    ]


def test_validate_json_format_for_editors(run_cli: RunCli) -> None:
    code, out, _ = run_cli(
        "validate", "--format", "json", "tests/fixtures/rules/unknown_key_step.yaml", cwd=ROOT
    )
    assert code == 1
    assert json.loads(out) == [
        {
            "file": "tests/fixtures/rules/unknown_key_step.yaml",
            "line": 9,
            "col": 5,
            "message": "'aftr' is not a key of a step; did you mean 'after'?",
            "severity": "error",
        }
    ]
    code, out, _ = run_cli("validate", "--format", "json", cwd=ROOT)
    assert (code, json.loads(out)) == (0, [])


def test_validate_reports_config_and_rule_problems_together(
    run_cli: RunCli, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("min_gap:", "min_gapp:"), encoding="utf-8")
    rule = project / "rules" / "win-back.yaml"
    rule.write_text(rule.read_text().replace("holdout: 10%", "holdout: 10"), encoding="utf-8")
    code, out, _ = run_cli("validate", cwd=project)
    assert code == 1
    assert out.splitlines() == [
        "config.yaml:8:3: 'min_gapp' is not a key of policy; did you mean 'min_gap'?",
        "rules/win-back.yaml:11:10: holdout: 10 is not a percentage "
        "(use a percentage between 0% and 100%, e.g. 10% or 2.5%)",
    ]


def test_validate_reports_a_missing_template_file(run_cli: RunCli, tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "templates" / "winback.j2").unlink()
    code, out, _ = run_cli("validate", cwd=project)
    assert code == 1
    assert out == (
        "rules/win-back.yaml:16:15: steps[0].template: template 'winback.j2' not found in "
        "templates/ (add templates/winback.j2)\n"
    )


def test_validate_names_a_missing_path(run_cli: RunCli) -> None:
    code, out, _ = run_cli("validate", "nowhere.yaml", cwd=ROOT)
    assert (code, out) == (1, "nowhere.yaml: no such file or folder\n")


def test_schema_prints_the_shipped_json_schema(run_cli: RunCli) -> None:
    code, out, _ = run_cli("schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$id"].endswith("cadence-v1.json")
    assert schema["required"][0] == "version"
    assert list(_open_objects(schema)) == []


def _open_objects(schema: Any, where: str = "#") -> Any:
    """Every object schema that would accept unknown keys (there must be none)."""
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is not False:
            yield where
        for key, value in schema.items():
            yield from _open_objects(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _open_objects(value, f"{where}/{i}")


def test_sample_rules_point_editors_at_the_schema() -> None:
    for rule in (ROOT / "rules").glob("*.yaml"):
        first = rule.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../engine/strategy/cadence.schema.json"
        assert (rule.parent / first.split("=", 1)[1]).resolve().is_file()


def test_a_broken_rule_file_does_not_hide_a_broken_template(
    run_cli: RunCli, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    (project / "templates" / "check_in.j2").write_text("@{{ customer.handle }} {% if x %} hi\n")
    rule = project / "rules" / "win-back.yaml"
    rule.write_text(rule.read_text().replace("after: 0d", "after: 0 days"))
    code, out, _ = run_cli("validate", cwd=project)
    assert code == 1
    assert out.splitlines() == [
        "rules/win-back.yaml:14:12: steps[0].after: '0 days' is not a duration "
        "(use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)",
        "templates/check_in.j2:1: Unexpected end of template. Jinja was looking for the "
        "following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be "
        "closed is 'if'.",
    ]
