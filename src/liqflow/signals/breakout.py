"""Stage 3: all-time-high breakouts of the small-cap index (Russell 2000).

The rule
--------
A **breakout event** happens on session *i* when the close is above every earlier close
(a new closing all-time high) **and** the previous all-time high was set at least
``min_base_days`` sessions earlier (the *base*). Inside a run of new highs each daily
high has a base of one session, so continuation highs never count as new events; only
the first close above a high that stood for a while does.

For each event:

* **volume confirmation**: mean volume of the ``volume_window`` sessions ending on the
  breakout day divided by the mean of the ``volume_average`` sessions before them;
  confirmed when the ratio is at least ``volume_threshold``. The volume is that of a
  small-cap instrument (IWM share volume in the default catalogue; never the ``^RUT``
  volume Yahoo reports, which is S&P 500 volume).
* **persistence**: ``persistence_days`` sessions after the event the close is compared
  with the old high: above -> ``confirmed``, otherwise ``failed``. Until that session
  exists the event is ``pending``. The status is therefore a function of the evaluation
  date, and the per-day ``state`` column says what was known on each day.
* **breadth**: share of the supplied small-cap segment series (regional banks,
  industrials, biotech...) that closed at a ``high_window``-session high within the
  ``breadth_window`` sessions ending on the day. Without segments breadth is unknown
  (NaN), never assumed.

A breakout is **live** on a day when the latest event is pending or confirmed and the
index set a new closing high within the last ``live_days`` sessions (the run that the
breakout started is still making highs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, InsufficientDataError
from liqflow.signals._result import format_value
from liqflow.signals._windows import (
    as_of_values,
    expanding_max_before,
    positive_int,
    prepare,
)

__all__ = [
    "DAILY_COLUMNS",
    "STATES",
    "BreakoutConfig",
    "BreakoutEvent",
    "BreakoutResult",
    "breadth",
    "breakouts",
    "empty_daily",
    "volume_ratio",
]

#: Values of the per-day ``state`` column (state of the latest event).
STATES = ("none", "pending", "confirmed", "failed")

#: Columns of :attr:`BreakoutResult.daily`; all float64 except ``state`` (string).
DAILY_COLUMNS = (
    "close",
    "prior_high",
    "new_high",
    "event",
    "state",
    "days_since_event",
    "event_prior_high",
    "volume_ratio",
    "event_volume_ratio",
    "event_volume_confirmed",
    "breadth",
    "event_breadth",
    "days_since_high",
    "live",
)


def empty_daily(index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """A :attr:`BreakoutResult.daily` frame with no data (every value unknown)."""
    idx = index if index is not None else pd.DatetimeIndex([], name="date")
    cols = {c: pd.Series(np.nan, index=idx, dtype=np.float64) for c in DAILY_COLUMNS}
    cols["state"] = pd.Series(pd.NA, index=idx, dtype="string")
    return pd.DataFrame(cols, index=idx)


@dataclass(frozen=True)
class BreakoutConfig:
    """Definition of a breakout and of its confirmations.

    Attributes
    ----------
    min_base_days : int, default 60
        Sessions between the previous all-time high and the breakout (about 3 months):
        shorter bases are continuation highs, not events.
    volume_window : int, default 5
        Sessions, ending on the breakout day, whose mean volume is compared.
    volume_average : int, default 50
        Sessions before that window forming the baseline mean volume.
    volume_threshold : float, default 1.2
        Volume ratio at or above which the breakout is volume-confirmed.
    persistence_days : int, default 20
        Sessions after the event at which the close must still be above the old high.
    high_window : int, default 252
        Sessions of a "52-week high" for the breadth of segment series.
    breadth_window : int, default 5
        A segment counts when it made a ``high_window`` high within these sessions.
    breadth_threshold : float, default 0.5
        Breadth at or above which the breakout is broad.
    live_days : int, default 63
        A breakout stays live while the index made a new closing high within this many
        sessions (about 3 months) and the latest event has not failed.
    """

    min_base_days: int = 60
    volume_window: int = 5
    volume_average: int = 50
    volume_threshold: float = 1.2
    persistence_days: int = 20
    high_window: int = 252
    breadth_window: int = 5
    breadth_threshold: float = 0.5
    live_days: int = 63

    def __post_init__(self) -> None:
        for name in (
            "min_base_days",
            "volume_window",
            "volume_average",
            "persistence_days",
            "high_window",
            "breadth_window",
            "live_days",
        ):
            positive_int(getattr(self, name), f"BreakoutConfig.{name}")
        if not self.volume_threshold > 0:
            raise ConfigError(
                f"BreakoutConfig.volume_threshold must be > 0, got {self.volume_threshold!r}"
            )
        if not 0 <= self.breadth_threshold <= 1:
            raise ConfigError(
                "BreakoutConfig.breadth_threshold must be between 0 and 1, got "
                f"{self.breadth_threshold!r}"
            )


@dataclass(frozen=True)
class BreakoutEvent:
    """One all-time-high breakout, as known on the evaluation date.

    Attributes
    ----------
    date : Timestamp
        Session of the first close above the old high.
    level : float
        That close.
    prior_high, prior_high_date : float, Timestamp
        The old all-time high and the session it was set.
    base_days : int
        Sessions from the old high to the breakout.
    volume_ratio : float
        Volume confirmation ratio (NaN: no volume data).
    volume_confirmed : bool or None
        ``volume_ratio >= volume_threshold``; None when unknown.
    day_volume_ratio : float
        Breakout-day volume over the same baseline (for reference).
    breadth : float
        Share of segments at highs (NaN: no segment series supplied or known).
    breadth_confirmed : bool or None
    status : str
        ``pending``, ``confirmed`` or ``failed`` as of the evaluation date.
    decided_on : Timestamp or None
        Session on which persistence was decided (None while pending).
    persistence_return : float
        Close on ``decided_on`` relative to the old high (NaN while pending).
    """

    date: pd.Timestamp
    level: float
    prior_high: float
    prior_high_date: pd.Timestamp
    base_days: int
    volume_ratio: float
    volume_confirmed: bool | None
    day_volume_ratio: float
    breadth: float
    breadth_confirmed: bool | None
    status: str
    decided_on: pd.Timestamp | None
    persistence_return: float

    def summary(self) -> str:
        """One line: date, level, old high, base, volume, breadth, status."""
        vol = (
            "volume unknown"
            if self.volume_confirmed is None
            else f"volume x{self.volume_ratio:.2f} ({'confirmed' if self.volume_confirmed else 'weak'})"
        )
        br = "breadth unknown" if self.breadth_confirmed is None else f"breadth {self.breadth:.0%}"
        decided = f" on {self.decided_on:%Y-%m-%d}" if self.decided_on is not None else ""
        return (
            f"{self.date:%Y-%m-%d} close {self.level:,.2f} > high {self.prior_high:,.2f} of "
            f"{self.prior_high_date:%Y-%m-%d} (base {self.base_days} sessions); {vol}; {br}; "
            f"{self.status}{decided}"
        )


@dataclass(frozen=True)
class BreakoutResult:
    """Breakout events and the per-session breakout state.

    Attributes
    ----------
    events : tuple of BreakoutEvent
        Events up to ``as_of``, oldest first, statuses as known on ``as_of``.
    daily : DataFrame
        One row per session: ``close``, ``prior_high``, ``new_high``, ``event``,
        ``state`` (:data:`STATES`), ``days_since_event``, ``event_prior_high``,
        ``volume_ratio`` (rolling, every session), ``event_volume_ratio``,
        ``event_volume_confirmed``, ``breadth``, ``event_breadth``,
        ``days_since_high``, ``live``. Row *t* uses only sessions up to *t*.
    config : BreakoutConfig
    as_of : Timestamp or None
        Evaluation date (the last session when none was given).
    """

    events: tuple[BreakoutEvent, ...]
    daily: pd.DataFrame
    config: BreakoutConfig
    as_of: pd.Timestamp | None

    def to_frame(self) -> pd.DataFrame:
        """The events, one row each (columns are the :class:`BreakoutEvent` fields)."""
        cols = list(BreakoutEvent.__dataclass_fields__)
        rows = [[getattr(e, c) for c in cols] for e in self.events]
        out = pd.DataFrame(rows, columns=cols)
        return out.set_index("date") if not out.empty else out

    def daily_frame(self) -> pd.DataFrame:
        """A copy of the per-session state."""
        return self.daily.copy()

    def summary(self) -> str:
        """The events, one line each, and the state on the evaluation date."""
        when = format_value(self.as_of)
        head = f"{len(self.events)} all-time-high breakout(s) as of {when}"
        lines = [head, *(f"  {e.summary()}" for e in self.events)]
        if not self.daily.empty:
            last = self.daily.iloc[-1]
            lines.append(f"  state: {last['state']}, live: {format_value(last['live'])}")
        return "\n".join(lines)


def volume_ratio(volume: pd.Series, window: int = 5, average: int = 50) -> pd.Series:
    """Mean volume of the last ``window`` sessions over the mean of the ``average`` before.

    Equivalent to ``v.rolling(window).mean() / v.shift(window).rolling(average).mean()``
    on the non-missing, positive volumes (zero volume marks an incomplete row).
    """
    v = prepare(volume, "volume")
    v = v[v > 0]
    recent = v.rolling(window, min_periods=window).mean()
    base = v.shift(window).rolling(average, min_periods=average).mean()
    return (recent / base).rename("volume_ratio")


def breadth(
    segments: Mapping[str, pd.Series],
    sessions: pd.DatetimeIndex,
    high_window: int = 252,
    breadth_window: int = 5,
) -> pd.Series:
    """Share of segments that closed at a ``high_window`` high in the last ``breadth_window``.

    Each segment is evaluated on its own sessions (a high is ``close >=`` the max of the
    last ``high_window`` closes, itself included; a segment needs ``high_window``
    observations first), then carried as of each of ``sessions``. Segments unknown on a
    day are left out of that day's share; NaN when none is known.
    """
    when = sessions.to_numpy(dtype="datetime64[ns]")
    hits = []
    for name, seg in segments.items():
        s = prepare(seg, f"segment {name!r}").dropna()
        top = s.rolling(high_window, min_periods=high_window).max()
        at_high = (s >= top).astype(np.float64).where(top.notna())
        recent = at_high.rolling(breadth_window, min_periods=1).max()
        hits.append(as_of_values(recent, when))
    if not hits:
        return pd.Series(np.nan, index=sessions, name="breadth")
    stack = np.vstack(hits)
    known = ~np.isnan(stack)
    count = known.sum(axis=0)
    total = np.where(known, stack, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.Series(share, index=sessions, name="breadth")


def breakouts(
    close: pd.Series,
    volume: pd.Series | None = None,
    segments: Mapping[str, pd.Series] | None = None,
    config: BreakoutConfig | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
) -> BreakoutResult:
    """All-time-high breakout events of ``close`` with volume, breadth and persistence.

    Parameters
    ----------
    close : Series
        Small-cap index closes on its sessions (NaN rows are not sessions).
    volume : Series, optional
        Small-cap volume (IWM shares) on its own sessions; zero rows are ignored.
    segments : mapping of str to Series, optional
        Segment closes for breadth (e.g. regional banks, industrials, biotech ETFs).
    config : BreakoutConfig, optional
    as_of : date, optional
        Evaluation date: data after it is ignored and statuses are those known then.

    Returns
    -------
    BreakoutResult

    Raises
    ------
    InsufficientDataError
        When ``close`` has no observation up to ``as_of``.
    """
    cfg = config or BreakoutConfig()
    c = prepare(close, "close").dropna()
    cut = None if as_of is None else pd.Timestamp(as_of)
    if cut is not None:
        c = c[c.index <= cut]
    if c.empty:
        raise InsufficientDataError(
            f"breakouts: close has no observation up to {format_value(cut)}; need at least one"
        )
    sessions = pd.DatetimeIndex(c.index, name="date")
    when = sessions.to_numpy(dtype="datetime64[ns]")
    vals = c.to_numpy()
    n = len(vals)
    idx = np.arange(n)
    prior_max, prior_pos = expanding_max_before(vals)
    new_high = (vals > prior_max) & (prior_pos >= 0)
    base = np.where(prior_pos >= 0, idx - prior_pos, 0)
    is_event = new_high & (base >= cfg.min_base_days)

    vr, dvr = _volume_ratios(volume, cut, when, cfg)

    if segments:
        seg = {k: (s[s.index <= cut] if cut is not None else s) for k, s in segments.items()}
        br = breadth(seg, sessions, cfg.high_window, cfg.breadth_window).to_numpy()
    else:
        br = np.full(n, np.nan)

    daily = _daily(vals, prior_max, new_high, is_event, vr, br, sessions, cfg)
    events = _events(is_event, vals, prior_max, prior_pos, base, vr, dvr, br, sessions, cfg)
    return BreakoutResult(tuple(events), daily, cfg, cut if cut is not None else sessions[-1])


def _daily(
    vals: np.ndarray,
    prior_max: np.ndarray,
    new_high: np.ndarray,
    is_event: np.ndarray,
    vr: np.ndarray,
    br: np.ndarray,
    sessions: pd.DatetimeIndex,
    cfg: BreakoutConfig,
) -> pd.DataFrame:
    """Per session, the state of the latest event using only sessions up to that day."""
    n = len(vals)
    idx = np.arange(n)
    last_event = np.maximum.accumulate(np.where(is_event, idx, -1))
    has_event = last_event >= 0
    le = np.maximum(last_event, 0)
    since = np.where(has_event, idx - le, -1)
    decide_at = le + cfg.persistence_days
    decided = has_event & (idx >= decide_at)
    decided_close = vals[np.minimum(decide_at, n - 1)]
    held = decided_close > prior_max[le]
    state = np.where(
        ~has_event, "none", np.where(~decided, "pending", np.where(held, "confirmed", "failed"))
    )
    last_high = np.maximum.accumulate(np.where(new_high, idx, -1))
    days_since_high = np.where(last_high >= 0, idx - last_high, -1)
    live = has_event & (state != "failed") & (last_high >= 0) & (days_since_high <= cfg.live_days)
    ev_vr = np.where(has_event, vr[le], np.nan)
    ev_vol_ok = np.where(np.isnan(ev_vr), np.nan, (ev_vr >= cfg.volume_threshold) * 1.0)
    ev_br = np.where(has_event, br[le], np.nan)
    daily = pd.DataFrame(
        {
            "close": vals,
            "prior_high": np.where(np.isfinite(prior_max), prior_max, np.nan),
            "new_high": new_high.astype(np.float64),
            "event": is_event.astype(np.float64),
            "state": pd.array(state, dtype="string"),
            "days_since_event": np.where(has_event, since, np.nan).astype(np.float64),
            "event_prior_high": np.where(has_event, prior_max[le], np.nan),
            "volume_ratio": vr,
            "event_volume_ratio": ev_vr,
            "event_volume_confirmed": np.where(has_event, ev_vol_ok, np.nan),
            "breadth": br,
            "event_breadth": ev_br,
            "days_since_high": np.where(days_since_high >= 0, days_since_high, np.nan).astype(
                np.float64
            ),
            "live": live.astype(np.float64),
        },
        index=sessions,
    )
    return daily


def _volume_ratios(
    volume: pd.Series | None, cut: pd.Timestamp | None, when: np.ndarray, cfg: BreakoutConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The window volume ratio and the breakout-day ratio (over the same baseline), on the
    volume's own sessions, as of each close session in ``when`` (NaN without volume)."""
    v = None
    if volume is not None:
        v = prepare(volume, "volume").dropna()
        if cut is not None:
            v = v[v.index <= cut]
        v = v[v > 0]
    if v is None or v.empty:
        return np.full(len(when), np.nan), np.full(len(when), np.nan)
    vr_series = volume_ratio(v, cfg.volume_window, cfg.volume_average)
    day_series = (v / v.shift(cfg.volume_window).rolling(cfg.volume_average).mean()).rename(
        "day_volume_ratio"
    )
    return _as_of_exact(vr_series, when), _as_of_exact(day_series, when)


