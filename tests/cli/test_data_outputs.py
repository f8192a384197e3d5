"""``--json``/``--csv`` of every table command, ``liqflow export``, and the short ``status``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.align import load_panel
from liqflow.catalog import default_catalog
from liqflow.cli.main import app, main
from liqflow.signals.outlook import chain_status, stage_outlook
from liqflow.store import Store

runner = CliRunner()
DRAWS = "260"  # the fewest draws Holm allows over the study's family


def _ok(args: list[str], store: Path, columns: int = 80) -> str:
    result = runner.invoke(app, [*args, "--store", str(store)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


TABLE_COMMANDS = [
    ["status"],
    ["series"],
    ["show", "small_caps", "-n", "4"],
    ["breakouts"],
    ["corr", "small_caps", "btc"],
    ["doctor"],
]


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=lambda a: a[0])
def test_json_and_csv_print_the_same_table(args: list[str], market_store: Path) -> None:
    doc = json.loads(_ok([*args, "--json"], market_store))
    table = pd.read_csv(io.StringIO(_ok([*args, "--csv"], market_store)))
    assert doc["columns"] == list(table.columns)
    assert len(doc["rows"]) == len(table) > 0


@pytest.mark.parametrize(
    "args", [*TABLE_COMMANDS, ["study"], ["backtest"], ["universe"]], ids=lambda a: a[0]
)
def test_json_and_csv_exclude_each_other(
    args: list[str], market_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*args, "--json", "--csv", "--store", str(market_store)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: --json and --csv exclude each other; give one of them"


def test_status_is_short_with_the_stage_first(market_store: Path) -> None:
    with Store(market_store, read_only=True) as st:
        chain = chain_status(st, default_catalog())
    out = _ok(["status"], market_store).splitlines()
    assert len(out) <= 15, out
    text = " ".join(" ".join(out).split())
    missing = ", ".join(chain.fresh.missing)
    label = chain.outlook.label
    assert label.startswith("stage 1 (liquidity & credit) since ")
    assert text.startswith(  # the as-of line, then the stage line every command prints
        "as of 2021-12-31 (the last day the chain's required inputs are fresh)"
        f"; no data: {missing} as of 2021-12-31: {label}"
    )
    assert "to confirm stage 2 (large caps): above_ma (pct_above_ma > 0, now -0.0" in text
    for c in chain.outlook.confirm_items + chain.outlook.deny_items:
        assert c.brief in text
    assert "would end stage 1: hy_narrowing turning off" in text
    assert f"no data: {missing}" in text


def test_status_says_how_long_a_new_stage_has_lasted(market_store: Path) -> None:
    """On a day the raw stage differs from the reported one, status names the rule."""
    with Store(market_store, read_only=True) as st:
        frame = chain_status(st, default_catalog()).signals.stages.frame
    raw, stage = frame["raw_stage"], frame["stage"]
    day = frame.index[(raw != stage) & (raw.shift() == raw) & (raw.shift(2) != raw)][0]
    out = " ".join(_ok(["status", "--as-of", f"{day:%Y-%m-%d}"], market_store).split())
    k = int(raw[day])
    assert f"stage {k} (" in out.split("pending: ", 1)[1] and " on 2 of 5 days (since " in out
    assert f"stage {k} " in out and "staying on 3 more days" in out


def test_status_and_report_read_one_outlook(market_store: Path) -> None:
    from liqflow.report.theses import stage_outlook as report_outlook

    with Store(market_store, read_only=True) as st:
        chain = chain_status(st, default_catalog(), pd.Timestamp("2019-06-28"))
    assert report_outlook(chain.signals) == stage_outlook(chain.signals) == chain.outlook
    doc = json.loads(_ok(["status", "--as-of", "2019-06-28", "--json"], market_store))
    assert doc["confirm"] == list(chain.outlook.confirm)
    assert doc["stage"] == chain.outlook.stage and doc["as_of"] == "2019-06-28"


def test_study_json_is_valid_for_json_tool_and_export_has_its_p_values(
    market_store: Path,
) -> None:
    text = _ok(["study", "--json", "--draws", DRAWS], market_store)
    tool = subprocess.run(
        [sys.executable, "-m", "json.tool"], input=text, capture_output=True, text=True
    )
    assert tool.returncode == 0, tool.stderr
    tests = pd.DataFrame(json.loads(text)["tests"])
    csv = _ok(["export", "evidence", "--format", "csv", "--draws", DRAWS], market_store)
    exported = pd.read_csv(io.StringIO(csv))
    assert list(exported["test_id"]) == list(tests["test_id"])
    for col in ("p_value", "p_holm"):
        a = exported[col].to_numpy(dtype=float)
        b = tests[col].astype(float).to_numpy()
        assert ((a == b) | (pd.isna(a) & pd.isna(b))).all(), col
    assert _ok(["export", "evidence", "-f", "json", "--draws", DRAWS], market_store) == text
    study_csv = _ok(["study", "--csv", "--draws", DRAWS], market_store)
    assert study_csv == csv


def test_panel_round_trips_through_csv_and_parquet(market_store: Path, tmp_path: Path) -> None:
    with Store(market_store, read_only=True) as st:
        panel = load_panel(st, catalog=default_catalog(), as_of=pd.Timestamp("2020-06-30"))
    args = ["export", "panel", "--as-of", "2020-06-30"]
    back = pd.read_csv(io.StringIO(_ok(args, market_store)), index_col="date", parse_dates=True)
    pd.testing.assert_frame_equal(back, panel, check_freq=False, check_index_type=False)
    out = tmp_path / "panel.parquet"
    _ok([*args, "-f", "parquet", "-o", str(out)], market_store)
    pq = pd.read_parquet(out).set_index("date")
    pd.testing.assert_frame_equal(pq, panel, check_freq=False, check_index_type=False)
    doc = json.loads(_ok([*args, "-f", "json"], market_store))
    assert doc["as_of"] == "2020-06-30" and doc["columns"][0] == "date"
    assert len(doc["rows"]) == len(panel)


@pytest.mark.parametrize("table", ["signals", "stages", "events"])
def test_signal_exports_match_the_library(table: str, market_store: Path) -> None:
    with Store(market_store, read_only=True) as st:
        signals = chain_status(st, default_catalog(), pd.Timestamp("2020-06-30")).signals
    want = {
        "signals": signals.to_frame(),
        "stages": signals.stages.to_frame(),
        "events": signals.breakouts.to_frame() if signals.breakouts else None,
    }[table]
    assert want is not None
    csv = _ok(["export", table, "--as-of", "2020-06-30"], market_store)
    back = pd.read_csv(io.StringIO(csv))
    assert len(back) == len(want) and list(back.columns)[1:] == [str(c) for c in want.columns]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "nope"], "the table must be one of ('panel', 'signals', 'stages', "),
        (["export", "panel", "-f", "xlsx"], "--format must be one of ('csv', 'parquet', 'json')"),
        (["export", "panel", "-f", "parquet"], "--format parquet writes a binary file: give -o"),
        (["export", "panel", "--as-of", "2030-01-01"], "2030-01-01"),
    ],
)
def test_export_errors_are_one_line(
    args: list[str], message: str, market_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*args, "--store", str(market_store)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_show_prints_levels_with_separators(market_store: Path) -> None:
    out = _ok(["show", "fed_assets", "-n", "2"], market_store)
    assert "; USD millions; source fred;" in out.splitlines()[0]
    assert "e+06" not in out
    row = next(ln for ln in out.splitlines() if "2021-12-29" in ln)
    assert "," in row.split()[-2]


def test_user_text_is_never_markup(market_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["show", "[bold]x[/bold]", "--store", str(market_store)])
    assert "[bold]x[/bold]" in capsys.readouterr().err
