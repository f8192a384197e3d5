"""numba kernels of the sweeps, each beside its pure-Python twin.

:func:`sweep_stats` is compiled from :func:`sweep_stats_py`; tests run both on the same
inputs and compare them with the pandas reference :func:`liqflow.backtest.backtest`.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "COMBO_COLUMNS",
    "SIGNAL_CODES",
    "STATS",
    "stats_to_metrics",
    "sweep_stats",
    "sweep_stats_py",
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
    """Run every combo's rule day by day and accumulate its statistics.

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


sweep_stats = numba.njit(cache=True, nogil=True)(sweep_stats_py)


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


def cscv_ranks_py(
    s1_is: np.ndarray,
    s2_is: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per CSCV split: logit of the in-sample best trial's out-of-sample rank.

    Must equal ``liqflow.backtest.overfit._cscv_ranks_numpy`` (and, through it, the
    literal procedure of Bailey et al. 2017 tested in ``test_overfit.py``).

    Parameters
    ----------
    s1_is, s2_is : float64[n_splits, N]
        Sums and sums of squares of each trial's returns over each split's in-sample
        blocks.
    tot1, tot2 : float64[N]
        The same over all blocks (out of sample = total - in sample).
    n_is : float64[n_splits]
        In-sample observation counts.
    n_all : float
        Total observations.

    Returns
    -------
    logits, is_sharpe, oos_sharpe : float64[n_splits]
        Sharpe ratios (per period) of the in-sample best trial (first on ties); a trial
        with zero variance has Sharpe -inf; ranks are mid-ranks over N trials (trials
        are ordered by ``a|a| / d``, which orders them like their Sharpe ratios).
    """
    n_splits, n_trials = s1_is.shape
    logits = np.empty(n_splits)
    is_best = np.empty(n_splits)
    oos_best = np.empty(n_splits)
    for k in range(n_splits):
        n1 = n_is[k]
        n2 = n_all - n1
        # Within a split n is fixed, so SR = (a/n) / sqrt(d/(n-1)) with d = sq - a²/n
        # orders like the key a|a|/d; the square root is taken for the pick only.
        best = 0
        best_key = -np.inf
        for i in range(n_trials):
            a = s1_is[k, i]
            d = s2_is[k, i] - a * a / n1
            key = a * abs(a) / d if d > 1e-12 * s2_is[k, i] else -np.inf
            if key > best_key:
                best_key = key
                best = i
        a = s1_is[k, best]
        d = s2_is[k, best] - a * a / n1
        is_best[k] = a / n1 / np.sqrt(d / (n1 - 1.0)) if best_key > -np.inf else -np.inf
        a = tot1[best] - s1_is[k, best]
        sq = tot2[best] - s2_is[k, best]
        d = sq - a * a / n2
        chosen = a * abs(a) / d if d > 1e-12 * sq else -np.inf
        oos_best[k] = a / n2 / np.sqrt(d / (n2 - 1.0)) if chosen > -np.inf else -np.inf
        below = 0
        ties = 0
        for i in range(n_trials):
            a = tot1[i] - s1_is[k, i]
            sq = tot2[i] - s2_is[k, i]
            d = sq - a * a / n2
            key = a * abs(a) / d if d > 1e-12 * sq else -np.inf
            if key < chosen:
                below += 1
            elif key == chosen:
                ties += 1
        omega = (below + (ties + 1) / 2.0) / (n_trials + 1.0)
        logits[k] = np.log(omega / (1.0 - omega))
    return logits, is_best, oos_best


cscv_ranks = numba.njit(cache=True, nogil=True)(cscv_ranks_py)
