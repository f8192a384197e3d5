"""numba kernels of the sweeps, each beside its pure-Python twin.

:func:`sweep_stats` is compiled from :func:`sweep_stats_py` (which skips idle cash days and
must equal :func:`sweep_stats_reference_py` bit for bit); tests run them on the same
inputs and compare them with the pandas reference :func:`liqflow.backtest.backtest`.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

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
    "cscv_logits",
    "cscv_logits_py",
    "cscv_ranks",
    "cscv_ranks_py",
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


# --- CSCV over chunks of trials, without the (splits x trials) matrices -------------------
#
# ``cscv_best`` + ``cscv_counts`` give, split for split, bit for bit what ``cscv_ranks``
# gives on the matrices of ``overfit._split_sums``: the in-sample sums are the same left-to-right sums
# of the in-sample blocks (shared between splits in lexicographic order, as prefix sums),
# the keys the same expressions. Divisions are what cost: each (split, trial) is first
# classified with a division-free proxy (``1/n`` multiplied instead of ``n`` divided,
# ``A < B*D`` compared instead of ``A/D < B``) whose error bound ``_SLACK`` is ~20 times
# the few-ulp error of the proxy; only pairs the proxy cannot decide (ties, near-ties,
# near-zero variance) are computed exactly.

_SEEDS = 32  # strong trials whose per-split best is the floor of the first CSCV pass
_TINY = 1e-12  # zero variance: d <= _TINY * sq (the threshold of cscv_ranks)
_SLACK = 1e-14  # relative error bound of the proxies


@register_jitable
def _exact_key(a: float, sq: float, n: float) -> float:
    """``a|a|/d`` with ``d = sq - a²/n`` (orders like the Sharpe ratio), -inf without variance."""
    d = sq - a * a / n
    return a * abs(a) / d if d > _TINY * sq else -np.inf


@register_jitable
def _exact_sharpe(a: float, sq: float, n: float) -> float:
    d = sq - a * a / n
    return a / n / np.sqrt(d / (n - 1.0)) if d > _TINY * sq else -np.inf


@register_jitable
def _prefix_sums(
    p: np.ndarray,
    q: np.ndarray,
    bs: np.ndarray,
    bq: np.ndarray,
    blocks: np.ndarray,
    first: int,
    t0: int,
    m: int,
) -> None:
    """Rows ``first+1..h`` of the running in-sample sums of trials ``t0:t0+m``."""
    for j in range(first, blocks.size):
        c = blocks[j]
        src_p = p[j]
        src_q = q[j]
        dst_p = p[j + 1]
        dst_q = q[j + 1]
        col_p = bs[c, t0 : t0 + m]
        col_q = bq[c, t0 : t0 + m]
        for i in range(m):
            dst_p[i] = src_p[i] + col_p[i]
            dst_q[i] = src_q[i] + col_q[i]


@register_jitable
def _bounds(c: float, r: float) -> tuple[float, float, float, float]:
    """Coefficients of the proxy tests against a finite key ``c`` at ``r = 1/n``.

    With ``D ≈ sq - r a²``: ``a(|a| + lo_a a) - lo_b sq < 0`` means the key is surely
    below ``c`` and ``a(|a| + hi_a a) - hi_b sq > 0`` (with variance) surely above; the
    ``_SLACK`` terms cover the rounding of the exact key and of the proxy.
    """
    return _SLACK + c * r, c - _SLACK * abs(c), c * r - _SLACK, c + _SLACK * abs(c)


@register_jitable
def _tile_best(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    n: float,
    t0: int,
    key: float,
    best: int,
) -> tuple[float, int]:
    """The running (key, trial) of the in-sample best after the trials ``t0:t0+len(p_)``.

    In-sample sums are ``p_ + lp`` and ``q_ + lq``: the sums of all but the last
    in-sample block, plus the last (added here, in the order of ``_split_sums``).
    """
    r = 1.0 / n
    m = p_.size
    undecided = m
    if key > -np.inf:
        lo_a, lo_b, _, _ = _bounds(key, r)
        undecided = 0
        for i in range(m):
            a = p_[i] + lp[i]
            undecided += a * abs(a) + lo_a * (a * a) >= lo_b * (q_[i] + lq[i])
    if undecided:
        for i in range(m):
            a = p_[i] + lp[i]
            sq = q_[i] + lq[i]
            if key > -np.inf:
                lo_a, lo_b, _, _ = _bounds(key, r)
                if a * abs(a) + lo_a * (a * a) < lo_b * sq:
                    continue
            k = _exact_key(a, sq, n)
            if k > key:  # strictly: the first trial wins ties
                key = k
                best = t0 + i
    return key, best


@register_jitable
def _tile_rank(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    w: np.ndarray,
    n: float,
    c: float,
) -> tuple[int, int]:
    """Weighted counts of out-of-sample keys below and equal to ``c`` in one tile.

    In-sample sums are ``p_ + lp`` and ``q_ + lq`` (as in :func:`_tile_best`);
    ``tot1``/``tot2`` are the totals and ``w`` the weights of the tile's trials.
    """
    r = 1.0 / n
    lo_a, lo_b, hi_a, hi_b = _bounds(c, r)
    ok_a = r * (1.0 + _SLACK)  # sq (1 - _TINY - _SLACK) > ok_a a²: surely variance
    ok_b = 1.0 - _TINY - _SLACK
    m = p_.size
    below = 0
    undecided = m
    if c > -np.inf:
        undecided = 0
        for i in range(m):
            a = tot1[i] - (p_[i] + lp[i])
            sq = tot2[i] - (q_[i] + lq[i])
            aa = a * a
            ab = a * abs(a)
            lo = ab + lo_a * aa < lo_b * sq
            hi = (ab + hi_a * aa > hi_b * sq) & (ok_b * sq > ok_a * aa)
            below += w[i] * lo
            undecided += not (lo | hi)
    ties = 0
    if undecided:
        for i in range(m):
            a = tot1[i] - (p_[i] + lp[i])
            sq = tot2[i] - (q_[i] + lq[i])
            if c > -np.inf:
                aa = a * a
                ab = a * abs(a)
                lo = ab + lo_a * aa < lo_b * sq
                hi = (ab + hi_a * aa > hi_b * sq) & (ok_b * sq > ok_a * aa)
                if lo or hi:
                    continue
            k = _exact_key(a, sq, n)
            below += w[i] * (k < c)
            ties += w[i] * (k == c)
    return below, ties


@register_jitable
def _split_best(
    bs: np.ndarray,
    bq: np.ndarray,
    n_is: np.ndarray,
    blocks: np.ndarray,
    lcp: np.ndarray,
    lo: int,
    hi: int,
    tile: int,
    floor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per split ``lo:hi``, the key and column of the in-sample best (first on ties).

    ``floor`` must be below the best key of each split (-inf when unknown): trials
    below it are passed over by the proxy test without an exact key.
    """
    n_tr = bs.shape[1]
    h = blocks.shape[1]
    ns = hi - lo
    key = floor.copy()
    best = np.zeros(ns, dtype=np.int64)
    p = np.zeros((h, tile))
    q = np.zeros((h, tile))
    for t0 in range(0, n_tr, tile):
        m = min(tile, n_tr - t0)
        for k in range(lo, hi):
            _prefix_sums(p, q, bs, bq, blocks[k, : h - 1], 0 if k == lo else lcp[k], t0, m)
            c = blocks[k, h - 1]
            key[k - lo], best[k - lo] = _tile_best(
                p[h - 1, :m],
                q[h - 1, :m],
                bs[c, t0 : t0 + m],
                bq[c, t0 : t0 + m],
                n_is[k],
                t0,
                key[k - lo],
                best[k - lo],
            )
    return key, best


