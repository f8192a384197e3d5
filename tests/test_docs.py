"""Every CLI command has help text, and --help works for each."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from liqflow.cli.main import app

runner = CliRunner()


def _commands() -> dict[str, typer.models.CommandInfo]:
    return {
        c.name or (c.callback.__name__ if c.callback else ""): c for c in app.registered_commands
    }


def test_every_command_has_help_text() -> None:
    commands = _commands()
    assert {"import", "series", "show"} <= set(commands)
    for name, info in commands.items():
        doc = info.help or (info.callback.__doc__ if info.callback else None)
        assert doc and doc.strip(), f"command {name!r} has no help text"


def test_help_runs_for_every_command() -> None:
    for name in _commands():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.output
