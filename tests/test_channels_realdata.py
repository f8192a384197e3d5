"""The fiscal and market-structure channels on the real data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.importer import ImportReport, import_paths
from liqflow.providers.csv import read_csv_file
from liqflow.signals.fiscal import fiscal_signals, tga_week_average
from liqflow.signals.liquidity import net_liquidity
from liqflow.store import Store

pytestmark = pytest.mark.realdata
runner = CliRunner()


@pytest.fixture(scope="module")
def imported(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ImportReport]:
    db = tmp_path_factory.mktemp("channels") / "s.duckdb"
    with Store(db) as store:
        report = import_paths(store, default_catalog(), [shared_data])
    return db, report


def test_new_and_extended_series_reach_their_last_dates(
    imported: tuple[Path, ImportReport],
) -> None:
    db, report = imported
    assert report.ok, report.errors
    expected = {
        ("tga_daily", "treasury"): "2026-08-20",
        ("dts_deposits", "treasury"): "2026-08-20",
        ("fed_mbs", "fred"): "2026-08-19",
        ("fed_treasuries", "fred"): "2026-08-19",
        ("reserves", "fred"): "2026-08-19",
        ("etf_flows", "farside"): "2026-01-02",
        ("etf_flows", "farside_funds"): "2024-10-25",
        ("btc_funding", "ccxt:binance"): "2026-04-18",
        ("eth_funding", "ccxt:binance"): "2026-04-18",
        ("cftc_btc", "cftc"): "2026-08-18",
        ("fed_assets", "fred"): "2026-08-19",
        ("tga", "fred"): "2026-08-19",
        ("rrp", "fred"): "2026-08-21",
        ("hy_spread", "fred"): "2026-08-20",
        ("ig_spread", "fred"): "2026-08-20",
        ("large_caps", "yahoo"): "2026-08-21",
        ("btc", "yahoo"): "2026-08-21",
        ("eth", "yahoo"): "2026-08-21",
        ("small_caps", "ibkr"): "2026-08-21",
        ("spy", "yahoo_adj2026"): "2026-08-21",
        ("small_caps_volume", "yahoo_adj2026"): "2026-08-21",
    }
    with Store(db, read_only=True) as store:
        got = {key: f"{store.last_date(*key):%Y-%m-%d}" for key in expected}
        assert store.read("small_caps", "ibkr").columns.tolist() == ["close", "high", "low", "open"]
    assert got == expected
    out = runner.invoke(app, ["series", "--store", str(db)], env={"COLUMNS": "250"}).output
    rows = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.count("│") > 3}
    for sid, day in (
        ("tga_daily", "2026-08-20"),
        ("fed_mbs", "2026-08-19"),
        ("cftc_btc", "2026-08-18"),
    ):
        assert day in rows[sid]
    assert "2026-01-02" in rows["etf_flows"] and "import only" in rows["etf_flows"]
    assert "2026-04-18" in rows["btc_funding"]


def test_ice_oas_splice_keeps_both_files_values(
    shared_data: Path, imported: tuple[Path, ImportReport]
) -> None:
    db, _ = imported
    old = read_csv_file(shared_data / "fred" / "BAMLH0A0HYM2.csv").frame["value"].dropna()
    new = read_csv_file(shared_data / "fred" / "2026" / "macrowatch_BAMLH0A0HYM2.csv").frame
    with Store(db, read_only=True) as store:
        hy = store.read("hy_spread", "fred")["value"]
    assert hy.index[0] == pd.Timestamp("1996-12-31")
    np.testing.assert_array_equal(hy[old.index].to_numpy(), old.to_numpy())
    fresh = new["value"].dropna()
    np.testing.assert_array_equal(hy[fresh.index].to_numpy(), fresh.to_numpy())
    assert len(old.index.intersection(new.index)) > 500  # a real overlap was checked


def test_fiscal_data_table_and_heliar_tga_agree_and_join_on_2022_04_18(
    shared_data: Path, imported: tuple[Path, ImportReport]
) -> None:
    db, report = imported
    loaded = {f.path.name: f for f in report.loaded if f.series_id == "tga_daily"}
    assert loaded["dts_operating_cash_balance_2016_2025-09.csv"].first == pd.Timestamp("2016-01-04")
    with Store(db, read_only=True) as store:
        tga = store.read("tga_daily", "treasury")["value"]
    # the record TGA of 2020 (Federal Reserve Account rows) and the heliar file's value
    assert tga["2020-07-27"] == 1_830_546 and tga["2025-09-02"] == 690_094
    # the API's opening balance of 2022-04-18 is the close of 2022-04-15 (continuity at the switch)
    assert tga["2022-04-15"] == 578_473 and tga["2022-04-18"] == 841_253


def test_weekly_tga_is_the_week_average_of_the_daily_statement(
    imported: tuple[Path, ImportReport],
) -> None:
    db, _ = imported
    with Store(db, read_only=True) as store:
        raw = {
            sid: store.read(sid, src)["value"]
            for sid, src in (
                ("fed_assets", "fred"),
                ("tga", "fred"),
                ("rrp", "fred"),
                ("tga_daily", "treasury"),
            )
        }
    rrp = raw["rrp"] * 1000  # billions -> millions as in the panel
    avg = tga_week_average(raw["tga_daily"])
    weds = raw["fed_assets"].index.intersection(avg.dropna().index).intersection(rrp.index)
    weds = weds.intersection(raw["tga_daily"].index)
    assert len(weds) > 500
    weekly = net_liquidity(raw["fed_assets"], raw["tga"], rrp).reindex(weds)
    from_daily = raw["fed_assets"][weds] - avg[weds] - rrp[weds]
    assert np.abs(weekly - from_daily).max() < 1.0  # H.4.1 rounds to USD 1 million
    # with the TGA as a level, the daily series differs from the weekly by WTREGEN - DTS
    daily = fiscal_signals(raw["tga_daily"], raw["fed_assets"], rrp, index=weds).frame[
        "net_liquidity_daily"
    ]
    gap = (daily - weekly).to_numpy()
    np.testing.assert_allclose(gap, (raw["tga"][weds] - raw["tga_daily"][weds]).to_numpy())


def test_funding_units_and_market_figures(imported: tuple[Path, ImportReport]) -> None:
    db, _ = imported
    with Store(db, read_only=True) as store:
        btc = store.read("btc_funding", "ccxt:binance")["funding_rate"]
        etf = store.read("etf_flows", "farside")["value"]
        cot = store.read("cftc_btc", "cftc")
    # the daily-mean file x 3 and the 8-hourly file summed agree (the splice check passed)
    assert btc["2019-09-10"] == pytest.approx(3e-4)
    assert btc["2024-03-05"] > 1e-3  # the ETF-rally peak of the 8-hour rate, summed
    assert etf["2024-01-11"] == 655.3 and etf["2024-03-12"] == 1045.0
    assert cot.loc["2024-01-02", "open_interest"] == 23_579
    assert cot.loc["2024-01-02", "lev_short"] == 13_616
    assert cot.loc["2024-01-02", "lev_net"] == cot.loc["2024-01-02", "lev_long"] - 13_616


def test_status_shows_fiscal_etf_and_leverage_signals_with_values(
    imported: tuple[Path, ImportReport],
) -> None:
    db, _ = imported
    result = runner.invoke(
        app,
        ["status", "--as-of", "2024-03-12", "--store", str(db), "--verbose"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0, result.output
    rows = {
        ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[2:6]]
        for ln in result.output.splitlines()
        if ln.count("│") > 5
    }
    for name in (
        "net_liquidity_daily_rising",
        "tga_daily_drawdown",
        "mbs_rising",
        "etf_absorbing_supply",
        "funding_below_median",
        "cme_lev_net_rising",
    ):
        value, _, state, _ = rows[name]
        assert value != "unknown" and state in ("on", "off"), (name, rows[name])
    assert rows["tga_daily_drawdown"][2] == "on"  # TGA drawn down into mid-March 2024
    assert float(rows["etf_absorbing_supply"][0]) > 1  # ETFs bought more than was mined
    assert float(rows["funding_below_median"][0]) > 0.9  # funding near its one-year high
