"""Synthetic market data for the backtest tests (seeded, no network, no real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.backtest import MarketData


def synthetic_market(n_days: int = 900, seed: int = 7, alts_start: int = 40) -> MarketData:
    """Daily prices for btc, eth and alts, weekday small-cap sessions, a stage series.

    The small-cap close trends up with pullbacks so that breakouts of every look-back
    happen; volume has bursts; the stage is a lazy random walk on 0..4 with NaN at first.
    """
    rng = np.random.default_rng(seed)
    cal = pd.date_range("2018-01-01", periods=n_days, freq="D", name="date")
    common = rng.normal(0.0005, 0.03, n_days)
    btc = 100 * np.exp(np.cumsum(common))
    eth = 50 * np.exp(np.cumsum(0.8 * common + rng.normal(0.0003, 0.03, n_days)))
    alts = 10 * np.exp(np.cumsum(1.2 * common + rng.normal(0.0, 0.04, n_days)))
    alts[:alts_start] = np.nan
    prices = pd.DataFrame({"btc": btc, "eth": eth, "alts": alts}, index=cal)
    sessions = cal[cal.day_of_week < 5]
    m = len(sessions)
    drift = 0.0008 + 0.004 * np.sin(np.arange(m) / 40.0)
    close = 1000 * np.exp(np.cumsum(drift + rng.normal(0, 0.01, m)))
    volume = rng.lognormal(10, 0.3, m) * (1 + 2 * (rng.random(m) < 0.08))
    small = pd.DataFrame({"close": close, "volume": volume}, index=sessions)
    steps = rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 1], n_days)
    stage = np.clip(2 + np.cumsum(steps), 0, 4).astype(float)
    stage[:10] = np.nan
    return MarketData(
        prices=prices,
        stage=pd.Series(stage, index=cal, name="stage"),
        small_caps=small,
    )


@pytest.fixture(scope="session")
def market() -> MarketData:
    return synthetic_market()
