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
