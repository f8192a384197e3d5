"""A compact, parameterised small-cap breakout detector for rules and sweeps.

``liqflow.signals.breakouts`` is the full breakout model (all-time highs with a base,
breadth, live state). A sweep needs something simpler that can be recomputed for many
parameter values at once, so this module defines a breakout by three numbers:

* ``lookback``: session *i* makes a high when its close is above every close of the
  ``lookback`` sessions before it (``0``: all earlier closes, an all-time high). A
  *candidate* is the first session of a run of such highs (continuation highs of the
  same run are not new candidates).
* ``volume_threshold``: the mean volume of the ``volume_window`` sessions ending on the
  candidate over the mean of the ``volume_average`` sessions before them must be at
  least this (``0`` disables the volume test).
* ``persistence``: ``persistence`` sessions after the candidate the close must still be
  above the old high (the highest close of the look-back before the candidate). The
  event is dated on that confirmation session, the first day it is known, so an event
  series never looks ahead. ``0`` confirms on the candidate day.

Inputs are per session (``liqflow.align.trading_days``), not a forward-filled calendar;
:func:`events_on_calendar` places the events on the daily calendar of the prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.backtest._shared import check_nonneg_number, check_positive_int

__all__ = [
    "BreakoutParams",
    "breakout_events",
    "event_matrix",
    "events_on_calendar",
]


@dataclass(frozen=True)
class BreakoutParams:
    """Parameters of :func:`breakout_events` (see the module docstring).

    Attributes
    ----------
    lookback : int, default 0
        Sessions of the prior high; 0 means all-time high.
    volume_threshold : float, default 1.2
        Minimum volume ratio at the candidate; 0 disables the test.
    persistence : int, default 20
        Sessions after the candidate at which the close must still be above the old high.
    volume_window : int, default 5
        Sessions ending on the candidate whose mean volume is compared.
    volume_average : int, default 50
        Sessions before them forming the baseline mean volume.
    """

    lookback: int = 0
    volume_threshold: float = 1.2
    persistence: int = 20
    volume_window: int = 5
    volume_average: int = 50

    def __post_init__(self) -> None:
        check_positive_int(self.lookback, "BreakoutParams.lookback", minimum=0)
        check_nonneg_number(self.volume_threshold, "BreakoutParams.volume_threshold")
        check_positive_int(self.persistence, "BreakoutParams.persistence", minimum=0)
        check_positive_int(self.volume_window, "BreakoutParams.volume_window")
        check_positive_int(self.volume_average, "BreakoutParams.volume_average")


def _prior_high(close: np.ndarray, lookback: int) -> np.ndarray:
    s = pd.Series(close).shift(1)
    if lookback == 0:
        return s.expanding(min_periods=1).max().to_numpy()
    return s.rolling(lookback, min_periods=lookback).max().to_numpy()


def _volume_ratio(volume: np.ndarray, window: int, average: int) -> np.ndarray:
    v = pd.Series(volume)
    recent = v.rolling(window, min_periods=window).mean()
    base = v.shift(window).rolling(average, min_periods=average).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (recent / base).to_numpy()


def _check_sessions(close: pd.Series, volume: pd.Series | None) -> None:
    for name, s in (("close", close), ("volume", volume)):
        if s is None:
            continue
        if not isinstance(s.index, pd.DatetimeIndex):
            raise DataError(f"small-cap {name}: index must be a DatetimeIndex of sessions")
        if not s.index.is_monotonic_increasing or not s.index.is_unique:
            raise DataError(f"small-cap {name}: index must be sorted and unique")
    if volume is not None and not volume.index.equals(close.index):
        raise DataError("small-cap close and volume must share the same session index")


def event_matrix(
    close: pd.Series, volume: pd.Series | None, params: Sequence[BreakoutParams]
) -> np.ndarray:
    """Boolean events, one row per entry of ``params``, one column per session.

    High-water marks and volume ratios are computed once per distinct look-back and
    volume window, so a grid of parameters costs little more than one detection.
    """
    _check_sessions(close, volume)
    c = close.to_numpy(dtype=np.float64)
    v = None if volume is None else volume.to_numpy(dtype=np.float64)
    n = c.size
    highs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    ratios: dict[tuple[int, int], np.ndarray] = {}
    out = np.zeros((len(params), n), dtype=np.bool_)
    for row, p in enumerate(params):
        if p.lookback not in highs:
            ph = _prior_high(c, p.lookback)
            with np.errstate(invalid="ignore"):
                is_high = c > ph  # NaN compares False
            run_start = is_high & ~np.concatenate([[False], is_high[:-1]])
            highs[p.lookback] = (ph, run_start)
        ph, cand = highs[p.lookback]
        if p.volume_threshold > 0:
            if v is None:
                raise DataError(
                    f"volume_threshold={p.volume_threshold} needs a small-cap volume series; "
                    "pass volume or set volume_threshold = 0"
                )
            key = (p.volume_window, p.volume_average)
            if key not in ratios:
                ratios[key] = _volume_ratio(v, *key)
            with np.errstate(invalid="ignore"):
                cand = cand & (ratios[key] >= p.volume_threshold)
        k = p.persistence
        if k >= n:
            continue
        # Candidate at i confirmed at j = i + k when close[j] > old high at i.
        with np.errstate(invalid="ignore"):
            held = c[k:] > ph[: n - k]
        out[row, k:] = cand[: n - k] & held
    return out


def breakout_events(
    close: pd.Series, volume: pd.Series | None = None, params: BreakoutParams | None = None
) -> pd.Series:
    """Confirmed breakout events on the sessions of ``close`` (see the module docstring).

    Parameters
    ----------
    close : Series
        Small-cap index closes, one value per session.
    volume : Series, optional
        Volume on the same sessions (needed unless ``volume_threshold`` is 0).
    params : BreakoutParams, optional
        Default: ``BreakoutParams()``.

    Returns
    -------
    Series of bool
        True on the session an event is confirmed (known), indexed like ``close``.
    """
    p = params or BreakoutParams()
    row = event_matrix(close, volume, [p])[0]
    return pd.Series(row, index=close.index.rename("date"), name="breakout")


def events_on_calendar(events: pd.Series, calendar: pd.DatetimeIndex) -> np.ndarray:
    """Place session events on the daily ``calendar`` (False elsewhere).

    An event on a session that is not a calendar day moves to the next calendar day,
    never earlier.
    """
    ev = events[events.astype(bool)]
    out = np.zeros(len(calendar), dtype=np.bool_)
    if ev.empty:
        return out
    pos = calendar.searchsorted(pd.DatetimeIndex(ev.index), side="left")
    out[pos[pos < len(calendar)]] = True
    return out
