"""numba kernels of the sweeps, each beside its pure-Python twin (the CSCV kernels live
in :mod:`liqflow.backtest._cscv_kernels` and are re-exported here).

:func:`sweep_stats` is compiled from :func:`sweep_stats_py` (which skips idle cash days and
must equal :func:`sweep_stats_reference_py` bit for bit); tests run them on the same
inputs and compare them with the pandas reference :func:`liqflow.backtest.backtest`.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from liqflow.backtest._cscv_fused import cscv_fused, cscv_fused_py
from liqflow.backtest._cscv_kernels import (
    block_totals,
    block_totals_py,
    cscv_best,
    cscv_best_py,
    cscv_counts,
    cscv_counts_py,
    cscv_logits,
    cscv_logits_py,
    cscv_ranks,
    cscv_ranks_py,
    distinct_pairs,
    distinct_pairs_py,
)

__all__ = [
    "COMBO_COLUMNS",
    "SIGNAL_CODES",
    "STATS",
    "block_totals",
    "block_totals_py",
    "cscv_best",
    "cscv_best_py",
    "cscv_counts",
    "cscv_counts_py",
    "cscv_fused",
    "cscv_fused_py",
    "cscv_logits",
    "cscv_logits_py",
    "cscv_ranks",
    "cscv_ranks_py",
    "distinct_pairs",
    "distinct_pairs_py",
    "last_event_rows",
    "last_event_rows_py",
    "stats_to_metrics",
    "sweep_stats",
    "sweep_stats_py",
    "sweep_stats_reference_py",
]

#: Columns of the integer combo matrix fed to the kernel.
COMBO_COLUMNS = ("event_set", "hold_days", "min_stage", "signal", "asset", "fallback")
#: Integer codes of :data:`liqflow.backtest._shared.SIGNALS`.
SIGNAL_CODES = {"stage": 0, "breakout": 1, "any": 2, "all": 3}
#: Columns of the kernel's statistics matrix.
STATS = (
    "n",
    "sum",
    "sum_sq",
    "downside_sq",
    "final_equity",
    "max_drawdown",
    "max_drawdown_days",
    "turnover",
    "exposed",
    "n_trades",
    "n_wins",
)
_N_STATS = len(STATS)


def sweep_stats_reference_py(
    last_event: np.ndarray,
    stage: np.ndarray,
    rets: np.ndarray,
    combos: np.ndarray,
    cost: float,
    starts: np.ndarray,
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run every combo's rule day by day and accumulate its statistics (reference).

    :func:`sweep_stats_py` must give the same arrays bit for bit, skipping the days
    when a combo sits in cash with no position to come.

    Must equal, combo by combo, ``liqflow.backtest.backtest(rule, data)`` on the window
    ``[eval_start, eval_end)``: the same positions (decision at the close of *t*,
    weight over day *t + 2*), costs, net returns, and from them the moments, final
    equity, maximum drawdown and its duration (``metrics.drawdown_duration``),
    turnover, exposure and trades (``metrics.trade_returns``).

    Parameters
    ----------
    last_event : int64[n_sets, T]
        Per event set, the index of the latest breakout event on or before each day
        (-1 before the first), on the calendar.
    stage : int8[T]
        Stage per day, -1 unknown.
    rets : float64[n_assets, T]
        Daily asset returns (NaN allowed only where the asset is never held).
    combos : int64[n_combos, 6]
        :data:`COMBO_COLUMNS`; ``fallback`` is -1 for cash, ``min_stage`` is ignored by
        breakout rules.
    cost : float
        Cost per unit turnover (fraction).
    starts : int64[n_combos]
        Per combo, the first day its asset and fallback are both priced: positions
        are held from there, as in a backtest of that rule alone.
    eval_start, eval_end : int
        Window whose returns are measured.
    edges : int64[n_blocks + 1]
        Block edges inside the window, for the per-block moments used by CSCV.

    Returns
    -------
    stats : float64[n_combos, len(STATS)]
    block_sum, block_sum_sq : float64[n_combos, n_blocks]
        Sum and sum of squares of the net returns in each block. Raw sums are accurate
        here: daily returns have a mean far smaller than their standard deviation.
    """
    n_c = combos.shape[0]
    n_b = edges.size - 1
    stats = np.zeros((n_c, _N_STATS))
    bsum = np.zeros((n_c, n_b))
    bsq = np.zeros((n_c, n_b))
    for c in range(n_c):
        e = combos[c, 0]
        hold = combos[c, 1]
        kmin = combos[c, 2]
        sig = combos[c, 3]
        a = combos[c, 4]
        f = combos[c, 5]
        start = starts[c]
        tgt1 = False
        tgt2 = False
        wa_prev = 0.0
        wf_prev = 0.0
        s1 = 0.0
        s2 = 0.0
        s1b = 0.0
        s2b = 0.0
        down = 0.0
        eq = 1.0
        peak = 1.0
        peak_i = eval_start - 1
        mdd = 0.0
        mdd_peak = eval_start - 1
        mdd_rec = -1
        recovered = False
        tsum = 0.0
        exposed = 0
        n_tr = 0
        n_win = 0
        in_tr = False
        growth = 1.0
        b = 0
        block_end = edges[1]
        # Positions depend only on the targets of the two previous days, so the run
        # can start three days before the window.
        for t in range(max(eval_start - 3, 0), eval_end):
            if t >= start:
                wa = 1.0 if tgt2 else 0.0
                wf = 1.0 - wa if f >= 0 else 0.0
            else:
                wa = 0.0
                wf = 0.0
            if t >= eval_start:
                tau = abs(wa - wa_prev) + abs(wf - wf_prev)
                g = 0.0
                if wa != 0.0:
                    g += wa * rets[a, t]
                if wf != 0.0:
                    g += wf * rets[f, t]
                x = (1.0 - cost * tau) * (1.0 + g) - 1.0
                s1b += x
                s2b += x * x
                if x < 0.0:
                    down += x * x
                eq *= 1.0 + x
                if eq >= peak:
                    if mdd < 0.0 and mdd_peak == peak_i and not recovered:
                        mdd_rec = t
                        recovered = True
                    peak = eq
                    peak_i = t
                else:
                    dd = eq / peak - 1.0
                    if dd < mdd:
                        mdd = dd
                        if mdd_peak != peak_i:
                            mdd_peak = peak_i
                            recovered = False
                tsum += tau
                if wa > 0.0:
                    exposed += 1
                    if not in_tr:
                        in_tr = True
                        growth = 1.0
                    growth *= 1.0 + x
                elif in_tr:
                    growth *= 1.0 - cost * tau
                    n_tr += 1
                    if growth - 1.0 > 0.0:
                        n_win += 1
                    in_tr = False
                if t + 1 == block_end:
                    bsum[c, b] = s1b
                    bsq[c, b] = s2b
                    s1 += s1b
                    s2 += s2b
                    s1b = 0.0
                    s2b = 0.0
                    b += 1
                    if b < n_b:
                        block_end = edges[b + 1]
            wa_prev = wa
            wf_prev = wf
            # decision at the close of t, held over day t + 2
            last = last_event[e, t]
            s_on = True if sig == 1 else stage[t] >= kmin
            b_on = True if sig == 0 else (last >= 0 and t - last < hold)
            on = (s_on or b_on) if sig == 2 else (s_on and b_on)
            tgt2 = tgt1
            tgt1 = on
        if in_tr:
            n_tr += 1
            if growth - 1.0 > 0.0:
                n_win += 1
        if mdd < 0.0:
            end = mdd_rec if recovered else eval_end - 1
            mdd_days = end - mdd_peak
        else:
            mdd_days = 0
        stats[c, 0] = eval_end - eval_start
        stats[c, 1] = s1
        stats[c, 2] = s2
        stats[c, 3] = down
        stats[c, 4] = eq
        stats[c, 5] = mdd
        stats[c, 6] = mdd_days
        stats[c, 7] = tsum
        stats[c, 8] = exposed
        stats[c, 9] = n_tr
        stats[c, 10] = n_win
    return stats, bsum, bsq


