"""Every command's output at ``COLUMNS=80`` has no line over 80 characters.

Each command runs on the synthetic store (help texts too); human-readable output only:
``--json``/``--csv`` data and one-line error messages are exempt by design.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liqflow.cli import report as report_cli
from liqflow.cli.main import app
from liqflow.fetch import FetchReport
from report.conftest import LIGHT

WIDTH = 80
runner = CliRunner()
GRID = """
[grid]
signal = ["breakout"]
lookback = [0, 252]
volume_threshold = [0.0, 1.2]
persistence = [0]
hold_days = [60]
asset = ["btc"]
fallback = ["cash"]
"""


#: A table row cropped at the screen's edge has lost its closing border.
_BORDERS = {"┏": "┓", "┃": "┃", "┡": "┩", "│": "│", "└": "┘", "╭": "╮", "╰": "╯"}
#: A cell rich shortened to fit (``si…`` for ``signal``).
_CUT = re.compile(r"\w…(?=[ │┃]|$)")


def _long_lines(text: str) -> list[str]:
    """Lines over the width, table rows cropped at the edge, cells cut with an ellipsis."""
    out = []
    for ln in text.splitlines():
        cropped = ln[:1] in _BORDERS and not ln.rstrip().endswith(_BORDERS[ln[0]])
        if len(ln) > WIDTH or cropped or _CUT.search(ln):
            out.append(ln)
    return out


def _run(args: list[str]) -> Any:
    result = runner.invoke(app, args, env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.mark.parametrize(
    "command", [None, *sorted(c.name for c in app.registered_commands if c.name)]
)
def test_help_fits_80_columns(command: str | None) -> None:
    result = _run([command, "--help"] if command else ["--help"])
    assert not _long_lines(result.stdout), result.stdout
    # the description (above the option boxes) is not broken at the docstring's own line
    # breaks: inside a paragraph, every line but the last fills most of the width
    text = result.stdout.split("╭", 1)[0]
    lines = [ln.strip() for ln in text.splitlines()]
    broken = [ln for ln, nxt in itertools.pairwise(lines) if ln and nxt and len(ln) < 50]
    assert not broken, broken


@pytest.fixture
def store_copy(market_store: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copy(market_store, path)
    return path


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    def no_fetch(*args: Any, **kw: Any) -> FetchReport:
        raise AssertionError("a test tried to fetch from the network")

    monkeypatch.setattr(report_cli, "CONFIG", LIGHT)
    monkeypatch.setattr(report_cli, "fetch", no_fetch)


def _commands(tmp: Path) -> list[list[str]]:
    grid = tmp / "grid.toml"
    grid.write_text(GRID)
    csv = tmp / "WALCL.csv"
    csv.write_text("observation_date,WALCL\n2022-01-05,8765432\n2022-01-12,8777777\n")
    return [
        ["import", str(csv)],
        ["series"],
        ["show", "fed_assets"],
        ["show", "small_caps", "-n", "3"],
        ["status"],
        ["status", "--verbose"],
        ["status", "--as-of", "2019-06-28", "--verbose"],
        ["breakouts"],
        ["study", "--draws", "260"],
        ["corr", "small_caps", "btc", "--periods", "2016-2018,2020"],
        ["backtest"],
        ["sweep", "--grid", str(grid)],
        ["doctor"],
        ["report", "-o", str(tmp / "r.html"), "--offline"],
    ]


def test_every_command_fits_80_columns(store_copy: Path, tmp_path: Path) -> None:
    for args in _commands(tmp_path):
        result = _run([*args, "--store", str(store_copy)])
        long = _long_lines(result.stdout) + _long_lines(result.stderr)
        assert not long, (args, long)
