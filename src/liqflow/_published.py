"""The point-in-time panel's array steps (:mod:`liqflow.align`), on plain arrays.

A stored series' column arrives as two arrays, its dates (``datetime64[ns]``, sorted,
unique) and its values (``float64``). :func:`published` re-dates them to the day each
value became public, :func:`extended` appends another source's later values,
:func:`asof_values` reads them as of each day of a calendar. They are the steps of
:func:`liqflow.align.available`, :func:`liqflow.align.asof_join` and the panel's
source extension, the same operations on the same numbers (the public functions are
these on a ``Series``), without a pandas object per step: the panel of the shared data
takes some 120 columns through them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

__all__ = ["asof_values", "extended", "public_days", "published", "published_by_pandas"]

#: One column: dates (datetime64[ns]) and values (float64), of equal length.
Column = tuple[np.ndarray, np.ndarray]


def public_days(dates: np.ndarray, lag: BaseOffset) -> np.ndarray | None:
    """``dates + lag`` as ``datetime64[D]`` for midnight dates (tz-naive) and the
    catalogue's lags (calendar days, business days), by day arithmetic; None for anything
    else (the caller adds the offset with pandas). ``d + BDay(n)`` for ``n >= 1`` moves a
    weekend day to the Friday before and then ``n`` weekdays on, as ``np.busday_offset``
    with ``roll="backward"`` does (tested against pandas)."""
    days = dates.astype("datetime64[D]")
    if not (days.astype(dates.dtype) == dates).all():  # a time of day
        return None
    if type(lag) is pd.DateOffset and lag.kwds.keys() <= {"days"} and lag.n == 1:
        return days + np.timedelta64(int(lag.kwds.get("days", 0)), "D")
    plain = not getattr(lag, "normalize", True) and getattr(lag, "offset", None) == pd.Timedelta(0)
    if type(lag) is pd.offsets.BusinessDay and plain and lag.n >= 1:
        return np.busday_offset(days, lag.n, roll="backward")
    return None


def published(dates: np.ndarray, values: np.ndarray, lag: BaseOffset, volume: bool) -> Column:
    """The known values re-dated by the day they became public (``date + lag``), the
    latest of a day kept when several become public on one day; ``volume``: only
    positive values (a zero volume marks a missing or intraday bar). ``dates``:
    tz-naive ``datetime64``, usually sorted (else pandas sorts the re-dated values)."""
    keep = ~np.isnan(values)
    if volume:
        keep &= values > 0
    d, v = dates[keep], values[keep]
    if d.size == 0:
        return d, v
    days = public_days(d, lag)
    if days is None or not (d[1:] >= d[:-1]).all():  # pandas adds the offset, sorts
        s = published_by_pandas(pd.DatetimeIndex(d), v, lag)
        return s.index.to_numpy(), s.to_numpy(dtype=np.float64)  # pandas' unit of the sum
    last = np.r_[days[1:] != days[:-1], True]  # sorted: the latest of a day is its last
    return days[last].astype(d.dtype), v[last]


def published_by_pandas(index: pd.DatetimeIndex, values: np.ndarray, lag: BaseOffset) -> pd.Series:
    """:func:`published` of known values where pandas must add ``lag`` (a time of day, a
    time zone, another offset, unsorted dates): indexed by ``index + lag`` (named
    ``date``), the latest of a day kept, sorted."""
    s = pd.Series(values, index=(index + lag).rename("date"))
    return s[~s.index.duplicated(keep="last")].sort_index()


def extended(column: Column, others: Sequence[Column | None]) -> Column:
    """``column``'s known values followed by each other column's known values after its
    last date (in turn: each extends what the ones before left)."""
    dates, values = column
    keep = ~np.isnan(values)
    d, v = dates[keep], values[keep]
    for other in others:
        if other is None or d.size == 0:
            continue
        od, ov = other
        tail = ~np.isnan(ov) & (od > d[-1])
        d, v = np.concatenate([d, od[tail]]), np.concatenate([v, ov[tail]])
    return d, v


def asof_values(
    column: Column, calendar: pd.DatetimeIndex, max_age_days: int | None = None
) -> np.ndarray:
    """The value in force on each calendar day (the last one dated on or before it); NaN
    before the first, or when older than ``max_age_days``."""
    when, values = column
    if when.size == 0:
        return np.full(len(calendar), np.nan)
    when = when.astype("datetime64[ns]", copy=False)
    cal = calendar.to_numpy(dtype="datetime64[ns]")
    pos = _last_at_or_before(when, cal, calendar.freq == pd.offsets.Day(1))
    ok = pos >= 0
    at = np.maximum(pos, 0)  # gathered everywhere, kept where ok (no compaction)
    if max_age_days is not None:
        ok &= cal - when[at] <= np.timedelta64(max_age_days, "D")
    return np.where(ok, values.astype(np.float64, copy=False)[at], np.nan)


def _last_at_or_before(when: np.ndarray, cal: np.ndarray, daily: bool) -> np.ndarray:
    """``np.searchsorted(when, cal, side="right") - 1`` (``when`` sorted): the position
    of the last ``when`` on or before each day of ``cal``, -1 before the first.

    ``daily``: ``cal`` steps by exactly one day (the panel's calendar, ``freq="D"``).
    Then by counting: each ``when`` as a day offset into ``cal`` (rounded up), the
    cumulative counts of those offsets; one pass over each array, where the binary
    search takes ``log2(len(when))`` steps per day (36,000 days, 118 columns on the
    shared data). Otherwise the binary search."""
    if not daily or cal.size == 0:
        return np.searchsorted(when, cal, side="right") - 1
    n = cal.size
    # when <= cal[0] + k days  <=>  ceil((when - cal[0]) / 1 day) <= k
    offset = -((cal[0] - when) // np.timedelta64(1, "D"))
    counts = np.bincount(np.clip(offset, 0, n).astype(np.intp), minlength=n + 1)
    return np.cumsum(counts[:n]) - 1
