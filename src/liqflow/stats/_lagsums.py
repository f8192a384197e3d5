"""The lead-lag kernels: lagged cross-correlations from sums, the sign-flip null and the
pair bootstrap (:mod:`liqflow.stats.leadlag` and :mod:`liqflow.stats.rolling` use them).

Lag convention: **positive lag k means the leader at t correlates with the follower at
t + k** (the leader leads by k periods).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import (
    aligned_returns,
    check_freq,
    check_positive_int,
)
from liqflow.stats.bootstrap import optimal_block_length, stationary_bootstrap_sums

DEFAULT_MAX_LAG = {"W": 13, "D": 63}  # about one quarter either way
SIDES = ("two-sided", "positive")
_CHUNK = 4_000_000  # resample rows x observations per block of work (memory bound)


def _check_side(alternative: str) -> str:
    if alternative not in SIDES:
        raise DataError(f"alternative must be one of {SIDES}, got {alternative!r}")
    return alternative


def _strength(corr: np.ndarray, alternative: str) -> np.ndarray:
    return np.abs(corr) if alternative == "two-sided" else corr


def _corr_from_sums(
    t: np.ndarray | float,
    sx: np.ndarray,
    sxx: np.ndarray,
    sy: np.ndarray,
    syy: np.ndarray,
    sxy: np.ndarray,
) -> np.ndarray:
    """Pearson correlation from the sums over ``t`` pairs (NaN with fewer than 3 pairs)."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / t
        var = (sxx - sx * sx / t) * (syy - sy * sy / t)
        out = cov / np.sqrt(var)
    return np.where((var > 0) & (t >= 3), out, np.nan)


def _lag_matrix(y: np.ndarray, max_lag: int) -> np.ndarray:
    """``Y[i, j] = y[L + i + lags[j]]`` for rows ``i`` in ``0..n-2L-1``."""
    n = y.size
    t = n - 2 * max_lag
    return np.stack([y[max_lag + k : max_lag + k + t] for k in range(-max_lag, max_lag + 1)], 1)


def _shifted(v: np.ndarray, max_lag: int) -> np.ndarray:
    """``(n, 2L+1)`` matrix whose column ``j`` holds ``v`` (length ``n - 2L``) at rows ``j..``.

    For any series ``w`` of length ``n``, ``(w @ S)[j] = sum_i v[i] * w[i + j]``: the sum
    over the common rows of the pairs at lag ``j - L``.
    """
    t = v.size
    k = 2 * max_lag + 1
    out = np.zeros((t + 2 * max_lag, k))
    for j in range(k):
        out[j : j + t, j] = v
    return out


