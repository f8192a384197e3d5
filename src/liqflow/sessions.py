"""Sessions: the days on which each panel column really traded.

The panel carries values forward over the days a series does not publish; a statistic
must read only the days the source had a row (and, for exchange-listed series, the days
the exchange was open). :func:`~liqflow.align.load_panel` records each column's source
rows as :class:`SourceRows` in the panel's ``attrs``; :func:`trading_days` reads them back.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow._errors import DataError

__all__ = [
    "EXCHANGE",
    "ROWS_ATTR",
    "SourceRows",
    "exchange_sessions",
    "join_panels",
    "trading_days",
    "with_exchange_days",
]

#: The panel ``attrs`` key of its :class:`SourceRows`.
ROWS_ATTR = "liqflow.source_rows"
#: The exchange calendar of the catalogue's exchange-listed series (US equities and funds).
EXCHANGE = "XNYS"
_EXCHANGE_START = "1900-01-01"


@dataclass(frozen=True, eq=False)
class SourceRows:
    """The days on which each panel column received an observation from its source.

    ``days[column]`` are the days its observations became public (observation date plus
    release lag), sorted; ``exchange`` names the columns of exchange-listed series, whose
    sessions are also bounded by the exchange calendar (:data:`EXCHANGE`). Attached to the
    panel by :func:`~liqflow.align.load_panel` and carried along by pandas' ``attrs``; immutable, so a
    copy of the panel shares it.
    """

    days: Mapping[str, pd.DatetimeIndex]
    exchange: frozenset[str]
    #: The days of ``open_span`` (first, last) the exchange is open on (as
    #: :func:`trading_days` counts them), once :func:`with_exchange_days` recorded them: a
    #: panel read back from the cache then needs no exchange calendar.
    open_days: pd.DatetimeIndex | None = None
    open_span: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def __deepcopy__(self, memo: dict[int, object]) -> SourceRows:
        return self  # immutable: pandas deep-copies attrs on every operation

    def exchange_open(self, index: pd.DatetimeIndex) -> np.ndarray:
        """:func:`_exchange_open` of ``index``, from :attr:`open_days` when they cover it."""
        span, days = self.open_span, self.open_days
        covered = span is not None and len(index) and span[0] <= index[0] and index[-1] <= span[1]
        return _members(index, days) if covered and days is not None else _exchange_open(index)


def with_exchange_days(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` (the same object) with its source rows recording the exchange's open days
    over its index (:attr:`SourceRows.open_days`); :func:`trading_days` is unchanged.

    For a panel that is stored and read back (the report's cache): building the exchange
    calendar from 1900 costs a second in a new process, reading the days recorded none.
    """
    rows = panel.attrs.get(ROWS_ATTR)
    if not isinstance(rows, SourceRows) or not rows.exchange or panel.empty:
        return panel
    index = pd.DatetimeIndex(panel.index)
    open_days = pd.DatetimeIndex(index[_exchange_open(index)], name="date")
    span = (pd.Timestamp(index[0]), pd.Timestamp(index[-1]))
    panel.attrs[ROWS_ATTR] = SourceRows(rows.days, rows.exchange, open_days, span)
    return panel


