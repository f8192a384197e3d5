"""Synthetic panels for the signal tests (built by hand, never from load_panel)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.signals import (
    BreakoutConfig,
    CreditConfig,
    CryptoConfig,
    RelativeStrengthConfig,
    SignalConfig,
    StageConfig,
    TraitsConfig,
    TrendConfig,
)

#: Short windows so a two-year synthetic panel exercises every signal.
SMALL = SignalConfig(
    credit=CreditConfig(change_weeks=4, percentile_min_periods=20),
    large_caps=TrendConfig(ma_window=20, momentum_window=10),
    small_caps=TrendConfig(ma_window=20, momentum_window=10),
    relative_strength=RelativeStrengthConfig(momentum_window=10, ma_window=20),
    breakout=BreakoutConfig(
        min_base_days=10, volume_window=3, volume_average=10, persistence_days=5, live_days=15
    ),
    crypto=CryptoConfig(
        trend_window=20,
        rs_window=10,
        season_window=15,
        season_min_coins=2,
        beaten_window=10,
        beaten_drawdown=0.3,
        dominance_window=10,
    ),
    traits=TraitsConfig(
        trailing_days=60,
        dispersion_window=10,
        leader_window=10,
        leadership_window=20,
        beta_window=20,
        beta_lead_window=10,
        cascade_run=3,
        cascade_drop=0.1,
        cascade_days=5,
    ),
    stages=StageConfig(lookback_days=30),
)


def dates(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D", name="date")


def synthetic_panel(seed: int = 0, n: int = 500, start: str = "2020-01-01") -> pd.DataFrame:
    """A calendar panel shaped like load_panel's output.

    Equities move on weekdays only and are forward-filled over weekends (as the panel
    does), FRED weekly series change on Thursdays, spreads on weekdays, crypto every day;
    two altcoins list late and one stops (NaN afterwards), one column is a stablecoin;
    Fed assets, small caps, the HY spread and BTC start after the first day (BTC's market
    cap does not: dominance is known before BTC's price).
    """
    rng = np.random.default_rng(seed)
    cal = dates(start, n)
    weekday = cal.day_of_week < 5
    out: dict[str, np.ndarray] = {}

    def equity(drift: float, vol: float, level: float) -> np.ndarray:
        steps = np.where(weekday, rng.normal(drift, vol, n), 0.0)
        return level * np.exp(np.cumsum(steps))

    out["large_caps"] = equity(0.0005, 0.01, 3000.0)
    out["small_caps"] = equity(0.0004, 0.015, 1500.0)
    vol = np.where(weekday, rng.lognormal(14.0, 0.3, n), np.nan)
    out["small_caps_volume"] = pd.Series(vol).ffill().to_numpy()
    thursday = cal.day_of_week == 3
    weekly = np.cumsum(np.where(thursday, rng.normal(0, 1.0, n), 0.0))
    out["fed_assets"] = 7e6 + 1e4 * weekly
    out["tga"] = 5e5 + 1e4 * np.cumsum(np.where(thursday, rng.normal(0, 1.0, n), 0.0))
    out["rrp"] = 1e5 + 1e3 * np.cumsum(rng.normal(0, 1.0, n))
    out["hy_spread"] = 4.0 + np.cumsum(np.where(weekday, rng.normal(0, 0.03, n), 0.0))
    out["ig_spread"] = 1.2 + np.cumsum(np.where(weekday, rng.normal(0, 0.01, n), 0.0))
    btc = 20000.0 * np.exp(np.cumsum(rng.normal(0.001, 0.03, n)))
    out["btc"] = btc
    out["btc.market_cap"] = btc * 19e6
    total = btc * 19e6 / (0.5 + 0.1 * np.sin(np.arange(n) / 40.0))
    out["total_crypto_mcap"] = total
    for k, coin in enumerate(("eth", "xrp", "sol", "ada", "doge")):
        beta = 1.0 + 0.3 * k
        r = beta * np.diff(np.log(btc), prepend=np.log(btc[0])) + rng.normal(0, 0.02, n)
        p = 100.0 * np.exp(np.cumsum(r))
        if coin == "sol":
            p[:120] = np.nan  # listed later
        if coin == "doge":
            p[n - 60 :] = np.nan  # stops
        out[coin] = p
    out["usdt"] = np.full(n, 1.0)  # a stablecoin column: never in the universe
    frame = pd.DataFrame(out, index=cal)
    # series that start later than the panel (the panel has their columns from day 0):
    # a cutoff before they start must give the same columns, all unknown
    late = {"fed_assets": 20, "small_caps": 30, "small_caps_volume": 30, "hy_spread": 40, "btc": 60}
    for col, start_day in late.items():
        frame.iloc[:start_day, frame.columns.get_loc(col)] = np.nan
    return frame


@pytest.fixture
def panel() -> pd.DataFrame:
    return synthetic_panel()
