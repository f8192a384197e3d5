"""Runs of a stage or flag over the rows: since when the last state holds, which raw
stages are decided, and the stage once a change has lasted long enough.

Vectorised over the rows; each function names the loop it is equivalent to (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__: list[str] = []


def _since(col: pd.Series) -> pd.Timestamp | None:
    """Start of the last row's run (NaN = unknown is a state of its own).

    A known value: the first day of its current run (a day unknown in between ends the
    run). Unknown: the day it became unknown, or None when it has never been known.
    """
    if col.empty or not col.notna().any():
        return None
    return pd.Timestamp(col.index[_last_run_start(col)])


def _last_run_start(col: pd.Series) -> int:
    """Position where the last row's run starts; equivalent to the position of
    ``run_start(col).iloc[-1]`` (NaN equal to NaN), from one comparison with the last value."""
    if col.dtype.kind == "f":
        v = col.to_numpy(dtype=np.float64)
        last = v[-1]
        other = ~np.isnan(v) if np.isnan(last) else (v != last)  # NaN != a number
    else:
        v = col.astype(object).where(col.notna(), None).to_numpy()
        other = np.asarray(v != v[-1], dtype=bool)
    differs = np.flatnonzero(other)
    return int(differs[-1]) + 1 if len(differs) else 0


def _decided(raw: np.ndarray, known: np.ndarray) -> np.ndarray:
    """True where every stage that decides the raw stage is known.

    The raw stage k depends on stages 1..k+1 (a later stage needs stage k+1 on first), so
    it is decided when the required flags of each of them are known that day.
    """
    if known.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    upto = np.minimum(raw, known.shape[1] - 1)
    cum = np.logical_and.accumulate(known, axis=1)
    return cum[np.arange(known.shape[0]), upto]


def _confirmed(raw: np.ndarray, days: int) -> np.ndarray:
    """Raw stage once it has lasted ``days`` consecutive rows, else the last confirmed one.

    Equivalent to a loop keeping ``current`` and switching to ``raw[t]`` when
    ``raw[t - days + 1 .. t]`` are all equal to it; 0 before any stage is confirmed.
    """
    n = len(raw)
    if days <= 1 or n == 0:
        return raw.copy()
    idx = np.arange(n)
    starts = np.ones(n, dtype=bool)
    starts[1:] = raw[1:] != raw[:-1]
    run_start = np.maximum.accumulate(np.where(starts, idx, 0))
    lasted = idx - run_start + 1 >= days
    out = pd.Series(np.where(lasted, raw, np.nan)).ffill().fillna(0.0)
    return out.to_numpy().astype(np.int64)
