"""The one alt basket, the season index and the survivorship bias on a point-in-time universe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.signals.baskets import alt_basket, altcoin_season_index, beaten_down
from liqflow.signals.crypto import AltUniverse, crypto_signals
from liqflow.signals.survivorship import survivorship_bias


def _days(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2021-01-01", periods=n, freq="D", name="date")


def _schedule(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index), name="date")
    return frame


def test_daily_rebalance_equals_the_mean_of_returns() -> None:
    rng = np.random.default_rng(3)
    idx = _days(30)
    prices = pd.DataFrame(
        np.exp(np.cumsum(rng.normal(0, 0.05, (30, 4)), axis=0)), index=idx, columns=list("abcd")
    )
    daily = pd.DataFrame(1.0, index=idx, columns=prices.columns)
    got = alt_basket(prices, daily, min_coverage=0.0).frame["return"]
    oracle = prices.pct_change(fill_method=None).mean(axis=1)
    pd.testing.assert_series_equal(got, oracle, check_names=False)


def test_leaver_keeps_its_return_until_the_rebalance() -> None:
    idx = _days(10)
    prices = pd.DataFrame(
        {"a": 1.0, "b": 1.0, "c": [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]}, index=idx
    )
    sched = _schedule({"2021-01-01": {"a": 1, "b": 1, "c": 1}, "2021-01-06": {"a": 1, "b": 1}})
    f = alt_basket(prices, sched, min_coins=2).frame
    # c doubles on day 5 (01-06) while still held: +1/3; it leaves at that close
    assert f["return"].iloc[5] == pytest.approx(1 / 3)
    assert (f["return"].iloc[6:] == 0.0).all()  # c's later rise is not the basket's
    assert f["members"].iloc[5] == 3.0 and f["members"].iloc[6] == 2.0


def test_stopped_prices_are_held_flagged_and_lower_the_coverage() -> None:
    idx = _days(6)
    prices = pd.DataFrame(
        {
            "a": [1, 1.1, 1.21, 1.331, 1.4641, 1.61051],
            "b": 1.0,
            "c": [2, 2, 1, np.nan, np.nan, np.nan],
        },
        index=idx,
    )
    sched = _schedule({"2021-01-01": {"a": 1, "b": 1, "c": 1}})
    basket = alt_basket(prices, sched, min_coverage=0.5)
    f = basket.frame
    assert f["stale"].tolist() == [0, 0, 0, 1, 1, 1]
    assert f["coverage"].iloc[3] == pytest.approx(2 / 3) and bool(f["known"].iloc[3]) is False
    # min_coins=3 by default: with c stale only two coins are priced: unknown, not a number
    assert f["return"].iloc[3:].isna().all() and f["index"].iloc[3:].isna().all()
    assert basket.stale["coin_id"].tolist() == ["c", "c", "c"]
    loose = alt_basket(prices, sched, min_coverage=0.5, min_coins=2).frame
    # c is held at its last price (1): the basket moves with a only
    value = (prices["a"] / 1.0 + 1.0 + 0.5) / 3
    assert loose["return"].iloc[3] == pytest.approx(value.iloc[3] / value.iloc[2] - 1)
    strict = alt_basket(prices, sched, min_coverage=0.9, min_coins=2).frame
    assert np.isnan(strict["return"].iloc[3]) and "coverage" in basket.summary()


def test_market_cap_weights_from_the_snapshot() -> None:
    idx = _days(3)
    prices = pd.DataFrame({"a": [1.0, 2.0, 2.0], "b": [1.0, 1.0, 0.5]}, index=idx)
    sched = _schedule({"2021-01-01": {"a": 3e9, "b": 1e9}})
    f = alt_basket(prices, sched, weighting="market_cap", min_coins=1).frame
    assert f["return"].iloc[1] == pytest.approx(0.75)
    # weights drift: a is now 6/7 of the holding, b 1/7 and halves
    assert f["return"].iloc[2] == pytest.approx(-0.5 / 7)
    assert f["coverage_mcap"].iloc[1] == 1.0
    with pytest.raises(DataError, match=r"weighting must be one of \('equal', 'market_cap'\)"):
        alt_basket(prices, sched, weighting="cap")


def test_season_index_on_the_top_members_as_of_each_day() -> None:
    idx = _days(5)
    btc = pd.Series([1.0, 1.0, 1.1, 1.1, 1.1], index=idx)
    prices = pd.DataFrame(
        {
            "a": [1.0, 1.0, 1.5, 1.5, 1.5],
            "b": [1.0, 1.0, 1.0, 1.0, 1.0],
            "c": [1.0, 2.0, 4.0, 4.0, 4.0],
        },
        index=idx,
    )
    sched = _schedule({"2021-01-01": {"a": 3.0, "b": 2.0, "c": 1.0}})
    asi = altcoin_season_index(prices, btc, sched, window=2, top=2, min_coins=1)
    # on 01-03 vs 01-01: BTC +10 %; the top 2 are a (+50 %) and b (0 %): one of two beats
    assert asi["index"].iloc[2] == pytest.approx(50.0)
    assert asi["members"].iloc[2] == 2.0 and np.isnan(asi["index"].iloc[1])
    bd = beaten_down(prices, btc, sched, drawdown=0.5, window=1)
    assert bd["count"].iloc[0] == 0.0


def test_survivorship_bias_is_measured_on_a_planted_dead_coin() -> None:
    idx = _days(40)
    t = np.arange(40)
    prices = pd.DataFrame(
        {
            "alive1": 1.0 + 0.01 * t,
            "alive2": 1.0 + 0.02 * t,
            "alive3": 1.0 + 0.015 * t,
            "dead": np.where(t < 20, 1.0, 0.05),  # collapses on day 20 while a member
        },
        index=idx,
    )
    btc = pd.Series(1.0, index=idx)
    sched = _schedule(
        {"2021-01-01": {"alive1": 1, "alive2": 1, "alive3": 1, "dead": 1},
         "2021-01-25": {"alive1": 1, "alive2": 1, "alive3": 1}}
    )  # fmt: skip
    bias = survivorship_bias(prices, btc, sched, ["alive1", "alive2", "alive3"])
    frame = bias.to_frame()
    assert frame.loc["total_return", "point_in_time"] < frame.loc["total_return", "todays_list"]
    assert frame.loc["total_return", "difference"] > 0.2
    assert {"annual_return", "season_index_mean", "mean_coverage"} <= set(frame.index)
    assert "today's list" in bias.summary()
    with pytest.raises(DataError, match=r"none of today's coins \['zzz'\] has prices"):
        survivorship_bias(prices, btc, sched, ["zzz"])


def test_crypto_signals_on_a_point_in_time_universe() -> None:
    idx = _days(200)
    rng = np.random.default_rng(5)
    close = pd.DataFrame(
        np.exp(np.cumsum(rng.normal(0, 0.03, (200, 5)), axis=0)),
        index=idx,
        columns=["bitcoin", "a", "b", "c", "d"],
    )
    sched = _schedule(
        {"2021-01-01": {"a": 4.0, "b": 3.0, "c": 2.0}, "2021-03-01": {"a": 4.0, "b": 3.0, "d": 1.0}}
    )
    res = crypto_signals(close["bitcoin"], None, universe=AltUniverse(close, sched))
    f = res.frame
    assert f["alt_members"].iloc[100] == 3.0 and f["alt_coverage"].iloc[100] == 1.0
    assert f["alt_basket"].notna().sum() > 150 and f["alt_basket_mcap"].notna().sum() > 150
    assert f["season_coverage"].iloc[150] == 1.0
    assert "point-in-time" in res.status["alts"]


def _oracle_returns(prices: pd.DataFrame, schedule: pd.DataFrame) -> pd.Series:
    """Day-by-day loop: hold the members bought at the last rebalance's close in equal
    weights, a missing price held at its last value."""
    out = pd.Series(np.nan, index=prices.index)
    rebs = [d for d in schedule.index if d in prices.index]
    for k, reb in enumerate(rebs):
        end = rebs[k + 1] if k + 1 < len(rebs) else prices.index[-1]
        members = [c for c in schedule.columns if pd.notna(schedule.loc[reb, c])]
        held = [c for c in members if pd.notna(prices.loc[reb, c])]
        if not held:
            continue
        block = prices.loc[reb:end, held].ffill()
        value = (block / block.iloc[0]).mean(axis=1)
        out.loc[value.index[1:]] = (value / value.shift(1) - 1.0).iloc[1:].to_numpy()
    return out


def test_basket_equals_a_day_by_day_oracle_on_random_universes() -> None:
    rng = np.random.default_rng(11)
    idx = _days(120)
    coins = [f"c{k}" for k in range(12)]
    prices = pd.DataFrame(
        np.exp(np.cumsum(rng.normal(0, 0.04, (120, 12)), axis=0)), index=idx, columns=coins
    )
    prices = prices.mask(rng.random((120, 12)) < 0.05)  # gaps: held at the last price
    prices.iloc[70:, 3] = np.nan  # a coin whose prices stop while a member
    dates = sorted(rng.choice(np.arange(0, 110), size=8, replace=False))
    sched = pd.DataFrame(
        {d: dict.fromkeys(rng.choice(coins, size=6, replace=False), 1.0) for d in idx[dates]}
    ).T.reindex(columns=coins)
    sched.index = pd.DatetimeIndex(sched.index, name="date")
    got = alt_basket(prices, sched, min_coverage=0.0, min_coins=1).frame["return"]
    want = _oracle_returns(prices, sched)
    pd.testing.assert_series_equal(got, want, check_names=False, check_freq=False)


def test_backtest_trades_the_signals_basket() -> None:
    from liqflow.backtest.data import basket_prices
    from liqflow.signals.crypto import alt_basket as signal_basket

    rng = np.random.default_rng(2)
    idx = _days(60)
    prices = pd.DataFrame(
        np.exp(np.cumsum(rng.normal(0, 0.05, (60, 5)), axis=0)), index=idx, columns=list("abcde")
    )
    prices.iloc[:20, 4] = np.nan  # e lists on day 20: a rebalance
    traded = basket_prices(prices)
    level = signal_basket(prices)["index"]
    ratio = (traded / level).dropna()
    assert len(ratio) == 60 and np.allclose(ratio, ratio.iloc[0])
