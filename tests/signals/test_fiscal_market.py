"""Fiscal and market-structure signals: planted answers, unknowns, point-in-time invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.signals.conftest import SMALL, dates, synthetic_panel

from liqflow._errors import ConfigError, DataError
from liqflow.signals import compute_signals
from liqflow.signals.fiscal import (
    FiscalConfig,
    fiscal_signals,
    new_observations,
    tga_week_average,
    window_sum,
)
from liqflow.signals.liquidity import net_liquidity
from liqflow.signals.market_structure import (
    MarketStructureConfig,
    block_subsidy,
    market_structure_signals,
    mined_btc,
)


def _asof(values: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    return values.reindex(index, method="ffill")


def _business_flow(index: pd.DatetimeIndex, rng: np.random.Generator) -> pd.Series:
    """A daily flow on weekdays, carried over weekends like a panel column."""
    days = index[index.day_of_week < 5]
    flow = pd.Series(rng.uniform(50, 150, len(days)), index=days)
    return _asof(flow, index)


def test_tga_drawdown_and_daily_net_liquidity_are_planted_values() -> None:
    idx = dates("2023-01-01", 60)
    tga = pd.Series(800_000.0 - 1000.0 * np.arange(60), index=idx)
    fa = pd.Series(8_000_000.0, index=idx)
    rrp = pd.Series(500_000.0, index=idx)
    out = fiscal_signals(tga, fa, rrp, index=idx).frame
    assert out["tga_daily_chg_5d"].iloc[-1] == -5000.0
    assert out["tga_daily_chg_20d"].iloc[-1] == -20000.0
    assert out["net_liquidity_daily"].iloc[-1] == 8_000_000 - tga.iloc[-1] - 500_000
    assert out["net_liquidity_daily_chg_20d"].iloc[-1] == 20000.0
    assert np.isnan(out["tga_daily_chg_20d"].iloc[10])  # not 20 days of history yet


def test_daily_net_liquidity_equals_weekly_formula_with_the_same_tga() -> None:
    idx = dates("2023-01-04", 30)
    fa = pd.Series(np.linspace(8e6, 8.1e6, 30), index=idx)
    tga = pd.Series(np.linspace(7e5, 6e5, 30), index=idx)
    rrp = pd.Series(np.linspace(5e5, 4e5, 30), index=idx)
    daily = fiscal_signals(tga, fa, rrp, index=idx).frame["net_liquidity_daily"]
    pd.testing.assert_series_equal(
        daily, net_liquidity(fa, tga, rrp).reindex(idx), check_names=False
    )


def test_tga_week_average_is_the_seven_day_mean_with_weekends_carried() -> None:
    days = pd.bdate_range("2024-01-01", "2024-01-31")
    tga = pd.Series(np.arange(len(days), dtype=float) * 10, index=days.rename("date"))
    avg = tga_week_average(tga)
    wed = pd.Timestamp("2024-01-17")  # Thu 11 .. Wed 17: Thu, Fri, Fri, Fri, Mon, Tue, Wed
    vals = tga[["2024-01-11", "2024-01-12", "2024-01-15", "2024-01-16", "2024-01-17"]].to_numpy()
    expected = (vals[0] + 3 * vals[1] + vals[2] + vals[3] + vals[4]) / 7
    assert avg[wed] == pytest.approx(expected)
    assert avg.iloc[:6].isna().all()


def test_tax_refunds_compare_the_same_weeks_of_earlier_years() -> None:
    idx = dates("2020-01-01", 365 * 4 + 120)
    rng = np.random.default_rng(3)
    base = _business_flow(idx, rng)
    # a tax season every February-April; 2024's is twice as large
    season = idx.month.isin([2, 3, 4])
    boost = np.where(season, np.where(idx.year == 2024, 20.0, 10.0), 1.0)
    refunds = base * boost
    cfg = FiscalConfig(refund_days=28, refund_years=3)
    out = fiscal_signals(None, tax_refunds=refunds, config=cfg, index=idx).frame
    mid_season = out.loc["2024-03-20", "tax_refunds_vs_prior"]
    assert 0.7 < mid_season < 1.3  # twice the same weeks of 2021-2023 (ratio - 1 ~ 1)
    # a plain window-over-window comparison would call the season an explosion; this does not
    assert abs(out.loc["2023-03-20", "tax_refunds_vs_prior"]) < 0.2
    assert np.isnan(out.loc["2022-03-20", "tax_refunds_vs_prior"])  # 3 earlier years needed


def test_window_sum_counts_each_observation_once() -> None:
    idx = dates("2024-01-01", 14)
    obs = pd.Series(
        [1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-05", "2024-01-08"])
    )
    got = window_sum(obs, idx, 5)
    assert got["2024-01-08"] == 5.0  # 5 and 8 January are within (3, 8]
    assert got["2024-01-06"] == 3.0
    assert np.isnan(got["2024-01-01"]) and np.isnan(got["2024-01-14"])  # nothing in window
    panel = _asof(obs, idx)
    assert new_observations(panel).index.equals(obs.index)


def test_missing_inputs_are_unknown_not_zero() -> None:
    idx = dates("2024-01-01", 40)
    fs = fiscal_signals(pd.Series(1.0, index=idx), None, None, index=idx)
    assert fs.frame["net_liquidity_daily"].isna().all()
    assert fs.status["net_liquidity_daily"] == "unknown: no data for fed_assets, rrp"
    assert fs.status["tax_refunds"] == "unknown: not supplied"
    ms = market_structure_signals(None, index=idx)
    assert ms.frame.isna().all().all()
    with pytest.raises(DataError, match="fiscal_signals needs one of tga_daily"):
        fiscal_signals(None)
    with pytest.raises(DataError, match="market_structure_signals needs one of etf_flows"):
        market_structure_signals(None)


def test_configs_refuse_bad_windows() -> None:
    with pytest.raises(ConfigError, match=r"FiscalConfig\.short_days must be below long_days"):
        FiscalConfig(short_days=20, long_days=5)
    with pytest.raises(ConfigError, match=r"FiscalConfig\.weeks"):
        FiscalConfig(weeks=0)
    with pytest.raises(ConfigError, match="min_history must not exceed percentile_days"):
        MarketStructureConfig(percentile_days=100, min_history=200)


def test_block_subsidy_halves_on_2024_04_20() -> None:
    d = pd.DatetimeIndex(["2020-05-10", "2020-05-11", "2024-04-19", "2024-04-20"])
    assert block_subsidy(d).tolist() == [12.5, 6.25, 6.25, 3.125]
    mined = mined_btc(dates("2024-04-10", 20), 5)
    assert mined["2024-04-19"] == 5 * 144 * 6.25
    assert mined["2024-04-22"] == 2 * 144 * 6.25 + 3 * 144 * 3.125


def test_etf_flows_in_btc_and_as_a_multiple_of_mined_supply() -> None:
    idx = dates("2024-03-01", 30)
    btc = pd.Series(50_000.0, index=idx)
    flows = pd.Series(np.where(idx.day_of_week < 5, 90.0, np.nan), index=idx)
    panel_flows = flows.ffill().where(idx >= idx[0])
    # distinct values so each weekday's flow is a new observation
    panel_flows = panel_flows + np.where(idx.day_of_week < 5, np.arange(30) * 1e-9, 0)
    panel_flows = panel_flows.where(idx.day_of_week < 5).ffill()
    out = market_structure_signals(panel_flows, btc, index=idx).frame
    last = idx[-1]  # 2024-03-30, a Saturday: the 5-day window holds 4 weekdays
    weekdays = int(
        ((idx > last - pd.Timedelta(days=5)) & (idx <= last) & (idx.day_of_week < 5)).sum()
    )
    assert out.loc[last, "etf_flow_5d"] == pytest.approx(90.0 * weekdays)
    assert out.loc[last, "etf_flow_5d_btc"] == pytest.approx(90e6 * weekdays / 50_000)
    expected = 90e6 * weekdays / 50_000 / (5 * 144 * 6.25)
    assert out.loc[last, "etf_supply_multiple_5d"] == pytest.approx(expected)


def test_etf_btc_figure_is_unknown_when_a_price_is_missing() -> None:
    idx = dates("2024-03-01", 10)
    flows = pd.Series(np.arange(10, dtype=float) + 1, index=idx)
    btc = pd.Series(50_000.0, index=idx).where(idx != idx[-2])
    out = market_structure_signals(flows, btc, index=idx).frame
    assert np.isfinite(out["etf_flow_5d"].iloc[-1])
    assert np.isnan(out["etf_flow_5d_btc"].iloc[-1])


def test_funding_percentile_ranks_against_trailing_days_only() -> None:
    idx = dates("2023-01-01", 400)
    funding = pd.DataFrame({"btc_funding": np.linspace(0.0001, 0.0005, 400)}, index=idx)
    cfg = MarketStructureConfig(funding_days=1, percentile_days=100, min_history=50)
    out = market_structure_signals(None, funding=funding, config=cfg, index=idx).frame
    assert out["funding_pct"].iloc[-1] == 1.0  # rising: always the highest of its past
    assert out["funding_pct"].iloc[:49].isna().all()
    flipped = funding.iloc[::-1].set_axis(idx)
    down = market_structure_signals(None, funding=flipped, config=cfg, index=idx).frame
    assert down["funding_pct"].iloc[-1] == pytest.approx(1 / 100)


def test_cme_positions_and_open_interest_changes() -> None:
    idx = dates("2024-01-01", 60)
    lev = pd.Series(-10_000.0 + 100 * np.arange(60), index=idx)
    oi = pd.Series(20_000.0, index=idx).where(idx < idx[45], 22_000.0)
    out = market_structure_signals(None, cme_lev_net=lev, cme_open_interest=oi, index=idx).frame
    assert out["cme_lev_net_chg"].iloc[-1] == 2800.0
    assert out["cme_oi_chg"].iloc[-1] == pytest.approx(0.1)


def _structure_panel() -> pd.DataFrame:
    panel = synthetic_panel(seed=5, n=500)
    idx = pd.DatetimeIndex(panel.index)
    rng = np.random.default_rng(5)
    panel["tga_daily"] = _asof(pd.Series(7e5 + rng.normal(0, 2e4, 500).cumsum(), index=idx), idx)
    panel["tax_refunds"] = _business_flow(idx, rng)
    panel["fed_mbs"] = panel["fed_assets"] * 0.3
    panel["mortgage_rate"] = 6 + rng.normal(0, 0.05, 500).cumsum()
    panel["etf_flows"] = _business_flow(idx, rng) - 100
    panel["btc_funding"] = 0.0003 + rng.normal(0, 0.0001, 500)
    panel["btc_funding.open_interest"] = 1e9 * np.exp(rng.normal(0, 0.02, 500).cumsum())
    panel["cftc_btc"] = -10_000 + rng.normal(0, 200, 500).cumsum()
    panel["cftc_btc.open_interest"] = 20_000 + rng.normal(0, 200, 500).cumsum()
    return panel


def test_new_blocks_in_compute_signals_and_stage_tables() -> None:
    sig = compute_signals(_structure_panel(), SMALL)
    last = sig.frame.iloc[-1]
    for col in (
        "fiscal.net_liquidity_daily",
        "fiscal.tga_daily_chg_20d",
        "fiscal.fed_mbs_chg_13w",
        "market.etf_supply_multiple_20d",
        "market.funding_pct",
        "market.oi_chg",
        "market.cme_lev_net",
    ):
        assert np.isfinite(last[col]), col
    names = {s.name for st in sig.stage_status().stages for s in st.signals}
    assert {"fiscal.tga_daily_drawdown", "market.etf_absorbing_supply"} <= names


@pytest.mark.parametrize("cut", ["2020-06-30", "2020-12-31", "2021-03-15"])
def test_point_in_time_invariance(cut: str) -> None:
    panel = _structure_panel()
    full = compute_signals(panel, SMALL).frame
    part = compute_signals(panel.loc[:cut], SMALL).frame
    cols = [c for c in full.columns if c.startswith(("fiscal.", "market."))]
    pd.testing.assert_frame_equal(part[cols], full.loc[:cut, cols])
    idx = pd.DatetimeIndex(panel.index)
    args = [panel[c] for c in ("tga_daily", "fed_assets", "rrp", "tax_refunds", "fed_mbs")]
    f_full = fiscal_signals(*args, panel["mortgage_rate"], index=idx).frame
    f_cut = fiscal_signals(*(a.loc[:cut] for a in args), panel["mortgage_rate"].loc[:cut]).frame
    pd.testing.assert_frame_equal(f_cut, f_full.loc[:cut], check_freq=False)


@pytest.mark.parametrize("cut", ["2020-05-31", "2020-11-30"])
def test_market_structure_point_in_time(cut: str) -> None:
    panel = _structure_panel()
    cfg = MarketStructureConfig(percentile_days=60, min_history=30)

    def run(p: pd.DataFrame) -> pd.DataFrame:
        return market_structure_signals(
            p["etf_flows"],
            p["btc"],
            p[["btc_funding"]],
            p[["btc_funding.open_interest"]],
            p["cftc_btc"],
            p["cftc_btc.open_interest"],
            cfg,
        ).frame

    full = run(panel)
    part = run(panel.loc[:cut])
    assert part.notna().any().all()  # every column has values before the cut
    pd.testing.assert_frame_equal(part, full.loc[:cut], check_freq=False)
