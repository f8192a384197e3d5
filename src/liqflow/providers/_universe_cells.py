"""The cells of the crypto-universe CSV files: rows split, numbers and amounts converted.

The snapshot layouts of :mod:`liqflow.providers.universe_files` are many small files (a
snapshot of 100 rows per file), read cell by cell with the ``csv`` module rules; a cell
that does not convert is refused naming its ``file:line``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow._errors import DataError

__all__: list[str] = []


def _money(raw: object, path: Path, line: int, what: str) -> float:
    if raw is None or raw == "" or raw == "--":
        return np.nan
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace("$", "").replace(",", "")
    try:
        return float(text)
    except ValueError:
        raise DataError(
            f"{path}:{line}: {what} {raw!r} is not an amount like '$1,234.56'"
        ) from None


def _read_csv(path: Path) -> dict[str, list[str]]:
    """The cells of a small CSV file by column (stripped text; blank lines skipped).

    The files of these layouts are many and small (a snapshot of 100 rows per file): the
    ``csv`` module reads them several times faster than a pandas frame is built.
    """
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        rows = _split_rows(text)
        if rows is None:
            rows = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    header = [c.strip() for c in rows[0]] if rows else []
    cols: list[list[str]] = [[] for _ in header]
    for n, row in enumerate(rows[1:], start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path}:{n}: malformed CSV (expected {len(header)} fields, got {len(row)})"
            )
        for k, cell in enumerate(row):
            cols[k].append(cell.strip())
    return dict(zip(header, cols, strict=True))


def _split_rows(text: str) -> list[list[str]] | None:
    """The rows ``csv.reader(..., skipinitialspace=True)`` reads from ``text`` when it has
    no quote, carriage return or NUL and no field over the module's size limit (every
    comma then separates and every ``\n`` ends a row), else None. Cells are stripped by
    the caller, so the leading spaces ``skipinitialspace`` drops need no care here."""
    if '"' in text or "\r" in text or "\x00" in text:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final line break ends the last row
    if (
        len(text) > csv.field_size_limit()
        and max(map(len, lines), default=0) > csv.field_size_limit()
    ):
        return None
    return [ln.split(",") if ln else [] for ln in lines]


def _numbers(col: list[str], path: Path, what: str, *, integer: bool = False) -> np.ndarray:
    """Numbers of a column (``$`` and ``,`` removed; blank = NaN), refused with file:line.

    One conversion of the whole column; only a column that fails it is walked cell by
    cell (:func:`_bad_number`) to name the first bad line.
    """
    text = [raw.replace("$", "").replace(",", "").strip() for raw in col]
    blank = np.fromiter((not t for t in text), dtype=bool, count=len(text))
    try:
        out = np.array([t or "nan" for t in text], dtype=np.float64)
    except ValueError:
        out = None
    if out is not None:
        ok = np.isnan(out) == blank  # a literal "nan" cell is not a blank one
        if integer:
            ok &= np.isfinite(out) & (out == np.round(out))
        if ok.all():
            return out
    raise _bad_number(col, path, what, integer)


def _bad_number(col: list[str], path: Path, what: str, integer: bool) -> DataError:
    """The error naming the first cell of ``col`` that is not a number (or integer)."""
    for i, raw in enumerate(col):
        text = raw.replace("$", "").replace(",", "").strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            value = None
        ok = value is not None and (not math.isnan(value) or not text)
        if ok and integer:
            ok = value is not None and math.isfinite(value) and value == round(value)
        if not ok:
            kind = "n integer" if integer else " number"
            return DataError(f"{path}:{i + 2}: {what} {raw!r} is not a{kind}")
    return DataError(f"{path}: column {what} does not convert to numbers")


def _plain_columns(
    path: Path, wanted: Collection[str]
) -> dict[str, tuple[list[str], np.ndarray]] | None:
    """The cells of a large, plainly well-formed CSV file by column (those whose name in
    lower case is ``wanted``), each column as its distinct stripped cells and the position
    of every row's cell among them; or None.

    Plainly well-formed: what :func:`_split_rows` splits (no quote, carriage return or
    NUL, no field over the ``csv`` module's size limit), the header's field count on
    every line, at least one row. The cells are those of :func:`_read_csv` (stripped the
    same way, blank lines skipped); a file of many rows repeating few values (a monthly
    snapshot table) is converted value by value, not cell by cell. None: the caller
    reads the file with :func:`_read_csv`, which refuses what is malformed.
    """
    from pyarrow import compute as pc

    from liqflow.providers.csv import string_table

    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        return None
    head = text.split("\n", 1)[0]
    if not head.strip() or '"' in text or "\r" in text or "\x00" in text:
        return None
    limit = csv.field_size_limit()
    if len(text) > limit and max(map(len, text.split("\n"))) > limit:
        return None
    header = [c.strip() for c in head.split(",")]
    names = [f"c{k}" for k in range(len(header))]
    include = [n for n, c in zip(names, header, strict=True) if c.lower() in wanted]
    table = string_table(text, names, include, ignore_empty_lines=True)
    if table is None:
        return None
    out = {}
    kept = [c for c in header if c.lower() in wanted]
    for name, col in zip(kept, table.columns, strict=True):
        coded = pc.dictionary_encode(col).combine_chunks()
        distinct = [str(x).strip() for x in coded.dictionary.to_pylist()]
        out[name] = (distinct, coded.indices.to_numpy(zero_copy_only=False))
    return out


def _distinct_numbers(
    col: tuple[list[str], np.ndarray], path: Path, what: str, *, integer: bool = False
) -> np.ndarray | None:
    """:func:`_numbers` of a column of :func:`_plain_columns` (each distinct cell converted
    once), or None where a cell does not convert: :func:`_numbers` of the whole column
    then names its line."""
    distinct, at = col
    try:
        return _numbers(distinct, path, what, integer=integer)[at]
    except DataError:
        return None


_MONTHLY_READ = ("rank", "name", "symbol", "market cap", "price", "snapshot_date")


def _plain_monthly(path: Path) -> pd.DataFrame | None:
    """The frame of a plainly well-formed CoinMarketCap monthly table (the ``cmc_monthly``
    layout of :mod:`liqflow.providers.universe_files`), each distinct cell converted once
    (:func:`_plain_columns`); None: the file is read cell by cell."""
    raw = _plain_columns(path, _MONTHLY_READ)
    if raw is None or len(raw) != len(_MONTHLY_READ):
        return None
    cols = {c.lower(): c for c in raw}
    days, at = raw[cols["snapshot_date"]]
    when = pd.to_datetime(pd.Series(days, dtype=object), format="%Y%m%d", errors="coerce")
    rank = _distinct_numbers(raw[cols["rank"]], path, "Rank", integer=True)
    cap = _distinct_numbers(raw[cols["market cap"]], path, "Market Cap")
    price = _distinct_numbers(raw[cols["price"]], path, "Price")
    if when.isna().any() or rank is None or cap is None or price is None:
        return None

    def text(name: str) -> np.ndarray:
        distinct, where = raw[cols[name]]
        return np.asarray(distinct, dtype=object)[where]

    return pd.DataFrame(
        {
            "date": when.to_numpy(dtype="datetime64[ns]")[at],
            "rank": rank,
            "symbol": text("symbol"),
            "name": text("name"),
            "market_cap": cap,
            "price": price,
        }
    )
