"""The two CSCV passes as one over a chunk of trials (numba, beside its pure-Python twin).

:func:`cscv_fused` gives, against known picks, what :func:`~liqflow.backtest._cscv_kernels.cscv_best`
and :func:`~liqflow.backtest._cscv_kernels.cscv_counts` give in two passes, with the
in-sample sums built once for both (how a sweep in one process runs it).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from liqflow.backtest._cscv_kernels import (
    _best_exact,
    _bounds,
    _prefix_sums,
    _rank_exact,
    _rank_proxies,
    _split_picks,
    _tile_best,
    _tile_best2,
    _tile_rank,
    _tile_rank2,
)

__all__ = ["cscv_fused", "cscv_fused_py"]


@register_jitable
def _tile_fused2(
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
    n2: float,
    n_all: float,
    t0: int,
    key: float,
    best: int,
    key2: float,
    best2: int,
    c: float,
    c2: float,
) -> tuple[float, int, float, int, int, int, int, int]:
    """:func:`_tile_best2` and :func:`_tile_rank2` of the same two splits in one pass
    over the tile (the sums, totals and weights read once for the four tests)."""
    if not (key > -np.inf and key2 > -np.inf and c > -np.inf and c2 > -np.inf):
        key, best, key2, best2 = _tile_best2(
            p_, q_, lp, lq, lp2, lq2, n, n2, t0, key, best, key2, best2
        )
        b1, t1, b2, t2 = _tile_rank2(
            p_, q_, lp, lq, lp2, lq2, tot1, tot2, w, n_all - n, c, n_all - n2, c2
        )
        return key, best, key2, best2, b1, t1, b2, t2
    lo_a, lo_b, _, _ = _bounds(key, 1.0 / n)
    lo_a2, lo_b2, _, _ = _bounds(key2, 1.0 / n2)
    r = 1.0 / (n_all - n)
    ra, rb, ha, hb = _bounds(c, r)
    r2 = 1.0 / (n_all - n2)
    ra2, rb2, ha2, hb2 = _bounds(c2, r2)
    up = 0
    up2 = 0
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
        a = pa + lp[i]
        sq = pq + lq[i]
        up += (a * abs(a) + lo_a * (a * a) >= lo_b * sq) & (sq != 0.0)
        lo, hi = _rank_proxies(t1_ - a, t2_ - sq, ra, rb, ha, hb, r)
        below += wi * lo
        undecided += not (lo | hi)
        a = pa + lp2[i]
        sq = pq + lq2[i]
        up2 += (a * abs(a) + lo_a2 * (a * a) >= lo_b2 * sq) & (sq != 0.0)
        lo, hi = _rank_proxies(t1_ - a, t2_ - sq, ra2, rb2, ha2, hb2, r2)
        below2 += wi * lo
        undecided2 += not (lo | hi)
    if up:
        key, best = _best_exact(p_, q_, lp, lq, n, t0, key, best)
    if up2:
        key2, best2 = _best_exact(p_, q_, lp2, lq2, n2, t0, key2, best2)
    ties = 0
    ties2 = 0
    if undecided:
        more, ties = _rank_exact(p_, q_, lp, lq, tot1, tot2, w, n_all - n, c)
        below += more
    if undecided2:
        more, ties2 = _rank_exact(p_, q_, lp2, lq2, tot1, tot2, w, n_all - n2, c2)
        below2 += more
    return key, best, key2, best2, below, ties, below2, ties2


@register_jitable
def _tile_fused(
    p_: np.ndarray,
    q_: np.ndarray,
    lp: np.ndarray,
    lq: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    w: np.ndarray,
    n: float,
    n_all: float,
    t0: int,
    key: float,
    best: int,
    c: float,
) -> tuple[float, int, int, int]:
    """:func:`_tile_best` and :func:`_tile_rank` of the same split in one pass over the
    tile."""
    if not (key > -np.inf and c > -np.inf):
        key, best = _tile_best(p_, q_, lp, lq, n, t0, key, best)
        below, ties = _tile_rank(p_, q_, lp, lq, tot1, tot2, w, n_all - n, c)
        return key, best, below, ties
    lo_a, lo_b, _, _ = _bounds(key, 1.0 / n)
    r = 1.0 / (n_all - n)
    ra, rb, ha, hb = _bounds(c, r)
    up = 0
    below = 0
    undecided = 0
    for i in range(p_.size):
        a = p_[i] + lp[i]
        sq = q_[i] + lq[i]
        up += (a * abs(a) + lo_a * (a * a) >= lo_b * sq) & (sq != 0.0)
        lo, hi = _rank_proxies(tot1[i] - a, tot2[i] - sq, ra, rb, ha, hb, r)
        below += w[i] * lo
        undecided += not (lo | hi)
    if up:
        key, best = _best_exact(p_, q_, lp, lq, n, t0, key, best)
    ties = 0
    if undecided:
        more, ties = _rank_exact(p_, q_, lp, lq, tot1, tot2, w, n_all - n, c)
        below += more
    return key, best, below, ties


@register_jitable
def _split_fused(
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
    floor: np.ndarray,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_split_best` (from ``floor``) and :func:`_split_counts` (against
    ``chosen``) of every split in one pass: the in-sample sums built once for both."""
    n_tr = bs.shape[1]
    ns, h = blocks.shape
    key = floor.copy()
    best = np.zeros(ns, dtype=np.int64)
    below = np.zeros(ns, dtype=np.int64)
    ties = np.zeros(ns, dtype=np.int64)
    p = np.zeros((h, tile))
    q = np.zeros((h, tile))
    for t0 in range(0, n_tr, tile):
        m = min(tile, n_tr - t0)
        rest = (tot1[t0 : t0 + m], tot2[t0 : t0 + m], weights[t0 : t0 + m])
        k = 0
        while k < ns:
            _prefix_sums(p, q, bs, bq, blocks[k, : h - 1], 0 if k == 0 else lcp[k], t0, m)
            c = blocks[k, h - 1]
            sums = (p[h - 1, :m], q[h - 1, :m], bs[c, t0 : t0 + m], bq[c, t0 : t0 + m])
            if k + 1 < ns and lcp[k + 1] == h - 1:  # the next split: same first blocks
                c2 = blocks[k + 1, h - 1]
                out = _tile_fused2(
                    *sums,
                    bs[c2, t0 : t0 + m],
                    bq[c2, t0 : t0 + m],
                    *rest,
                    n_is[k],
                    n_is[k + 1],
                    n_all,
                    t0,
                    key[k],
                    best[k],
                    key[k + 1],
                    best[k + 1],
                    chosen[k],
                    chosen[k + 1],
                )
                key[k], best[k], key[k + 1], best[k + 1] = out[0], out[1], out[2], out[3]
                below[k] += out[4]
                ties[k] += out[5]
                below[k + 1] += out[6]
                ties[k + 1] += out[7]
                k += 2
            else:
                key[k], best[k], bl, ti = _tile_fused(
                    *sums, *rest, n_is[k], n_all, t0, key[k], best[k], chosen[k]
                )
                below[k] += bl
                ties[k] += ti
                k += 1
    return key, best, below, ties


def cscv_fused_py(
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
    floor: np.ndarray,
    chosen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both passes of CSCV over one chunk of trials in one, against known picks.

    ``floor`` must be below each split's pick's in-sample key and ``chosen`` its
    out-of-sample key (the picks of a few candidate trials, say). Returns what
    :func:`cscv_best` returns for the trials above the floor (``key == floor`` where
    none is: that split's other fields are then meaningless), then what
    :func:`cscv_counts` returns against ``chosen``. Where the picks over every trial
    have the out-of-sample key ``chosen``, the counts are theirs.
    """
    key, best, below, ties = _split_fused(
        bs, bq, tot1, tot2, weights, n_is, n_all, blocks, lcp, tile, floor, chosen
    )
    picked, is_sr, oos_sr = _split_picks(bs, bq, tot1, tot2, n_is, n_all, blocks, 0, key, best)
    return key, picked, is_sr, oos_sr, best, below, ties


cscv_fused = numba.njit(cache=True, nogil=True)(cscv_fused_py)
