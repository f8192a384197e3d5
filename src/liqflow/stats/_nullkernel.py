"""The lead-lag null's kernel: rebuild each null pair and take its lagged correlations.

:func:`null_lag_correlations` fuses what :func:`liqflow.stats._lagsums._null_correlations`
describes (the leader rebuilt from its AR(1) with sign-flipped innovations, the follower
``c e*_t + s_t v_t``, then the correlation of ``x*_t`` and ``y*_{t+k}`` at every lag on
the known pairs), one draw at a time, so nothing of size ``draws x n x lags`` is built:
the signs arrive as one draw per block (:func:`liqflow.stats._lagsums.block_sign_draws`)
and are expanded inside. ``tests/stats/test_leadlag.py`` checks it against the same
steps in numpy (``scipy.signal.lfilter`` and
:func:`liqflow.stats._lagsums.lagged_correlations`).

Of the six sums behind each lag's correlation, only the cross-product depends on the
lag and the draw together. The count of pairs depends on neither draw nor values; when
each series is known on one unbroken run of dates (the usual case: a series starts
late or ends early, with no hole inside), the pairs of a lag are one range of rows, so
the sums of ``x``, ``x^2``, ``y`` and ``y^2`` over it are differences of prefix sums,
and the cross-products are dot products over that range. These are taken for
:data:`_LANES` draws side by side (one lag at a time, the draws in adjacent memory, so
the additions of different draws share SIMD registers), each draw's sum still in row
order: the same result on every machine, and bit for bit that of one draw at a time.
With holes, each of the five value sums is a masked dot product. The values enter uncentred, with no
pass to take their means: a correlation does not change with a shift, and the null's
pairs are made of centred innovations and residuals, so their means are near zero and
the sums lose no precision.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["null_lag_correlations", "null_lag_correlations_py"]


@numba.njit(cache=True, nogil=True)
def _known_span(mask: np.ndarray) -> tuple[int, int, int]:
    """``(first, end, runs)`` of a 0/1 mask: its first and one-past-last 1 and how many
    unbroken runs of 1 it holds (``(len, 0, 0)`` when it holds none)."""
    first, end, runs = mask.size, 0, 0
    for i in range(mask.size):
        if mask[i] > 0.0:
            if i == 0 or mask[i - 1] == 0.0:
                runs += 1
                first = min(first, i)
            end = i + 1
    return first, end, runs


def null_lag_correlations_py(
    e: np.ndarray,
    v: np.ndarray,
    c: np.ndarray,
    phi: float,
    start: float,
    eta: np.ndarray,
    eta_offset: np.ndarray,
    eta_block: int,
    s: np.ndarray,
    s_offset: np.ndarray,
    s_block: int,
    known_x: np.ndarray,
    known_y: np.ndarray,
    max_lag: int,
) -> np.ndarray:
    """Lagged correlations of ``reps`` null pairs, ``(reps, 2 max_lag + 1)``.

    Parameters
    ----------
    e : float64[n]
        The leader's AR(1) innovations, 0 where unknown.
    v, c : float64[n]
        The follower's residual and its loading on the innovation at each date (0 where
        unknown).
    phi : float
        AR coefficient of the rebuilt leaders (NaN: no AR fit, ``x*_t = eta_t e_t``).
    start : float
        ``x*_0`` when there is an AR fit.
    eta, s : int8[reps, m]
        One 0/1 draw per block of the innovations' and of the follower residual's signs:
        the sign at ``t`` is ``2 eta[r, (eta_offset[r] + t) // eta_block] - 1``
        (:func:`liqflow.stats._lagsums.block_signs` expanded).
    eta_offset, s_offset : int64[reps]
        Each draw's offset of its block grid.
    eta_block, s_block : int
        Block lengths (at least 1).
    known_x, known_y : bool[n]
        Dates on which each series is known; a pair enters a lag's correlation only when
        both of its dates are.
    max_lag : int
        Lags ``-max_lag .. max_lag`` over the rows ``t = max_lag .. n - max_lag - 1``.

    Returns
    -------
    ndarray
        NaN where a lag has fewer than 3 pairs or no variance.
    """
    reps = eta.shape[0]
    n = e.size
    width = 2 * max_lag + 1
    rows = n - 2 * max_lag
    out = np.empty((reps, width))
    mx = np.zeros(rows)
    my = np.zeros(n)
    for i in range(rows):
        mx[i] = 1.0 if known_x[max_lag + i] else 0.0
    for t in range(n):
        my[t] = 1.0 if known_y[t] else 0.0
    # one unbroken run of known rows each? [x0, x1) over the rows, [y0, y1) over dates
    x0, x1, x_runs = _known_span(mx)
    y0, y1, y_runs = _known_span(my)
    runs = x_runs <= 1 and y_runs <= 1
    counts = np.zeros(width)  # pairs per lag: neither the draw nor the values change it
    lo = np.zeros(width, dtype=np.int64)
    hi = np.zeros(width, dtype=np.int64)
    for j in range(width):
        lo[j] = max(x0, y0 - j, 0)
        hi[j] = min(x1, y1 - j, rows)
        if runs:
            counts[j] = float(max(hi[j] - lo[j], 0))
        else:
            acc = 0.0
            for i in range(rows):
                acc += mx[i] * my[i + j]
            counts[j] = acc
    lanes = _LANES
    a = np.zeros((rows, lanes))
    b = np.zeros((n, lanes))
    pa = np.zeros((rows + 1, lanes))
    paa = np.zeros((rows + 1, lanes))
    pb = np.zeros((n + 1, lanes))
    pbb = np.zeros((n + 1, lanes))
    sxy = np.zeros((width, lanes))
    ar_fit = not math.isnan(phi)
    for r0 in range(0, reps, lanes):
        k_end = min(lanes, reps - r0)
        for k in range(k_end):
            _rebuild(
                k, r0 + k, e, v, c, phi, start, ar_fit, eta, eta_offset, eta_block,
                s, s_offset, s_block, mx, my, max_lag, a, b, pa, paa, pb, pbb,
            )  # fmt: skip
        # cross-products, the draws of a batch side by side: each draw's sum is still
        # taken in row order over its lag's pairs (the same result on every machine)
        for j in range(width):
            i0 = lo[j] if runs else 0
            i1 = max(hi[j], i0) if runs else rows
            d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = 0.0
            for i in range(i0, i1):
                d0 += a[i, 0] * b[i + j, 0]
                d1 += a[i, 1] * b[i + j, 1]
                d2 += a[i, 2] * b[i + j, 2]
                d3 += a[i, 3] * b[i + j, 3]
                d4 += a[i, 4] * b[i + j, 4]
                d5 += a[i, 5] * b[i + j, 5]
                d6 += a[i, 6] * b[i + j, 6]
                d7 += a[i, 7] * b[i + j, 7]
            sxy[j, 0] = d0
            sxy[j, 1] = d1
            sxy[j, 2] = d2
            sxy[j, 3] = d3
            sxy[j, 4] = d4
            sxy[j, 5] = d5
            sxy[j, 6] = d6
            sxy[j, 7] = d7
        for k in range(k_end):
            _correlations(k, r0 + k, runs, counts, lo, hi, mx, my, a, b, pa, paa, pb, pbb, sxy, out)
    return out


@numba.njit(cache=True, nogil=True)
def _rebuild(
    k: int,
    r: int,
    e: np.ndarray,
    v: np.ndarray,
    c: np.ndarray,
    phi: float,
    start: float,
    ar_fit: bool,
    eta: np.ndarray,
    eta_offset: np.ndarray,
    eta_block: int,
    s: np.ndarray,
    s_offset: np.ndarray,
    s_block: int,
    mx: np.ndarray,
    my: np.ndarray,
    max_lag: int,
    a: np.ndarray,
    b: np.ndarray,
    pa: np.ndarray,
    paa: np.ndarray,
    pb: np.ndarray,
    pbb: np.ndarray,
) -> None:
    """Null pair ``r`` into lane ``k``: the rebuilt leader ``a[:, k]`` over the rows and
    the follower ``b[:, k]`` over the dates (zero where unknown), with their prefix sums
    and prefix sums of squares."""
    n = e.size
    rows = a.shape[0]
    # the signs' block and position in it at t = 0 (then counted, not divided)
    qe = eta_offset[r] // eta_block
    pe = eta_offset[r] - qe * eta_block
    qs = s_offset[r] // s_block
    ps = s_offset[r] - qs * s_block
    prev = 0.0
    sum_a = 0.0
    sum_aa = 0.0
    sum_b = 0.0
    sum_bb = 0.0
    for t in range(n):
        shock = (2.0 * eta[r, qe] - 1.0) * e[t]
        sign_s = 2.0 * s[r, qs] - 1.0
        pe += 1
        if pe == eta_block:
            pe = 0
            qe += 1
        ps += 1
        if ps == s_block:
            ps = 0
            qs += 1
        if not ar_fit:
            prev = shock
        elif t == 0:
            prev = start
        else:
            prev = phi * prev + shock
        # the pair's values, zero where unknown, and their running sums (the
        # correlations are invariant to a shift, so no centring pass is needed)
        yv = (c[t] * shock + sign_s * v[t]) * my[t]
        b[t, k] = yv
        sum_b += yv
        sum_bb += yv * yv
        pb[t + 1, k] = sum_b
        pbb[t + 1, k] = sum_bb
        i = t - max_lag
        if 0 <= i < rows:
            xv = prev * mx[i]
            a[i, k] = xv
            sum_a += xv
            sum_aa += xv * xv
            pa[i + 1, k] = sum_a
            paa[i + 1, k] = sum_aa


@numba.njit(cache=True, nogil=True)
def _correlations(
    k: int,
    r: int,
    runs: bool,
    counts: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    mx: np.ndarray,
    my: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    pa: np.ndarray,
    paa: np.ndarray,
    pb: np.ndarray,
    pbb: np.ndarray,
    sxy: np.ndarray,
    out: np.ndarray,
) -> None:
    """Row ``r`` of ``out``: each lag's correlation of the pair in lane ``k`` from its
    cross-product ``sxy[:, k]`` and its value sums (differences of prefix sums over one
    run of pairs, masked sums otherwise)."""
    rows = a.shape[0]
    for j in range(counts.size):
        cnt = counts[j]
        if runs:
            i0, i1 = lo[j], max(hi[j], lo[j])
            sx = pa[i1, k] - pa[i0, k]
            sxx = paa[i1, k] - paa[i0, k]
            sy = pb[i1 + j, k] - pb[i0 + j, k]
            syy = pbb[i1 + j, k] - pbb[i0 + j, k]
        else:
            sx = 0.0
            sxx = 0.0
            sy = 0.0
            syy = 0.0
            for i in range(rows):
                sx += a[i, k] * my[i + j]
                sxx += a[i, k] * a[i, k] * my[i + j]
                sy += mx[i] * b[i + j, k]
                syy += mx[i] * b[i + j, k] * b[i + j, k]
        var = (sxx - sx * sx / cnt) * (syy - sy * sy / cnt) if cnt > 0 else 0.0
        if cnt >= 3 and var > 0:
            out[r, j] = (sxy[j, k] - sx * sy / cnt) / math.sqrt(var)
        else:
            out[r, j] = math.nan


#: Null draws computed side by side in the cross-product pass (two SIMD registers of
#: four doubles: two independent chains of additions).
_LANES = 8


null_lag_correlations = numba.njit(cache=True, nogil=True)(null_lag_correlations_py)
