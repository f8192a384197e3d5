"""Lead-lag: cross-correlation of returns at lags -L..+L with block-bootstrap inference.

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
    RandomLike,
    aligned_returns,
    check_confidence,
    check_freq,
    check_positive_int,
    permutation_p_value,
    resolve_rng,
)
from liqflow.stats.bootstrap import (
    optimal_block_length,
    stationary_blocks,
    stationary_bootstrap_indices,
)

__all__ = [
    "DEFAULT_MAX_LAG",
    "SIDES",
    "LeadLagResult",
    "RollingLeadLagResult",
    "lagged_correlations",
    "lead_lag",
    "rolling_lead_lag",
]

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
    t: int, sx: np.ndarray, sxx: np.ndarray, sy: np.ndarray, syy: np.ndarray, sxy: np.ndarray
) -> np.ndarray:
    cov = sxy - sx * sy / t
    var = (sxx - sx * sx / t) * (syy - sy * sy / t)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cov / np.sqrt(var)
    return np.where(var > 0, out, np.nan)


def _lag_matrix(y: np.ndarray, max_lag: int) -> np.ndarray:
    """``Y[i, j] = y[L + i + lags[j]]`` for rows ``i`` in ``0..n-2L-1``."""
    n = y.size
    t = n - 2 * max_lag
    return np.stack([y[max_lag + k : max_lag + k + t] for k in range(-max_lag, max_lag + 1)], 1)


def lagged_correlations(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson correlation of ``x[t]`` and ``y[t + k]`` for ``k = -L..L`` on common rows.

    All lags use the same rows ``t = L .. n-L-1`` (so they are comparable and the
    bootstrap can resample rows). For one lag this equals
    ``np.corrcoef(x[L:n-L], y[L+k:n-L+k])[0, 1]``.
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
    xs = xa[lag : xa.size - lag] - xa[lag : xa.size - lag].mean()
    ys = _lag_matrix(ya, lag)
    ys = ys - ys.mean(axis=0)
    t = xs.size
    return _corr_from_sums(
        t,
        np.zeros(ys.shape[1]),
        np.full(ys.shape[1], xs @ xs),
        np.zeros(ys.shape[1]),
        (ys * ys).sum(axis=0),
        xs @ ys,
    )


def _null_block_length(x: np.ndarray, y: np.ndarray) -> float:
    """Block length for resampling ``y`` under the null: the data-driven estimate for
    either series, and at least ``n ** (1/3)``.

    The variance of a cross-correlation under independence grows with
    ``sum_j rho_x(j) rho_y(j)`` (Bartlett, 1935), so the resampled ``y`` must keep its
    short-range autocorrelation wherever ``x`` has some; the Politis-White estimate
    targets the variance of a mean and can be as short as 1 for weakly dependent
    returns. ``n ** (1/3)`` is the usual order of block lengths (Hall, Horowitz and
    Jing, 1995) and keeps ``(1 - 1/b) ** j`` of the lag-j autocorrelation.
    """
    return max(optimal_block_length(np.column_stack([x, y])), float(y.size) ** (1.0 / 3.0))


def _null_correlations(
    x: np.ndarray, y: np.ndarray, max_lag: int, reps: int, block: float, rng: np.random.Generator
) -> np.ndarray:
    """Lagged correlations with ``y`` replaced by stationary-bootstrap resamples of itself."""
    n = y.size
    t = n - 2 * max_lag
    k = 2 * max_lag + 1
    xs = x[max_lag : n - max_lag] - x[max_lag : n - max_lag].mean()
    sxx = float(xs @ xs)
    # shifted copies of x: column j has x's rows where y's lag-j window sits
    xshift = np.zeros((n, k))
    for j in range(k):
        xshift[j : j + t, j] = xs
    out = np.empty((reps, k))
    step = max(1, _CHUNK // n)
    for lo in range(0, reps, step):
        hi = min(reps, lo + step)
        ystar = y[stationary_bootstrap_indices(n, hi - lo, block, seed=rng)]
        csum = np.zeros((hi - lo, n + 1))
        np.cumsum(ystar, axis=1, out=csum[:, 1:])
        csq = np.zeros((hi - lo, n + 1))
        np.cumsum(ystar * ystar, axis=1, out=csq[:, 1:])
        starts = np.arange(k)
        sy = csum[:, starts + t] - csum[:, starts]
        syy = csq[:, starts + t] - csq[:, starts]
        sxy = ystar @ xshift
        out[lo:hi] = _corr_from_sums(t, np.zeros(1), np.full(1, sxx), sy, syy, sxy)
    return out


def _pair_correlations(
    x: np.ndarray, y: np.ndarray, max_lag: int, reps: int, block: float, rng: np.random.Generator
) -> np.ndarray:
    """Lagged correlations on stationary-bootstrap resamples of the rows ``(x_t, y_{t+k})``."""
    n = y.size
    xs = x[max_lag : n - max_lag] - x[max_lag : n - max_lag].mean()
    ys = _lag_matrix(y, max_lag)
    ys = ys - ys.mean(axis=0)
    t, k = ys.shape
    feats = np.column_stack([xs, xs * xs, ys, ys * ys, xs[:, None] * ys])
    out = np.empty((reps, k))
    step = max(1, _CHUNK // t)
    for lo in range(0, reps, step):
        hi = min(reps, lo + step)
        sums = stationary_blocks(t, hi - lo, block, seed=rng).counts() @ feats
        sx, sxx = sums[:, :1], sums[:, 1:2]
        sy, syy, sxy = sums[:, 2 : 2 + k], sums[:, 2 + k : 2 + 2 * k], sums[:, 2 + 2 * k :]
        out[lo:hi] = _corr_from_sums(t, sx, sxx, sy, syy, sxy)
    return out


@dataclass(frozen=True)
class LeadLagResult:
    """Cross-correlation of leader and follower returns by lag, with bootstrap inference.

    Attributes
    ----------
    lags : ndarray of int
        ``-max_lag .. max_lag``; positive = leader first.
    correlations : ndarray
        Correlation of leader return at t and follower return at t + lag.
    null_low, null_high : ndarray
        Pointwise ``(1-confidence)/2`` and ``(1+confidence)/2`` quantiles of each lag's
        correlation under the null of no cross-dependence.
    familywise_threshold : float
        ``confidence`` quantile of the largest null strength over all lags: a lag whose
        strength exceeds it is significant with every lag examined accounted for.
    peak_lag, peak_corr : int, float
        Lag of the strongest correlation and its value.
    peak_lag_ci : tuple of int
        Bootstrap interval of the peak lag (pairs resampled jointly in blocks).
    p_value_positive : float
        p-value of the largest strength over the lead lags ``lead_lags`` (default
        ``1..max_lag``: does the leader lead?), max-statistic corrected for all of them.
    p_value_any : float
        Same over all lags.
    n_obs : int
        Rows used (returns minus ``2 * max_lag``).
    """

    leader: str
    follower: str
    freq: str
    lags: np.ndarray
    correlations: np.ndarray
    null_low: np.ndarray
    null_high: np.ndarray
    familywise_threshold: float
    peak_lag: int
    peak_corr: float
    peak_lag_ci: tuple[int, int]
    p_value_positive: float
    p_value_any: float
    n_obs: int
    start: pd.Timestamp
    end: pd.Timestamp
    null_block_length: float
    boot_block_length: float
    n_null: int
    n_boot: int
    alternative: str
    confidence: float
    lead_lags: tuple[int, int] = (1, 1)

    def to_frame(self) -> pd.DataFrame:
        """One row per lag: correlation, pointwise null band, family-wise significance."""
        strength = _strength(self.correlations, self.alternative)
        return pd.DataFrame(
            {
                "correlation": self.correlations,
                "null_low": self.null_low,
                "null_high": self.null_high,
                "significant": strength > self.familywise_threshold,
            },
            index=pd.Index(self.lags, name="lag"),
        )

    def summary(self) -> str:
        """Peak lag with interval, p-values and sample size in one line."""
        unit = "weeks" if self.freq == "W" else "days"
        lo, hi = self.peak_lag_ci
        ci = "n/a" if self.n_boot == 0 else f"[{lo}, {hi}]"
        pct = round(self.confidence * 100)
        return (
            f"{self.leader} -> {self.follower} ({unit}, {self.start.date()}..{self.end.date()}): "
            f"peak corr {self.peak_corr:+.3f} at lag {self.peak_lag:+d} {unit} "
            f"({pct}% CI {ci}); leads at lags {self.lead_lags[0]}..{self.lead_lags[1]}: "
            f"p={_fmt_p(self.p_value_positive)}, "
            f"any lag: p={_fmt_p(self.p_value_any)} (max-statistic over "
            f"{self.lags.size} lags); n={self.n_obs}"
        )


def _fmt_p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{p:.3f}"


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


def lead_lag(
    leader: pd.Series,
    follower: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
    n_null: int = 999,
    n_boot: int = 999,
    block_length: float | None = None,
    alternative: str = "two-sided",
    confidence: float = 0.95,
    lead_lags: tuple[int, int] | None = None,
    seed: RandomLike = None,
) -> LeadLagResult:
    """Does ``leader`` lead ``follower``? Cross-correlation of returns at lags -L..L.

    Parameters
    ----------
    leader, follower : Series
        Price (or index level) series, positive, contract index.
    freq : {"W", "D"}
        ``"W"`` (default): weekly log returns from last closes of weeks ending Friday.
        ``"D"``: daily log returns between the dates on which both have a price.
    max_lag : int, optional
        Largest lag in periods (default 13 weeks or 63 days).
    n_null : int
        Bootstrap draws under the null (0 skips p-values and bands).
    n_boot : int
        Bootstrap draws for the peak-lag interval (0 skips it).
    block_length : float, optional
        Expected block length for both bootstraps; default
        :func:`~liqflow.stats.bootstrap.optimal_block_length` of the returns.
    alternative : {"two-sided", "positive"}
        Strength of a lag is ``|corr|`` or ``corr`` (only positive co-movement counts).
    confidence : float
        Level of bands and intervals.
    lead_lags : (int, int), optional
        Range of positive lags ``(first, last)`` the lead test looks at (default
        ``(1, max_lag)``), e.g. ``(4, 13)`` weeks for "one to three months".
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    LeadLagResult

    Notes
    -----
    **Calendars.** US equities trade 5 days a week, crypto 7. Weekly mode takes each
    series' last close of the week ending Friday (``W-FRI``): the equity close on Friday
    (or the last trading day before a holiday) and the crypto close at the end of
    Friday UTC, about three to four hours after the equity close. Weekends and holidays
    fall inside the following week's return for both, so the two weekly grids are the
    same. A week without any price repeats the previous close. Daily mode keeps only
    the dates on which both have a price (equity trading days); the crypto return of
    a Monday then spans the weekend since Friday's close, as the equity return does.

    **Estimate.** Log returns ``x`` (leader) and ``y`` (follower); for each lag
    ``k`` the Pearson correlation of ``x_t`` and ``y_{t+k}`` over the same rows
    ``t = L .. n-L-1`` for every lag.

    **Null band and p-values.** Under the null of no cross-dependence, ``y`` is replaced
    by stationary-bootstrap resamples of itself while ``x`` is kept: this breaks the
    link between the two series and keeps each one's autocorrelation. The p-value of
    "the leader leads" is that of the max statistic ``max_{k >= 1} strength(corr_k)``
    against its null distribution, which accounts for having looked at every positive
    lag (Westfall-Young max-T); ``p_value_any`` does the same over all lags, and
    ``familywise_threshold`` is the matching simultaneous band.

    **Peak-lag interval.** Rows ``(x_t, y_{t-L}, .., y_{t+L})`` are resampled jointly
    in stationary blocks, which keeps the lagged pairing and the dependence; the
    interval is the percentile interval of the bootstrap peak lag.

    References
    ----------
    Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. *JASA*, 89(428).
    Westfall, P. H. and Young, S. S. (1993). *Resampling-Based Multiple Testing*. Wiley.
    Bartlett, M. S. (1935). Some aspects of the time-correlation problem in regard to
    tests of significance. *JRSS*, 98(3), 536-543 (why autocorrelation widens the null).
    """
    rets, lag, lname, fname = _prepare(leader, follower, freq, max_lag)
    n_null = check_positive_int("n_null", n_null, minimum=0)
    n_boot = check_positive_int("n_boot", n_boot, minimum=0)
    _check_side(alternative)
    conf = check_confidence(confidence)
    rng = resolve_rng(seed)
    x = rets.iloc[:, 0].to_numpy()
    y = rets.iloc[:, 1].to_numpy()
    if x.size - 2 * lag < max(30, 3 * lag):
        raise InsufficientDataError(
            f"{lname} and {fname}: max_lag={lag} {freq} needs at least "
            f"{2 * lag + max(30, 3 * lag)} common returns, got {x.size}"
        )
    lags = np.arange(-lag, lag + 1)
    first, last = (1, lag) if lead_lags is None else _check_lead_lags(lead_lags, lag)
    corr = lagged_correlations(x, y, lag)
    strength = _strength(corr, alternative)
    ipk = int(np.nanargmax(strength))
    positive = (lags >= first) & (lags <= last)
    alpha = 1.0 - conf
    nan = float("nan")

    null_low = null_high = np.full(lags.size, nan)
    threshold = p_pos = p_any = nan
    b_null = b_boot = nan
    if n_null > 0:
        b_null = _null_block_length(x, y) if block_length is None else float(block_length)
        null = _null_correlations(x, y, lag, n_null, b_null, rng)
        quantile = np.quantile if np.isfinite(null).all() else np.nanquantile  # nan: slow path
        null_low, null_high = quantile(null, [alpha / 2, 1 - alpha / 2], axis=0)
        null_strength = _strength(null, alternative)
        max_all = np.nanmax(null_strength, axis=1)
        threshold = float(np.quantile(max_all, conf))
        p_any = permutation_p_value(float(strength.max()), max_all, "greater")
        p_pos = permutation_p_value(
            float(strength[positive].max()),
            np.nanmax(null_strength[:, positive], axis=1),
            "greater",
        )
    ci = (int(lags[ipk]), int(lags[ipk]))
    if n_boot > 0:
        b_boot = (
            optimal_block_length(np.column_stack([x, y]))
            if block_length is None
            else float(block_length)
        )
        boot = _strength(_pair_correlations(x, y, lag, n_boot, b_boot, rng), alternative)
        ok = np.isfinite(boot).all(axis=1)
        peaks = lags[np.argmax(boot[ok], axis=1)]
        if peaks.size:
            ci = (
                int(np.quantile(peaks, alpha / 2, method="lower")),
                int(np.quantile(peaks, 1 - alpha / 2, method="higher")),
            )
    return LeadLagResult(
        leader=lname,
        follower=fname,
        freq=freq,
        lags=lags,
        correlations=corr,
        null_low=null_low,
        null_high=null_high,
        familywise_threshold=threshold,
        peak_lag=int(lags[ipk]),
        peak_corr=float(corr[ipk]),
        peak_lag_ci=ci,
        p_value_positive=p_pos,
        p_value_any=p_any,
        n_obs=int(x.size - 2 * lag),
        start=pd.Timestamp(rets.index[0]),
        end=pd.Timestamp(rets.index[-1]),
        null_block_length=b_null,
        boot_block_length=b_boot,
        n_null=n_null,
        n_boot=n_boot,
        alternative=alternative,
        confidence=conf,
        lead_lags=(first, last),
    )


def _check_lead_lags(lead_lags: tuple[int, int], max_lag: int) -> tuple[int, int]:
    ok = (
        isinstance(lead_lags, tuple | list)
        and len(lead_lags) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in lead_lags)
        and 1 <= lead_lags[0] <= lead_lags[1] <= max_lag
    )
    if not ok:
        raise DataError(
            f"lead_lags must be (first, last) with 1 <= first <= last <= max_lag={max_lag}, "
            f"got {lead_lags!r}"
        )
    return int(lead_lags[0]), int(lead_lags[1])


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
                "start": pd.Timestamp(rets.index[end - win]),
                "n_obs": win - 2 * lag,
                "peak_lag": int(lags[ipk]),
                "peak_corr": float(corr[ipk]),
                "p_value_positive": p_pos,
            }
        )
        corrs.append(corr)
        ends.append(pd.Timestamp(rets.index[end - 1]))
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
