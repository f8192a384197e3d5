"""The series contract shared by every pure module.

A series is a ``pandas.Series`` (or an OHLCV ``DataFrame``) with a tz-naive,
sorted, unique ``DatetimeIndex`` named ``date`` and float64 values.
"""

from __future__ import annotations

from typing import TypeVar

import pandas as pd

from liqflow._errors import DataError

__all__ = ["check_series", "normalize_index"]

_T = TypeVar("_T", pd.Series, pd.DataFrame)


def normalize_index(obj: _T) -> _T:
    """Return a copy of ``obj`` whose index follows the contract (tz-naive ns dates, named ``date``)."""
    idx = pd.DatetimeIndex(obj.index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    out = obj.copy()
    out.index = pd.DatetimeIndex(idx.astype("datetime64[ns]"), name="date")
    return out


def check_series(obj: pd.Series | pd.DataFrame, name: str = "series") -> None:
    """Raise :class:`DataError` unless ``obj`` already follows the series contract."""
    idx = obj.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise DataError(f"{name}: index must be a DatetimeIndex, got {type(idx).__name__}")
    if idx.tz is not None:
        raise DataError(f"{name}: index must be tz-naive, got tz={idx.tz}")
    if not idx.is_monotonic_increasing or not idx.is_unique:
        raise DataError(f"{name}: index must be sorted and unique")
