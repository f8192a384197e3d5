"""Stage-1 signals: net liquidity and credit spreads, with planted answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.signals import (
    CreditConfig,
    LiquidityConfig,
    credit_signals,
    liquidity_signals,
    net_liquidity,
)

from .conftest import dates


def _weekly(values: list[float], start: str = "2021-01-07") -> pd.Series:
    return pd.Series(
        values, index=pd.date_range(start, periods=len(values), freq="7D", name="date")
    )


def test_net_liquidity_is_assets_minus_tga_minus_rrp_as_of_each_date() -> None:
    fa = _weekly([100.0, 110.0, 120.0])
    tga = _weekly([10.0, 5.0, 5.0])
    rrp = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2021-01-07", "2021-01-15"], name="date"))
    out = net_liquidity(fa, tga, rrp)
    # 01-07: 100-10-1; 01-14: 110-5-1 (rrp as of 01-14 is 01-07's); 01-15: 110-5-2; 01-21: 120-5-2
    assert out.to_dict() == {
        pd.Timestamp("2021-01-07"): 89.0,
        pd.Timestamp("2021-01-14"): 104.0,
        pd.Timestamp("2021-01-15"): 103.0,
        pd.Timestamp("2021-01-21"): 113.0,
    }


def test_liquidity_changes_on_a_daily_panel_and_tga_drawdown() -> None:
    idx = dates("2021-01-01", 120)
    fa = pd.Series(np.arange(120, dtype=float) * 10.0, index=idx)  # +10 a day
    tga = pd.Series(500.0 - np.arange(120, dtype=float), index=idx)  # drawn down 1 a day
    rrp = pd.Series(50.0, index=idx)
    before = fa.copy()
    res = liquidity_signals(fa, tga, rrp, None, LiquidityConfig())
    f = res.frame
    # net liquidity rises 11 a day: 4 weeks = 28 days -> 308, 13 weeks = 91 days -> 1001
    assert f["net_liquidity_chg_4w"].iloc[-1] == pytest.approx(308.0)
    assert f["net_liquidity_chg_13w"].iloc[-1] == pytest.approx(1001.0)
    assert np.isnan(f["net_liquidity_chg_13w"].iloc[90]) and not np.isnan(
        f["net_liquidity_chg_13w"].iloc[91]
    )
    assert f["tga_chg_4w"].iloc[-1] == pytest.approx(-28.0)
    pd.testing.assert_series_equal(fa, before)  # input untouched


def test_missing_inputs_are_unknown_never_guessed() -> None:
    idx = dates("2021-01-01", 30)
    fa = pd.Series(1000.0, index=idx)
    res = liquidity_signals(fa, None, pd.Series(np.nan, index=idx), None)
    assert res.frame["net_liquidity"].isna().all()
    assert res.status["net_liquidity"] == "unknown: no data for tga, rrp"
    assert res.status["fed_bills"] == "unknown: not supplied"
    assert res.status["rrp"] == "unknown: no data"
    assert res.frame["fed_bills_chg_13w"].isna().all()
    assert "unknown: no data for tga, rrp" in res.summary()
    with pytest.raises(DataError, match="needs at least one of fed_assets, tga, rrp, fed_bills"):
        liquidity_signals(None, None, None)
    with pytest.raises(
        ConfigError, match=r"LiquidityConfig\.long_weeks must be an integer >= 1, got 0"
    ):
        LiquidityConfig(long_weeks=0)


def test_spread_narrows_on_a_known_week() -> None:
    # weekdays only; 5.0 until Friday 2021-06-04, then 4.6 from Monday 2021-06-07
    idx = pd.bdate_range("2021-01-01", "2021-12-31", name="date")
    hy = pd.Series(np.where(idx < "2021-06-07", 5.0, 4.6), index=idx)
    res = credit_signals(hy, None, None, CreditConfig(change_weeks=13, percentile_min_periods=20))
    f = res.frame
    on = f["narrowing"] == 1.0
    assert f.index[on.to_numpy()][0] == pd.Timestamp("2021-06-07")
    assert (f.loc[:"2021-06-04", "narrowing"].dropna() == 0.0).all()
    assert f.loc["2021-06-07", "spread_chg_13w"] == pytest.approx(-0.4)
    # 91 days after the drop the change is back to zero: no longer narrowing
    assert f.loc["2021-09-06", "narrowing"] == 0.0 and f.loc["2021-09-03", "narrowing"] == 1.0
    # causal percentile: on the drop day 4.6 is the lowest value seen so far
    n_before = int((idx < "2021-06-07").sum())
    assert f.loc["2021-06-07", "hy_percentile"] == pytest.approx(1.0 / (n_before + 1))
    assert (f["source"].dropna() == "hy_oas").all()
    assert res.status["spread"] == "ok"


def test_baa_fallback_where_hy_history_is_missing() -> None:
    idx = pd.bdate_range("2020-01-01", "2021-12-31", name="date")
    baa = pd.Series(np.linspace(3.0, 2.0, len(idx)), index=idx)
    hy = pd.Series(np.linspace(6.0, 4.0, len(idx)), index=idx).where(idx >= "2021-01-04")
    res = credit_signals(hy, None, baa, CreditConfig(percentile_min_periods=20))
    f = res.frame
    assert (f.loc[:"2020-12-31", "source"] == "baa10y_fallback").all()
    assert (f.loc["2021-01-04":, "source"] == "hy_oas").all()
    assert f.loc["2020-06-01", "spread"] == baa["2020-06-01"]
    # the headline change never mixes the two series: hy's own 13-week change is unknown at first
    assert np.isnan(f.loc["2021-01-04", "spread_chg_13w"])
    assert res.status["spread"].startswith(
        "hy_spread unknown on 263 days; baa_spread (BAA10Y) used"
    )


def test_credit_config_validation() -> None:
    with pytest.raises(
        ConfigError, match=r"percentile_window must be >= percentile_min_periods \(252\), got 100"
    ):
        CreditConfig(percentile_window=100)
    with pytest.raises(DataError, match="credit_signals needs at least one of hy, ig, baa"):
        credit_signals(None)
