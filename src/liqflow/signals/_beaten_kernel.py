"""The beaten-down alts' kernel (:meth:`liqflow.signals.baskets.CoinPanel.beaten_down`):
one pass over the days x coins prices, beside its pure-Python twin.

:func:`beaten_rows` is compiled from :func:`beaten_rows_py`. Every value is made by the
same floating-point operations, in the same order, as the array expressions it replaces
(a running ``fmax`` for the peak, ``price / peak - 1`` for the drawdown, ``held / then - 1``
less BTC's ``b / b_then - 1`` for the excess return); the one sum over coins that is not
a count, the mean excess of the group, is left to NumPy on the masked excess the kernel
returns, so it is summed as before. ``tests/signals/test_beaten_kernel.py`` checks the
result bit for bit against those array expressions.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["beaten_rows", "beaten_rows_py"]


def beaten_rows_py(
    now: np.ndarray,
    members: np.ndarray,
    in_force: np.ndarray,
    safe: np.ndarray,
    ok: np.ndarray,
    b: np.ndarray,
    drawdown: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per day: the beaten-down members, the group, its outperformers and stale members.

    Parameters
    ----------
    now : float64[T, C]
        Closes (NaN: no price that day).
    members : bool[R, C]
        Member mask of each schedule row.
    in_force : int64[T]
        Schedule row in force on each day (-1 before the first: no member).
    safe, ok : int64[T], bool[T]
        The day ``window`` days before (``ok``: there is one; ``safe`` is then its row).
    b : float64[T]
        BTC's close on each day.
    drawdown : float
        A member is beaten down when its close is at least this far below its running
        peak (0.7: 70 % below).

    Returns
    -------
    beaten : int64[T]
        Members priced and beaten down that day.
    group, outperform, stale : int64[T]
        Members beaten down ``window`` days before with a known excess return over BTC
        since then (the group), those of them with a positive one, and those without a
        price that day (held at their last price).
    any_price : bool[T]
        Some coin has a price that day.
    excess : float64[T, C]
        The group's excess returns, 0 outside the group (NumPy sums it).
    """
    days, coins = now.shape
    peak = np.full(coins, np.nan)
    last = np.full(coins, np.nan)  # the last price, forward filled (NaN before the first)
    was_beaten = np.zeros((days, coins), dtype=np.bool_)
    beaten = np.zeros(days, dtype=np.int64)
    group = np.zeros(days, dtype=np.int64)
    outperform = np.zeros(days, dtype=np.int64)
    stale = np.zeros(days, dtype=np.int64)
    any_price = np.zeros(days, dtype=np.bool_)
    excess = np.zeros((days, coins))
    for t in range(days):
        row = in_force[t]
        then = safe[t]
        b_ret = b[t] / (b[then] if ok[t] else np.nan) - 1.0
        for c in range(coins):
            x = now[t, c]
            priced = math.isfinite(x)
            any_price[t] |= priced
            p = peak[c]  # np.fmax: the other operand where one is NaN
            if math.isnan(p) or x > p:
                p = x if not math.isnan(x) else p
            peak[c] = p
            is_beaten = (x / p - 1.0 <= -drawdown) and priced and row >= 0 and members[row, c]
            was_beaten[t, c] = is_beaten
            beaten[t] += is_beaten
            if priced:
                last[c] = x
            if not ok[t] or not was_beaten[then, c]:
                continue
            ex = (last[c] / now[then, c] - 1.0) - b_ret
            if math.isfinite(ex):
                group[t] += 1
                outperform[t] += ex > 0
                stale[t] += not priced
                excess[t, c] = ex
    return beaten, group, outperform, stale, any_price, excess


beaten_rows = numba.njit(cache=True, nogil=True)(beaten_rows_py)
