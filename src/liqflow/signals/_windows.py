"""Causal window helpers shared by the signal modules.

Every helper here looks only backwards: the value at row *t* depends on rows up to *t*
and never on later ones, so signals built from them pass the point-in-time invariance
property (computed on data truncated at *t*, values up to *t* are unchanged).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow._series import check_series

__all__ = [
    "align_to",
    "as_of_values",
    "change_over",
    "empty_like",
    "expanding_max_before",
    "flag",
    "optional_column",
    "percentile_rank",
    "positive_int",
    "prepare",
    "run_start",
    "to_calendar",
]

#: Comparison operators a flag may use, keyed by their printed form.
_OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


def positive_int(value: object, name: str) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an int >= 1 (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


def prepare(s: pd.Series, name: str) -> pd.Series:
    """Check the series contract and return a float64 copy (never the caller's object)."""
    if not isinstance(s, pd.Series):
        raise DataError(f"{name} must be a pandas Series, got {type(s).__name__}")
    check_series(s, name)
    return s.astype(np.float64).copy()


def optional_column(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """``frame[column]`` as float64, or ``None`` when absent or entirely NaN (unknown)."""
    if column not in frame.columns:
        return None
    s = frame[column].astype(np.float64)
    return None if s.isna().all() else s


def empty_like(index: pd.Index, name: str | None = None) -> pd.Series:
    """An all-NaN float64 series on ``index`` (an input that is unknown)."""
    return pd.Series(np.nan, index=index, name=name, dtype=np.float64)


def as_of_values(s: pd.Series, when: np.ndarray) -> np.ndarray:
    """Value of ``s`` as of each timestamp in ``when`` (NaN before its first row).

    Equivalent to ``s.reindex(when, method="ffill")`` for a sorted index, without
    requiring ``when`` to be sorted.
    """
    idx = s.index.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(idx, when, side="right") - 1
    vals = s.to_numpy(dtype=np.float64)
    out = np.full(len(when), np.nan)
    ok = pos >= 0
    out[ok] = vals[pos[ok]]
    return out


def align_to(s: pd.Series, index: pd.Index) -> pd.Series:
    """``s`` on ``index``: unchanged when the indexes match, else as of each date.

    Matching indexes keep their NaNs (a panel's "unknown" stays unknown); a series on
    other dates (weekly releases) is carried forward as of each date of ``index``.
    """
    if s.index.equals(index):
        return s.copy()
    when = index.to_numpy(dtype="datetime64[ns]")
    return pd.Series(as_of_values(s.dropna(), when), index=index, name=s.name)


def change_over(s: pd.Series, days: int, *, relative: bool = False) -> pd.Series:
    """Change of ``s`` over the last ``days`` calendar days.

    ``s(t) - s(t - days)`` where ``s(t - days)`` is the value as of that day (the last
    row on or before it), or ``s(t) / s(t - days) - 1`` when ``relative``. Works on any
    sorted index (daily calendar panels, trading days, weekly data); NaN when either end
    is unknown.
    """
    when = s.index.to_numpy(dtype="datetime64[ns]") - np.timedelta64(days, "D")
    prev = as_of_values(s, when)
    cur = s.to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cur / prev - 1.0 if relative else cur - prev
    return pd.Series(out, index=s.index, name=s.name)


def percentile_rank(s: pd.Series, window: int | None, min_periods: int) -> pd.Series:
    """Causal percentile (0-1) of each value among the trailing values (itself included).

    ``window=None`` ranks against the expanding history, otherwise against the last
    ``window`` observations. Ties take the average rank. NaN rows are skipped (ranked on
    the non-missing observations) and stay NaN. Equivalent to
    ``s.dropna().expanding(min_periods).rank(pct=True)`` (or ``rolling(window, ...)``)
    re-indexed onto ``s``.
    """
    valid = s.dropna()
    roll = (
        valid.expanding(min_periods=min_periods)
        if window is None
        else valid.rolling(window, min_periods=min_periods)
    )
    return roll.rank(pct=True).reindex(s.index)


def expanding_max_before(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running maximum of the values *before* each row, and the row where it was set.

    Returns ``(prior_max, prior_pos)``; ``prior_max[i]`` is ``max(values[:i])`` (NaN
    rows ignored; ``-inf`` when nothing came before) and ``prior_pos[i]`` the position of
    its first occurrence (``-1`` when none).
    """
    n = len(values)
    prior_max = np.full(n, -np.inf)
    prior_pos = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return prior_max, prior_pos
    filled = np.where(np.isnan(values), -np.inf, values)
    running = np.maximum.accumulate(filled)
    prior_max[1:] = running[:-1]
    # position of the first row reaching each running maximum
    is_new = np.empty(n, dtype=bool)
    is_new[0] = np.isfinite(filled[0])
    is_new[1:] = filled[1:] > running[:-1]
    pos = np.where(is_new, np.arange(n), -1)
    pos = np.maximum.accumulate(pos)
    prior_pos[1:] = pos[:-1]
    return prior_max, prior_pos


def flag(values: pd.Series, op: str, threshold: float) -> pd.Series:
    """1.0 where ``values op threshold`` holds, 0.0 where it does not, NaN where unknown."""
    if op not in _OPS:
        raise ConfigError(f"flag operator must be one of {tuple(_OPS)}, got {op!r}")
    v = values.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = _OPS[op](v, threshold).astype(np.float64)
    out[np.isnan(v)] = np.nan
    return pd.Series(out, index=values.index, name=values.name)


def run_start(values: pd.Series) -> pd.Series:
    """Date on which each row's value (NaN counts as a value) started its current run."""
    v = values.astype(object).where(values.notna(), None).to_numpy()
    n = len(v)
    dates = values.index
    if n == 0:
        return pd.Series(pd.DatetimeIndex([]), index=dates, dtype="datetime64[ns]")
    change = np.ones(n, dtype=bool)
    change[1:] = v[1:] != v[:-1]
    start = np.maximum.accumulate(np.where(change, np.arange(n), 0))
    return pd.Series(dates.to_numpy()[start], index=dates, name=values.name)


def to_calendar(
    frame: pd.DataFrame, calendar: pd.Index, max_age_days: int | None = 10
) -> pd.DataFrame:
    """Carry rows computed on sessions onto a calendar (as of each day, never later).

    A session row older than ``max_age_days`` is not carried (NaN: the series stopped).
    Equivalent to ``frame.reindex(calendar, method="ffill")`` plus the age limit.
    """
    when = calendar.to_numpy(dtype="datetime64[ns]")
    idx = frame.index.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(idx, when, side="right") - 1
    ok = pos >= 0
    if max_age_days is not None and len(idx):
        age = when - idx[np.maximum(pos, 0)]
        ok &= age <= np.timedelta64(max_age_days, "D")
    if len(idx) == 0:
        out = pd.DataFrame(index=calendar, columns=frame.columns, dtype=np.float64)
        return out.astype(frame.dtypes.to_dict())
    if frame.shape[1] and all(dt == np.float64 for dt in frame.dtypes):
        # one float block: taken and masked as one array (what the general path does
        # column by column through pandas' where)
        values = frame.to_numpy(dtype=np.float64)[np.maximum(pos, 0)]
        values[~ok] = np.nan
        return pd.DataFrame(values, index=calendar, columns=frame.columns)
    out = frame.iloc[np.maximum(pos, 0)].set_axis(calendar, axis=0)
    return out.where(pd.Series(ok, index=calendar), axis=0)
