"""Input sanity checks of imported files: set-based, one refusal line naming file and line.

Every check runs on whole columns (no per-row Python); only the refusal path goes back
to the file to name the line. A file that fails a check is refused whole and nothing of
it is stored.

Checks
------
* dates inside a file are unique (a repeated date names both lines: intraday bars must be
  resampled to daily bars before import, never kept-last);
* dates lie within [:data:`FIRST_DATE`, today + 1 day];
* price fields (:data:`PRICE_FIELDS`) are positive, amounts (:data:`NONNEGATIVE_FIELDS`)
  are >= 0, every value is finite and below :data:`MAX_MAGNITUDE` in absolute value;
* a FRED ``DATE,<ID>`` header names the series the file is imported as;
* levels are plausible for the series' unit (:data:`UNIT_BOUNDS`, e.g. a spread in
  percent within +-100) and, for a file forced with ``--series``, within a factor
  :data:`MAX_LEVEL_RATIO` of what the store already holds for that series on common
  dates (a file in billions for a series in millions is 1000x off). These two level
  checks are skipped with ``force``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow._errors import DataError

__all__ = [
    "FIRST_DATE",
    "MAX_LEVEL_RATIO",
    "MAX_MAGNITUDE",
    "NONNEGATIVE_FIELDS",
    "PRICE_FIELDS",
    "UNIT_BOUNDS",
    "check_header",
    "check_level_against",
    "check_unique_dates",
    "check_values",
]

FIRST_DATE = pd.Timestamp("1900-01-01")
PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")
NONNEGATIVE_FIELDS = ("volume", "market_cap")
#: No series liqflow knows comes within 100x of this (total crypto market cap ~ 4e12 USD).
MAX_MAGNITUDE = 1e15
#: Plausible range of the primary field by catalogue unit.
UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "percent": (-100.0, 100.0),
    "index 0-100": (0.0, 100.0),
}
#: A forced file whose median level is this many times off the stored one is refused.
MAX_LEVEL_RATIO = 30.0
_NOT_IMPORTED = "the file was not imported"


def _last_date() -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.now(dt.UTC).date()) + pd.Timedelta(days=1)


def _first_cells(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    except (OSError, UnicodeDecodeError):
        return []
    return [ln.split(",", 1)[0].strip().strip('"') for ln in lines]


def _cell_date(cell: str) -> pd.Timestamp | None:
    try:
        if cell.isdigit():  # epoch seconds or milliseconds
            n = int(cell)
            return pd.Timestamp(n, unit="ms" if n > 10**11 else "s").normalize()
        return pd.Timestamp(cell[:10])
    except (ValueError, OverflowError):
        return None


def where(path: Path, date: pd.Timestamp) -> str:
    """``file:line`` of the data line dated ``date`` (``file`` alone if not found).

    Only called on the refusal path: it reads the file again.
    """
    for i, cell in enumerate(_first_cells(path)):
        if cell[:10] == f"{date:%Y-%m-%d}" or _cell_date(cell) == date:
            return f"{path}:{i + 2}"
    return str(path)


def check_unique_dates(path: Path, index: pd.Index) -> None:
    """Refuse a file with a date on two lines, naming both (``index`` in file order).

    Raises
    ------
    DataError
        ``file:line: date D repeats line L``.
    """
    dup = index.duplicated(keep=False)
    if not dup.any():
        return
    at = np.flatnonzero(dup)
    first = int(at[0])
    second = int(at[1:][index[at[1:]] == index[first]][0])
    raise DataError(
        f"{path}:{second + 2}: date {index[first]:%Y-%m-%d} repeats line {first + 2}; "
        "expected one row per date (resample intraday bars to daily first); " + _NOT_IMPORTED
    )


def check_values(path: Path, frame: pd.DataFrame, unit: str = "", *, force: bool = False) -> None:
    """Refuse dates outside the accepted range and impossible or implausible values.

    ``frame`` is a parsed file: a DatetimeIndex and float64 columns named by liqflow
    fields. ``unit`` is the catalogue unit of the series (for :data:`UNIT_BOUNDS`, which
    ``force`` skips).

    Raises
    ------
    DataError
        One line naming ``file:line``, the value and what would be accepted.
    """
    index = pd.DatetimeIndex(frame.index)
    last = _last_date()
    if len(index):
        low, high = index.min(), index.max()
        if low < FIRST_DATE or high > last:
            bad = low if low < FIRST_DATE else high
            raise DataError(
                f"{where(path, bad)}: date {bad:%Y-%m-%d} is outside "
                f"[{FIRST_DATE:%Y-%m-%d}, {last:%Y-%m-%d}] (today + 1 day); " + _NOT_IMPORTED
            )
    for col in frame.columns:
        values = frame[col].to_numpy(dtype=np.float64)
        present = ~np.isnan(values)
        problem = _value_problem(str(col), values, present)
        if problem is None and not force and unit in UNIT_BOUNDS:
            lo, hi = UNIT_BOUNDS[unit]
            out = present & ((values < lo) | (values > hi))
            if out.any():
                problem = (
                    out,
                    f"is not plausible for a series in {unit} (expected {lo:g} to {hi:g}; "
                    "pass --force if the file really is that series)",
                )
        if problem is not None:
            mask, accepted = problem
            i = int(np.flatnonzero(mask)[0])
            raise DataError(
                f"{where(path, index[i])}: {col} {float(values[i])!r} on {index[i]:%Y-%m-%d} "
                f"{accepted}; " + _NOT_IMPORTED
            )


def _value_problem(
    col: str, values: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, str] | None:
    """(rows at fault, what is accepted) for the first rule ``values`` break, or None."""
    with np.errstate(invalid="ignore"):
        huge = present & ~(np.abs(values) < MAX_MAGNITUDE)
    if huge.any():
        return huge, f"is not a finite number below {MAX_MAGNITUDE:g} in absolute value"
    if col in PRICE_FIELDS and (bad := present & (values <= 0)).any():
        return bad, "must be a price > 0"
    if col in NONNEGATIVE_FIELDS and (bad := present & (values < 0)).any():
        return bad, "must be >= 0"
    return None


def check_header(path: Path, hint: str | None, series_id: str, symbol: str, named: str) -> None:
    """Refuse a FRED ``DATE,<ID>`` file whose header names another series.

    ``hint`` is the id in the header; ``series_id``/``symbol`` the series the file is
    being imported as and ``named`` the series the header id matches in the catalogue
    (empty when it matches none). How the file was matched goes in the message.

    Raises
    ------
    DataError
        ``file:1: header names FRED series X, not Y``.
    """
    if not hint or hint.upper() == symbol.upper() or named == series_id:
        return
    other = f" (catalogue series {named!r})" if named else ""
    raise DataError(
        f"{path}:1: header names FRED series {hint!r}{other}, but the file is being "
        f"imported as {series_id!r} (FRED {symbol!r}); rename the file, fix its header or "
        f"pass --series {named or 'ID'}; " + _NOT_IMPORTED
    )


def check_level_against(
    path: Path, values: pd.Series, stored: pd.Series, series_id: str, source: str
) -> None:
    """Refuse a file whose level is :data:`MAX_LEVEL_RATIO` times off the stored series.

    Compares median absolute levels on common dates (or, with none in common, on stored
    dates within 31 days of the file's); does nothing without such dates.

    Raises
    ------
    DataError
        The ratio, both medians, and ``--force``.
    """
    stored = stored.dropna()
    values = values.dropna()
    if stored.empty or values.empty:
        return
    common = values.index.intersection(stored.index)
    if len(common):
        mine, theirs = values.loc[common], stored.loc[common]
    else:
        near = stored.reindex(values.index, method="nearest", tolerance=pd.Timedelta(days=31))
        ok = near.notna().to_numpy()
        if not ok.any():
            return
        mine, theirs = values[ok], near[ok]
    a, b = float(np.median(np.abs(mine))), float(np.median(np.abs(theirs)))
    if a == 0 or b == 0:
        return
    ratio = a / b
    if 1 / MAX_LEVEL_RATIO <= ratio <= MAX_LEVEL_RATIO:
        return
    raise DataError(
        f"{path}: its level is {ratio:.3g}x the stored {series_id!r} ({source}) on {len(mine)} "
        f"dates (median {a:.6g} vs {b:.6g}); expected within {MAX_LEVEL_RATIO:g}x: another "
        f"unit (x1000?) or another series; pass --force to import it anyway; " + _NOT_IMPORTED
    )
