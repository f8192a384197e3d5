"""The beaten-down kernel against the array expressions it replaced, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.signals._basket_kernels import back_filled, members_by_day
from liqflow.signals._beaten_kernel import beaten_rows, beaten_rows_py
from liqflow.signals._windows import align_to, prepare
from liqflow.signals.baskets import CoinPanel


def _by_arrays(
    coins: CoinPanel, btc: pd.Series, drawdown: float = 0.7, window: int = 30
) -> pd.DataFrame:
    """``CoinPanel.beaten_down`` as array expressions over the whole days x coins panel."""
    cal = coins.calendar
    b = align_to(prepare(btc, "btc"), cal).to_numpy(dtype=np.float64)
    in_force = members_by_day(coins.schedule, cal)
    now = coins.px
    priced = np.isfinite(now)
    dd = np.fmax.accumulate(now, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(now, dd, out=dd)
    dd -= 1.0
    beaten = dd <= -drawdown
    beaten &= priced
    beaten &= coins.members[np.maximum(in_force, 0)]
    beaten[in_force < 0] = False
    last = np.maximum.accumulate(np.where(priced, np.arange(len(now))[:, None], 0), axis=0)
    held = np.take_along_axis(now, last, axis=0)
    days = cal.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(days, days - np.timedelta64(window, "D"), side="right") - 1
    ok = pos >= 0
    safe = np.maximum(pos, 0)
    was = beaten[safe]
    was[~ok] = False
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = held / np.where(ok[:, None], now[safe], np.nan) - 1.0
        b_ret = b / np.where(ok, b[safe], np.nan) - 1.0
    excess = ret - b_ret[:, None]
    group = was & np.isfinite(excess)
    n = group.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = np.where(n > 0, np.where(group, excess, 0.0).sum(axis=1) / n, np.nan)
        share = np.where(n > 0, (group & (excess > 0)).sum(axis=1) / n, np.nan)
    frame = pd.DataFrame(
        {
            "count": np.where(priced.any(axis=1), beaten.sum(axis=1), np.nan).astype(float),
            "rs": rs,
            "outperform_share": share,
            "group": n,
            "stale": (group & ~priced).sum(axis=1).astype(float),
        },
        index=cal,
    )
    return back_filled(frame, coins.index)


def _panel(seed: int, days: int = 400, coins: int = 23) -> tuple[CoinPanel, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=days, freq="D", name="date")
    steps = rng.standard_t(3, size=(days, coins)) * 0.08
    px = 10.0 * np.exp(np.cumsum(steps, axis=0))
    px[rng.random((days, coins)) < 0.15] = np.nan  # missing days
    for c in range(coins):  # coins listed late, delisted early
        px[: int(rng.integers(0, days // 2)), c] = np.nan
        if rng.random() < 0.3:
            px[int(rng.integers(days // 2, days)) :, c] = np.nan
    names = [f"c{i}" for i in range(coins)]
    prices = pd.DataFrame(px, index=index, columns=names)
    rebalances = index[20::45]
    caps = rng.random((len(rebalances), coins)) * 1e9
    caps[rng.random(caps.shape) < 0.4] = np.nan  # not members
    schedule = pd.DataFrame(caps, index=rebalances, columns=names)
    btc = pd.Series(
        20_000.0 * np.exp(np.cumsum(rng.normal(0, 0.03, days))), index=index, name="btc"
    )
    btc.iloc[rng.random(days) < 0.05] = np.nan
    return CoinPanel.of(prices, schedule), btc


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("drawdown", "window"), [(0.7, 30), (0.3, 7), (0.5, 90)])
def test_beaten_down_equals_the_array_expressions_bit_for_bit(
    seed: int, drawdown: float, window: int
) -> None:
    coins, btc = _panel(seed)
    got = coins.beaten_down(btc, drawdown=drawdown, window=window)
    pd.testing.assert_frame_equal(got, _by_arrays(coins, btc, drawdown, window), check_exact=True)
    assert got["group"].max() > 0  # the draws do produce beaten-down groups


def test_the_compiled_kernel_is_its_python_twin() -> None:
    coins, btc = _panel(11, days=120, coins=9)
    b = align_to(prepare(btc, "btc"), coins.calendar).to_numpy(dtype=np.float64)
    in_force = members_by_day(coins.schedule, coins.calendar)
    pos = np.arange(len(b)) - 10
    args = (coins.px, coins.members, in_force, np.maximum(pos, 0), pos >= 0, b, 0.4)
    for fast, slow in zip(beaten_rows(*args), beaten_rows_py(*args), strict=True):
        np.testing.assert_array_equal(fast, slow)
