"""The alt basket on a long calendar built from the coins' own span
(:func:`liqflow.signals.baskets.alt_basket_on`, ``basket_prices(index=...)``) against
the basket of the prices reindexed onto the whole calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.backtest.data import basket_prices
from liqflow.signals.baskets import alt_basket, alt_basket_on


def _coins(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coins priced from 2016 on (listed, dying, with gaps and a zero price), and a
    monthly schedule of members with market caps."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2016-03-01", "2019-12-31", freq="D", name="date")
    n = 9
    logp = np.cumsum(rng.normal(0.0, 0.04, (len(days), n)), axis=0)
    px = 10 * np.exp(logp)
    birth = rng.integers(0, len(days) // 2, n)
    death = np.minimum(birth + rng.integers(300, 2000, n), len(days))
    alive = (np.arange(len(days))[:, None] >= birth) & (np.arange(len(days))[:, None] < death)
    px = np.where(alive & (rng.random(px.shape) > 0.05), px, np.nan)
    px[rng.integers(0, len(days), 5), rng.integers(0, n, 5)] = 0.0
    prices = pd.DataFrame(px, index=days, columns=[f"c{i}" for i in range(n)])
    months = pd.date_range("2016-04-01", "2019-12-01", freq="MS", name="date")
    caps = rng.lognormal(20, 1, (len(months), n))
    caps[rng.random(caps.shape) < 0.3] = np.nan
    return prices, pd.DataFrame(caps, index=months, columns=prices.columns)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighting", ["equal", "market_cap"])
def test_alt_basket_on_a_long_calendar_equals_the_reindexed_basket(
    seed: int, weighting: str
) -> None:
    prices, schedule = _coins(seed)
    calendar = pd.date_range("1927-12-30", "2020-01-31", freq="D", name="date")
    for sched in (schedule, None):
        full = alt_basket(prices.reindex(calendar), sched, weighting=weighting, min_coins=3)
        fast = alt_basket_on(calendar, prices, sched, weighting=weighting, min_coins=3)
        pd.testing.assert_frame_equal(fast, full.frame)
        if weighting == "equal":
            pd.testing.assert_series_equal(
                basket_prices(prices, min_count=3, schedule=sched, index=calendar),
                basket_prices(prices.reindex(calendar), min_count=3, schedule=sched),
            )


def test_alt_basket_on_a_calendar_that_starts_inside_the_prices() -> None:
    prices, schedule = _coins(4)
    calendar = pd.date_range("2017-06-01", "2019-06-30", freq="D", name="date")
    full = alt_basket(prices.reindex(calendar), schedule, min_coins=3)
    fast = alt_basket_on(calendar, prices, schedule, min_coins=3)
    pd.testing.assert_frame_equal(fast, full.frame)
    assert fast["known"].any()


@pytest.mark.parametrize("seed", [0, 3])
def test_universe_basket_frame_is_alt_basket_on_and_computed_once(seed: int) -> None:
    # oracle: alt_basket_on of the universe's closes without bitcoin (what the claims
    # read); the signals and the claims then share the one frame
    from liqflow.signals.crypto import AltUniverse

    prices, schedule = _coins(seed)
    btc = pd.Series(np.linspace(400.0, 7000.0, len(prices)), index=prices.index)
    universe = AltUniverse(prices.assign(bitcoin=btc), schedule)
    for calendar in (
        pd.date_range("1927-12-30", "2020-01-31", freq="D", name="date"),
        pd.date_range("2017-06-01", "2019-06-30", freq="D", name="date"),
    ):
        for min_coins in (1, 3):
            got = universe.basket_frame(calendar, min_coins)
            ref = alt_basket_on(calendar, prices, schedule, min_coins=min_coins)
            pd.testing.assert_frame_equal(got, ref, check_exact=True)
            assert universe.basket_frame(calendar.copy(), min_coins) is got
    assert len(universe._baskets) == 4
    import copy
    import pickle

    for twin in (pickle.loads(pickle.dumps(universe)), copy.deepcopy(universe)):
        assert twin._baskets == {} and twin.label == universe.label
        pd.testing.assert_frame_equal(
            twin.basket_frame(calendar, 3), universe.basket_frame(calendar, 3)
        )


def test_universe_basket_frame_serves_a_calendar_that_starts_a_computed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a backtest ending before the report's last day reads the first rows of the
    # signals' basket: equal to the basket built on its own calendar (point in time)
    from liqflow.backtest.data import longest_known_span, market_data_from_panel
    from liqflow.signals import baskets
    from liqflow.signals.crypto import AltUniverse

    prices, schedule = _coins(5)
    btc = pd.Series(np.linspace(400.0, 7000.0, len(prices)), index=prices.index)
    universe = AltUniverse(prices.assign(bitcoin=btc), schedule)
    calendar = pd.date_range("1990-01-01", "2020-01-31", freq="D", name="date")
    universe.basket_frame(calendar, 3)
    refs = {
        end: alt_basket_on(calendar[calendar <= end], prices, schedule, min_coins=3)
        for end in ("2017-02-14", "2018-07-31", "2019-12-30")
    }
    direct = basket_prices(prices, min_count=3, schedule=schedule, index=calendar[:-40])
    with monkeypatch.context() as m:
        m.setattr(baskets.CoinPanel, "basket", None)  # nothing is built again
        for end, ref in refs.items():
            got = universe.basket_frame(calendar[calendar <= end], 3)
            pd.testing.assert_frame_equal(got, ref, check_exact=True)
        panel = pd.DataFrame({"btc": btc.reindex(calendar)}).iloc[:-40]
        data = market_data_from_panel(panel, universe=universe, min_alts=3)
    expected, _ = longest_known_span(direct)  # what the backtest holds of it
    pd.testing.assert_series_equal(data.prices["alts"], expected, check_exact=True)
    other = calendar[calendar <= "2018-07-31"].delete(100)  # not the start of the calendar
    assert universe._basket_prefix(other, 3) is None
    assert universe._basket_prefix(calendar[:500], 1) is None


def test_one_coin_panel_serves_both_weightings_of_a_universe() -> None:
    # the signals' equal-weight and market-cap baskets read one alignment and one set of
    # holding periods; each equals the basket built on its own
    from liqflow.signals.crypto import AltUniverse

    prices, schedule = _coins(6)
    universe = AltUniverse(prices, schedule)
    calendar = pd.date_range("2010-01-01", "2020-01-31", freq="D", name="date")
    coins = universe.coin_panel(calendar)
    assert universe.coin_panel(calendar.copy()) is coins
    universe.basket_frame(calendar, 3)
    periods = coins.periods
    for weighting in ("market_cap", "equal"):
        got = alt_basket_on(calendar, prices, schedule, weighting=weighting, min_coins=3)
        own = coins.basket(weighting, min_coins=3)
        tail = got.iloc[-len(own.frame) :]
        pd.testing.assert_frame_equal(own.frame, tail, check_exact=True)
    assert coins.periods is periods and len(periods) > 10


def _beaten_reference(prices: pd.DataFrame, btc: pd.Series, schedule: pd.DataFrame) -> pd.DataFrame:
    """Beaten-down members written out plainly: member on the day (the schedule row in
    force), at least 70 % below its own high; the group 30 days on, against BTC."""
    from liqflow.signals.baskets import members_by_day

    now = prices.where(prices > 0).to_numpy()
    in_force = members_by_day(schedule, prices.index)
    mem = schedule.notna().to_numpy()[np.maximum(in_force, 0)] & (in_force >= 0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        dd = now / np.fmax.accumulate(now, axis=0) - 1.0
    beaten = (dd <= -0.7) & np.isfinite(now) & mem
    was = np.zeros_like(beaten)
    was[30:] = beaten[:-30]
    return pd.DataFrame(
        {"count": np.where(np.isfinite(now).any(axis=1), beaten.sum(axis=1), np.nan)},
        index=prices.index,
    ).assign(group_members=was.sum(axis=1).astype(float))


def test_beaten_down_members_and_group_against_a_plain_reference() -> None:
    # the schedule starts a month after the first prices: no member before it
    from liqflow.signals.baskets import beaten_down

    prices, schedule = _coins(7)
    prices = prices * np.exp(-np.linspace(0.0, 3.0, len(prices)))[:, None]  # deep drawdowns
    prices.iloc[:10, :3] = 10.0
    prices.iloc[10:31, :3] = 1.0  # a crash before the first schedule row (2016-04-01)
    btc = pd.Series(np.linspace(400.0, 7000.0, len(prices)), index=prices.index)
    got = beaten_down(prices, btc, schedule)
    ref = _beaten_reference(prices, btc, schedule)
    np.testing.assert_array_equal(got["count"].to_numpy(), ref["count"].to_numpy())
    assert got["count"].iloc[:31].fillna(0).eq(0).all() and got["count"].max() >= 3
    assert (got["group"].to_numpy() <= ref["group_members"].to_numpy()).all()
    assert got["group"].max() >= 3


def test_season_index_counts_against_a_plain_reference() -> None:
    # members only from the first schedule row on; a coin is eligible with a price today
    # and exactly `window` days before, and beats BTC when its return is higher
    from liqflow.signals.baskets import altcoin_season_index, members_by_day

    prices, schedule = _coins(8)
    prices.iloc[:40, :4] = np.linspace(10.0, 30.0, 40)[:, None]  # priced before the schedule
    btc = pd.Series(np.linspace(400.0, 7000.0, len(prices)), index=prices.index)
    got = altcoin_season_index(prices, btc, schedule, window=20, top=None, min_coins=2)
    now = prices.where(prices > 0).to_numpy()
    then = np.full_like(now, np.nan)
    then[20:] = now[:-20]
    b = btc.to_numpy()
    b_then = np.r_[np.full(20, np.nan), b[:-20]]
    in_force = members_by_day(schedule, prices.index)
    mem = schedule.notna().to_numpy()[np.maximum(in_force, 0)] & (in_force >= 0)[:, None]
    with np.errstate(invalid="ignore"):
        coin_ret, btc_ret = now / then - 1.0, b / b_then - 1.0
    eligible = mem & np.isfinite(coin_ret) & np.isfinite(btc_ret)[:, None]
    beating = eligible & (coin_ret > btc_ret[:, None])
    np.testing.assert_array_equal(got["eligible"].to_numpy(), eligible.sum(axis=1))
    np.testing.assert_array_equal(got["beating"].to_numpy(), beating.sum(axis=1))
    assert got["eligible"].iloc[:31].eq(0).all() and got["eligible"].max() >= 4
