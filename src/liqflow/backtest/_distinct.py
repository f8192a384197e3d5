"""The distinct rows of a matrix (the first of each set of identical rows and how many
there are): CSCV counts each distinct in-sample/out-of-sample pair of a sweep once."""

from __future__ import annotations

import numpy as np

from liqflow.backtest._kernels import distinct_pairs

__all__ = ["_distinct_pairs", "_distinct_rows", "_distinct_rows_numpy", "_row_hashes"]


def _row_hashes(x: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
    """A 64-bit hash of the bits of each row of ``x`` (float64), added to ``h``."""
    words = np.ascontiguousarray(x).view(np.uint64)
    mult = (np.arange(words.shape[1], dtype=np.uint64) * np.uint64(2) + np.uint64(1)) * np.uint64(
        0x9E3779B97F4A7C15
    )
    out = (words * mult).sum(axis=1, dtype=np.uint64)
    if h is None:
        return out
    return out * np.uint64(0xBF58476D1CE4E5B9) + h


def _distinct_rows(
    x: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first of each set of identical rows (increasing) and their counts
    (sums of ``weights`` if given)."""
    return _distinct_pairs(x, np.zeros((x.shape[0], 0)), weights)


def _distinct_pairs(
    a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_distinct_rows` of the rows of ``a`` and ``b`` side by side, without
    building them (:func:`~liqflow.backtest._kernels.distinct_pairs`)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    w = np.ones(a.shape[0], dtype=np.int64) if weights is None else weights.astype(np.int64)
    return distinct_pairs(a, b, _row_hashes(b, _row_hashes(a)), w)


def _distinct_rows_numpy(
    x: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The sort-based reference of :func:`_distinct_rows`."""
    n = x.shape[0]
    h = _row_hashes(x)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])
    rep = np.empty(n, dtype=np.int64)
    rep[order] = order[np.repeat(starts, np.diff(np.r_[starts, n]))]
    same = (x == x[rep]).all(axis=1)  # a hash collision (or NaN) keeps its own row
    rep = np.where(same, rep, np.arange(n))
    keep = np.flatnonzero(rep == np.arange(n))
    if weights is None:
        return keep, np.bincount(rep, minlength=n)[keep].astype(np.int64)
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, rep, weights)
    return keep, total[keep]
