"""Local CSV files in the formats providers publish, detected from their headers.

Accepted single-series layouts (header names are case-insensitive):

============  =================================================================  =============
format        header                                                             source
============  =================================================================  =============
fred          ``date,value`` / ``DATE,<ID>`` / ``observation_date,<ID>``           fred
yahoo         ``Date`` + some of ``Open,High,Low,Close,Adj Close,Volume``          yahoo (funds:
              (+ ``Dividends,Stock Splits``); dates may carry ``+00:00`` offsets   see below)
ibkr          ``date,open,high,low,close,volume,wap,count`` (Interactive Brokers  ibkr
              index bars): open/high/low/close only, **volume is never stored**
coingecko     ``snapped_at,price,market_cap,total_volume`` or                     coingecko
              ``snapped_at,market_cap,total_volume``; ``... UTC`` or ms epoch
value         ``Date,value`` (any other single-value daily file)                 the series' preferred source
============  =================================================================  =============

Multi-series and non-CSV layouts (wide FRED tables, the Fiscal Data table, Farside, funding,
CFTC, JSON caches) are read by :mod:`liqflow.providers.layouts`, which uses the helpers here.

Anything else is refused with a message naming the file and the layouts above. A file
with a malformed line (wrong number of fields, a date or number that does not parse) is
refused whole, with ``file:line`` in the message.

A Yahoo file's last bar with zero volume after a bar with volume is an intraday snapshot
taken during the session, not a close, and is dropped.

Index bars from Interactive Brokers (``wap,count`` columns) have volume 0, or on some
days a figure that is not the index's volume; their volume column is dropped, so the
bars are a second source (``ibkr``) of the index's prices only.

Dividend-adjustment bases. Yahoo adjusts a fund's whole price history for dividends back
from the day of the download, so two exports of one fund taken months apart disagree on
every old day (IWM: ratio 0.992-0.998 between the exports of 2026-02 and 2026-08). One
series never mixes two bases: a fund (:data:`liqflow.catalog.FUNDS`) read from the
lower-case yfinance export ``date,open,high,low,close,volume`` (the auto-adjusted
market-lab layout) is stored as source ``yahoo_adj<YYYY>``, named by the year of its last
row (``yahoo_adj2026``), beside the older capitalised exports and live fetches in
``yahoo``. The catalogue prefers ``yahoo_adj2026`` for funds because it reaches furthest;
nothing is rescaled. Index levels (``^GSPC``) and coins have no dividends: their
lower-case exports are the same source ``yahoo`` (^GSPC's is identical to the older file
on every common day).

Dates. Timestamps with a UTC offset keep their *local* calendar date (a Yahoo equity bar
stamped ``2020-01-02 00:00:00-05:00`` is the 2 January session). CoinGecko ``snapped_at``
dates are kept as stamped: a 00:00 UTC snapshot of day D is at the latest the close of
D-1, so keeping D can delay a value by one day but never shows it early.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, overload

import numpy as np
import pandas as pd

from liqflow._errors import DataError, UnsupportedLayoutError
from liqflow._sanity import check_unique_dates

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "FORMATS",
    "ParsedFile",
    "fund_source",
    "header_of",
    "numbers",
    "parse_dates",
    "read_cells",
    "read_csv_file",
    "read_csv_text",
    "read_text",
    "sniff_header",
]

FORMATS = ("fred", "yahoo", "ibkr", "coingecko", "value")
_EXPECTED = (
    "FRED 'date,value' / 'DATE,<ID>' / 'observation_date,<ID>'; "
    "Yahoo 'Date,Open,High,Low,Close[,Adj Close],Volume[,Dividends,Stock Splits]'; "
    "Interactive Brokers 'date,open,high,low,close,volume,wap,count'; "
    "CoinGecko 'snapped_at,price,market_cap,total_volume' or 'snapped_at,market_cap,total_volume'; "
    "or 'Date,value'"
)
_YAHOO_FIELDS = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj close": "adj_close",
    "adj_close": "adj_close",
    "volume": "volume",
}
_YAHOO_IGNORED = {"dividends", "stock splits", "capital gains"}
_IBKR_EXTRA = ("wap", "count")
_COINGECKO_FIELDS = {"price": "close", "market_cap": "market_cap", "total_volume": "volume"}
_MISSING = ("", ".", "null", "NaN", "nan")
_FRED_ID = re.compile(r"[A-Z0-9][A-Z0-9_.]*")


@dataclass(frozen=True)
class ParsedFile:
    """A CSV file read into liqflow fields.

    ``frame`` is indexed by ``date`` with float64 columns named by liqflow fields
    (``value``, ``open`` ... ``adj_close``, ``volume``, ``market_cap``). ``series_hint`` is
    the series identifier written in the header (FRED ``DATE,<ID>`` files), if any.
    """

    path: Path
    format: str
    frame: pd.DataFrame
    series_hint: str | None = None
    header: tuple[str, ...] = ()

    @property
    def source(self) -> str | None:
        """The upstream provider the layout identifies (None for plain ``Date,value``)."""
        return None if self.format == "value" else self.format


def sniff_header(columns: list[str], path: Path) -> tuple[str, dict[str, str], str | None]:
    """Detect the layout from the header: ``(format, column -> field, series_hint)``."""
    low = [c.strip().lower() for c in columns]
    first = low[0] if low else ""
    if first == "snapped_at":
        rest = low[1:]
        if rest in (["price", "market_cap", "total_volume"], ["market_cap", "total_volume"]):
            return (
                "coingecko",
                {columns[i + 1]: _COINGECKO_FIELDS[c] for i, c in enumerate(rest)},
                None,
            )
    elif (
        first in ("date", "observation_date") and len(columns) == 2 and low[1] not in _YAHOO_FIELDS
    ):
        second = columns[1].strip()
        if second.lower() == "value":
            return (
                ("fred" if first == "date" and columns[0] == "date" else "value"),
                {columns[1]: "value"},
                None,
            )
        if _FRED_ID.fullmatch(second):
            return "fred", {columns[1]: "value"}, second
    elif first in ("date", "datetime") and len(columns) >= 2:
        mapping: dict[str, str] = {}
        ibkr = set(_IBKR_EXTRA) <= set(low[1:])
        for col, name in zip(columns[1:], low[1:], strict=True):
            if name in _YAHOO_FIELDS:
                mapping[col] = _YAHOO_FIELDS[name]
            elif name not in _YAHOO_IGNORED and not (ibkr and name in _IBKR_EXTRA):
                mapping = {}
                break
        if ibkr and "close" in mapping.values():
            # index bars carry no volume (0, or another index's figure): never stored
            return "ibkr", {c: f for c, f in mapping.items() if f != "volume"}, None
        if "close" in mapping.values() or "adj_close" in mapping.values():
            return "yahoo", mapping, None
    raise UnsupportedLayoutError(
        f"{path}: unrecognised CSV header {','.join(columns)!r}; expected one of: {_EXPECTED}"
    )


def _bad_line(path: Path, row: int, what: str, raw: str) -> DataError:
    # row is 0-based over data rows; line 1 is the header
    return DataError(f"{path}:{row + 2}: {what}: {raw!r}; the file was not imported")


def _parse_dates(raw: pd.Series, fmt: str, path: Path) -> pd.DatetimeIndex:
    if fmt == "coingecko" and raw.iloc[0].isdigit():
        nums = pd.to_numeric(raw, errors="coerce")
        if nums.isna().any():
            i = int(np.flatnonzero(nums.isna().to_numpy())[0])
            raise _bad_line(
                path, i, "timestamp is not epoch seconds or milliseconds", str(raw.iloc[i])
            )
        if nums.max() > 10**11:
            return pd.DatetimeIndex(pd.to_datetime(nums, unit="ms")).normalize()
        return pd.DatetimeIndex(pd.to_datetime(nums, unit="s")).normalize()
    # keep the local calendar date of timestamps with offsets ("2020-01-02 00:00:00-05:00")
    dates = pd.to_datetime(raw.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = dates.isna().to_numpy() | ~raw.str.slice(10, 11).isin(["", " ", "T"]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _bad_line(path, i, "date does not parse (expected YYYY-MM-DD)", str(raw.iloc[i]))
    return pd.DatetimeIndex(dates)


def read_text(p: Path) -> str:
    """The file's text (UTF-8, BOM dropped); unreadable or binary files are refused."""
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{p}: file does not exist") from None
    except UnicodeDecodeError:
        raise UnsupportedLayoutError(
            f"{p}: not a UTF-8 text file; expected one of: {_EXPECTED}"
        ) from None
    except OSError as exc:
        raise DataError(f"{p}: cannot read file: {exc.strerror}") from None


