"""Granger causality on returns, both directions, with heteroskedasticity-robust p-values.

Method (:func:`granger_test`)
-----------------------------

For each lag order ``p`` the regression of the effect's return on ``p`` of its own
lags and a constant is compared with the one that adds ``p`` lags of the cause's
return. One least-squares solve per lag order (an orthonormal basis of the full
design, from the Cholesky factor of its cross-product) gives both sums of squared
residuals, because the restricted model's columns come first. The classical
F-test equals statsmodels' ``grangercausalitytests(np.column_stack([effect,
cause]), max_lag)["ssr_ftest"]`` (each lag order on its own trimmed sample; tested),
but it assumes homoskedastic errors, and returns whose volatility moves together
(2008, 2020) make it reject too often.

The decision therefore uses a **fixed-design wild bootstrap** of the F statistic
(Wu, 1986; Liu, 1988; Mammen, 1993): the restricted model is the null, its residuals
are multiplied by Rademacher signs and the F statistic is recomputed on the same
regressors; residuals are first divided by ``1 - h_ii`` (HC3: high-leverage rows,
the volatile weeks in the lags, have residuals smaller than their errors; MacKinnon
and White, 1985; Davidson and Flachaire, 2008). The signs keep each residual's size
where it was, so the distribution of
the numerator ``Q2' e`` under heteroskedasticity of unknown form, including
volatility that moves with the cause's lags, is reproduced; Goncalves and Kilian
(2004) show this bootstrap is valid for autoregressions with conditional
heteroskedasticity. The same signs serve every lag order, so the smallest p-value
over the orders is calibrated against its own bootstrap distribution (min-P,
family-wise over the lag orders), instead of a Bonferroni bound. Missing returns
(weeks without a row) drop the rows that need them.

References
----------

Granger, C. W. J. (1969). Investigating causal relations by econometric models and
cross-spectral methods. *Econometrica*, 37(3), 424-438.
Wu, C. F. J. (1986). Jackknife, bootstrap and other resampling methods in regression
analysis. *Annals of Statistics*, 14(4), 1261-1295.
Liu, R. Y. (1988). Bootstrap procedures under some non-i.i.d. models. *Annals of
Statistics*, 16(4), 1696-1708.
Mammen, E. (1993). Bootstrap and wild bootstrap for high dimensional linear models.
*Annals of Statistics*, 21(1), 255-285.
Goncalves, S. and Kilian, L. (2004). Bootstrapping autoregressions with conditional
heteroskedasticity of unknown form. *Journal of Econometrics*, 123(1), 89-120.
MacKinnon, J. G. and White, H. (1985). Some heteroskedasticity-consistent covariance
matrix estimators with improved finite sample properties. *Journal of
Econometrics*, 29(3), 305-325.
Davidson, R. and Flachaire, E. (2008). The wild bootstrap, tamed at last. *Journal
of Econometrics*, 146(1), 162-169.
Westfall, P. H. and Young, S. S. (1993). *Resampling-Based Multiple Testing*. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import (
    RandomLike,
    aligned_returns,
    check_freq,
    check_positive_int,
    resolve_rng,
)

__all__ = [
    "DEFAULT_GRANGER_LAG",
    "GrangerBothResult",
    "GrangerResult",
    "granger_both",
    "granger_test",
    "holm_adjust",
]

DEFAULT_GRANGER_LAG = {"W": 13, "D": 63}


def holm_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as the input; NaNs stay NaN).

    Equal to ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` on the
    finite values (tested against it); written out because ``multipletests`` runs a full
    ``gc.collect()`` on every Holm call. Also the report's :func:`liqflow.report.holm`.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    vals = p[ok]
    order = np.argsort(vals, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * vals[order])
    adj = np.empty(m)
    adj[order] = np.minimum(stepped, 1.0)
    out[ok] = adj
    return out


@dataclass(frozen=True)
class GrangerResult:
    """Does ``cause`` Granger-cause ``effect``? Tests for each lag order 1..max_lag.

    Attributes
    ----------
    lags : ndarray of int
        Lag orders tested (one VAR equation each).
    f_stat, p_values, df_num, df_denom : ndarray
        The classical F-test on the sums of squared residuals for each lag order (equal
        to statsmodels' ``grangercausalitytests(...)[lag][0]["ssr_ftest"]``). It assumes
        homoskedastic errors: a reference, not the verdict.
    best_lag : int
        Lag order with the smallest robust p-value (the F p-value without a bootstrap).
    best_p : float
        Its unadjusted p-value.
    adjusted_p : float
        The p-value to decide on: the wild-bootstrap p-value of the smallest p-value over
        every lag order tried (Westfall-Young min-P, family-wise over the lag orders),
        robust to conditional heteroskedasticity. Without a bootstrap (``n_boot=0``),
        Holm over the classical F p-values (``min(1, m * best_p)``).
    n_obs : int
        Number of aligned returns.
    p_values_robust : ndarray
        Wild-bootstrap p-value of each lag order's F statistic (NaN when ``n_boot=0``).
    adjusted_p_f : float
        Holm-adjusted classical F p-value of the best classical lag order (reference).
    n_boot : int
        Wild-bootstrap draws.
    """

    cause: str
    effect: str
    freq: str
    lags: np.ndarray
    f_stat: np.ndarray
    p_values: np.ndarray
    df_num: np.ndarray
    df_denom: np.ndarray
    best_lag: int
    best_p: float
    adjusted_p: float
    n_obs: int
    start: pd.Timestamp
    end: pd.Timestamp
    p_values_robust: np.ndarray | None = None
    adjusted_p_f: float = float("nan")
    n_boot: int = 0

    def to_frame(self) -> pd.DataFrame:
        """One row per lag order: F, p, Holm-adjusted p, robust p, degrees of freedom."""
        robust = (
            np.full(self.lags.size, np.nan)
            if self.p_values_robust is None
            else self.p_values_robust
        )
        return pd.DataFrame(
            {
                "f_stat": self.f_stat,
                "p_value": self.p_values,
                "p_holm": holm_adjust(self.p_values),
                "df_num": self.df_num,
                "df_denom": self.df_denom,
                "p_robust": robust,
            },
            index=pd.Index(self.lags, name="lag"),
        )

    def summary(self) -> str:
        """Best lag order with its raw and corrected p-value and the sample size."""
        unit = "weeks" if self.freq == "W" else "days"
        family = (
            f"wild bootstrap min-p over {self.lags.size} lags"
            if self.n_boot
            else f"Holm over {self.lags.size} lags"
        )
        return (
            f"{self.cause} => {self.effect} (Granger, {unit}): best lag {self.best_lag}, "
            f"F={self.f_stat[self.lags == self.best_lag][0]:.2f}, p={self.best_p:.3f}, "
            f"{family} p={self.adjusted_p:.3f}; n={self.n_obs}"
        )


@dataclass(frozen=True)
class GrangerBothResult:
    """Granger tests in both directions between two series."""

    forward: GrangerResult
    backward: GrangerResult

    def to_frame(self) -> pd.DataFrame:
        """Both per-lag tables, keyed by direction ``"cause => effect"``."""
        return pd.concat(
            {f"{r.cause} => {r.effect}": r.to_frame() for r in (self.forward, self.backward)},
            names=["direction", "lag"],
        )

    def summary(self) -> str:
        """One line per direction."""
        return f"{self.forward.summary()}\n{self.backward.summary()}"


@dataclass(frozen=True)
class _LagFit:
    """One lag order's least-squares fit, from one decomposition of the full design.

    The design's columns are ``[1, effect lags, cause lags]``; the first ``1 + p``
    columns of ``q`` span the restricted model, the last ``p`` the cause's contribution.
    """

    rows: np.ndarray  # time positions of the sample
    q: np.ndarray
    y: np.ndarray
    p: int

    @property
    def df_resid(self) -> int:
        return int(self.y.size - self.q.shape[1])

    def f_stats(self, w: np.ndarray) -> np.ndarray:
        """F statistics of the regressions of ``w`` (rows: samples) on the design."""
        proj = w @ self.q
        num = (proj[..., 1 + self.p :] ** 2).sum(axis=-1)
        ssr_u = (w * w).sum(axis=-1) - (proj * proj).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray((num / self.p) / (ssr_u / self.df_resid))

    def restricted_residuals(self) -> np.ndarray:
        """Residuals of the restricted model, divided by ``1 - h_ii`` of the full design.

        Rows of high leverage (volatile weeks in the lags) have residuals smaller than
        their errors; the HC3 rescaling (MacKinnon and White, 1985) undoes that, as
        Davidson and Flachaire (2008) recommend for the wild bootstrap.
        """
        q1 = self.q[:, : 1 + self.p]
        resid = self.y - q1 @ (q1.T @ self.y)
        lev = np.minimum((self.q * self.q).sum(axis=1), 0.99)
        return np.asarray(resid / (1.0 - lev))


def _lag_fit(effect: np.ndarray, cause: np.ndarray, p: int, names: tuple[str, str]) -> _LagFit:
    """The design of lag order ``p`` on rows ``t = p .. n-1`` (as statsmodels' ``trim="both"``),
    rows with a missing value dropped, and its orthonormal basis."""
    n = effect.size
    rows = np.arange(p, n)
    own = np.column_stack([effect[rows - j] for j in range(1, p + 1)])
    other = np.column_stack([cause[rows - j] for j in range(1, p + 1)])
    design = np.column_stack([np.ones(rows.size), own, other])
    y = effect[rows]
    ok = np.isfinite(design).all(axis=1) & np.isfinite(y)
    design, y, rows = design[ok], y[ok], rows[ok]
    if y.size <= design.shape[1] + 1 or (np.ptp(other, axis=0)[:1] == 0).any():
        raise DataError(
            f"{names[0]} => {names[1]}: Granger test not computable: a lagged series is "
            f"constant or the sample ({y.size} rows) is too short for lag order {p}"
        )
    # Cholesky of the cross-product: Q = X L^-T has orthonormal columns and the first
    # j of them span the first j columns of X (as a QR decomposition would give), at a
    # fraction of LAPACK's QR cost on small designs
    gram = design.T @ design
    try:
        chol = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        chol = np.zeros_like(gram)
    diag = np.abs(np.diag(chol))
    if diag.min() <= 1e-7 * diag.max():
        raise DataError(
            f"{names[0]} => {names[1]}: Granger test not computable: collinear lags at "
            f"lag order {p}"
        )
    q = design @ np.linalg.inv(chol.T)
    return _LagFit(rows=rows, q=q, y=y, p=p)


def _wild_f(fits: list[_LagFit], n: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Wild-bootstrap F statistics, ``(reps, orders)``, one sign per period for all orders.

    Each order's bootstrap effect is its restricted fit plus its restricted residuals
    times Rademacher signs; the fitted part drops out of both sums of squares, so the
    bootstrap F is that of the regression of ``signs * residuals`` on the design.

    Equal (to rounding) to :func:`_wild_f_reference`, which computes
    ``fit.f_stats(signs[:, fit.rows] * residuals)`` order by order: the projections
    ``(signs * e) @ Q`` of every order are ``signs @ (e[:, None] * Q)``, one matrix
    product for all orders at once (each order's ``e * Q`` placed on its own rows of one
    ``(n, sum of widths)`` matrix, zero elsewhere), and ``sum((signs * e) ** 2)`` is
    ``sum(e ** 2)`` since every sign is -1 or +1. The signs are drawn exactly as there.
    """
    widths = [fit.q.shape[1] for fit in fits]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
    weights = np.zeros((n, int(offsets[-1])))
    ssr = np.empty(len(fits))
    for j, fit in enumerate(fits):
        resid = fit.restricted_residuals()
        weights[fit.rows, offsets[j] : offsets[j + 1]] = resid[:, None] * fit.q
        ssr[j] = (resid * resid).sum()
    out = np.empty((reps, len(fits)))
    step = max(1, 2_000_000 // max(n, 1))
    for lo in range(0, reps, step):
        hi = min(reps, lo + step)
        signs = np.where(rng.random((hi - lo, n)) < 0.5, -1.0, 1.0)
        proj = signs @ weights
        proj *= proj
        for j, fit in enumerate(fits):
            block = proj[:, offsets[j] : offsets[j + 1]]
            num = block[:, 1 + fit.p :].sum(axis=1)
            ssr_u = ssr[j] - block.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[lo:hi, j] = (num / fit.p) / (ssr_u / fit.df_resid)
    return out


def _wild_f_reference(
    fits: list[_LagFit], n: int, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """Pure-NumPy twin of :func:`_wild_f`, order by order (the test oracle)."""
    out = np.empty((reps, len(fits)))
    residuals = [fit.restricted_residuals() for fit in fits]
    step = max(1, 2_000_000 // max(n, 1))
    for lo in range(0, reps, step):
        hi = min(reps, lo + step)
        signs = np.where(rng.random((hi - lo, n)) < 0.5, -1.0, 1.0)
        for j, fit in enumerate(fits):
            out[lo:hi, j] = fit.f_stats(signs[:, fit.rows] * residuals[j])
    return out


def _min_p(observed: np.ndarray, boot: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-order bootstrap p-values and the single-step min-P family-wise p-value.

    References: Westfall and Young (1993), algorithm 2.8.
    """
    reps = boot.shape[0]
    p_obs = (1 + (boot >= observed[None, :]).sum(axis=0)) / (1 + reps)
    srt = np.sort(boot, axis=0)
    p_boot = np.empty_like(boot)
    for j in range(boot.shape[1]):  # share of draws at least as large as each draw
        p_boot[:, j] = (1 + reps - np.searchsorted(srt[:, j], boot[:, j], side="left")) / (1 + reps)
    min_boot = p_boot.min(axis=1)
    family = float((1 + (min_boot <= p_obs.min()).sum()) / (1 + reps))
    return p_obs, family


def _classical_f(fits: list[_LagFit]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """F statistics, denominator degrees of freedom, F p-values and the Holm-adjusted
    best p-value (``min(1, m * min p)``) of the lag orders ``1..len(fits)``."""
    from scipy.stats import f as f_dist  # deferred: scipy.stats is slow to import

    f_stat = np.array([float(fit.f_stats(fit.y)) for fit in fits])
    df_denom = np.array([float(fit.df_resid) for fit in fits])
    p = np.asarray(f_dist.sf(f_stat, np.arange(1, len(fits) + 1), df_denom), dtype=np.float64)
    best = float(np.nanmin(p)) if np.isfinite(p).any() else float("nan")
    adjusted = float(min(1.0, best * len(fits))) if math.isfinite(best) else best
    return f_stat, df_denom, p, adjusted


def _granger_returns(
    cause: pd.Series, effect: pd.Series, freq: str, max_lag: int | None
) -> tuple[pd.DataFrame, tuple[str, str], int]:
    """Aligned returns (cause, effect), their names and the largest lag order, checked."""
    check_freq(freq)
    names = (str(cause.name or "cause"), str(effect.name or "effect"))
    if names[0] == names[1]:
        names = (names[0] + " (cause)", names[1] + " (effect)")
    lag = DEFAULT_GRANGER_LAG[freq] if max_lag is None else check_positive_int("max_lag", max_lag)
    rets = aligned_returns(cause, effect, freq, names)
    if len(rets) <= 3 * lag + 1:
        raise InsufficientDataError(
            f"{names[0]} => {names[1]}: max_lag={lag} needs more than {3 * lag + 1} "
            f"aligned returns, got {len(rets)}"
        )
    return rets, names, lag


def granger_test(
    cause: pd.Series,
    effect: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
    n_boot: int = 999,
    seed: RandomLike = 0,
) -> GrangerResult:
    """Granger test of ``cause`` => ``effect`` on log returns, for lag orders 1..max_lag.

    Parameters
    ----------
    cause, effect : Series
        Price series (positive, contract index).
    freq : {"W", "D"}
        Return frequency and calendar alignment, as in
        :func:`~liqflow.stats.leadlag.lead_lag`.
    max_lag : int, optional
        Largest lag order (default 13 weeks or 63 days).
    n_boot : int
        Wild-bootstrap draws for the robust p-values (0: classical F only).
    seed : numpy.random.Generator, int or None
        Source of randomness of the bootstrap. The default (0) makes the robust
        p-value a function of the data alone, as the classical F p-value is, so a
        caller that passes no seed gets the same verdict on the same data.

    Returns
    -------
    GrangerResult

    Notes
    -----
    The method in full is in the module's documentation: one least-squares solve per
    lag order, the HC3 wild-bootstrap p-value and its minimum-p correction over the lag
    orders, and the equivalence of the classical F-test with statsmodels'.

    References
    ----------
    Granger (1969); the wild bootstrap of Wu (1986), Liu (1988), Mammen (1993), Goncalves
    and Kilian (2004); HC3 of MacKinnon and White (1985), Davidson and Flachaire (2008);
    Westfall and Young (1993) for min-P: in full in the module's documentation.
    """
    rets, names, lag = _granger_returns(cause, effect, freq, max_lag)
    n_boot = check_positive_int("n_boot", n_boot, minimum=0)
    y, x = rets.iloc[:, 1].to_numpy(), rets.iloc[:, 0].to_numpy()
    fits = [_lag_fit(y, x, p, names) for p in range(1, lag + 1)]
    lags = np.arange(1, lag + 1, dtype=np.int64)
    f_stat, df_denom, p, adjusted_f = _classical_f(fits)
    robust: np.ndarray | None = None
    chosen, adjusted = p, adjusted_f
    if n_boot > 0:
        boot = _wild_f(fits, y.size, n_boot, resolve_rng(seed))
        robust, adjusted = _min_p(f_stat, boot)
        chosen = robust
    # ties in the bootstrap p-value: the classical p-value breaks them
    ibest = int(np.lexsort((np.where(np.isfinite(p), p, np.inf), chosen))[0])
    return GrangerResult(
        cause=names[0],
        effect=names[1],
        freq=freq,
        lags=lags,
        f_stat=f_stat,
        p_values=p,
        df_num=lags.astype(np.float64),
        df_denom=df_denom,
        best_lag=int(lags[ibest]),
        best_p=float(chosen[ibest]),
        adjusted_p=adjusted,
        n_obs=len(rets),
        start=pd.Timestamp(rets.index[0]),
        end=pd.Timestamp(rets.index[-1]),
        p_values_robust=robust,
        adjusted_p_f=adjusted_f,
        n_boot=n_boot,
    )


def granger_both(
    a: pd.Series,
    b: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
    n_boot: int = 999,
    seed: RandomLike = 0,
) -> GrangerBothResult:
    """Granger tests ``a => b`` (``forward``) and ``b => a`` (``backward``).

    See :func:`granger_test`. A lead is better supported when the forward test rejects
    and the backward test does not.
    """
    rng = resolve_rng(seed)
    return GrangerBothResult(
        forward=granger_test(a, b, freq=freq, max_lag=max_lag, n_boot=n_boot, seed=rng),
        backward=granger_test(b, a, freq=freq, max_lag=max_lag, n_boot=n_boot, seed=rng),
    )
