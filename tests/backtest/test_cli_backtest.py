"""``liqflow backtest`` and ``liqflow sweep``: a synthetic store, and the real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import synthetic_market
from liqflow.cli.main import app
from liqflow.store import Batch, Store

EXAMPLE_GRID = Path(__file__).resolve().parents[2] / "examples" / "sweep_grid.toml"
WIDE = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic market written as raw observations (alts as four coins)."""
    m = synthetic_market(n_days=1100)
    path = tmp_path_factory.mktemp("cli") / "s.duckdb"
    px = m.prices
    batches = [
        Batch("btc", "yahoo", pd.DataFrame({"close": px["btc"]})),
        Batch("eth", "yahoo", pd.DataFrame({"close": px["eth"]})),
        Batch("small_caps", "yahoo", pd.DataFrame({"close": m.small_caps["close"]})),
        Batch("small_caps_volume", "yahoo", pd.DataFrame({"volume": m.small_caps["volume"]})),
    ]
    alts = px["alts"].dropna()
    for k, sid in enumerate(("xrp", "ada", "sol", "doge")):
        batches.append(Batch(sid, "yahoo", pd.DataFrame({"close": alts * (1 + 0.1 * k)})))
    with Store(path) as st:
        st.write(batches)
    return path


def test_backtest_prints_in_sample_and_walk_forward(store_path: Path, tmp_path: Path) -> None:
    rule = tmp_path / "rule.toml"
    rule.write_text(
        '[rule]\nsignal = "breakout"\nasset = "alts"\nfallback = "btc"\nhold_days = 20\n'
        "[rule.breakout]\nlookback = 60\nvolume_threshold = 0\npersistence = 2\n"
    )
    args = ["backtest", "--store", str(store_path), "--rule", str(rule)]
    result = CliRunner().invoke(app, [*args, "--train-days", "300", "--test-days", "120"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())  # titles wrap to the table width
    assert "alts if 20d after breakout(lb=60, vol>=0, persist=2) else btc" in out
    assert "In sample:" in out and "costs 20 bp per unit turnover" in out
    assert "Walk-forward out of sample:" in out and "embargo 40 d" in out
    for word in ("hold alts", "hold btc", "Sharpe", "max drawdown", "hit rate", "test window"):
        assert word in out


def test_sweep_prints_best_dsr_and_pbo(store_path: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[grid]\nsignal = ["breakout"]\nlookback = [0, 60]\nvolume_threshold = [0.0, 1.2]\n'
        'persistence = [0, 3]\nhold_days = [10, 30]\nasset = ["alts", "btc"]\n'
        'fallback = ["cash"]\n[cscv]\nblocks = 8\n'
    )
    result = CliRunner().invoke(
        app, ["sweep", "--grid", str(grid), "--store", str(store_path), "--top", "3"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "sweep of 32 combos" in out
    assert "Best combos by Sharpe ratio" in out
    assert "deflated Sharpe:" in out and "expected max of 32 unskilled trials" in out
    assert "PBO (CSCV, 8 blocks, 70 splits, 32 trials)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "--rule", "missing.toml"], "rule file 'missing.toml' does not exist"),
        (["sweep", "--grid", "missing.toml"], "grid file 'missing.toml' does not exist"),
        (["backtest", "--as-of", "soon"], "--as-of must be a date like 2021-01-15, got 'soon'"),
    ],
)
def test_user_errors_are_one_line(
    store_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from liqflow.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main([*args, "--store", str(store_path)])
    assert exc.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err


@pytest.mark.realdata
def test_real_data_backtest_and_sweep(shared_data: Path, tmp_path: Path) -> None:
    # ../shared/data: Russell 2000, IWM volume, BTC, ETH and the Yahoo top coins.
    store = tmp_path / "real.duckdb"
    files = [
        shared_data / "equities" / "RUT_daily.csv",
        shared_data / "equities" / "IWM_daily.csv",
        shared_data / "crypto" / "BTC_daily.csv",
        shared_data / "crypto" / "ETH_daily.csv",
        shared_data / "crypto" / "yahoo_top_coins",
    ]
    runner = CliRunner()
    imp = runner.invoke(app, ["import", *map(str, files), "--store", str(store)])
    assert imp.exit_code == 0, imp.output
    bt = runner.invoke(app, ["backtest", "--store", str(store)], env=WIDE)
    assert bt.exit_code == 0, bt.output
    flat = " ".join(bt.stdout.split())
    assert "In sample: 2017-11-10" in flat and "hold btc" in flat
    assert "Walk-forward out of sample:" in flat
    sw = runner.invoke(app, ["sweep", "--grid", str(EXAMPLE_GRID), "--store", str(store)], env=WIDE)
    assert sw.exit_code == 0, sw.output
    flat = " ".join(sw.stdout.split())
    assert "sweep of 4810 combos" in flat
    assert "deflated Sharpe:" in flat and "PBO (CSCV, 16 blocks, 12870 splits" in flat


@pytest.mark.realdata
def test_backtest_runs_on_the_real_data_holding_the_basket_where_it_is_known(
    shared_store: Path,
) -> None:
    # the point-in-time alt basket is unknown for months after 2024-12-07 (too few coins
    # priced): the backtest holds it on its longest known run and says so, not a refusal
    result = CliRunner().invoke(
        app, ["backtest", "--store", str(shared_store)], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert "the backtest holds it on its longest known run, 2017-11-08 to 2024-12-07" in (
        result.output
    )
    assert "In sample: 2017-11-09 to 2024-12-07" in result.output