def header_of(text: str, p: Path) -> list[str]:
    """The header's column names (stripped); an empty file is refused."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise DataError(f"{p}: empty file; expected a CSV with a header, one of: {_EXPECTED}")
    return [c.strip() for c in first.split(",")]


class _Lines(Sequence[str]):
    """The data lines of a text (header and trailing blank lines left out), split on
    first use: only an error message reads them."""

    def __init__(self, text: str, n: int) -> None:
        self._text = text
        self._n = n
        self._lines: list[str] | None = None

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = self._text.splitlines()[1 : self._n + 1]
        return self._lines

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        return self._split()[i]


def string_table(
    text: str, names: list[str], include: list[str], *, ignore_empty_lines: bool
) -> pa.Table | None:
    """The columns ``include`` of a headed CSV text (its header replaced by ``names``) as
    pyarrow strings, with quoting off (every comma separates), in one pyarrow pass; None
    when pyarrow refuses the text (a line with another field count...) or it has no row:
    the caller's checked reader then names the line."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True),
            parse_options=pacsv.ParseOptions(
                quote_char=False, ignore_empty_lines=ignore_empty_lines
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                include_columns=include,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows else None


def _plain_cells(
    text: str, columns: list[str], wanted: Sequence[str] | None = None
) -> pd.DataFrame | None:
    """:func:`read_cells`'s string cells read in one pyarrow pass, or None unless the text
    is plainly well-formed: no quotes, the header's field count on every line (quoting off,
    every comma separates), lines broken by ``\n`` or ``\r\n`` only, no blank line."""
    if '"' in text or len(set(columns)) != len(columns) or _odd_breaks(text):
        return None
    include = list(columns if wanted is None else wanted)
    table = string_table(text, columns, include, ignore_empty_lines=False)
    if table is None:
        return None
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    return pd.DataFrame(
        {c: pd.Series(pd.array(table.column(c), dtype=dtype)) for c in table.column_names},
        columns=table.column_names,
    )


def read_cells(
    text: str, columns: list[str], p: Path, wanted: Sequence[str] | None = None
) -> tuple[pd.DataFrame, Sequence[str]]:
    """Data rows as strings (``cells``) and the raw lines, refusing a wrong field count.

    For files without quoted fields: every line must have as many commas as the header.
    A plainly well-formed text is read in one pass (:func:`_plain_cells`); the raw lines
    are then split only when an error message needs one. ``wanted`` (columns of the
    header) are the cells the caller reads: a plain text's other columns are counted on
    every line but not kept (a text read line by line keeps them all).
    """
    plain = _plain_cells(text, columns, wanted)
    if plain is not None:
        return plain, _Lines(text, len(plain))
    rows = text.splitlines()[1:]
    while rows and not rows[-1].strip():
        rows.pop()  # trailing blank lines
    ncomma = len(columns) - 1
    counts = np.fromiter((ln.count(",") for ln in rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero(counts != ncomma)
    if wrong.size:
        i = int(wrong[0])
        raise _bad_line(p, i, f"expected {ncomma + 1} fields, got {counts[i] + 1}", rows[i])
    if not rows:
        raise DataError(f"{p}: header only, no data rows")
    cells = pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, nrows=len(rows)
    )
    cells.columns = columns
    return cells, rows


def numbers(raw: pd.Series, col: str, rows: Sequence[str], p: Path) -> np.ndarray:
    """Cells of one column as float64: missing markers are NaN, anything else is refused."""
    fast = _arrow_numbers(raw)
    if fast is not None:
        return fast
    values = pd.to_numeric(raw, errors="coerce")
    nan_at = np.flatnonzero(values.isna().to_numpy())
    if nan_at.size:  # only the unparsed cells are inspected: missing markers or garbage
        missing = raw.iloc[nan_at].str.strip().isin(_MISSING).to_numpy()
        if not missing.all():
            i = int(nan_at[~missing][0])
            raise _bad_line(p, i, f"column {col!r} is not a number", rows[i])
    return values.to_numpy(dtype=np.float64)


def _arrow_numbers(raw: pd.Series) -> np.ndarray | None:
    """:func:`numbers` of cells held by pyarrow, cast by pyarrow in one pass, or None.

    None unless every cell is a missing marker or a finite number without surrounding
    blanks (pyarrow's cast refuses blanks, which ``pandas.to_numeric`` accepts): the
    caller then takes the checked path, which accepts or names the line. On the cells it
    takes the cast gives what ``pandas.to_numeric`` gives (about four times faster).
    """
    import pyarrow as pa
    from pyarrow import compute as pc

    cells = getattr(raw.array, "_pa_array", None)
    if not isinstance(cells, pa.ChunkedArray) or not (
        pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)
    ):
        return None
    missing = pc.is_in(cells, value_set=pa.array(_MISSING, type=cells.type))
    try:
        cast = pc.cast(pc.if_else(missing, pa.scalar(None, cells.type), cells), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
    given = ~np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
    if not np.isfinite(values[given]).all():
        return None
    return values


def parse_dates(raw: pd.Series, fmt: str, path: Path) -> pd.DatetimeIndex:
    """``YYYY-MM-DD`` dates (a time or UTC offset after them is ignored), else refused."""
    return _parse_dates(raw, fmt, path)


def _typed_cells(text: str, columns: list[str], nrows: int) -> pd.DataFrame:
    """The data rows with the date column as text and the others parsed as numbers by
    pandas' C parser (missing markers are NaN); a column holding anything else comes back
    as text, and :func:`numbers` then names the line."""
    cells = pd.read_csv(
        io.StringIO(text),
        dtype={0: str},
        na_values=list(_MISSING),
        keep_default_na=False,
        skip_blank_lines=False,
        nrows=nrows,
    )
    cells.columns = columns
    return cells


_PLAIN_DATE = r"^\d{4}-\d{2}-\d{2}(?:[ T]|$)"
#: Line breaks ``str.splitlines`` knows besides ``\n``, ``\r\n`` and a lone ``\r``.
_ODD_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_FIRST_LINE = re.compile("[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*")


def _odd_breaks(text: str) -> bool:
    """True when ``text`` breaks lines otherwise than by ``\n`` or ``\r\n``, or holds an
    empty line (pyarrow reads one as a row, the checked path drops or refuses it)."""
    if "\n\n" in text or "\n\r\n" in text:
        return True
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return any(c in text for c in (_ODD_BREAKS[:5] if text.isascii() else _ODD_BREAKS))


def _plain_frame(text: str, columns: list[str], mapping: dict[str, str]) -> pd.DataFrame | None:
    """The frame of a plainly well-formed file, read in one pass by pyarrow's CSV reader.

    Plainly well-formed: every line has the header's field count, no quotes, a
    ``YYYY-MM-DD`` date first (a time or offset after it is ignored) and, in the columns
    stored, numbers or missing markers only. Anything else returns None and the caller
    takes the checked path, which reads the same values from such a file and names the
    line of a malformed one. Equivalent to that path (``pandas.read_csv`` of the cells,
    ``pandas.to_datetime(format="%Y-%m-%d")`` of the dates) on every file it accepts.
    """
    import pyarrow as pa
    from pyarrow import compute as pc
    from pyarrow import csv as pacsv

    names = [f"c{i}" for i in range(len(columns))]
    at = {c: names[i] for i, c in enumerate(columns)}
    if len(at) != len(columns) or _odd_breaks(text):
        return None  # a repeated column name, or lines only the checked path splits alike
    wanted = [names[0], *(at[c] for c in mapping)]
    # use_threads: pyarrow's serial reader spends 1-4 ms per file waiting (wall time over
    # its CPU time, under the system allocator the import sets); the threaded one does
    # not, for the same CPU time and the same table
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: (pa.string() if n == names[0] else pa.float64()) for n in wanted},
                include_columns=wanted,
                null_values=list(_MISSING),
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0:
        return None
    raw = pc.utf8_trim_whitespace(table.column(names[0]))
    if not pc.all(pc.match_substring_regex(raw, _PLAIN_DATE)).as_py():
        return None
    days = pc.strptime(pc.utf8_slice_codeunits(raw, 0, 10), "%Y-%m-%d", "s", error_is_null=True)
    if days.null_count:
        return None
    index = pd.DatetimeIndex(
        days.cast(pa.date32()).to_numpy().astype("datetime64[us]"), name="date"
    )
    data = {}
    for col, name in mapping.items():
        values = table.column(at[col])
        if pc.any(pc.invert(pc.is_finite(values))).as_py():
            return None  # "NAN", "inf": the checked path decides what such a cell is
        data[name] = values.to_numpy()
    return pd.DataFrame(data, index=index)


def _checked_frame(
    text: str, columns: list[str], fmt: str, mapping: dict[str, str], p: Path
) -> pd.DataFrame:
    """The frame of any file, each line checked: a malformed one is refused with file:line."""
    ncomma = len(columns) - 1
    rows = text.splitlines()[1:]
    while rows and not rows[-1].strip():
        rows.pop()  # trailing blank lines
    counts = np.fromiter((ln.count(",") for ln in rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero(counts != ncomma)
    if wrong.size:
        i = int(wrong[0])
        raise _bad_line(p, i, f"expected {ncomma + 1} fields, got {counts[i] + 1}", rows[i])
    if not rows:
        raise DataError(f"{p}: header only, no data rows")
    cells = _typed_cells(text, columns, len(rows))
    index = _parse_dates(cells[columns[0]].astype(str).str.strip(), fmt, p)
    data = {}
    text_cells: pd.DataFrame | None = None
    for col, name in mapping.items():
        if cells[col].dtype.kind in "fiu":
            data[name] = cells[col].to_numpy(dtype=np.float64)
            continue
        if text_cells is None:  # a cell the C parser did not take as a number: inspect it
            text_cells = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                nrows=len(rows),
            )
            text_cells.columns = columns
        data[name] = numbers(text_cells[col], col, rows, p)
    return pd.DataFrame(data, index=index.rename("date"))


def read_csv_file(path: str | Path) -> ParsedFile:
    """Read one CSV file into liqflow fields, refusing it whole on any malformed line.

    A plainly well-formed file is read in one pass (:func:`_plain_frame`); any other goes
    through the line-by-line checks that name what is wrong.

    Raises
    ------
    DataError
        Unknown header, or a line whose field count, date or number is malformed (the
        message gives ``file:line``).
    """
    p = Path(path)
    return read_csv_text(p, read_text(p))


def read_csv_text(p: Path, text: str) -> ParsedFile:
    """:func:`read_csv_file` of the text of ``p`` already read (:func:`read_text`)."""
    head = m.group(0) if (m := _FIRST_LINE.match(text)) else ""
    if not head.strip():
        raise DataError(f"{p}: empty file; expected a CSV with a header, one of: {_EXPECTED}")
    columns = [c.strip() for c in head.split(",")]
    fmt, mapping, hint = sniff_header(columns, p)
    frame = _plain_frame(text, columns, mapping) if fmt != "coingecko" else None
    if frame is None:
        frame = _checked_frame(text, columns, fmt, mapping, p)
    check_unique_dates(p, frame.index)
    if not frame.index.is_monotonic_increasing:  # unique dates in order: already sorted
        frame = frame.sort_index()
    return ParsedFile(
        p, fmt, _drop_snapshot_bar(frame) if fmt == "yahoo" else frame, hint, tuple(columns)
    )


_LOWER_OHLCV = ("date", "open", "high", "low", "close", "volume")


def fund_source(parsed: ParsedFile) -> str:
    """Store source of a fund's Yahoo file: its adjustment base (see the module notes)."""
    if parsed.format == "yahoo" and parsed.header == _LOWER_OHLCV and len(parsed.frame):
        return f"yahoo_adj{parsed.frame.index[-1].year}"
    return parsed.source or "yahoo"


def _drop_snapshot_bar(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop a last bar with zero volume after a bar with volume: an intraday snapshot.

    Files appended by scheduled downloads often end with a bar captured during the
    session (volume still 0); its close is not a close. Zero-volume bars elsewhere (no
    volume data in early history) are kept.
    """
    if "volume" not in frame.columns or len(frame) < 2:
        return frame
    vol = frame["volume"].to_numpy()
    if vol[-1] == 0 and vol[-2] > 0:
        return frame.iloc[:-1]
    return frame
