"""The matrix form of CSCV (splits x trials), the oracle of the tiled kernels, and the
two small kernels both forms share (per-trial totals, the logits of the ranks), and the
hash-table pass that keeps identical trials once (:func:`distinct_pairs`).

:func:`cscv_ranks` ranks every split's out-of-sample result of the in-sample best on the
(splits x trials) matrices of in-sample sums; :mod:`liqflow.backtest._cscv_kernels` gives
the same, bit for bit, over chunks of trials without those matrices.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "block_totals",
    "block_totals_py",
    "cscv_logits",
    "cscv_logits_py",
    "cscv_ranks",
    "cscv_ranks_py",
    "distinct_pairs",
    "distinct_pairs_py",
]


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


def cscv_logits_py(below: np.ndarray, ties: np.ndarray, n_trials: int) -> np.ndarray:
    """``log(ω / (1 - ω))`` with ``ω = (below + (ties + 1) / 2) / (n_trials + 1)``."""
    omega = (below + (ties + 1) / 2.0) / (n_trials + 1.0)
    return np.log(omega / (1.0 - omega))


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


def _same_rows(a: np.ndarray, b: np.ndarray, i: int, j: int) -> bool:
    """Whether rows ``i`` and ``j`` of ``a`` and of ``b`` are equal (NaN equals nothing)."""
    same = True
    c = 0
    while same and c < a.shape[1]:
        same = a[i, c] == a[j, c] and b[i, c] == b[j, c]
        c += 1
    return same


_same_rows_jit = numba.njit(cache=True, nogil=True)(_same_rows)


def distinct_pairs_py(
    bsum: np.ndarray, bsq: np.ndarray, hashes: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first of each set of identical rows of ``(bsum, bsq)`` (N, S) and the sum of
    their ``weights`` (int64[N]), in one pass over a hash table of the rows.

    ``hashes`` (uint64[N]) must be equal for equal rows. Returns ``keep`` (increasing
    row indices) and ``total`` (int64, per kept row). Rows are equal when every value
    is (``==``: a row with NaN is kept on its own).
    """
    n = bsum.shape[0]
    size = 1
    while size < 2 * n:
        size *= 2
    mask = np.uint64(size - 1)
    table = np.full(size, -1, dtype=np.int64)
    rep = np.empty(n, dtype=np.int64)
    for i in range(n):
        slot = hashes[i] & mask
        while True:
            j = table[slot]
            if j < 0:
                table[slot] = i
                rep[i] = i
                break
            if hashes[j] == hashes[i] and _same_rows_jit(bsum, bsq, i, j):
                rep[i] = j
                break
            slot = (slot + np.uint64(1)) & mask
    total = np.zeros(n, dtype=np.int64)
    n_keep = 0
    for i in range(n):
        total[rep[i]] += weights[i]
        n_keep += rep[i] == i
    keep = np.empty(n_keep, dtype=np.int64)
    out = np.empty(n_keep, dtype=np.int64)
    k = 0
    for i in range(n):
        if rep[i] == i:
            keep[k] = i
            out[k] = total[i]
            k += 1
    return keep, out


distinct_pairs = numba.njit(cache=True, nogil=True)(distinct_pairs_py)