@register_jitable
def _next_true_rows(rows: np.ndarray) -> np.ndarray:
    """Per row, the first day ``>= t`` where the row is true (``T`` if none), ``T + 1`` long."""
    n_r, n_t = rows.shape
    out = np.empty((n_r, n_t + 1), dtype=np.int64)
    for r in range(n_r):
        nxt = n_t
        out[r, n_t] = n_t
        for t in range(n_t - 1, -1, -1):
            if rows[r, t]:
                nxt = t
            out[r, t] = nxt
    return out


@register_jitable
def _next_stage_rows(stage: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Row ``k - lo``: the first day ``>= t`` with ``stage >= k``, for ``k`` in ``lo..hi``."""
    levels = np.empty((hi - lo + 1, stage.size), dtype=np.bool_)
    for k in range(lo, hi + 1):
        for t in range(stage.size):
            levels[k - lo, t] = stage[t] >= k
    return _next_true_rows(levels)


def sweep_stats_py(
    last_event: np.ndarray,
    stage: np.ndarray,
    rets: np.ndarray,
    combos: np.ndarray,
    cost: float,
    starts: np.ndarray,
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run every combo's rule and accumulate its statistics, skipping idle cash days.

    The arguments and results are those of :func:`sweep_stats_reference_py`, and so are
    the numbers, bit for bit. A combo whose fallback is cash, holding nothing, with no
    position decided for the next two days, earns exactly 0 until its signal can next
    turn on: the next breakout event (the hold window of the last one has passed) or
    the next day the stage reaches ``min_stage``. Those days change no sum, no equity
    and no trade; only the day of the running peak and the block sums' boundaries move,
    and the kernel sets them directly. With a typical exposure of 10-40 % this skips
    most days.
    """
    n_c = combos.shape[0]
    n_b = edges.size - 1
    n_t = stage.size
    stats = np.zeros((n_c, _N_STATS))
    bsum = np.zeros((n_c, n_b))
    bsq = np.zeros((n_c, n_b))
    kmin_lo = 127
    kmin_hi = -128
    for c in range(n_c):
        k = min(max(combos[c, 2], -128), 128)
        kmin_lo = min(kmin_lo, k)
        kmin_hi = max(kmin_hi, k)
    next_stage = _next_stage_rows(stage, kmin_lo, max(kmin_lo, kmin_hi))
    next_event = np.empty((1, n_t + 1), dtype=np.int64)
    cached_set = -1
    for c in range(n_c):
        e = combos[c, 0]
        hold = combos[c, 1]
        kmin = combos[c, 2]
        sig = combos[c, 3]
        a = combos[c, 4]
        f = combos[c, 5]
        start = starts[c]
        if f < 0 and sig != 0 and e != cached_set:
            next_event = _next_true_rows(last_event[e : e + 1] == np.arange(n_t))
            cached_set = e
        stage_row = min(max(kmin, -128), 128) - kmin_lo
        tgt1 = False
        tgt2 = False
        wa_prev = 0.0
        wf_prev = 0.0
        s1 = 0.0
        s2 = 0.0
        s1b = 0.0
        s2b = 0.0
        down = 0.0
        eq = 1.0
        peak = 1.0
        peak_i = eval_start - 1
        mdd = 0.0
        mdd_peak = eval_start - 1
        mdd_rec = -1
        recovered = False
        tsum = 0.0
        exposed = 0
        n_tr = 0
        n_win = 0
        in_tr = False
        growth = 1.0
        b = 0
        block_end = edges[1]
        t = max(eval_start - 3, 0)
        while t < eval_end:
            if t >= start:
                wa = 1.0 if tgt2 else 0.0
                wf = 1.0 - wa if f >= 0 else 0.0
            else:
                wa = 0.0
                wf = 0.0
            if t >= eval_start:
                tau = abs(wa - wa_prev) + abs(wf - wf_prev)
                g = 0.0
                if wa != 0.0:
                    g += wa * rets[a, t]
                if wf != 0.0:
                    g += wf * rets[f, t]
                x = (1.0 - cost * tau) * (1.0 + g) - 1.0
                s1b += x
                s2b += x * x
                down += x * x if x < 0.0 else 0.0  # a select, not a branch on the sign
                eq *= 1.0 + x
                if eq >= peak:
                    if mdd < 0.0 and mdd_peak == peak_i and not recovered:
                        mdd_rec = t
                        recovered = True
                    peak = eq
                    peak_i = t
                else:
                    dd = eq / peak - 1.0
                    if dd < mdd:
                        mdd = dd
                        if mdd_peak != peak_i:
                            mdd_peak = peak_i
                            recovered = False
                tsum += tau
                if wa > 0.0:
                    exposed += 1
                    if not in_tr:
                        in_tr = True
                        growth = 1.0
                    growth *= 1.0 + x
                elif in_tr:
                    growth *= 1.0 - cost * tau
                    n_tr += 1
                    if growth - 1.0 > 0.0:
                        n_win += 1
                    in_tr = False
                if t + 1 == block_end:
                    bsum[c, b] = s1b
                    bsq[c, b] = s2b
                    s1 += s1b
                    s2 += s2b
                    s1b = 0.0
                    s2b = 0.0
                    b += 1
                    if b < n_b:
                        block_end = edges[b + 1]
            wa_prev = wa
            wf_prev = wf
            # decision at the close of t, held over day t + 2
            last = last_event[e, t]
            s_on = True if sig == 1 else stage[t] >= kmin
            b_on = True if sig == 0 else (last >= 0 and t - last < hold)
            on = (s_on or b_on) if sig == 2 else (s_on and b_on)
            tgt2 = tgt1
            tgt1 = on
            t += 1
            if f >= 0 or wa != 0.0 or tgt1 or tgt2 or t < eval_start:
                continue
            # Idle in cash: the signal stays off until day u (exclusive bound below);
            # days t..u-1 earn 0 and decide nothing.
            u_s = next_stage[stage_row, t] if not s_on else t
            u_b = next_event[0, t] if not b_on else t
            if sig == 0:
                u = u_s
            elif sig == 1:
                u = u_b
            elif sig == 2:
                u = min(u_s, u_b)
            else:
                u = max(u_s if not s_on else t, u_b if not b_on else t)
            v = min(u, eval_end)  # days t..v-1 are skipped
            if v <= t:
                continue
            if eq >= peak:
                peak_i = v - 1
            while block_end <= v:
                bsum[c, b] = s1b
                bsq[c, b] = s2b
                s1 += s1b
                s2 += s2b
                s1b = 0.0
                s2b = 0.0
                b += 1
                block_end = edges[b + 1] if b < n_b else eval_end + 1
            t = v
        if in_tr:
            n_tr += 1
            if growth - 1.0 > 0.0:
                n_win += 1
        if mdd < 0.0:
            end = mdd_rec if recovered else eval_end - 1
            mdd_days = end - mdd_peak
        else:
            mdd_days = 0
        stats[c, 0] = eval_end - eval_start
        stats[c, 1] = s1
        stats[c, 2] = s2
        stats[c, 3] = down
        stats[c, 4] = eq
        stats[c, 5] = mdd
        stats[c, 6] = mdd_days
        stats[c, 7] = tsum
        stats[c, 8] = exposed
        stats[c, 9] = n_tr
        stats[c, 10] = n_win
    return stats, bsum, bsq


sweep_stats = numba.njit(cache=True, nogil=True)(sweep_stats_py)


def last_event_rows_py(events: np.ndarray) -> np.ndarray:
    """Per row of ``events`` (bool[sets, T]) and day, the last day ``<= t`` with an event
    (-1 before the first): equivalent to
    ``np.maximum.accumulate(np.where(events, np.arange(T), -1), axis=1)``, ten times faster
    than that running maximum along rows."""
    n_sets, n = events.shape
    out = np.empty((n_sets, n), dtype=np.int64)
    for i in range(n_sets):
        last = -1
        for t in range(n):
            if events[i, t]:
                last = t
            out[i, t] = last
    return out


last_event_rows = numba.njit(cache=True, nogil=True)(last_event_rows_py)


def stats_to_metrics(stats: np.ndarray, periods_per_year: float) -> dict[str, np.ndarray]:
    """Annualised metrics from the kernel's statistics, with ``metrics.py`` conventions."""
    n = stats[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = stats[:, 1] / n
        dev = stats[:, 2] - stats[:, 1] ** 2 / n
        # zero (cash) or constant returns: no dispersion, no ratio
        sd = np.where(dev > 1e-12 * stats[:, 2], np.sqrt(dev / (n - 1)), 0.0)
        sharpe = np.where(sd > 0, mean / sd * np.sqrt(periods_per_year), np.nan)
        downside = np.sqrt(stats[:, 3] / n) * np.sqrt(periods_per_year)
        sortino = np.where(downside > 0, mean * periods_per_year / downside, np.nan)
        eq = stats[:, 4]
        cagr = np.where(eq > 0, np.abs(eq) ** (periods_per_year / n) - 1.0, -1.0)
        mdd = stats[:, 5]
        calmar = np.where(mdd < 0, cagr / np.abs(mdd), np.nan)
        trades = stats[:, 9]
        hit = np.where(trades > 0, stats[:, 10] / trades, np.nan)
        sharpe_pp = np.where(sd > 0, mean / sd, np.nan)
    return {
        "sharpe": sharpe,
        "cagr": cagr,
        "volatility": sd * np.sqrt(periods_per_year),
        "sortino": sortino,
        "max_drawdown": mdd,
        "max_drawdown_days": stats[:, 6].astype(np.int64),
        "calmar": calmar,
        "total_return": eq - 1.0,
        "turnover": stats[:, 7] * periods_per_year / n,
        "exposure": stats[:, 8] / n,
        "n_trades": trades.astype(np.int64),
        "hit_rate": hit,
        "sharpe_per_period": sharpe_pp,
    }
