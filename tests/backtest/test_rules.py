"""Rules, positions and the pandas backtest: timing, costs, inputs, TOML."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_market
from liqflow._errors import ConfigError, DataError
from liqflow.backtest import (
    BreakoutParams,
    MarketData,
    Rule,
    backtest,
    basket_prices,
    breakout_events,
    load_rule,
    rule_signal,
)


def _flat_market(n: int = 30, jump_day: int = 15) -> MarketData:
    """btc flat except a +100% close-to-close return on ``jump_day``."""
    cal = pd.date_range("2021-01-01", periods=n, freq="D", name="date")
    btc = np.ones(n) * 100.0
    btc[jump_day:] = 200.0
    return MarketData(prices=pd.DataFrame({"btc": btc}, index=cal))


def _with_events(data: MarketData, days: list[int]) -> MarketData:
    ev = pd.Series(False, index=data.calendar)
    ev.iloc[days] = True
    return MarketData(prices=data.prices, breakouts=ev)


RULE = Rule(signal="breakout", asset="btc", hold_days=1, fee_bps=0, slippage_bps=0)


def test_planted_signal_earns_return_two_days_later() -> None:
    # Decision at the close of t trades at the close of t+1 and earns r[t+2].
    jump = 15
    on_time = backtest(RULE, _with_events(_flat_market(jump_day=jump), [jump - 2]))
    assert on_time.path["weight"].iloc[jump - 1] == 1.0  # index shift: path starts at day 1
    assert on_time.metrics.total_return == pytest.approx(1.0)
    too_late = backtest(RULE, _with_events(_flat_market(jump_day=jump), [jump - 1]))
    assert too_late.metrics.total_return == pytest.approx(0.0)
    # a signal on the jump day itself (knowing the close) cannot earn that jump
    same_day = backtest(RULE, _with_events(_flat_market(jump_day=jump), [jump]))
    assert same_day.metrics.total_return == pytest.approx(0.0)


def test_hold_days_and_costs() -> None:
    data = _with_events(_flat_market(), [3])
    rule = Rule(signal="breakout", asset="btc", hold_days=4, fee_bps=7, slippage_bps=3)
    path = backtest(rule, data).path
    held = path.index[path["weight"] == 1.0]
    assert list(held) == list(pd.date_range("2021-01-06", periods=4, freq="D"))
    assert path["turnover"].sum() == 2.0  # in and out
    # flat prices: the only losses are the two 10 bp legs
    assert path["equity"].iloc[-1] == pytest.approx((1 - 0.001) ** 2)
    m = backtest(rule, data).metrics
    assert m.n_trades == 1 and m.hit_rate == 0.0 and m.exposure == pytest.approx(4 / 29)


def test_fallback_asset_switch_costs_two_legs(market: MarketData) -> None:
    rule = Rule(signal="stage", asset="alts", fallback="btc", min_stage=3, fee_bps=10)
    res = backtest(rule, market)
    p = res.path
    assert set(p["turnover"].unique()) <= {0.0, 1.0, 2.0}
    switches = p["weight"].diff().abs() == 1
    assert (p.loc[switches, "turnover"] == 2.0).all()
    manual = (1 - rule.cost * p["turnover"]) * (
        1 + np.where(p["weight"] == 1, p["asset_return"], p["fallback_return"])
    ) - 1
    np.testing.assert_allclose(p["net"], manual, rtol=0, atol=1e-15)
    assert [b.name for b in res.benchmarks] == ["buy & hold alts", "buy & hold btc"]
    assert "buy & hold btc" in res.summary()
    assert list(res.compare()["exposure"])[1:] == [1.0, 1.0]


def test_stage_signal_and_unknown_stage(market: MarketData) -> None:
    rule = Rule(signal="stage", asset="btc", min_stage=3)
    sig = rule_signal(rule, market)
    stage = market.stage.reindex(market.calendar)
    assert not sig[stage.isna()].any()
    assert (sig == (stage >= 3)).all()


def test_any_and_all_combine(market: MarketData) -> None:
    kw = {"asset": "btc", "min_stage": 3, "hold_days": 20}
    s = rule_signal(Rule(signal="stage", **kw), market)
    b = rule_signal(Rule(signal="breakout", **kw), market)
    assert (rule_signal(Rule(signal="any", **kw), market) == (s | b)).all()
    assert (rule_signal(Rule(signal="all", **kw), market) == (s & b)).all()


def test_point_in_time_invariance(market: MarketData) -> None:
    # The path up to day t is the same when the data end at t.
    rule = Rule(signal="any", asset="alts", fallback="btc", hold_days=15, min_stage=3)
    full = backtest(rule, market).path
    cut = market.calendar[500]
    small = market.small_caps
    truncated = MarketData(
        prices=market.prices.loc[:cut],
        stage=market.stage.loc[:cut],
        small_caps=small.loc[:cut],
    )
    part = backtest(rule, truncated).path
    pd.testing.assert_frame_equal(part, full.loc[:cut])


def test_window_and_start_of_trading(market: MarketData) -> None:
    rule = Rule(signal="stage", asset="alts", min_stage=1)
    res = backtest(rule, market, start="2018-06-01", end="2019-01-31")
    assert res.path.index[0] == pd.Timestamp("2018-06-01")
    assert res.path.index[-1] == pd.Timestamp("2019-01-31")
    # alts start on day 40 (first return on day 41): nothing is held before
    first = backtest(rule, market).path.index[0]
    assert first == market.calendar[41]
    with pytest.raises(DataError, match="leaves 0 days with prices"):
        backtest(rule, market, start="2030-01-01")


def test_breakout_events_planted() -> None:
    sessions = pd.bdate_range("2020-01-01", periods=120, name="date")
    close = pd.Series(100.0, index=sessions)
    close.iloc[60:] = 110.0  # first close above the old high on session 60
    close.iloc[66] = 99.0  # dips below the old high 6 sessions later
    volume = pd.Series(1.0, index=sessions)
    volume.iloc[58:61] = 3.0  # volume burst ending on the breakout day
    p = BreakoutParams(lookback=20, volume_threshold=1.2, persistence=5)
    ev = breakout_events(close, volume, p)
    assert list(ev.index[ev]) == [sessions[65]]  # confirmed (known) 5 sessions later
    failed = breakout_events(close, volume, BreakoutParams(20, 1.2, 6))
    assert not failed.any()  # session 66 is back below the old high
    # volume ratio on session 60: mean(1, 1, 3, 3, 3) / mean(1 x 50) = 2.2
    assert breakout_events(close, volume, BreakoutParams(20, 2.2, 0)).iloc[60]
    assert not breakout_events(close, volume, BreakoutParams(20, 2.3, 0)).any()
    immediate = breakout_events(close, None, BreakoutParams(20, 0.0, 0))
    # session 60 is the only close above every close of the 20 before it
    assert list(immediate.index[immediate]) == [sessions[60]]


def test_breakout_events_match_naive_loop(market: MarketData) -> None:
    close = market.small_caps["close"]
    volume = market.small_caps["volume"]
    for p in [BreakoutParams(0, 1.1, 3), BreakoutParams(30, 0.0, 0), BreakoutParams(60, 1.3, 7)]:
        got = breakout_events(close, volume, p).to_numpy()
        c, v = close.to_numpy(), volume.to_numpy()
        want = np.zeros(len(c), bool)
        for i in range(len(c)):
            lo = 0 if p.lookback == 0 else i - p.lookback
            if lo < 0 or i == 0:
                continue
            old = c[lo:i].max()
            lo_prev = 0 if p.lookback == 0 else i - 1 - p.lookback
            prev_high = i >= 2 and lo_prev >= 0 and c[i - 1] > c[lo_prev : i - 1].max()
            if not (c[i] > old) or prev_high:
                continue
            if p.volume_threshold > 0:
                w, a = p.volume_window, p.volume_average
                if i - w - a + 1 < 0:
                    continue
                ratio = v[i - w + 1 : i + 1].mean() / v[i - w - a + 1 : i - w + 1].mean()
                if ratio < p.volume_threshold:
                    continue
            j = i + p.persistence
            if j < len(c) and c[j] > old:
                want[j] = True
        np.testing.assert_array_equal(got, want)


def test_basket_prices_equal_weight() -> None:
    cal = pd.date_range("2021-01-01", periods=4, freq="D")
    px = pd.DataFrame({"a": [1.0, 2.0, 2.0, 4.0], "b": [np.nan, 10.0, 5.0, 5.0]}, index=cal)
    basket = basket_prices(px)
    # day 1: only a is held (+100%); b lists: equal weights at day 1's close; day 2: a 0%,
    # b -50% -> -25%; day 3: held since day 1 (weights drifted to 2/3, 1/3): a +100%, b 0%
    np.testing.assert_allclose(basket.to_numpy(), [1.0, 2.0, 1.5, 2.5])


def test_a_derived_price_is_held_on_its_longest_known_run_with_a_note() -> None:
    from liqflow.backtest.data import longest_known_span

    cal = pd.date_range("2021-01-01", periods=9, freq="D")
    px = pd.Series([np.nan, 1, 2, 3, 4, np.nan, np.nan, 5, 6], index=cal, name="alts")
    kept, note = longest_known_span(px)
    np.testing.assert_array_equal(kept.notna().to_numpy(), [0, 1, 1, 1, 1, 0, 0, 0, 0])
    assert note == (
        "alts is unknown on 2 days inside its history (too few coins priced); the backtest "
        "holds it on its longest known run, 2021-01-02 to 2021-01-05"
    )
    whole, none = longest_known_span(px.iloc[1:5])
    assert none is None and whole.equals(px.iloc[1:5])


def test_rule_validation() -> None:
    with pytest.raises(ConfigError, match=r"Rule.signal must be one of \('stage'"):
        Rule(signal="moon")
    with pytest.raises(
        ConfigError, match=re.escape("Rule.fallback must be 'cash' or a price column")
    ):
        Rule(asset="btc", fallback="btc")
    with pytest.raises(ConfigError, match=re.escape("Rule.min_stage must be 0-4, got 5")):
        Rule(min_stage=5)
    with pytest.raises(
        ConfigError, match=re.escape("Rule.hold_days must be an integer >= 1, got 0")
    ):
        Rule(hold_days=0)
    with pytest.raises(ConfigError, match=re.escape("Rule.fee_bps must be a finite number >= 0")):
        Rule(fee_bps=-1)
    with pytest.raises(
        ConfigError, match=re.escape("Rule.fee_bps must be below 10,000 basis points")
    ):
        Rule(fee_bps=1e6)
    with pytest.raises(ConfigError, match=re.escape("Rule.slippage_bps must be below 10,000")):
        Rule(slippage_bps=10_000)
    with pytest.raises(ConfigError, match=re.escape("Rule.asset must be a price column name")):
        Rule(asset="cash")


def test_missing_inputs(market: MarketData) -> None:
    no_stage = MarketData(prices=market.prices, small_caps=market.small_caps)
    with pytest.raises(DataError, match=re.escape("MarketData.stage is None")):
        backtest(Rule(signal="stage", asset="btc"), no_stage)
    no_events = MarketData(prices=market.prices, stage=market.stage)
    with pytest.raises(DataError, match="neither small_caps"):
        backtest(Rule(signal="breakout", asset="btc"), no_events)
    with pytest.raises(DataError, match="asset\\(s\\) 'doge' not in prices"):
        backtest(Rule(signal="stage", asset="doge"), market)
    bad = MarketData(prices=market.prices, stage=market.stage * 1.5)
    with pytest.raises(
        DataError, match=re.escape("stage must hold integers 0-4 or NaN, got 4.5 on 2018-01-")
    ):
        backtest(Rule(signal="stage", asset="btc"), bad)
    gap = market.prices.copy()
    gap.iloc[100, 0] = np.nan
    with pytest.raises(DataError, match="price of 'btc' is missing on 2018-04-11"):
        backtest(Rule(signal="stage", asset="btc"), MarketData(prices=gap, stage=market.stage))
    with pytest.raises(DataError, match="'cash' is reserved"):
        MarketData(prices=market.prices.rename(columns={"btc": "cash"}))


def test_load_rule(tmp_path: Path) -> None:
    f = tmp_path / "rule.toml"
    f.write_text(
        '[rule]\nsignal = "any"\nasset = "alts"\nfallback = "btc"\nmin_stage = 3\n'
        "hold_days = 45\nfee_bps = 5\n[rule.breakout]\nlookback = 252\npersistence = 10\n"
    )
    rule = load_rule(f)
    assert rule == Rule(
        signal="any",
        asset="alts",
        fallback="btc",
        hold_days=45,
        fee_bps=5,
        breakout=BreakoutParams(lookback=252, persistence=10),
    )
    f.write_text('[rule]\nsignal = "stage"\nassets = "alts"\n')
    with pytest.raises(ConfigError, match="unknown key\\(s\\) 'assets'"):
        load_rule(f)
    f.write_text("[other]\n")
    with pytest.raises(ConfigError, match="has no \\[rule\\] table"):
        load_rule(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_rule(tmp_path / "nope.toml")


def test_synthetic_fixture_is_reproducible() -> None:
    a, b = synthetic_market(seed=3), synthetic_market(seed=3)
    pd.testing.assert_frame_equal(a.prices, b.prices)


def test_histories_that_stop_end_the_window() -> None:
    cal = pd.date_range("2021-01-01", periods=10, freq="D", name="date")
    px = pd.DataFrame({"btc": np.arange(10.0) + 100, "alts": np.arange(10.0) + 1}, index=cal)
    px.iloc[7:, 1] = np.nan  # alts stop on day 6
    ev = pd.Series(False, index=cal)
    res = backtest(
        Rule(signal="breakout", asset="alts", fallback="btc"), MarketData(px, breakouts=ev)
    )
    assert res.path.index[-1] == cal[6]
    assert [b.name for b in res.benchmarks] == ["buy & hold alts", "buy & hold btc"]
    basket = basket_prices(px[["alts"]])
    assert basket.notna().sum() == 7 and np.isnan(basket.iloc[-1])


def test_basket_needs_min_count() -> None:
    cal = pd.date_range("2021-01-01", periods=5, freq="D")
    px = pd.DataFrame(
        {"a": [1.0, 2.0, 2.0, 4.0, 4.0], "b": [np.nan, 1.0, 2.0, 2.0, np.nan]}, index=cal
    )
    basket = basket_prices(px, min_count=2)
    # two coins are held only on days 2 and 3 (b bought at day 1's close): (0% + 100%) / 2,
    # then from weights 1/3, 2/3: (100% + 0%) / 3; day 4: b has no price (held, stale)
    np.testing.assert_allclose(basket.to_numpy(), [np.nan, 1.0, 1.5, 2.0, np.nan])


def test_market_data_detects_each_breakout_row_once_and_hands_out_copies() -> None:
    # oracle: a fresh MarketData per call (nothing remembered)
    data = synthetic_market()
    a, b, c = BreakoutParams(), BreakoutParams(lookback=60), BreakoutParams(volume_threshold=0)
    for params in ([a, b], [c, a, a], [b]):
        fresh = synthetic_market()
        np.testing.assert_array_equal(data.event_rows(params), fresh.event_rows(params))
    rows = data.event_rows([a])
    rows[:] = True  # the caller's copy: the next call is unchanged
    np.testing.assert_array_equal(data.event_rows([a]), synthetic_market().event_rows([a]))
    stage = data.stage_array()
    stage[:] = 4
    np.testing.assert_array_equal(data.stage_array(), synthetic_market().stage_array())
    assert data.returns(["btc", "alts"]) is data.returns(("btc", "alts"))
    pd.testing.assert_frame_equal(data.returns(["alts"]), synthetic_market().returns(["alts"]))