def _zero_filled(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v`` minus its mean over finite values with NaN set to 0, and the 0/1 finite mask."""
    ok = np.isfinite(v)
    centre = float(v[ok].mean()) if ok.any() else 0.0
    return np.where(ok, v - centre, 0.0), ok.astype(np.float64)


@dataclass(frozen=True)
class _LagSums:
    """Per-lag sums over the pairs ``(x_t, y_{t+k})`` where both are known.

    ``u`` is the follower centred and zero-filled, ``xs`` the shifted leader and ``ones``
    the shifted leader mask (see :func:`_shifted`), so resampled follower values ``w``
    give ``sy = w @ ones`` and ``sxy = w @ xs``.
    """

    count: np.ndarray
    sx: np.ndarray
    sxx: np.ndarray
    syy: np.ndarray
    u: np.ndarray
    design: np.ndarray  # columns: shifted mask, then shifted leader

    @property
    def width(self) -> int:
        return int(self.count.size)

    def correlations(self, products: np.ndarray) -> np.ndarray:
        """Correlations from ``w @ design`` (rows of resampled or original followers)."""
        k = self.width
        return _corr_from_sums(
            self.count, self.sx, self.sxx, products[..., :k], self.syy, products[..., k:]
        )


def _lag_sums(x: np.ndarray, y: np.ndarray, max_lag: int) -> _LagSums:
    n = y.size
    x0, mx = _zero_filled(x[max_lag : n - max_lag])
    u, my = _zero_filled(y)
    ones, xs = _shifted(mx, max_lag), _shifted(x0, max_lag)
    return _LagSums(
        count=my @ ones,
        sx=my @ xs,
        sxx=my @ _shifted(x0 * x0, max_lag),
        syy=(u * u) @ ones,
        u=u,
        design=np.hstack([ones, xs]),
    )


def lagged_correlations(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson correlation of ``x[t]`` and ``y[t + k]`` for ``k = -L..L`` on common rows.

    All lags use the same rows ``t = L .. n-L-1`` (so they are comparable and the
    bootstrap can resample rows); a pair with a missing (NaN) value is left out. For one
    lag without missing values this equals ``np.corrcoef(x[L:n-L], y[L+k:n-L+k])[0, 1]``.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    lag = check_positive_int("max_lag", max_lag, minimum=0)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise DataError(f"x and y must be 1-d of equal length, got {xa.shape} and {ya.shape}")
    if xa.size - 2 * lag < 3:
        raise InsufficientDataError(
            f"max_lag={lag} needs at least {2 * lag + 3} observations, got {xa.size}"
        )
    sums = _lag_sums(xa, ya, lag)
    return sums.correlations(sums.u @ sums.design)


def _null_block_length(x: np.ndarray, y: np.ndarray) -> float:
    """Block length of the null's sign blocks: the data-driven estimate for the follower.

    The variance of a cross-correlation under no cross-dependence grows with
    ``sum_j rho_x(j) rho_y(j)`` (Bartlett, 1935). The signs multiply the follower's
    residual, so they must keep the follower's autocorrelation where the leader has
    some: signs constant over blocks of length ``b`` keep ``(1 - j/b)`` of it. A
    persistent leader (``rho_x(j)`` near 1) turns that sum into the follower's long-run
    variance, which is what the Politis-White estimate of the follower targets; a
    white-noise follower needs no blocks at all (``b = 1``: independent signs). The
    leader's own persistence plays no part: a block length drawn from it (25 weeks for a
    weekly AR(1) of 0.97) leaves a dozen sign blocks in 300 weeks, and a null variance
    that grows with the observed cross-products made the test reject 2 % at 5 %.
    ``x`` is unused and kept for the callers' symmetry.
    """
    del x
    return optimal_block_length(y[np.isfinite(y)])


def block_sign_draws(
    reps: int, n: int, block_length: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, int]:
    """The draws behind :func:`block_signs`: ``(bits, offset, b)``.

    ``bits`` is int8 ``(reps, n // b + 2)`` of 0/1, one per block; ``offset`` the uniform
    offset of each resample's block grid in ``[0, b)``; the sign of resample ``r`` at
    ``t`` is ``2 bits[r, (offset[r] + t) // b] - 1``. The null kernel expands them itself.
    """
    b = max(1, round(block_length))
    bits = rng.integers(0, 2, size=(reps, n // b + 2), dtype=np.int8)
    offset = rng.integers(0, b, size=reps)
    return bits, offset, b


def block_signs(reps: int, n: int, block_length: float, rng: np.random.Generator) -> np.ndarray:
    """Rademacher signs constant over blocks of ``round(block_length)`` periods, ``(reps, n)``.

    Each resample has its own uniform offset of the block grid, so the sign correlation
    of two periods ``j`` apart is ``max(0, 1 - j / b)`` (the Bartlett kernel) at every
    ``t``: the multiplier law of the dependent wild bootstrap (Shao, 2010). The same
    ``rng`` gives the signs of :func:`block_sign_draws`.
    """
    bits, offset, b = block_sign_draws(reps, n, block_length, rng)
    out = np.empty((reps, n))
    if b == 1:
        np.copyto(out, bits[:, :n])
    else:  # row r is bits[r] repeated b times, from position offset[r]
        windows = np.lib.stride_tricks.sliding_window_view(np.repeat(bits, b, axis=1), n, axis=1)
        np.copyto(out, windows[np.arange(reps), offset])
    out *= 2.0
    out -= 1.0
    return out


_PHI_MAX = 0.999  # the recursion of the leader's bootstrap paths stays stationary


@dataclass(frozen=True)
class _LeaderAR:
    """The leader's AR(1) with a constant, by least squares.

    ``e_t = x_t - a - phi x_{t-1}`` on the rows where ``x_t`` and ``x_{t-1}`` are known
    (``rows``, a mask over ``t = 1..n-1``; NaN elsewhere); ``start`` is the centred first
    value. With fewer than 3 such rows, or a constant lag, ``e`` is the centred leader
    and ``phi`` is NaN (no AR fit).
    """

    e: np.ndarray
    phi: float
    rows: np.ndarray
    start: float


def _leader_ar(x: np.ndarray) -> _LeaderAR:
    ok = np.isfinite(x[1:]) & np.isfinite(x[:-1])
    e = np.full(x.size, np.nan)
    cur, prev = x[1:][ok], x[:-1][ok]
    known = np.isfinite(x)
    if cur.size < 3 or np.ptp(prev) == 0.0:
        e[known] = x[known] - x[known].mean() if known.any() else 0.0
        return _LeaderAR(e, float("nan"), ok, 0.0)
    lagged = prev - prev.mean()
    phi = float(lagged @ (cur - cur.mean()) / (lagged @ lagged))
    res = cur - phi * prev
    e[1:][ok] = res - res.mean()
    start = float(x[0] - x[known].mean()) if known[0] else 0.0
    return _LeaderAR(e, phi, ok, start)


def leader_innovations(x: np.ndarray) -> np.ndarray:
    """Residuals of the leader's AR(1) with a constant (least squares), NaN where unknown.

    ``e_t = x_t - a - phi x_{t-1}`` on the rows where ``x_t`` and ``x_{t-1}`` are known.
    With fewer than 3 such rows, or a constant lag, the centred leader itself.
    """
    return _leader_ar(x).e


@dataclass(frozen=True)
class _NullModel:
    """Leader and follower under the null (see :func:`_null_model`).

    The follower is ``y_t = a + c e_t + v_t`` with ``e_t`` the leader's AR(1) innovation:
    ``fit = c e_t`` and ``v`` are zero where the follower is unknown, ``fit`` is zero where
    the innovation is; ``ar`` is the leader's AR(1) and ``innovation_block`` the block
    length of its innovations' signs.
    """

    c: np.ndarray  # the loading where both are known, else 0 (per date)
    fit: np.ndarray
    v: np.ndarray
    ar: _LeaderAR
    innovation_block: float
    known_x: np.ndarray
    known_y: np.ndarray


def _null_model(x: np.ndarray, y: np.ndarray) -> _NullModel:
    """The follower split as ``fit + v`` on the leader's AR(1) innovation at the same date.

    ``y_t = a + c e_t + v_t`` by least squares on the rows where ``y_t`` and the leader's
    AR(1) innovation ``e_t`` (:func:`leader_innovations`) are known; rows without ``e_t``
    have ``fit = 0`` and ``v`` the centred follower.
    """
    ar = _leader_ar(x)
    e = ar.e
    known_y = np.isfinite(y)
    known_e = np.isfinite(e)
    both = known_y & known_e
    c = 0.0
    if both.sum() >= 3 and np.ptp(e[both]) > 0.0:
        c = float(np.cov(e[both], y[both], bias=True)[0, 1] / e[both].var())
    loading = np.where(both, c, 0.0)
    fit = loading * np.nan_to_num(e)
    centre = float((y[known_y] - fit[known_y]).mean()) if known_y.any() else 0.0
    v = np.where(known_y, np.where(known_y, y, 0.0) - centre - fit, 0.0)
    block = optimal_block_length(e[known_e]) if known_e.sum() >= 3 else 1.0
    return _NullModel(loading, fit, v, ar, block, np.isfinite(x), known_y)


def _null_correlations(
    x: np.ndarray, y: np.ndarray, max_lag: int, reps: int, block: float, rng: np.random.Generator
) -> np.ndarray:
    """Lagged correlations under the null: rebuilt leaders and sign-flipped residuals.

    Each draw rebuilds the leader from its AR(1) fit, ``x*_t = phi x*_{t-1} + e*_t`` with
    ``e*_t = eta_t e_t`` (``eta`` Rademacher signs in blocks of the innovations' own
    length; ``x*_0`` the observed centred start; ``phi`` capped at 0.999 in absolute
    value): the recursive-design wild bootstrap of an autoregression (Goncalves and
    Kilian, 2004). The follower is ``c e*_t + s_t v_t`` (:func:`_null_model`, with block
    signs ``s`` of length ``block`` drawn independently of ``eta``): it moves with the
    leader's innovation at the same date and with nothing else of the leader.
    ``|e*_t| = |e_t|`` and ``|s_t v_t| = |v_t|`` at every ``t``, so the volatility timing
    the two series share is kept exactly; the leader's persistence, the offset the
    sample means give a persistent leader's lagged correlations (Stambaugh, 1999) and
    the estimation error of its autocorrelation are those of the rebuilt paths, drawn
    jointly (see :func:`lead_lag`). The draws are computed by
    :func:`~liqflow.stats._nullkernel.null_lag_correlations`.
    """
    from liqflow.stats._nullkernel import null_lag_correlations

    model = _null_model(x, y)
    ar = model.ar
    phi = float(np.clip(ar.phi, -_PHI_MAX, _PHI_MAX)) if np.isfinite(ar.phi) else math.nan
    e = np.nan_to_num(ar.e)
    n = y.size
    out = np.empty((reps, 2 * max_lag + 1))
    step = max(1, _CHUNK // n)
    for lo in range(0, reps, step):
        hi = min(reps, lo + step)
        s, s_offset, s_block = block_sign_draws(hi - lo, n, block, rng)
        eta, eta_offset, eta_block = block_sign_draws(hi - lo, n, model.innovation_block, rng)
        out[lo:hi] = null_lag_correlations(
            e,
            model.v,
            model.c,
            phi,
            ar.start,
            eta,
            eta_offset,
            eta_block,
            s,
            s_offset,
            s_block,
            model.known_x,
            model.known_y,
            max_lag,
        )
    return out


def _pair_features(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Per-row additive features whose column sums give every lag's correlation.

    Row ``i`` (time ``L + i``) holds, for each lag ``k``, with ``m`` = 1 when both
    ``x_t`` and ``y_{t+k}`` are known: ``m, m x, m x^2, m y, m y^2, m x y``
    (``x`` and ``y`` centred on their means, missing values zero).
    """
    n = y.size
    x0, mx = _zero_filled(x[max_lag : n - max_lag])
    u, my = _zero_filled(y)
    ys, ms = _lag_matrix(u, max_lag), _lag_matrix(my, max_lag) * mx[:, None]
    xc = x0[:, None]
    return np.hstack([ms, ms * xc, ms * xc * xc, ms * ys, ms * ys * ys, ms * xc * ys])


def _pair_correlations_from_sums(sums: np.ndarray, k: int) -> np.ndarray:
    """Lagged correlations from column sums of :func:`_pair_features` (any leading shape)."""
    parts = [sums[..., i * k : (i + 1) * k] for i in range(6)]
    return _corr_from_sums(*parts)


def _pair_correlations(
    x: np.ndarray, y: np.ndarray, max_lag: int, reps: int, block: float, rng: np.random.Generator
) -> np.ndarray:
    """Lagged correlations on stationary-bootstrap resamples of the rows ``(x_t, y_{t+k})``.

    Every correlation is a function of six column sums of :func:`_pair_features`, and
    the sum of a resample is a sum of block sums: :func:`stationary_bootstrap_sums`
    takes each block's sum as a difference of prefix sums, so nothing of size
    ``reps x n`` is built (equal, for the same blocks, to indexing the rows with
    ``stationary_blocks(...).indices()``; tested).
    """
    feats = _pair_features(x, y, max_lag)
    sums = stationary_bootstrap_sums(feats, reps, block, seed=rng)
    return _pair_correlations_from_sums(sums, 2 * max_lag + 1)


def _prepare(
    leader: pd.Series, follower: pd.Series, freq: str, max_lag: int | None
) -> tuple[pd.DataFrame, int, str, str]:
    check_freq(freq)
    names = (str(leader.name or "leader"), str(follower.name or "follower"))
    if names[0] == names[1]:
        names = (names[0] + " (leader)", names[1] + " (follower)")
    rets = aligned_returns(leader, follower, freq, names)
    lag = DEFAULT_MAX_LAG[freq] if max_lag is None else check_positive_int("max_lag", max_lag)
    return rets, lag, names[0], names[1]
