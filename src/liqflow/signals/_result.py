"""The result type shared by the signal blocks: a daily frame plus input statuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = ["MISSING", "NO_DATA", "OK", "SignalBlock", "format_value", "input_status"]

#: Status of an input that was supplied and used.
OK = "ok"
#: Status of an input that was not supplied (its signals are NaN: unknown, never guessed).
MISSING = "unknown: not supplied"
#: Status of an input that was supplied but has no value (yet) in the rows given.
NO_DATA = "unknown: no data"


def input_status(s: pd.Series | pd.DataFrame | None) -> str:
    """:data:`OK`, :data:`NO_DATA` or :data:`MISSING` for an optional input."""
    if s is None:
        return MISSING
    return OK if bool(np.any(s.notna().to_numpy())) else NO_DATA


def format_value(value: object) -> str:
    """Short human form of a signal value (NaN -> ``unknown``)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return "unknown"
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "unknown"
        mag = abs(float(value))
        if mag >= 1000:
            return f"{value:,.0f}"
        if mag >= 100:
            return f"{value:.1f}"
        return f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


@dataclass(frozen=True)
class SignalBlock:
    """Signals of one link of the chain, one row per day.

    Attributes
    ----------
    frame : DataFrame
        One column per signal, indexed like the input (``date``). NaN means unknown.
    status : mapping
        Per input or derived signal: ``"ok"``, or ``"unknown: <why>"``, or a note such
        as the fallback source used.
    """

    frame: pd.DataFrame
    status: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", MappingProxyType(dict(self.status)))

    def to_frame(self) -> pd.DataFrame:
        """A copy of the daily signal frame."""
        return self.frame.copy()

    def latest(self) -> pd.Series:
        """The last row (the most recent day), or an empty series when there is none."""
        if self.frame.empty:
            return pd.Series(dtype=object)
        return self.frame.iloc[-1]

    def summary(self) -> str:
        """The last day's values and the status of each input, one per line."""
        name = type(self).__name__
        if self.frame.empty:
            return f"{name}: no data"
        last = self.frame.index[-1]
        lines = [f"{name} as of {last:%Y-%m-%d}"]
        for col, val in self.latest().items():
            lines.append(f"  {col}: {format_value(val)}")
        for key, st in self.status.items():
            if st != OK:
                lines.append(f"  [{key}] {st}")
        return "\n".join(lines)
