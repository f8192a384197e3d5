"""A synthetic market with the chain planted (or not), for the study tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from liqflow.catalog import default_catalog
from liqflow.study import StudyInputs, study_inputs

DAYS = pd.date_range("2012-01-01", "2026-03-31", freq="D", name="date")
SESSIONS = pd.bdate_range(DAYS[0], DAYS[-1], name="date")
EVENTS = ["2014-06-02", "2016-11-14", "2019-03-04", "2020-11-13", "2022-08-01", "2025-09-15"]


def synthetic_panel(planted: bool, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Calendar-day panel; with ``planted`` the chain holds by construction:
    credit leads large caps by 14 days, large caps lead small caps by 14 days, small caps
    lead crypto by 56 days (8 weeks), and crypto rallies 40 % in the 30 days after each
    breakout (except a crash after the 2025 one)."""
    rng = np.random.default_rng(seed)
    n = DAYS.size
    pad = 200
    credit = 0.005 * rng.standard_normal(n + pad)
    b = 0.9 if planted else 0.0
    large = b * np.roll(credit, 14) + 0.006 * rng.standard_normal(n + pad)
    small = b * np.roll(large, 14) + 0.006 * rng.standard_normal(n + pad)
    btc = 1.5 * b * np.roll(small, 56) + 0.02 * rng.standard_normal(n + pad)
    coins = [1.2 * b * np.roll(small, 56) + 0.03 * rng.standard_normal(n + pad) for _ in range(3)]
    sl = slice(pad, None)
    events = pd.Series(False, index=SESSIONS)
    events[pd.DatetimeIndex(EVENTS)] = True
    btc_r, coin_r = btc[sl].copy(), [c[sl].copy() for c in coins]
    if planted:
        for d in pd.DatetimeIndex(EVENTS):
            i = DAYS.get_loc(d) + 1
            step = (np.log(0.6) if d.year == 2025 else np.log(1.4)) / 30
            btc_r[i : i + 30] += step
            for c in coin_r:
                c[i : i + 30] += step
    spread = 4.0 - np.cumsum(credit[sl]) * 20  # narrowing spread = rising credit "price"
    spread = np.clip(spread, 0.5, None)
    panel = pd.DataFrame(
        {
            "hy_spread": spread,
            "large_caps": 1000 * np.exp(np.cumsum(large[sl])),
            "small_caps": 500 * np.exp(np.cumsum(small[sl])),
            "btc": 300 * np.exp(np.cumsum(btc_r)),
            "eth": 10 * np.exp(np.cumsum(coin_r[0])),
            "xrp": np.exp(np.cumsum(coin_r[1])),
            "sol": 2 * np.exp(np.cumsum(coin_r[2])),
        },
        index=DAYS,
    )
    # sol lists in 2020 (no survivorship games: it enters the basket when it trades)
    panel.loc[panel.index < "2020-04-10", "sol"] = np.nan
    return panel, events


def planted_inputs(planted: bool, seed: int, as_of: str | None = None) -> StudyInputs:
    """The study inputs of the synthetic panel, with its known breakout days as events."""
    panel, events = synthetic_panel(planted=planted, seed=seed)
    if as_of is not None:
        panel, events = panel.loc[:as_of], events.loc[:as_of]
    inputs = study_inputs(panel, default_catalog())
    return dataclasses.replace(inputs, events=events.rename("breakout"))
