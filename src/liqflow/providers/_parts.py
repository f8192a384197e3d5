"""What :func:`liqflow.providers.layouts.read_table` returns (:class:`Part`,
:class:`ParsedTable`) and the helpers every layout reader builds them with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.catalog import Catalog, SeriesSpec
from liqflow.providers.csv import ParsedFile


@dataclass(frozen=True, eq=False)
class Part:
    """Observations of one series found in a file.

    Attributes
    ----------
    column : str
        What in the file it came from (``HY_OAS``, ``Total``, ``BTC_*``; ``*`` = whole file).
    frame : DataFrame
        Indexed by ``date``, float64 columns named by liqflow fields.
    series_id : str or None
        The series the content names; None when the file name decides.
    source : str or None
        Store source the layout implies; None when the series' preferred source applies.
    lines : ndarray or None
        1-based file line of each row of ``frame`` (None for JSON and when unknown).
    hint : str or None
        A series id written in a single-series header (``DATE,<ID>``).
    """

    column: str
    frame: pd.DataFrame
    series_id: str | None = None
    source: str | None = None
    lines: np.ndarray | None = None
    hint: str | None = None

    def where(self, path: Path, date: pd.Timestamp) -> str:
        """``file:line`` of ``date`` when known, else ``file (column, date)``."""
        if self.lines is not None:
            pos = self.frame.index.get_indexer(pd.DatetimeIndex([date]))[0]
            if pos >= 0:
                return f"{path}:{int(self.lines[pos])}"
        elif path.suffix.lower() == ".csv":
            line = _line_starting(path, f"{date:%Y-%m-%d}")
            if line is not None:
                return f"{path}:{line}"
        return f"{path} ({self.column}, {date:%Y-%m-%d})"


def _line_starting(path: Path, day: str) -> int | None:
    """1-based line of ``path`` whose first field starts with ``day`` (messages only)."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, start=1):
                if n > 1 and line.split(",", 1)[0].strip().startswith(day):
                    return n
    except OSError:
        return None
    return None


@dataclass(frozen=True, eq=False)
class ParsedTable:
    """A file read into series parts, and what it holds that is not imported.

    ``skipped`` pairs a column (or ``*`` for the whole file) with why it is not imported;
    ``single`` is the :class:`~liqflow.providers.csv.ParsedFile` of a single-series CSV.
    """

    path: Path
    format: str
    parts: tuple[Part, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    single: ParsedFile | None = None


def _bad(path: Path, line: int, what: str, raw: str) -> DataError:
    return DataError(f"{path}:{line}: {what}: {raw!r}; the file was not imported")


def _frame(index: pd.DatetimeIndex, data: Mapping[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(dict(data), index=pd.DatetimeIndex(index, name="date"), dtype=np.float64)


def _unique_dates(dates: pd.DatetimeIndex, lines: np.ndarray, path: Path) -> None:
    dup = dates.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(lines[int(np.flatnonzero(dates == dates[i])[0])])
        raise DataError(
            f"{path}:{int(lines[i])}: date {dates[i]:%Y-%m-%d} already given on line {first}; "
            "a file must give each date once; the file was not imported"
        )


def _sorted_part(
    column: str,
    dates: pd.DatetimeIndex,
    data: Mapping[str, np.ndarray],
    lines: np.ndarray,
    path: Path,
    **kw: Any,
) -> Part:
    _unique_dates(dates, lines, path)
    order = np.argsort(dates.to_numpy(), kind="stable")
    frame = _frame(dates[order], {k: np.asarray(v)[order] for k, v in data.items()})
    return Part(column, frame, lines=lines[order], **kw)


def _resolve(name: str, catalog: Catalog) -> SeriesSpec | None:
    """The series a column names (id, provider symbol or alias), if it stores ``value``."""
    spec = catalog.match_file(name)
    return spec if spec is not None and spec.primary_field == "value" else None


def _live_source(spec: SeriesSpec) -> str:
    # a wide table's columns are the providers' own series: stored under the provider's
    # source, so a live fetch extends them
    return spec.provider if spec.provider in ("fred", "treasury", "cftc") else spec.sources[0]
