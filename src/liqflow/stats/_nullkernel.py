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
and the cross-products are dot products over that range, four lags per pass over the
rows, each summed in row order (the same result on every machine). With holes, each of
the five value sums is a masked dot product. The values enter uncentred, with no
pass to take their means: a correlation does not change with a shift, and the null's
pairs are made of centred innovations and residuals, so their means are near zero and
the sums lose no precision.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["null_lag_correlations", "null_lag_correlations_py"]


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
    x0, x1, x_runs = rows, 0, 0
    for i in range(rows):
        if mx[i] > 0.0 and (i == 0 or mx[i - 1] == 0.0):
            x_runs += 1
            x0 = min(x0, i)
        if mx[i] > 0.0:
            x1 = i + 1
    y0, y1, y_runs = n, 0, 0
    for t in range(n):
        if my[t] > 0.0 and (t == 0 or my[t - 1] == 0.0):
            y_runs += 1
            y0 = min(y0, t)
        if my[t] > 0.0:
            y1 = t + 1
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
    a = np.zeros(rows)
    b = np.empty(n)
    pa = np.zeros(rows + 1)
    paa = np.zeros(rows + 1)
    pb = np.zeros(n + 1)
    pbb = np.zeros(n + 1)
    sxy = np.empty(width)
    ar_fit = not math.isnan(phi)
    for r in range(reps):
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
            b[t] = yv
            sum_b += yv
            sum_bb += yv * yv
            pb[t + 1] = sum_b
            pbb[t + 1] = sum_bb
            i = t - max_lag
            if 0 <= i < rows:
                xv = prev * mx[i]
                a[i] = xv
                sum_a += xv
                sum_aa += xv * xv
                pa[i + 1] = sum_a
                paa[i + 1] = sum_aa
        # cross-products, four lags per pass over the rows, each lag's sum in row order
        # (rows outside a lag's own pairs add exact zeros)
        for j in range(0, width, 4):
            last = min(j + 4, width) - 1
            i0 = max(min(lo[j], lo[last]), 0) if runs else 0
            i1 = min(max(hi[j], hi[last]), rows) if runs else rows
            if last == j + 3:
                d0 = 0.0
                d1 = 0.0
                d2 = 0.0
                d3 = 0.0
                for i in range(i0, i1):
                    ai = a[i]
                    d0 += ai * b[i + j]
                    d1 += ai * b[i + j + 1]
                    d2 += ai * b[i + j + 2]
                    d3 += ai * b[i + j + 3]
                sxy[j] = d0
                sxy[j + 1] = d1
                sxy[j + 2] = d2
                sxy[j + 3] = d3
            else:
                for jj in range(j, last + 1):
                    d = 0.0
                    for i in range(i0, i1):
                        d += a[i] * b[i + jj]
                    sxy[jj] = d
        for j in range(width):
            cnt = counts[j]
            if runs:
                i0, i1 = lo[j], max(hi[j], lo[j])
                sx = pa[i1] - pa[i0]
                sxx = paa[i1] - paa[i0]
                sy = pb[i1 + j] - pb[i0 + j]
                syy = pbb[i1 + j] - pbb[i0 + j]
            else:
                sx = 0.0
                sxx = 0.0
                sy = 0.0
                syy = 0.0
                for i in range(rows):
                    sx += a[i] * my[i + j]
                    sxx += a[i] * a[i] * my[i + j]
                    sy += mx[i] * b[i + j]
                    syy += mx[i] * b[i + j] * b[i + j]
            var = (sxx - sx * sx / cnt) * (syy - sy * sy / cnt) if cnt > 0 else 0.0
            if cnt >= 3 and var > 0:
                out[r, j] = (sxy[j] - sx * sy / cnt) / math.sqrt(var)
            else:
                out[r, j] = math.nan
    return out


null_lag_correlations = numba.njit(cache=True, nogil=True)(null_lag_correlations_py)