def _events(
    is_event: np.ndarray,
    vals: np.ndarray,
    prior_max: np.ndarray,
    prior_pos: np.ndarray,
    base: np.ndarray,
    vr: np.ndarray,
    dvr: np.ndarray,
    br: np.ndarray,
    sessions: pd.DatetimeIndex,
    cfg: BreakoutConfig,
) -> list[BreakoutEvent]:
    """One :class:`BreakoutEvent` per event session, its persistence decided
    ``persistence_days`` sessions later (pending until then)."""
    n = len(vals)
    events = []
    for i in np.flatnonzero(is_event):
        j = i + cfg.persistence_days
        done = j < n
        status = ("confirmed" if vals[j] > prior_max[i] else "failed") if done else "pending"
        vol = float(vr[i])
        brd = float(br[i])
        events.append(
            BreakoutEvent(
                date=sessions[int(i)],
                level=float(vals[i]),
                prior_high=float(prior_max[i]),
                prior_high_date=sessions[int(prior_pos[i])],
                base_days=int(base[i]),
                volume_ratio=vol,
                volume_confirmed=None if np.isnan(vol) else bool(vol >= cfg.volume_threshold),
                day_volume_ratio=float(dvr[i]),
                breadth=brd,
                breadth_confirmed=None if np.isnan(brd) else bool(brd >= cfg.breadth_threshold),
                status=status,
                decided_on=sessions[int(j)] if done else None,
                persistence_return=float(vals[j] / prior_max[i] - 1.0) if done else np.nan,
            )
        )
    return events


def _as_of_exact(s: pd.Series, when: np.ndarray, max_age_days: int = 5) -> np.ndarray:
    """Values of ``s`` as of ``when``; NaN when the last value is older than the limit."""
    if s.empty:
        return np.full(len(when), np.nan)
    out = as_of_values(s, when)
    idx = s.index.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(idx, when, side="right") - 1
    age = when - idx[np.maximum(pos, 0)]
    out[(pos < 0) | (age > np.timedelta64(max_age_days, "D"))] = np.nan
    return out
