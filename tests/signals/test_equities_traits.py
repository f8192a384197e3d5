"""Trend, momentum, relative strength and the supercycle traits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError
from liqflow.signals import (
    TraitsConfig,
    TrendConfig,
    correction_absorption,
    high_beta,
    leverage,
    relative_strength,
    rotation,
    traits_signals,
    trend_signals,
)
from liqflow.signals.crypto import MIN_BASKET_COINS

from .conftest import dates


def test_trend_signals_equal_the_pandas_oracle_on_sessions() -> None:
    idx = pd.bdate_range("2020-01-01", periods=300, name="date")
    close = pd.Series(
        100 * np.exp(np.random.default_rng(3).normal(0, 0.01, 300).cumsum()), index=idx
    )
    res = trend_signals(
        close, TrendConfig(ma_window=200, momentum_window=63, momentum_threshold=0.02)
    )
    f = res.frame
    pd.testing.assert_series_equal(f["ma"], close.rolling(200).mean(), check_names=False)
    pd.testing.assert_series_equal(f["momentum"], close.pct_change(63), check_names=False)
    on = f["momentum_positive"].dropna()
    assert ((f["momentum"].dropna() > 0.02).astype(float) == on).all()
    assert f["above_ma"].iloc[:199].isna().all()


def test_relative_strength_uses_the_large_cap_close_as_of_each_small_cap_session() -> None:
    idx = pd.bdate_range("2020-01-01", periods=30, name="date")
    small = pd.Series(np.linspace(100, 130, 30), index=idx)
    large = pd.Series(100.0, index=idx).drop(idx[10])  # a missing large-cap session
    rs = relative_strength(small, large).frame
    assert rs["ratio"].iloc[10] == pytest.approx(small.iloc[10] / 100.0)
    short = relative_strength(small, large, config=None)
    assert short.status == {"small": "ok", "large": "ok"}
    empty = relative_strength(small, large.iloc[:0])
    assert empty.frame.empty and empty.status == {"small": "ok", "large": "unknown: no data"}


def test_cascades_are_counted_once_per_episode_and_compared_with_history() -> None:
    idx = dates("2021-01-01", 200)
    p = np.full(200, 100.0)
    p[50:55] = [99, 98, 97, 96, 95]  # 5 down days in a row: one episode starting on day 52
    p[55:150] = 95.0
    p[150:] = 80.0  # -15.8% in one day: a second episode on day 150
    p[151:] = 120.0  # new high: recovers
    cfg = TraitsConfig(cascade_run=3, cascade_drop=0.15, cascade_days=7, trailing_days=60)
    out = correction_absorption(pd.Series(p, index=idx), cfg)
    assert out.index[out["cascade"] == 1.0].tolist() == [idx[52], idx[150]]
    assert out["drawdown"].iloc[150] == pytest.approx(-0.2)
    # day 151 is the first new high since day 49 (the last day at 100): 102 days later
    assert out["recovery_days"].iloc[151] == 102
    assert out["recovery_days"].notna().sum() == 1
    # on day 199: 1 episode in the trailing 60 days; history: 2 episodes in 200 days
    assert out["cascades_trailing"].iloc[-1] == 1.0
    assert out["cascade_rate_hist"].iloc[-1] == pytest.approx(2 / 200 * 60)
    assert out["cascade_ratio"].iloc[-1] == pytest.approx(1.0 / (2 / 200 * 60))


def test_rotation_leader_and_dispersion() -> None:
    idx = dates("2021-01-01", 60)
    t = np.arange(60)
    a = np.where(t < 30, 1.02**t, 1.02**29)
    b = np.where(t < 30, 1.0, 1.03 ** (t - 29))
    prices = pd.DataFrame({"aaa": a, "bbb": b, "ccc": np.ones(60)}, index=idx)
    cfg = TraitsConfig(leader_window=5, leadership_window=40, dispersion_window=5)
    out = rotation(prices, cfg)
    assert out["leader"].iloc[20] == "aaa" and out["leader"].iloc[-1] == "bbb"
    assert out["leader_changes"].iloc[-1] == 1.0
    assert out["dispersion"].iloc[20] == pytest.approx(np.std([0.02, 0.0, 0.0], ddof=1))


def test_rotation_is_unknown_without_enough_coins() -> None:
    """Before the alts exist (the panel starts in 1927) and while fewer than min_coins
    trade, leadership changes are unknown (NaN), never a count of 0."""
    idx = dates("2020-01-01", 200)
    t = np.arange(200)
    a = np.where(t >= 50, 1.01 ** (t - 50), np.nan)  # lists on day 50
    b = np.where(t >= 60, 1.0, np.nan)  # lists on day 60
    c = np.where((t >= 70) & (t < 180), 1.005 ** (t - 70), np.nan)  # day 70 .. 179
    prices = pd.DataFrame({"aaa": a, "bbb": b, "ccc": c}, index=idx)
    assert TraitsConfig().min_coins == MIN_BASKET_COINS == 3
    cfg = TraitsConfig(leader_window=5, leadership_window=20, dispersion_window=5)
    out = rotation(prices, cfg)
    # the leader needs 3 coins with a 5-day return: from day 75 to day 179
    known = out["leader"].notna().to_numpy()
    assert (np.flatnonzero(known) == np.arange(75, 180)).all()
    changes = out["leader_changes"]
    # a 20-day window of known leaders (and the day before): days 95 .. 179
    assert changes.iloc[:95].isna().all() and changes.iloc[180:].isna().all()
    assert (changes.iloc[95:180] == 0.0).all()  # aaa leads throughout
    assert out["dispersion"].iloc[:71].isna().all() and out["dispersion"].iloc[190:].isna().all()
    # two coins are not enough unless asked for
    two = rotation(prices, TraitsConfig(leader_window=5, leadership_window=20, min_coins=2))
    assert two["leader"].first_valid_index() == idx[65]


def test_traits_are_unknown_before_and_after_the_basket() -> None:
    """Every basket trait is NaN on days with fewer than min_coins coins."""
    rng = np.random.default_rng(7)
    idx = dates("2019-01-01", 600)
    t = np.arange(600)
    btc = pd.Series(100 * np.exp(rng.normal(0, 0.03, 600).cumsum()), index=idx)
    prices = pd.DataFrame(
        {f"c{k}": 10 * np.exp(rng.normal(0, 0.05, 600).cumsum()) for k in range(4)}, index=idx
    )
    prices.loc[(t < 200) | (t >= 500), ["c1", "c2", "c3"]] = np.nan  # c0 alone there
    cfg = TraitsConfig(
        trailing_days=60, leader_window=10, leadership_window=20, beta_window=30,
        beta_lead_window=10, dispersion_window=10,
    )  # fmt: skip
    frame = traits_signals(btc, prices, config=cfg).frame
    basket_cols = [
        "alt_drawdown",
        "alt_days_since_high",
        "alt_max_drawdown_trailing",
        "alt_cascade_rate_hist",
        "dispersion",
        "leader_changes",
        "mean_beta",
        "high_beta_spread",
        "high_beta_leads",
    ]
    one_coin = (t < 200) | (t >= 500)
    for col in basket_cols:
        assert frame.loc[one_coin, col].isna().all(), col
        assert frame.loc[~one_coin, col].notna().any(), col
    assert frame.loc[one_coin, "leader"].isna().all()
    # BTC's own traits are known throughout
    assert frame["btc_drawdown"].notna().all()


def test_alt_traits_on_a_long_calendar_equal_their_parts_on_every_row() -> None:
    # oracle: each trait function on the whole calendar (coins from 2019, BTC and the
    # calendar from 2012): the traits computed on the coins' own span are the same
    from liqflow.signals.crypto import alt_basket

    rng = np.random.default_rng(11)
    idx = dates("2012-01-01", 3000)
    btc = pd.Series(100 * np.exp(rng.normal(0, 0.03, 3000).cumsum()), index=idx)
    prices = pd.DataFrame(
        {f"c{k}": 10 * np.exp(rng.normal(0, 0.05, 3000).cumsum()) for k in range(5)}, index=idx
    )
    prices.iloc[:2600] = np.nan
    prices.iloc[2700:2720, 1] = np.nan
    cfg = TraitsConfig(
        trailing_days=60, leader_window=10, leadership_window=20, beta_window=30,
        beta_lead_window=10, dispersion_window=10,
    )  # fmt: skip
    frame = traits_signals(btc, prices, config=cfg).frame
    basket = alt_basket(prices)
    level = basket["index"].where(basket["priced"] >= cfg.min_coins)
    parts = [
        correction_absorption(level, cfg).add_prefix("alt_"),
        rotation(prices, cfg),
        high_beta(prices, btc, cfg),
    ]
    expected = pd.concat(parts, axis=1)
    pd.testing.assert_frame_equal(frame[expected.columns], expected, check_exact=True)
    assert frame["mean_beta"].iloc[2640:].notna().all()


def test_correction_absorption_is_unknown_without_a_price() -> None:
    idx = dates("2021-01-01", 120)
    p = pd.Series(
        np.r_[np.full(10, np.nan), np.linspace(100, 80, 90), np.full(20, np.nan)], index=idx
    )
    out = correction_absorption(p, TraitsConfig(trailing_days=30))
    gone = p.isna()
    for col in out.columns:
        assert out.loc[gone, col].isna().all(), col
    assert out["days_since_high"].iloc[99] == 89
    # one cascade episode (the steady decline) in 90 priced days, per 30 days
    assert out["cascade_rate_hist"].iloc[99] == pytest.approx(30 / 90)


def test_high_beta_leads_when_high_beta_coins_outperform() -> None:
    rng = np.random.default_rng(4)
    idx = dates("2021-01-01", 200)
    br = rng.normal(0.003, 0.03, 200)
    br[0] = 0.0
    btc = pd.Series(100 * np.cumprod(1 + br), index=idx)
    prices = pd.DataFrame(
        {f"c{k}": 10 * np.cumprod(1 + beta * br) for k, beta in enumerate((0.5, 1.0, 2.0, 3.0))},
        index=idx,
    )
    out = high_beta(prices, btc, TraitsConfig(beta_window=30, beta_lead_window=20))
    # noiseless coins: the rolling beta is exact, so the mean beta is (0.5+1+2+3)/4
    assert out["mean_beta"].iloc[-1] == pytest.approx(1.625, rel=1e-6)
    # with BTC clearly up over the window, the high-beta half (2, 3) beats the low-beta half
    up = btc / btc.shift(20) - 1 > 0.05
    lead = out["high_beta_leads"]
    both = lead.notna() & up
    assert (lead[both] == 1.0).all() and both.sum() > 30


def test_leverage_is_unknown_without_data() -> None:
    idx = dates("2021-01-01", 40)
    out, status = leverage(None, None, idx)
    assert out["funding_rate"].isna().all() and status["funding_rate"] == "unknown: not supplied"
    fr = pd.DataFrame({"btc.funding_rate": np.full(40, 0.0001)}, index=idx)
    oi = pd.DataFrame({"btc.open_interest": np.linspace(100, 200, 40)}, index=idx)
    out, status = leverage(fr, oi, idx, TraitsConfig(oi_window=10))
    assert status == {"funding_rate": "ok", "open_interest": "ok"}
    assert out["funding_rate"].iloc[-1] == pytest.approx(0.0001)
    assert out["oi_change"].iloc[-1] == pytest.approx(200 / np.linspace(100, 200, 40)[-11] - 1)


def test_traits_signals_without_alts_and_config_checks() -> None:
    idx = dates("2021-01-01", 30)
    res = traits_signals(pd.Series(np.linspace(1, 2, 30), index=idx), None)
    assert res.status["alts"] == "unknown: not supplied"
    assert res.frame["dispersion"].isna().all() and res.frame["leader"].isna().all()
    assert res.frame["btc_drawdown"].iloc[-1] == 0.0
    with pytest.raises(
        ConfigError, match=r"TraitsConfig.cascade_drop must be in \(0, 1\), got 1.5"
    ):
        TraitsConfig(cascade_drop=1.5)


def test_rolling_betas_equal_the_pandas_loop_per_coin() -> None:
    # oracle: the per-coin pandas rolling cov / var that high_beta used, with gaps in a
    # coin's prices, late listings and a gap in BTC's
    from liqflow.signals.traits import _rolling_betas

    rng = np.random.default_rng(4)
    idx = pd.date_range("2018-01-01", periods=700, freq="D", name="date")
    p = pd.DataFrame(np.exp(np.cumsum(rng.normal(0, 0.03, (700, 6)), axis=0)), index=idx)
    for k in range(6):
        p.iloc[: 60 * k, k] = np.nan
    p.iloc[300:320, 2] = np.nan
    b = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.02, 700))), index=idx)
    b.iloc[100:104] = np.nan
    rets, br = p / p.shift(1) - 1.0, b / b.shift(1) - 1.0
    window = 30
    m = max(2, int(0.8 * window))
    ref = {}
    for col in rets.columns:
        x = rets[col]
        y = br + 0.0 * x
        var = y.rolling(window, min_periods=m).var()
        ref[col] = x.rolling(window, min_periods=m).cov(y) / var.where(var > 0)
    pd.testing.assert_frame_equal(
        _rolling_betas(rets, br, window), pd.DataFrame(ref, index=idx), rtol=1e-9, atol=1e-12
    )
