"""Helpers shared by the statistics modules: validation, random generators, returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow._series import check_series

__all__ = [
    "ALTERNATIVES",
    "FREQS",
    "MAX_ASOF_AGE_DAYS",
    "RandomLike",
    "aligned_returns",
    "asof_positions",
    "asof_prices",
    "check_alternative",
    "check_confidence",
    "check_freq",
    "check_positive_int",
    "forward_simple_returns",
    "permutation_p_value",
    "price_series",
    "resolve_rng",
    "weekly_closes",
]

RandomLike = np.random.Generator | int | None

FREQS = ("W", "D")
#: Oldest row (calendar days) an as-of lookup uses: longer than any exchange closure
#: (four days over a long weekend, six after 11 September 2001), shorter than a data gap.
MAX_ASOF_AGE_DAYS = 7
ALTERNATIVES = ("greater", "less", "two-sided")


def resolve_rng(seed: RandomLike) -> np.random.Generator:
    """A ``numpy`` Generator from a Generator, an integer seed or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise DataError(f"seed must be a numpy Generator, an int or None, got {seed!r}")


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``, else raise DataError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` if it lies strictly between 0 and 1."""
    if not isinstance(confidence, float | int) or not 0.0 < float(confidence) < 1.0:
        raise DataError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return float(confidence)


def check_freq(freq: str) -> str:
    """Return ``freq`` if it is one of :data:`FREQS`."""
    if freq not in FREQS:
        raise DataError(f"freq must be one of {FREQS}, got {freq!r}")
    return freq


def check_alternative(alternative: str) -> str:
    """Return ``alternative`` if it is one of :data:`ALTERNATIVES`."""
    if alternative not in ALTERNATIVES:
        raise DataError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return alternative


def price_series(obj: pd.Series, name: str) -> pd.Series:
    """Validate a price-like series (contract index, numeric) and drop its missing values.

    Non-positive prices are rejected (returns are ratios, lead-lag uses logs).
    """
    if not isinstance(obj, pd.Series):
        raise DataError(f"{name}: expected a pandas Series, got {type(obj).__name__}")
    check_series(obj, name)
    try:
        out = obj.astype(np.float64).dropna()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: values must be numeric, got dtype {obj.dtype}") from exc
    if (out <= 0).any():
        bad = out.index[out <= 0][0]
        raise DataError(f"{name}: prices must be positive, got {float(out[bad])!r} on {bad.date()}")
    return out


def weekly_closes(prices: pd.Series) -> pd.Series:
    """Last actual close of each week ending Friday (``W-FRI``); NaN for a week without one.

    Only the series' own rows are used: a week in which the source has no row stays
    missing (it is never given the previous week's close, which would be a fake zero
    return), so the weekly grid stays regular and lags keep their meaning. Equivalent
    to ``prices.resample("W-FRI").last()`` on a series without NaN (tested), without
    pandas' per-week offset arithmetic.
    """
    friday, closes = _week_closes(prices)
    if friday.size == 0:
        return pd.Series(
            np.array([], dtype=np.float64),
            index=pd.DatetimeIndex([], name=prices.index.name, freq="W-FRI"),
            name=prices.name,
        )
    grid = np.arange(friday[0], friday[-1] + 1, 7)
    values = np.full(grid.size, np.nan)
    values[(friday - friday[0]) // 7] = closes
    index = _friday_index(grid, prices.index, regular=True)
    return pd.Series(values, index=index.rename(prices.index.name), name=prices.name)


def _week_closes(prices: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The Friday (days since 1970-01-01) of each week ending Friday that has a row of
    ``prices`` (sorted), and the last close of that week."""
    days = prices.index.to_numpy(dtype="datetime64[D]").astype(np.int64)
    # day 1 (1970-01-02) is a Friday: each date belongs to the week ending on the Friday
    # on or after it
    friday = days + (1 - days) % 7
    last = np.flatnonzero(np.r_[friday[1:] != friday[:-1], True]) if days.size else days
    return friday[last], prices.to_numpy(dtype=np.float64)[last]


def _friday_index(grid: np.ndarray, like: pd.Index, *, regular: bool) -> pd.DatetimeIndex:
    """Fridays ``grid`` (days since 1970-01-01) at the resolution of ``like`` (ns, us, s),
    with the ``W-FRI`` frequency when they are every week from the first to the last."""
    days = grid.astype("datetime64[D]").astype(np.dtype(str(like.dtype)))
    return pd.DatetimeIndex(days, freq="W-FRI") if regular else pd.DatetimeIndex(days)


def asof_positions(when: np.ndarray, dates: np.ndarray, max_age_days: int | None) -> np.ndarray:
    """Position of the last row of ``when`` at or before each of ``dates``; -1 when none.

    ``when`` and ``dates`` are sorted ``datetime64[ns]`` arrays. A row older than
    ``max_age_days`` calendar days is not used (-1): a gap in the source is missing data,
    not an unchanged price.
    """
    pos = np.searchsorted(when, dates, side="right") - 1
    if max_age_days is not None:
        ok = pos >= 0
        age = np.zeros(dates.size, dtype="timedelta64[ns]")
        age[ok] = dates[ok] - when[pos[ok]]
        pos = np.where(ok & (age <= np.timedelta64(max_age_days, "D")), pos, -1)
    return pos


def asof_prices(
    prices: pd.Series, dates: pd.DatetimeIndex, max_age_days: int | None = MAX_ASOF_AGE_DAYS
) -> np.ndarray:
    """The one as-of lookup of the statistics: the last actual price at or before each date.

    NaN before the first row, after the last row (nothing is known about a day past the
    data), and when the last row is older than ``max_age_days`` calendar days.
    Equivalent to ``prices.reindex(dates, method="ffill", tolerance=f"{max_age_days}D")``
    with dates after ``prices.index[-1]`` set to NaN.
    """
    when = prices.index.to_numpy(dtype="datetime64[ns]")
    at = pd.DatetimeIndex(dates).to_numpy(dtype="datetime64[ns]")
    out = np.full(at.size, np.nan)
    if when.size == 0:
        return out
    pos = asof_positions(when, at, max_age_days)
    ok = (pos >= 0) & (at <= when[-1])
    out[ok] = prices.to_numpy(dtype=np.float64)[pos[ok]]
    return out


def forward_simple_returns(
    prices: pd.Series,
    dates: pd.DatetimeIndex,
    horizon_days: int,
    max_age_days: int | None = MAX_ASOF_AGE_DAYS,
) -> np.ndarray:
    """The one forward-return definition: as-of price at ``d + h`` over as-of price at ``d``.

    Both prices come from :func:`asof_prices` (last actual row at or before the day,
    never older than ``max_age_days``); NaN when either is unknown, in particular when
    ``d + h`` is after the last row (the window is not complete). Nothing after
    ``d + h`` is used.
    """
    d = pd.DatetimeIndex(dates)
    start = asof_prices(prices, d, max_age_days)
    end = asof_prices(prices, d + pd.Timedelta(days=horizon_days), max_age_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return end / start - 1.0


def aligned_returns(
    leader: pd.Series, follower: pd.Series, freq: str, names: Sequence[str] = ("leader", "follower")
) -> pd.DataFrame:
    """Log returns of two price series on one regular grid (see :func:`lead_lag` Notes).

    ``freq="W"``: both are cut to the dates they share, then each is reduced to its
    last actual close of every week ending Friday; the grid is every week from the
    first to the last, and a return is NaN when either week has no row in either
    series (missing, never a fake zero). ``freq="D"``: both are restricted to the
    dates on which *both* have a row, and returns are taken between those dates.
    """
    check_freq(freq)
    a = price_series(leader, names[0])
    b = price_series(follower, names[1])
    if freq == "W":
        if len(a) and len(b):
            # cut both to the span they share first, so a partial last week is partial
            # for both (as of the same day) rather than Monday for one and Friday for the other
            start, end = max(a.index[0], b.index[0]), min(a.index[-1], b.index[-1])
            a, b = a.loc[start:end], b.loc[start:end]
        index, values = _weekly_pair(a, b)
    else:
        frame = pd.concat([a, b], axis=1, join="inner", sort=True)
        index, values = pd.DatetimeIndex(frame.index), frame.to_numpy(dtype=np.float64)
    logs = np.log(values)
    rets = logs[1:] - logs[:-1]  # as DataFrame.diff
    complete = ~np.isnan(rets).any(axis=1)
    lo, hi = (np.flatnonzero(complete)[[0, -1]] + [0, 1]) if complete.any() else (0, len(rets))
    n = int(complete.sum())  # trimmed: missing rows at both ends go, inner gaps stay NaN
    if n < 3:
        raise InsufficientDataError(
            f"{names[0]} and {names[1]}: need at least 3 common {freq} returns, got {n}"
        )
    return pd.DataFrame(
        rets[lo:hi], index=index[1:][lo:hi].rename("date"), columns=pd.Index(list(names))
    )


def _weekly_pair(a: pd.Series, b: pd.Series) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """:func:`weekly_closes` of ``a`` and ``b`` side by side on the union of their weeks
    (as their outer join)."""
    if a.index.dtype != b.index.dtype:  # two resolutions: pandas' join decides the result's
        frame = pd.concat([weekly_closes(a), weekly_closes(b)], axis=1, sort=True)
        return pd.DatetimeIndex(frame.index), frame.to_numpy(dtype=np.float64)
    fa, va = _week_closes(a)
    fb, vb = _week_closes(b)
    grids = [np.arange(f[0], f[-1] + 1, 7) if f.size else f for f in (fa, fb)]
    grid = np.union1d(*grids)
    values = np.full((grid.size, 2), np.nan)
    values[np.searchsorted(grid, fa), 0] = va
    values[np.searchsorted(grid, fb), 1] = vb
    regular = grid.size > 0 and bool((np.diff(grid) == 7).all())
    return _friday_index(grid, a.index, regular=regular), values


def permutation_p_value(observed: float, null: np.ndarray, alternative: str) -> float:
    """Monte Carlo p-value ``(1 + #{null at least as extreme}) / (1 + R)``.

    ``null`` holds the statistic under the null; NaN draws are ignored. For
    ``"two-sided"`` the distance from the null median is compared.

    References
    ----------
    Phipson, B. and Smyth, G. K. (2010). Permutation p-values should never be zero.
    *Statistical Applications in Genetics and Molecular Biology*, 9(1).
    """
    check_alternative(alternative)
    draws = null[np.isfinite(null)]
    if not np.isfinite(observed) or draws.size == 0:
        return float("nan")
    if alternative == "greater":
        hits = np.count_nonzero(draws >= observed)
    elif alternative == "less":
        hits = np.count_nonzero(draws <= observed)
    else:
        centre = float(np.median(draws))
        hits = np.count_nonzero(np.abs(draws - centre) >= abs(observed - centre))
    return float((1 + hits) / (1 + draws.size))