def join_panels(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """The outer join of two panels of :func:`~liqflow.align.load_panel`, their source rows combined.

    pandas drops ``attrs`` on a join; without the source rows :func:`trading_days` would
    fall back to "the value changed" and lose real sessions, so join panels through this.
    Columns of ``right`` already in ``left`` are left out.
    """
    cols = [c for c in right.columns if c not in left.columns]
    out = left.join(right[cols], how="outer")
    rows = [p.attrs.get(ROWS_ATTR) for p in (left, right)]
    if all(isinstance(r, SourceRows) for r in rows):
        a, b = rows
        assert isinstance(a, SourceRows) and isinstance(b, SourceRows)
        days = {**{c: d for c, d in b.days.items() if c in cols}, **a.days}
        exchange = a.exchange | frozenset(c for c in b.exchange if c in cols)
        out.attrs[ROWS_ATTR] = SourceRows(days, exchange)
    return out


_SESSIONS_LOCK = threading.Lock()


def exchange_sessions() -> pd.DatetimeIndex:
    """The sessions of the NYSE (:data:`EXCHANGE`) from 1900 to a year from today.

    From ``exchange_calendars`` (regular holidays, and the historical closures: 9/11,
    hurricane Sandy, national days of mourning). Days outside this range are not
    bounded by the calendar (see :func:`trading_days`). Built once per process, and
    kept for the day in liqflow's cache folder (:func:`_sessions_file`): building the
    calendar from 1900 costs about half a second of CPU, reading it back a millisecond.
    A thread asking while another builds it waits for that one.
    """
    with _SESSIONS_LOCK:
        return _built_sessions()


@lru_cache(maxsize=1)
def _built_sessions() -> pd.DatetimeIndex:
    path = _sessions_file()
    kept = _read_sessions(path) if path is not None else None
    if kept is not None:
        return kept
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values of tz-aware data (a pandas 3.1
        # deprecation inside the library, harmless for the session dates read here)
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = exchange_calendars.get_calendar(EXCHANGE, start=_EXCHANGE_START)
    days = cal.sessions.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    sessions = pd.DatetimeIndex(days, name="date")  # as read back: no frequency
    if path is not None:
        _keep_sessions(path, sessions)
    return sessions


def _sessions_file() -> Path | None:
    """Where today's sessions are kept: one file per exchange, ``exchange_calendars``
    version and day (the calendar runs to a year from the day it is built), or None
    when the version cannot be read."""
    from importlib.metadata import PackageNotFoundError, version

    from liqflow.config import home_dir

    try:
        lib = version("exchange_calendars")
    except PackageNotFoundError:
        return None
    day = pd.Timestamp.today()
    return home_dir() / "sessions" / f"{EXCHANGE}-{lib}-{_EXCHANGE_START}-{day:%Y%m%d}.npy"


def _read_sessions(path: Path) -> pd.DatetimeIndex | None:
    """The sessions kept at ``path``, or None when there are none (or they are unreadable:
    then they are built again)."""
    try:
        days = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if days.dtype != np.dtype("datetime64[ns]") or days.ndim != 1 or days.size == 0:
        return None
    if not bool((days[1:] > days[:-1]).all()):
        return None
    return pd.DatetimeIndex(days, name="date")


def _keep_sessions(path: Path, sessions: pd.DatetimeIndex) -> None:
    """Write ``sessions`` to ``path`` (whole or not at all; the days before are removed).
    A folder that cannot be written only means building the calendar again next time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.save(fh, sessions.to_numpy(dtype="datetime64[ns]"), allow_pickle=False)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{EXCHANGE}-*.npy"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _exchange_open(days: pd.DatetimeIndex) -> np.ndarray:
    """True on the exchange's sessions, and on days outside the calendar's range."""
    sessions = exchange_sessions()
    day = days.as_unit("ns").to_numpy()
    outside = (day < sessions[0].to_datetime64()) | (day > sessions[-1].to_datetime64())
    return _members(days, sessions) | outside


def _members(index: pd.DatetimeIndex, days: pd.DatetimeIndex) -> np.ndarray:
    """``index.isin(days)`` for a sorted ``days``, by binary search (days as of the
    nanosecond, whatever the units of the two indexes)."""
    a = index.as_unit("ns").asi8
    b = days.as_unit("ns").asi8
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    pos = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return np.asarray(b[pos] == a)


def trading_days(panel: pd.DataFrame, column: str) -> pd.DatetimeIndex:
    """The sessions of ``column``: the days it received a new observation from its source.

    A panel from :func:`~liqflow.align.load_panel` records each column's source rows
    (:class:`SourceRows`): a session is a day of the panel on which the source has a row
    and the column holds a value; for an exchange-listed series, the exchange must also
    have been open (:func:`exchange_sessions`), so a vendor's row on a holiday is not a
    session, while an unchanged close on a real session is one. A panel built by hand
    carries no such record; its sessions are then the days whose value differs from the
    previous day's (an unchanged close cannot be told from a carried one there).
    No statistic reads the carried (forward-filled) days between sessions.
    """
    if column not in panel.columns:
        raise DataError(f"panel has no column {column!r}; columns: {', '.join(panel.columns)}")
    s = panel[column]
    rows = panel.attrs.get(ROWS_ATTR)
    if isinstance(rows, SourceRows) and column in rows.days:
        new = _members(pd.DatetimeIndex(panel.index), rows.days[column]) & s.notna().to_numpy()
        if column in rows.exchange:
            new &= rows.exchange_open(pd.DatetimeIndex(panel.index))
    else:
        new = (s.notna() & s.ne(s.shift())).to_numpy()
    return pd.DatetimeIndex(panel.index[new], name="date")