@register_jitable
def _split_picks(
    bs: np.ndarray,
    bq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
    blocks: np.ndarray,
    lo: int,
    key: np.ndarray,
    best: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-sample key, in- and out-of-sample Sharpe ratios of each split's pick."""
    h = blocks.shape[1]
    ns = key.size
    chosen = np.empty(ns)
    is_sr = np.empty(ns)
    oos_sr = np.empty(ns)
    for k in range(lo, lo + ns):
        b = best[k - lo]
        a = 0.0
        sq = 0.0
        for j in range(h):
            a += bs[blocks[k, j], b]
            sq += bq[blocks[k, j], b]
        n1 = n_is[k]
        is_sr[k - lo] = _exact_sharpe(a, sq, n1) if key[k - lo] > -np.inf else -np.inf
        chosen[k - lo] = _exact_key(tot1[b] - a, tot2[b] - sq, n_all - n1)
        oos_sr[k - lo] = _exact_sharpe(tot1[b] - a, tot2[b] - sq, n_all - n1)
    return chosen, is_sr, oos_sr


@register_jitable
def _split_counts(
    bs: np.ndarray,
    bq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    weights: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
    blocks: np.ndarray,
    lcp: np.ndarray,
    lo: int,
    tile: int,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per split, weighted counts of out-of-sample keys below and equal to ``chosen``."""
    n_tr = bs.shape[1]
    h = blocks.shape[1]
    ns = chosen.size
    p = np.zeros((h, tile))
    q = np.zeros((h, tile))
    below = np.zeros(ns, dtype=np.int64)
    ties = np.zeros(ns, dtype=np.int64)
    for t0 in range(0, n_tr, tile):
        m = min(tile, n_tr - t0)
        for k in range(lo, lo + ns):
            _prefix_sums(p, q, bs, bq, blocks[k, : h - 1], 0 if k == lo else lcp[k], t0, m)
            c = blocks[k, h - 1]
            bl, ti = _tile_rank(
                p[h - 1, :m],
                q[h - 1, :m],
                bs[c, t0 : t0 + m],
                bq[c, t0 : t0 + m],
                tot1[t0 : t0 + m],
                tot2[t0 : t0 + m],
                weights[t0 : t0 + m],
                n_all - n_is[k],
                chosen[k - lo],
            )
            below[k - lo] += bl
            ties[k - lo] += ti
    return below, ties


@register_jitable
def _logits(below: np.ndarray, ties: np.ndarray, n_trials: int) -> np.ndarray:
    omega = (below + (ties + 1) / 2.0) / (n_trials + 1.0)
    return np.log(omega / (1.0 - omega))


def cscv_best_py(
    bs: np.ndarray,
    bq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
    blocks: np.ndarray,
    lcp: np.ndarray,
    tile: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First pass of CSCV over every split, for one chunk of trials, in tiles of trials.

    With :func:`cscv_counts` and :func:`cscv_logits` it gives what :func:`cscv_ranks`
    gives on the matrices of ``overfit._split_sums``, bit for bit (``test_overfit.py``
    checks it), with memory ``O(blocks x tile)`` besides the inputs.

    Parameters
    ----------
    bs, bq : float64[S, N]
        Per block (rows) and distinct trial (columns), sums and sums of squares.
    tot1, tot2 : float64[N]
        Their totals over all blocks (:func:`block_totals`).
    n_is : float64[n_splits]
        In-sample observation counts; ``n_all`` the total.
    blocks : int64[n_splits, S/2]
        In-sample blocks of each split, increasing, splits in lexicographic order.
    lcp : int64[n_splits]
        Blocks each split shares at the front with the one before (0 for the first).
    tile : int
        Trials per tile.

    Returns
    -------
    key, chosen, is_sharpe, oos_sharpe : float64[n_splits]
        Per split, the in-sample key of the chunk's best trial (the first on ties; -inf
        if none has variance), its out-of-sample key and its in- and out-of-sample
        Sharpe ratios. Over consecutive chunks of trials the split's pick is the chunk
        with the largest key, the first on ties: the pick over all the trials.
    """
    ns = blocks.shape[0]
    floor = np.full(ns, -np.inf)
    if bs.shape[1] > 4 * _SEEDS:
        # the best of a few strong trials in each split, lowered: below the split's
        # best, so the result is unchanged, and high enough to pass most trials over
        full = np.empty(bs.shape[1])
        for i in range(bs.shape[1]):
            full[i] = _exact_key(tot1[i], tot2[i], n_all)
        seeds = np.sort(np.argsort(full)[-_SEEDS:])
        sk, _ = _split_best(
            np.ascontiguousarray(bs[:, seeds]),
            np.ascontiguousarray(bq[:, seeds]),
            n_is,
            blocks,
            lcp,
            0,
            ns,
            _SEEDS,
            floor,
        )
        for k in range(ns):
            if sk[k] > -np.inf:
                floor[k] = sk[k] - (abs(sk[k]) * 1e-9 + 1e-300)
    key, best = _split_best(bs, bq, n_is, blocks, lcp, 0, ns, tile, floor)
    chosen, is_sr, oos_sr = _split_picks(bs, bq, tot1, tot2, n_is, n_all, blocks, 0, key, best)
    return key, chosen, is_sr, oos_sr


cscv_best = numba.njit(cache=True, nogil=True)(cscv_best_py)


def cscv_counts_py(
    bs: np.ndarray,
    bq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    weights: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
    blocks: np.ndarray,
    lcp: np.ndarray,
    tile: int,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Second pass of CSCV (after :func:`cscv_best`) for one chunk of trials.

    ``weights`` (int64[N]) says how many trials each column stands for (identical
    trials are ranked once). Per split, the weighted counts of the chunk's out-of-sample keys below and equal
    to ``chosen`` (the pick's out-of-sample key); summed over the chunks they give the
    ranks, and :func:`cscv_logits` the logits.
    """
    return _split_counts(bs, bq, tot1, tot2, weights, n_is, n_all, blocks, lcp, 0, tile, chosen)


cscv_counts = numba.njit(cache=True, nogil=True)(cscv_counts_py)


def cscv_logits_py(below: np.ndarray, ties: np.ndarray, n_trials: int) -> np.ndarray:
    """``log(ω / (1 - ω))`` with ``ω = (below + (ties + 1) / 2) / (n_trials + 1)``."""
    return _logits(below, ties, n_trials)


cscv_logits = numba.njit(cache=True, nogil=True)(cscv_logits_py)


def block_totals_py(bs: np.ndarray, bq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per trial (column), the sums of ``bs`` and ``bq`` over the blocks, first to last."""
    n_b, n_tr = bs.shape
    tot1 = np.zeros(n_tr)
    tot2 = np.zeros(n_tr)
    for b in range(n_b):
        for i in range(n_tr):
            tot1[i] += bs[b, i]
            tot2[i] += bq[b, i]
    return tot1, tot2


block_totals = numba.njit(cache=True, nogil=True)(block_totals_py)
