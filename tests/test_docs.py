"""Every CLI command has help text and --help; the README names real commands and the
CI's test command; the API guide's script runs on the real data."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
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


# --- README and docs/ -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _readme_commands(text: str) -> set[str]:
    """Every ``liqflow NAME`` the README shows (in code blocks and inline code)."""
    code = " ".join(_blocks(text, r"\w*") + re.findall(r"`([^`\n]+)`", text))
    return set(re.findall(r"(?:^|[\s(&;|])liqflow ([a-z][a-z-]*)", code))


def test_every_command_the_readme_names_exists() -> None:
    named = _readme_commands(README.read_text(encoding="utf-8"))
    assert {"report", "import", "fetch", "status", "study", "add-series"} <= named
    missing = named - set(_commands())
    assert not missing, f"the README names commands that do not exist: {sorted(missing)}"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = ci.index("# the README's test command:")
    command = ci[marker + 1].strip()
    assert command == "python -m pytest"
    shell = "\n".join(_blocks(README.read_text(encoding="utf-8"), "bash"))
    assert any(line.split("#")[0].strip() == command for line in shell.splitlines())


def test_docs_the_docstrings_cite_exist() -> None:
    cited = set()
    for path in (ROOT / "src").rglob("*.py"):
        cited |= set(re.findall(r"docs/[\w./-]+\.md", path.read_text(encoding="utf-8")))
        assert "DESIGN.md" not in path.read_text(encoding="utf-8"), path
    assert "docs/design.md" in cited
    for doc in cited:
        assert (ROOT / doc).is_file(), doc


def test_the_api_guide_shows_the_script() -> None:
    """Every line of the guide's code (after its set-up block) is a line of the script."""
    guide = (DOCS / "api.md").read_text(encoding="utf-8")
    script = {line.strip() for line in (DOCS / "api_example.py").read_text().splitlines()}
    blocks = _blocks(guide, "python")
    assert len(blocks) >= 6
    for block in blocks[1:]:
        for line in filter(None, (x.strip() for x in block.splitlines())):
            assert line in script, f"docs/api.md shows a line the script lacks: {line!r}"


@pytest.mark.realdata
def test_the_api_guide_script_runs_on_the_real_data(
    shared_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("api_example", DOCS / "api_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(str(shared_store), "2021-01-15")
    printed = capsys.readouterr().out
    # the guide's net liquidity and stage outputs are this run's
    shown = _blocks((DOCS / "api.md").read_text(encoding="utf-8"), "text")[:2]
    for line in (x.rstrip() for block in shown for x in block.splitlines()):
        assert line in printed, f"docs/api.md shows an output the script does not print: {line!r}"
    assert "as of 2021-01-15: stage 3 (small caps) since 2020-12-25" in printed
    panel = out["panel"]
    assert isinstance(panel, pd.DataFrame) and panel.index.name == "date"
    assert panel.index.max() == pd.Timestamp("2021-01-15")
    assert {"fed_assets", "tga", "rrp", "small_caps", "btc"} <= set(panel.columns)
    liquidity = out["net_liquidity"].dropna()
    assert 5e6 < liquidity.iloc[-1] < 6e6  # USD millions: about 5.7 trillion in January 2021
    assert isinstance(out["signals"], pd.DataFrame) and len(out["signals"].columns) > 10
    assert out["stages"]["stage"].iloc[-1] == 3
    claims = out["claims"]
    assert list(claims["claim"]) == [
        "chain",
        "lead",
        "breakouts",
        "alts_most",
        "precedents",
        "recent",
        "tga_lead",
        "mbs_lead",
        "etf_lead",
        "leverage_lead",
    ]
    assert set(claims["verdict"]) <= {
        "supported",
        "not supported",
        "inconclusive",
        "unknown",
        "descriptive",
    }
    assert {"effect", "p_holm", "verdict"} <= set(out["tests"].columns)
    universe = out["universe"]
    assert list(universe["symbol"][:2]) == ["BTC", "ETH"] and len(universe) == 10
