"""numba kernels of the CSCV / PBO step, each beside its pure-Python twin.

:func:`cscv_best` and :func:`cscv_counts` give, bit for bit, what the matrix form
:func:`~liqflow.backtest._cscv_matrix.cscv_ranks` (re-exported here) gives, over chunks
of trials without the (splits x trials) matrices (how the sweeps run it).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from liqflow.backtest._cscv_matrix import (
    block_totals,
    block_totals_py,
    cscv_logits,
    cscv_logits_py,
    cscv_ranks,
    cscv_ranks_py,
    distinct_pairs,
    distinct_pairs_py,
)

__all__ = [
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
    "distinct_pairs",
    "distinct_pairs_py",
]


# --- CSCV over chunks of trials, without the (splits x trials) matrices -------------------
#
# ``cscv_best`` + ``cscv_counts`` give, split for split, bit for bit what ``cscv_ranks``
# gives on the matrices of ``overfit._split_sums``: the in-sample sums are the same left-to-right sums
# of the in-sample blocks (shared between splits in lexicographic order, as prefix sums),
# the keys the same expressions. Divisions are what cost: each (split, trial) is first
# classified with a division-free proxy (``1/n`` multiplied instead of ``n`` divided,
# ``A < B*D`` compared instead of ``A/D < B``) whose error bound ``_SLACK`` is ~20 times
# the few-ulp error of the proxy; only pairs the proxy cannot decide (ties, near-ties,
# near-zero variance) are computed exactly. Pairs with no variance at all (a sum of
# squares of exactly 0: a rule never invested in those blocks) have key -inf exactly and
# are classified as such, as are all pairs of a split whose pick has key -inf.

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
            sq = q_[i] + lq[i]
            # sq == 0: no variance, key -inf (exactly), never a new best
            undecided += (a * abs(a) + lo_a * (a * a) >= lo_b * sq) & (sq != 0.0)
    if undecided:
        return _best_exact(p_, q_, lp, lq, n, t0, key, best)
    return key, best


@register_jitable
def _best_exact(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    n: float,
    t0: int,
    key: float,
    best: int,
) -> tuple[float, int]:
    """:func:`_tile_best` from the exact keys of the trials the proxy cannot pass over."""
    r = 1.0 / n
    for i in range(p_.size):
        a = p_[i] + lp[i]
        sq = q_[i] + lq[i]
        if sq == 0.0:
            continue
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
def _tile_best2(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    lp2: np.ndarray,
    lq2: np.ndarray,
    n: float,
    n2: float,
    t0: int,
    key: float,
    best: int,
    key2: float,
    best2: int,
) -> tuple[float, int, float, int]:
    """:func:`_tile_best` of two splits whose in-sample blocks differ only in the last
    (``lp``/``lq`` and ``lp2``/``lq2``), the proxy test of both in one pass."""
    if not (key > -np.inf and key2 > -np.inf):
        key, best = _tile_best(p_, q_, lp, lq, n, t0, key, best)
        key2, best2 = _tile_best(p_, q_, lp2, lq2, n2, t0, key2, best2)
        return key, best, key2, best2
    lo_a, lo_b, _, _ = _bounds(key, 1.0 / n)
    lo_a2, lo_b2, _, _ = _bounds(key2, 1.0 / n2)
    undecided = 0
    undecided2 = 0
    for i in range(p_.size):
        pa = p_[i]
        pq = q_[i]
        a = pa + lp[i]
        sq = pq + lq[i]
        undecided += (a * abs(a) + lo_a * (a * a) >= lo_b * sq) & (sq != 0.0)
        a = pa + lp2[i]
        sq = pq + lq2[i]
        undecided2 += (a * abs(a) + lo_a2 * (a * a) >= lo_b2 * sq) & (sq != 0.0)
    if undecided:
        key, best = _best_exact(p_, q_, lp, lq, n, t0, key, best)
    if undecided2:
        key2, best2 = _best_exact(p_, q_, lp2, lq2, n2, t0, key2, best2)
    return key, best, key2, best2


@register_jitable
def _rank_proxies(
    a: float, sq: float, lo_a: float, lo_b: float, hi_a: float, hi_b: float, r: float
) -> tuple[bool, bool]:
    """Whether the key of ``(a, sq)`` is surely below, or surely above, a finite ``c``
    whose :func:`_bounds` at ``r = 1/n`` are ``lo_a, lo_b, hi_a, hi_b``."""
    aa = a * a
    ab = a * abs(a)
    # sq == 0: no variance, key -inf (exactly), below any finite c
    lo = (ab + lo_a * aa < lo_b * sq) | (sq == 0.0)
    # sq (1 - _TINY - _SLACK) > a² r (1 + _SLACK): surely variance
    hi = (ab + hi_a * aa > hi_b * sq) & ((1.0 - _TINY - _SLACK) * sq > r * (1.0 + _SLACK) * aa)
    return lo, hi


@register_jitable
def _rank_exact(
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
    """Weighted counts below and equal to ``c`` of the trials the proxies leave undecided
    (all of them when ``c`` is NaN), from their exact keys."""
    r = 1.0 / n
    lo_a, lo_b, hi_a, hi_b = _bounds(c, r)
    below = 0
    ties = 0
    for i in range(p_.size):
        a = tot1[i] - (p_[i] + lp[i])
        sq = tot2[i] - (q_[i] + lq[i])
        lo, hi = _rank_proxies(a, sq, lo_a, lo_b, hi_a, hi_b, r)
        if lo or hi:
            continue
        k = _exact_key(a, sq, n)
        below += w[i] * (k < c)
        ties += w[i] * (k == c)
    return below, ties


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
    m = p_.size
    if c == -np.inf:
        # nothing is below; the ties are the trials without variance, found by the
        # test of _exact_key itself (same expressions, so the same classification)
        ties = 0
        for i in range(m):
            a = tot1[i] - (p_[i] + lp[i])
            sq = tot2[i] - (q_[i] + lq[i])
            ties += w[i] * (not (sq - a * a / n > _TINY * sq))
        return 0, ties
    if not c > -np.inf:  # NaN: every key exactly
        return _rank_exact(p_, q_, lp, lq, tot1, tot2, w, n, c)
    r = 1.0 / n
    lo_a, lo_b, hi_a, hi_b = _bounds(c, r)
    below = 0
    undecided = 0
    for i in range(m):
        a = tot1[i] - (p_[i] + lp[i])
        sq = tot2[i] - (q_[i] + lq[i])
        lo, hi = _rank_proxies(a, sq, lo_a, lo_b, hi_a, hi_b, r)
        below += w[i] * lo
        undecided += not (lo | hi)
    if not undecided:
        return below, 0
    more, ties = _rank_exact(p_, q_, lp, lq, tot1, tot2, w, n, c)
    return below + more, ties


@register_jitable
def _tile_rank2(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    lp2: np.ndarray,
    lq2: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    w: np.ndarray,
    n: float,
    c: float,
    n2: float,
    c2: float,
) -> tuple[int, int, int, int]:
    """:func:`_tile_rank` of two splits whose in-sample blocks differ only in the last
    (``lp``/``lq`` and ``lp2``/``lq2``) in one pass over the tile: the shared sums,
    totals and weights are read once for both."""
    if not (c > -np.inf and c2 > -np.inf):
        b1, t1 = _tile_rank(p_, q_, lp, lq, tot1, tot2, w, n, c)
        b2, t2 = _tile_rank(p_, q_, lp2, lq2, tot1, tot2, w, n2, c2)
        return b1, t1, b2, t2
    r = 1.0 / n
    lo_a, lo_b, hi_a, hi_b = _bounds(c, r)
    r2 = 1.0 / n2
    lo_a2, lo_b2, hi_a2, hi_b2 = _bounds(c2, r2)
    below = 0
    undecided = 0
    below2 = 0
    undecided2 = 0
    for i in range(p_.size):
        pa = p_[i]
        pq = q_[i]
        t1_ = tot1[i]
        t2_ = tot2[i]
        wi = w[i]
        lo, hi = _rank_proxies(t1_ - (pa + lp[i]), t2_ - (pq + lq[i]), lo_a, lo_b, hi_a, hi_b, r)
        below += wi * lo
        undecided += not (lo | hi)
        lo, hi = _rank_proxies(
            t1_ - (pa + lp2[i]), t2_ - (pq + lq2[i]), lo_a2, lo_b2, hi_a2, hi_b2, r2
        )
        below2 += wi * lo
        undecided2 += not (lo | hi)
    ties = 0
    ties2 = 0
    if undecided:
        more, ties = _rank_exact(p_, q_, lp, lq, tot1, tot2, w, n, c)
        below += more
    if undecided2:
        more, ties2 = _rank_exact(p_, q_, lp2, lq2, tot1, tot2, w, n2, c2)
        below2 += more
    return below, ties, below2, ties2


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
        k = lo
        while k < hi:
            _prefix_sums(p, q, bs, bq, blocks[k, : h - 1], 0 if k == lo else lcp[k], t0, m)
            c = blocks[k, h - 1]
            sums = (p[h - 1, :m], q[h - 1, :m], bs[c, t0 : t0 + m], bq[c, t0 : t0 + m])
            j = k - lo
            if k + 1 < hi and lcp[k + 1] == h - 1:  # the next split: same first blocks
                c2 = blocks[k + 1, h - 1]
                key[j], best[j], key[j + 1], best[j + 1] = _tile_best2(
                    *sums,
                    bs[c2, t0 : t0 + m],
                    bq[c2, t0 : t0 + m],
                    n_is[k],
                    n_is[k + 1],
                    t0,
                    key[j],
                    best[j],
                    key[j + 1],
                    best[j + 1],
                )
                k += 2
            else:
                key[j], best[j] = _tile_best(*sums, n_is[k], t0, key[j], best[j])
                k += 1
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
        k = lo
        while k < lo + ns:
            _prefix_sums(p, q, bs, bq, blocks[k, : h - 1], 0 if k == lo else lcp[k], t0, m)
            c = blocks[k, h - 1]
            sums = (p[h - 1, :m], q[h - 1, :m], bs[c, t0 : t0 + m], bq[c, t0 : t0 + m])
            rest = (tot1[t0 : t0 + m], tot2[t0 : t0 + m], weights[t0 : t0 + m])
            if k + 1 < lo + ns and lcp[k + 1] == h - 1:  # the next split: same first blocks
                c2 = blocks[k + 1, h - 1]
                bl, ti, bl2, ti2 = _tile_rank2(
                    *sums,
                    bs[c2, t0 : t0 + m],
                    bq[c2, t0 : t0 + m],
                    *rest,
                    n_all - n_is[k],
                    chosen[k - lo],
                    n_all - n_is[k + 1],
                    chosen[k + 1 - lo],
                )
                below[k + 1 - lo] += bl2
                ties[k + 1 - lo] += ti2
                step = 2
            else:
                bl, ti = _tile_rank(*sums, *rest, n_all - n_is[k], chosen[k - lo])
                step = 1
            below[k - lo] += bl
            ties[k - lo] += ti
            k += step
    return below, ties


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
        Sharpe ratios. Over chunks of trials the split's pick is the one with the
        largest key, the first trial on ties: the pick over all the trials.
    best : int64[n_splits]
        The column of that trial (the first column if none has variance).
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
    return key, chosen, is_sr, oos_sr, best


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
