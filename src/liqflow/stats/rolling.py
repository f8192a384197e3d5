"""Lead-lag over rolling windows: how stable the relation is over time (descriptive)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow.stats._lagsums import (
    _check_side,
    _null_block_length,
    _null_correlations,
    _prepare,
    _strength,
    lagged_correlations,
)
from liqflow.stats._shared import (
    RandomLike,
    check_positive_int,
    permutation_p_value,
    resolve_rng,
)

__all__ = ["RollingLeadLagResult", "rolling_lead_lag"]


@dataclass(frozen=True)
class RollingLeadLagResult:
    """Lead-lag over rolling windows (descriptive unless ``n_null > 0``).

    Attributes
    ----------
    windows : DataFrame
        One row per window, indexed by its last date: ``start``, ``n_obs``,
        ``peak_lag``, ``peak_corr`` and ``p_value_positive`` (NaN without a null).
    correlations : DataFrame
        Windows x lags matrix of correlations.
    """

    leader: str
    follower: str
    freq: str
    window: int
    step: int
    windows: pd.DataFrame
    correlations: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The per-window table (a copy)."""
        return self.windows.copy()

    def summary(self) -> str:
        """Share of windows whose peak is at a positive lag, median peak lag."""
        w = self.windows
        if w.empty:
            return f"{self.leader} -> {self.follower}: no complete window"
        pos = float((w["peak_lag"] > 0).mean())
        unit = "weeks" if self.freq == "W" else "days"
        line = (
            f"{self.leader} -> {self.follower}: {len(w)} windows of {self.window} {unit} "
            f"(step {self.step}); peak at a positive lag in {pos:.0%} of windows, "
            f"median peak lag {float(w['peak_lag'].median()):+.0f} {unit}"
        )
        if w["p_value_positive"].notna().any():
            sig = int((w["p_value_positive"] <= 0.05).sum())
            line += f"; {sig} windows with p<=0.05 (not corrected across windows)"
        return line


def _each_window(
    dates: pd.Index,
    x: np.ndarray,
    y: np.ndarray,
    lag: int,
    win: int,
    stp: int,
    n_null: int,
    block_length: float | None,
    alternative: str,
    rng: np.random.Generator,
) -> tuple[list[dict[str, object]], list[np.ndarray], list[pd.Timestamp]]:
    """Row, correlations and last date of each window, from the last window backwards."""
    lags = np.arange(-lag, lag + 1)
    rows: list[dict[str, object]] = []
    corrs: list[np.ndarray] = []
    ends: list[pd.Timestamp] = []
    for end in range(x.size, win - 1, -stp):
        xs, ys = x[end - win : end], y[end - win : end]
        corr = lagged_correlations(xs, ys, lag)
        strength = _strength(corr, alternative)
        ipk = int(np.nanargmax(strength))
        p_pos = float("nan")
        if n_null > 0:
            b = _null_block_length(xs, ys) if block_length is None else float(block_length)
            null = _strength(_null_correlations(xs, ys, lag, n_null, b, rng), alternative)
            p_pos = permutation_p_value(
                float(strength[lags >= 1].max()), np.nanmax(null[:, lags >= 1], axis=1), "greater"
            )
        rows.append(
            {
                "start": pd.Timestamp(dates[end - win]),
                "n_obs": win - 2 * lag,
                "peak_lag": int(lags[ipk]),
                "peak_corr": float(corr[ipk]),
                "p_value_positive": p_pos,
            }
        )
        corrs.append(corr)
        ends.append(pd.Timestamp(dates[end - 1]))
    return rows, corrs, ends


def rolling_lead_lag(
    leader: pd.Series,
    follower: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
    window: int | None = None,
    step: int | None = None,
    n_null: int = 0,
    block_length: float | None = None,
    alternative: str = "two-sided",
    seed: RandomLike = None,
) -> RollingLeadLagResult:
    """Lagged correlations and peak lag in rolling windows of returns.

    Parameters
    ----------
    leader, follower : Series
        Price series (see :func:`lead_lag` for the calendar alignment).
    freq : {"W", "D"}
        Return frequency.
    max_lag : int, optional
        Largest lag (default as in :func:`lead_lag`).
    window : int, optional
        Window length in returns (default 104 weeks or 504 days).
    step : int, optional
        Distance between window ends (default 13 weeks or 63 days).
    n_null : int
        If positive, each window gets a max-statistic p-value for a positive-lag lead
        (as in :func:`lead_lag`); p-values are not corrected across windows.
    block_length : float, optional
        Null bootstrap block length (default: estimated per window).
    alternative : {"two-sided", "positive"}
        How a lag's strength is measured.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    RollingLeadLagResult

    Notes
    -----
    Windows overlap, so consecutive rows are strongly dependent; the table shows how
    stable the relation is over time, it is not a test.
    """
    rets, lag, lname, fname = _prepare(leader, follower, freq, max_lag)
    win = (104 if freq == "W" else 504) if window is None else window
    win = check_positive_int("window", win, minimum=2 * lag + 30)
    stp = (13 if freq == "W" else 63) if step is None else check_positive_int("step", step)
    n_null = check_positive_int("n_null", n_null, minimum=0)
    _check_side(alternative)
    rng = resolve_rng(seed)
    x = rets.iloc[:, 0].to_numpy()
    y = rets.iloc[:, 1].to_numpy()
    lags = np.arange(-lag, lag + 1)
    rows, corrs, ends = _each_window(
        rets.index, x, y, lag, win, stp, n_null, block_length, alternative, rng
    )
    index = pd.DatetimeIndex(ends[::-1], name="date")
    windows = pd.DataFrame(
        rows[::-1],
        index=index,
        columns=["start", "n_obs", "peak_lag", "peak_corr", "p_value_positive"],
    )
    correlations = pd.DataFrame(
        np.array(corrs[::-1]).reshape(len(corrs), lags.size),
        index=index,
        columns=pd.Index(lags, name="lag"),
    )
    return RollingLeadLagResult(
        leader=lname,
        follower=fname,
        freq=freq,
        window=win,
        step=stp,
        windows=windows,
        correlations=correlations,
    )
