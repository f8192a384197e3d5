"""Granger causality on returns, both directions, as typed results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import InfeasibleTestError
from statsmodels.tsa.stattools import grangercausalitytests

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import aligned_returns, check_freq, check_positive_int

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
    """Does ``cause`` Granger-cause ``effect``? F-tests for each lag order 1..max_lag.

    Attributes
    ----------
    lags : ndarray of int
        Lag orders tested (one VAR equation each).
    f_stat, p_values, df_num, df_denom : ndarray
        statsmodels' ``ssr_ftest`` for each lag order.
    best_lag : int
        Lag order with the smallest p-value.
    best_p : float
        Its unadjusted p-value.
    adjusted_p : float
        Its Holm-adjusted p-value over all lag orders tried (for the smallest p-value
        this equals Bonferroni: ``min(1, m * p)``). Use this one for decisions.
    n_obs : int
        Number of aligned returns.
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

    def to_frame(self) -> pd.DataFrame:
        """One row per lag order: F, p, Holm-adjusted p, degrees of freedom."""
        return pd.DataFrame(
            {
                "f_stat": self.f_stat,
                "p_value": self.p_values,
                "p_holm": holm_adjust(self.p_values),
                "df_num": self.df_num,
                "df_denom": self.df_denom,
            },
            index=pd.Index(self.lags, name="lag"),
        )

    def summary(self) -> str:
        """Best lag order with its raw and corrected p-value and the sample size."""
        unit = "weeks" if self.freq == "W" else "days"
        return (
            f"{self.cause} => {self.effect} (Granger, {unit}): best lag {self.best_lag}, "
            f"F={self.f_stat[self.lags == self.best_lag][0]:.2f}, p={self.best_p:.3f}, "
            f"Holm over {self.lags.size} lags p={self.adjusted_p:.3f}; n={self.n_obs}"
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


def _granger_arrays(
    effect: np.ndarray, cause: np.ndarray, max_lag: int, names: tuple[str, str]
) -> tuple[np.ndarray, ...]:
    data = np.column_stack([effect, cause])
    if data.shape[0] <= 3 * max_lag + 1:
        raise InsufficientDataError(
            f"{names[0]} => {names[1]}: max_lag={max_lag} needs more than {3 * max_lag + 1} "
            f"aligned returns, got {data.shape[0]}"
        )
    try:
        res = grangercausalitytests(data, max_lag)
    except InfeasibleTestError as exc:
        raise DataError(f"{names[0]} => {names[1]}: Granger test not computable: {exc}") from exc
    lags = np.array(sorted(res), dtype=np.int64)
    tests = [res[int(k)][0]["ssr_ftest"] for k in lags]
    f_stat = np.array([float(t[0]) for t in tests])
    p = np.array([float(t[1]) for t in tests])
    df_denom = np.array([float(t[2]) for t in tests])
    df_num = np.array([float(t[3]) for t in tests])
    return lags, f_stat, p, df_num, df_denom


def granger_test(
    cause: pd.Series,
    effect: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
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

    Returns
    -------
    GrangerResult

    Notes
    -----
    For each lag order ``p`` the regression of the effect's return on ``p`` of its own
    lags and a constant is compared with the one that adds ``p`` lags of the cause's
    return, by the F-test on the sums of squared residuals. The numbers are exactly
    statsmodels' ``grangercausalitytests(np.column_stack([effect, cause]), max_lag)``
    ``["ssr_ftest"]`` (each lag order on its own trimmed sample). Picking the best of
    ``m`` lag orders inflates false positives, so the decision uses the Holm-adjusted
    p-value. The F-test assumes homoskedastic errors; crypto returns are not, so
    treat marginal p-values with care and prefer the bootstrap lead-lag test.

    References
    ----------
    Granger, C. W. J. (1969). Investigating causal relations by econometric models and
    cross-spectral methods. *Econometrica*, 37(3), 424-438.
    """
    check_freq(freq)
    names = (str(cause.name or "cause"), str(effect.name or "effect"))
    if names[0] == names[1]:
        names = (names[0] + " (cause)", names[1] + " (effect)")
    lag = DEFAULT_GRANGER_LAG[freq] if max_lag is None else check_positive_int("max_lag", max_lag)
    rets = aligned_returns(cause, effect, freq, names)
    lags, f_stat, p, df_num, df_denom = _granger_arrays(
        rets.iloc[:, 1].to_numpy(), rets.iloc[:, 0].to_numpy(), lag, names
    )
    finite = np.where(np.isfinite(p), p, np.inf)
    ibest = int(np.argmin(finite))
    best_p = float(p[ibest])
    return GrangerResult(
        cause=names[0],
        effect=names[1],
        freq=freq,
        lags=lags,
        f_stat=f_stat,
        p_values=p,
        df_num=df_num,
        df_denom=df_denom,
        best_lag=int(lags[ibest]),
        best_p=best_p,
        adjusted_p=float(min(1.0, best_p * lags.size)) if math.isfinite(best_p) else best_p,
        n_obs=len(rets),
        start=pd.Timestamp(rets.index[0]),
        end=pd.Timestamp(rets.index[-1]),
    )


def granger_both(
    a: pd.Series, b: pd.Series, *, freq: str = "W", max_lag: int | None = None
) -> GrangerBothResult:
    """Granger tests ``a => b`` (``forward``) and ``b => a`` (``backward``).

    See :func:`granger_test`. A lead is better supported when the forward test rejects
    and the backward test does not.
    """
    return GrangerBothResult(
        forward=granger_test(a, b, freq=freq, max_lag=max_lag),
        backward=granger_test(b, a, freq=freq, max_lag=max_lag),
    )
