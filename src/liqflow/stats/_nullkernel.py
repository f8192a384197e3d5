"""The lead-lag null's kernel: rebuild each null pair and take its lagged correlations.

:func:`null_lag_correlations` fuses what :func:`liqflow.stats._lagsums._null_correlations`
describes (the leader rebuilt from its AR(1) with sign-flipped innovations, the follower
``c e*_t + s_t v_t``, then the correlation of ``x*_t`` and ``y*_{t+k}`` at every lag on
the known pairs), one draw at a time, so nothing of size ``draws x n x lags`` is built.
``tests/stats/test_leadlag.py`` checks it against the same steps in numpy
(``scipy.signal.lfilter`` and :func:`liqflow.stats._lagsums.lagged_correlations`).
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
    s: np.ndarray,
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
    eta, s : float64[reps, n]
        Signs of the innovations and of the follower's residual.
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
    reps, n = eta.shape
    width = 2 * max_lag + 1
    rows = n - 2 * max_lag
    out = np.empty((reps, width))
    xs = np.empty(n)
    ys = np.empty(n)
    ar_fit = not math.isnan(phi)
    for r in range(reps):
        prev = 0.0
        mean_x = 0.0
        mean_y = 0.0
        nx = 0
        ny = 0
        for t in range(n):
            shock = eta[r, t] * e[t]
            if not ar_fit:
                prev = shock
            elif t == 0:
                prev = start
            else:
                prev = phi * prev + shock
            xs[t] = prev
            ys[t] = c[t] * shock + s[r, t] * v[t]
            if known_x[t]:
                mean_x += prev
                nx += 1
            if known_y[t]:
                mean_y += ys[t]
                ny += 1
        mean_x = mean_x / nx if nx else 0.0
        mean_y = mean_y / ny if ny else 0.0
        for j in range(width):
            cnt = 0.0
            sx = 0.0
            sxx = 0.0
            sy = 0.0
            syy = 0.0
            sxy = 0.0
            for i in range(rows):
                t = max_lag + i
                u = i + j
                if known_x[t] and known_y[u]:
                    a = xs[t] - mean_x
                    b = ys[u] - mean_y
                    cnt += 1.0
                    sx += a
                    sxx += a * a
                    sy += b
                    syy += b * b
                    sxy += a * b
            var = (sxx - sx * sx / cnt) * (syy - sy * sy / cnt) if cnt > 0 else 0.0
            if cnt >= 3 and var > 0:
                out[r, j] = (sxy - sx * sy / cnt) / math.sqrt(var)
            else:
                out[r, j] = math.nan
    return out


null_lag_correlations = numba.njit(cache=True, nogil=True)(null_lag_correlations_py)
