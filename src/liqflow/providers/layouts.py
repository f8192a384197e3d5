"""Files that hold several series, or series in another shape: detected from their content.

:func:`read_table` reads one file into :class:`Part` objects, one per catalogue series it
holds, and lists what it holds but does not import. The layout is recognised from the
header (CSV) or the JSON shape, never from the file name; the file name only picks the
coin of a funding file and the series of a single-series file.

=================  ==========================================================  ===============
format             content                                                     series, source
=================  ==========================================================  ===============
wide               ``date,<COL>,<COL>...``: each column a FRED id or a          each column's
                   catalogue alias (``HY_OAS`` -> hy_spread, ``VIX``,          series; its
                   ``TGA_CLOSE`` -> tga_daily); a blank cell is no             provider
                   observation (weekly and daily columns share one file)        (fred, treasury)
fiscal_data        the Fiscal Data API ``operating_cash_balance`` table         tga_daily,
                   (``record_date,account_type,close_today_bal,                 treasury
                   open_today_bal,...``)
farside            ``Date,Total`` with ``11 Jan 2024`` dates (CSV) or a JSON    etf_flows,
                   array of ``{"Date", <fund>..., "Total"}`` (per fund)        farside /
                                                                               farside_funds
funding_daily      ``date,funding_mean[,funding_abs]`` (daily mean of 8h rates) <coin>_funding
funding_8h         ``timestamp,rate`` (one row per funding, UTC)               (by file name),
                                                                               ccxt:binance
cftc_tff           ``date,<C>_OI,<C>_DEALER_L,...,<C>_HEDGE_S`` per contract    cftc_<c>, cftc
fred_json          JSON ``{"series": {"<FRED id>": [[date, value], ...]}}``     each id's
                                                                               series, fred
=================  ==========================================================  ===============

Units and conventions (each checked on the files described in the data PROVENANCE):

* **Fiscal Data TGA.** The closing balance of the Treasury General Account is the
  ``close_today_bal`` of the account row (``Federal Reserve Account`` to 2021-09-30, renamed
  ``Treasury General Account (TGA)`` from 2021-10-01) up to 2022-04-15; from 2022-04-18 the
  table gives it as the row ``Treasury General Account (TGA) Closing Balance`` whose value
  sits in ``open_today_bal`` (``close_today_bal`` is blank). Other rows (supplementary
  financing, cash investments, the opening balance, Table II totals whose definition
  differs from the DTS totals) are not imported. USD millions.
* **Farside.** US$ millions; ``(x)`` is an outflow of x, ``-`` no figure (fund not yet
  trading): no observation; the trailing ``Total``, ``Average``, ``Maximum`` and
  ``Minimum`` rows are summaries and are dropped. The per-fund JSON was scraped on
  2024-10-27 and the totals CSV later: two days differ by later revisions, so they are two
  sources (``farside_funds``, ``farside``), not one series spliced.
* **Funding.** The ccxt provider stores ``funding_rate`` as the **sum** of the day's
  funding rates (what a long pays per UTC day). Imported files are stored in the same unit:
  an 8-hourly file is summed per UTC day; a daily-mean file is multiplied by
  :data:`FUNDINGS_PER_DAY` (Binance funds at 00, 08 and 16 UTC), which equals the sum of the
  8h file on every common day.
* **CFTC TFF.** Contracts (CME Bitcoin: 5 BTC each). ``HEDGE`` columns are the leveraged
  funds (``Lev_Money``), ``ASSET`` the asset managers, ``DEALER`` the dealers; ``lev_net``
  is leveraged funds' long minus short. Dated on the Tuesday the positions refer to.
* **Wide FRED tables.** Copies of FRED series in FRED's units (RRPONTSYD in USD billions:
  the catalogue's ``scale`` turns it into millions in the panel).

Any malformed cell refuses the whole file with ``file:line`` (CSV) or the JSON record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import DataError, UnsupportedLayoutError
from liqflow.catalog import Catalog
from liqflow.providers._parts import (
    ParsedTable,
    Part,
    _bad,
    _frame,
    _live_source,
    _resolve,
    _sorted_part,
    _unique_dates,
)
from liqflow.providers.csv import (
    header_of,
    numbers,
    parse_dates,
    read_cells,
    read_csv_text,
    read_text,
)

__all__ = [
    "FARSIDE_SUMMARY_ROWS",
    "FUNDINGS_PER_DAY",
    "TGA_SWITCH",
    "ParsedTable",
    "Part",
    "farside_number",
    "read_table",
    "tga_closing_balance",
]

#: Binance perpetuals fund every 8 hours: three fundings per UTC day.
FUNDINGS_PER_DAY = 3
#: First day the Fiscal Data table gives the TGA closing balance as its own row.
TGA_SWITCH = pd.Timestamp("2022-04-18")
#: Farside's summary rows (dropped).
FARSIDE_SUMMARY_ROWS = ("Total", "Average", "Maximum", "Minimum")

_TGA_ACCOUNTS = ("Federal Reserve Account", "Treasury General Account (TGA)")
_TGA_CLOSE_ROW = "Treasury General Account (TGA) Closing Balance"
_DTS_COLUMNS = ("record_date", "account_type", "close_today_bal", "open_today_bal")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_COT_COLUMN = re.compile(
    r"([A-Z0-9]+)_(OI|DEALER_[LS]|ASSET_[LS]|HEDGE_[LS]|PROD_[LS]|SWAP_[LS]|MM_[LS])"
)
_COT_FIELDS = {
    "OI": "open_interest",
    "HEDGE_L": "lev_long",
    "HEDGE_S": "lev_short",
    "ASSET_L": "am_long",
    "ASSET_S": "am_short",
    "DEALER_L": "dealer_long",
    "DEALER_S": "dealer_short",
}
_YAHOO_NAMES = {"open", "high", "low", "close", "adj close", "adj_close", "volume"}
_FARSIDE_DATE = "%d %b %Y"
_NOT_CATALOGUED = "no catalogue series of that name"


# --- CSV layouts ------------------------------------------------------------------------
def _is_wide(columns: list[str], catalog: Catalog) -> bool:
    low = [c.lower() for c in columns]
    if low[0] not in ("date", "observation_date") or len(columns) < 2:
        return False
    rest = columns[1:]
    if any(c.lower() in _YAHOO_NAMES or c.lower() == "value" or not _ID.fullmatch(c) for c in rest):
        return False
    resolved = sum(_resolve(c, catalog) is not None for c in rest)
    return resolved > 0 or len(rest) > 1


def _read_wide(text: str, columns: list[str], path: Path, catalog: Catalog) -> ParsedTable:
    # only the columns that name a catalogue series are converted
    wanted = [columns[0], *(c for c in columns[1:] if _resolve(c, catalog) is not None)]
    cells, rows = read_cells(text, columns, path, wanted)
    dates = parse_dates(cells[columns[0]].astype(str).str.strip(), "wide", path)
    lines = np.arange(2, len(rows) + 2)
    _unique_dates(dates, lines, path)
    parts: list[Part] = []
    skipped: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for col in columns[1:]:
        spec = _resolve(col, catalog)
        if spec is None:
            skipped.append((col, _NOT_CATALOGUED))
            continue
        if spec.id in seen:
            skipped.append((col, f"{spec.id} already read from column {seen[spec.id]!r}"))
            continue
        seen[spec.id] = col
        values = numbers(cells[col], col, rows, path)
        ok = ~np.isnan(values)
        if not ok.any():
            skipped.append((col, "no observations"))
            continue
        parts.append(
            _sorted_part(
                col,
                dates[ok],
                {"value": values[ok]},
                lines[ok],
                path,
                series_id=spec.id,
                source=_live_source(spec),
            )
        )
    return ParsedTable(path, "wide", tuple(parts), tuple(skipped))


def _tga_rows(table: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """(rows read from ``close_today_bal``, mask of the rows that hold the TGA close)."""
    dates = pd.to_datetime(table["record_date"], format="%Y-%m-%d")
    kind = table["account_type"].astype(str).str.strip()
    before = (dates < TGA_SWITCH) & kind.isin(_TGA_ACCOUNTS)
    after = (dates >= TGA_SWITCH) & (kind == _TGA_CLOSE_ROW)
    return before, (before | after).to_numpy()


def tga_closing_balance(table: pd.DataFrame) -> pd.Series:
    """The TGA closing balance from rows of the Fiscal Data ``operating_cash_balance`` table.

    Parameters
    ----------
    table : DataFrame
        Columns ``record_date``, ``account_type``, ``close_today_bal``, ``open_today_bal``
        (strings or numbers, as served by the API).

    Returns
    -------
    Series
        USD millions by ``record_date`` (float64; NaN where the chosen cell is blank):
        ``close_today_bal`` of the account row before :data:`TGA_SWITCH`, the closing-balance
        row's ``open_today_bal`` from then on (see the module notes).
    """
    dates = pd.to_datetime(table["record_date"], format="%Y-%m-%d")
    before, pick = _tga_rows(table)
    value = pd.to_numeric(
        table["close_today_bal"].where(before, table["open_today_bal"]), errors="coerce"
    )
    return pd.Series(
        value.to_numpy(dtype=np.float64)[pick],
        index=pd.DatetimeIndex(dates[pick], name="date"),
        name="tga_daily",
    )


#: The columns of the Fiscal Data table the TGA closing balance is read from.
_FISCAL_READ = ("record_date", "account_type", "close_today_bal", "open_today_bal")


def _read_fiscal_data(text: str, columns: list[str], path: Path) -> ParsedTable:
    cells, rows = read_cells(text, columns, path, [c for c in columns if c in _FISCAL_READ])
    parse_dates(cells["record_date"].astype(str).str.strip(), "fiscal_data", path)
    for col in ("close_today_bal", "open_today_bal"):
        numbers(cells[col], col, rows, path)  # refuses garbage with file:line
    tga = tga_closing_balance(cells)
    kind = cells["account_type"].astype(str).str.strip()
    picked = np.flatnonzero(_tga_rows(cells)[1])
    lines = picked + 2
    blank = np.flatnonzero(np.isnan(tga.to_numpy()))
    if blank.size:
        i = int(blank[0])
        raise _bad(path, int(lines[i]), "TGA closing balance is blank", rows[int(picked[i])])
    part = _sorted_part(
        "TGA closing balance",
        pd.DatetimeIndex(tga.index),
        {"value": tga.to_numpy()},
        lines,
        path,
        series_id="tga_daily",
        source="treasury",
    )
    others = sorted(set(kind.unique().tolist()) - set(_TGA_ACCOUNTS) - {_TGA_CLOSE_ROW})
    return ParsedTable(
        path, "fiscal_data", (part,), tuple((k, "not the TGA closing balance") for k in others)
    )


def farside_number(raw: str) -> float | None:
    """A Farside cell in US$ m: ``"1,045.0"``, ``"(95.1)"`` = -95.1, ``"-"``/blank = NaN.

    Returns None for a cell that is none of these.
    """
    s = raw.strip().replace(",", "")
    if s in ("", "-"):
        return np.nan
    neg = s.startswith("(") and s.endswith(")")
    try:
        value = float(s[1:-1] if neg else s)
    except ValueError:
        return None
    return -value if neg else value


def _farside_rows(
    records: Iterable[tuple[str, str, str]], path: Path, fmt: str
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """(where, date text, total text) records -> dates, values, line numbers."""
    daily = [r for r in records if r[1].strip() not in FARSIDE_SUMMARY_ROWS]
    # every date parsed at once; the records are then checked in order, as one by one
    parsed = pd.to_datetime(
        pd.Series([r[1].strip() for r in daily], dtype=object),
        format=_FARSIDE_DATE,
        errors="coerce",
    )
    dates, values, lines = [], [], []
    for (where, day, total), when in zip(daily, parsed, strict=True):
        if pd.isna(when):
            raise DataError(
                f"{where}: date {day!r} does not parse (expected like '11 Jan 2024'); "
                "the file was not imported"
            ) from None
        value = farside_number(total)
        if value is None:
            raise DataError(
                f"{where}: Total {total!r} is not a Farside number (like 1,045.0, (95.1) or -); "
                "the file was not imported"
            )
        dates.append(when)
        values.append(value)
        lines.append(int(where.rsplit(":", 1)[1]) if fmt == "csv" else 0)
    if not dates:
        raise DataError(f"{path}: no daily rows (only summary rows); the file was not imported")
    return pd.DatetimeIndex(dates), np.asarray(values, dtype=np.float64), np.asarray(lines)


def _read_farside_csv(text: str, path: Path) -> ParsedTable:
    reader = csv.reader(io.StringIO(text))
    next(reader)
    records = []
    for n, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 2:
            raise _bad(path, n, f"expected 2 fields, got {len(row)}", ",".join(row))
        records.append((f"{path}:{n}", row[0], row[1]))
    dates, values, lines = _farside_rows(records, path, "csv")
    ok = ~np.isnan(values)
    part = _sorted_part(
        "Total",
        dates[ok],
        {"value": values[ok]},
        lines[ok],
        path,
        series_id="etf_flows",
        source="farside",
    )
    return ParsedTable(path, "farside", (part,))


def _read_funding_daily(text: str, columns: list[str], path: Path) -> ParsedTable:
    cells, rows = read_cells(text, columns, path)
    dates = parse_dates(cells[columns[0]].astype(str).str.strip(), "funding", path)
    mean = numbers(cells[columns[1]], columns[1], rows, path)
    ok = ~np.isnan(mean)
    lines = np.arange(2, len(rows) + 2)
    part = _sorted_part(
        columns[1], dates[ok], {"funding_rate": mean[ok] * FUNDINGS_PER_DAY}, lines[ok], path
    )
    skipped = tuple((c, "not a stored field") for c in columns[2:])
    return ParsedTable(path, "funding_daily", (part,), skipped)


def _read_funding_8h(text: str, columns: list[str], path: Path) -> ParsedTable:
    cells, rows = read_cells(text, columns, path)
    dates = parse_dates(cells[columns[0]].astype(str).str.strip(), "funding", path)
    rate = numbers(cells[columns[1]], columns[1], rows, path)
    lines = np.arange(2, len(rows) + 2)
    ok = ~np.isnan(rate)
    daily = pd.DataFrame({"rate": rate[ok], "line": lines[ok]}, index=dates[ok])
    grouped = daily.groupby(level=0, sort=True)
    total = grouped["rate"].sum()
    frame = _frame(pd.DatetimeIndex(total.index), {"funding_rate": total.to_numpy()})
    first = grouped["line"].min().to_numpy()
    return ParsedTable(path, "funding_8h", (Part(columns[1], frame, lines=first),))


def _is_cftc(columns: list[str]) -> bool:
    if columns[0].lower() != "date" or len(columns) < 3:
        return False
    matched = [_COT_COLUMN.fullmatch(c) for c in columns[1:]]
    return all(matched) and any(m is not None and m.group(2) == "OI" for m in matched)


def _read_cftc(text: str, columns: list[str], path: Path, catalog: Catalog) -> ParsedTable:
    cells, rows = read_cells(text, columns, path)
    dates = parse_dates(cells[columns[0]].astype(str).str.strip(), "cftc", path)
    lines = np.arange(2, len(rows) + 2)
    by_contract: dict[str, dict[str, str]] = {}
    for col in columns[1:]:
        m = _COT_COLUMN.fullmatch(col)
        assert m is not None  # _is_cftc checked every column
        by_contract.setdefault(m.group(1), {})[m.group(2)] = col
    parts, skipped = [], []
    for contract, cols in by_contract.items():
        sid = f"cftc_{contract.lower()}"
        if sid not in catalog or catalog[sid].provider != "cftc":
            skipped.append((f"{contract}_*", f"no catalogue series {sid!r}"))
            continue
        spec = catalog[sid]
        data = {
            _COT_FIELDS[k]: numbers(cells[c], c, rows, path)
            for k, c in cols.items()
            if k in _COT_FIELDS
        }
        if "lev_long" in data and "lev_short" in data:
            data["lev_net"] = data["lev_long"] - data["lev_short"]
        data = {f: data[f] for f in spec.fields if f in data}
        ok = ~np.all([np.isnan(v) for v in data.values()], axis=0)
        parts.append(
            _sorted_part(
                f"{contract}_*",
                dates[ok],
                {k: v[ok] for k, v in data.items()},
                lines[ok],
                path,
                series_id=sid,
                source="cftc",
            )
        )
    return ParsedTable(path, "cftc_tff", tuple(parts), tuple(skipped))


def _read_csv_layout(path: Path, catalog: Catalog) -> ParsedTable:
    text = read_text(path)
    columns = header_of(text, path)
    low = [c.lower() for c in columns]
    if all(c in low for c in _DTS_COLUMNS):
        return _read_fiscal_data(text, low, path)
    if low == ["date", "total"]:
        return _read_farside_csv(text, path)
    if low[:2] == ["date", "funding_mean"]:
        return _read_funding_daily(text, low, path)
    if low == ["timestamp", "rate"]:
        return _read_funding_8h(text, low, path)
    if low == ["series_id", "last_updated"]:
        return ParsedTable(
            path, "release_dates", (), (("*", "FRED release metadata: no observations"),)
        )
    if _is_cftc(columns):
        return _read_cftc(text, columns, path, catalog)
    if _is_wide(columns, catalog):
        return _read_wide(text, columns, path, catalog)
    parsed = read_csv_text(path, text)
    part = Part("*", parsed.frame, source=parsed.source, hint=parsed.series_hint)
    return ParsedTable(path, parsed.format, (part,), single=parsed)


# --- JSON layouts -----------------------------------------------------------------------
def _read_fred_json(doc: Mapping[str, Any], path: Path, catalog: Catalog) -> ParsedTable:
    series = doc["series"]
    parts, skipped = [], []
    for sid_raw, obs in series.items():
        spec = _resolve(str(sid_raw), catalog)
        if spec is None:
            skipped.append((str(sid_raw), _NOT_CATALOGUED))
            continue
        if not isinstance(obs, list) or not all(
            isinstance(o, list | tuple) and len(o) == 2 for o in obs
        ):
            raise DataError(
                f"{path}: series {sid_raw!r} must be a list of [date, value] pairs; "
                "the file was not imported"
            )
        raw_dates = pd.Series([str(o[0]) for o in obs], dtype=str)
        dates = parse_dates(raw_dates, "fred_json", path) if len(obs) else pd.DatetimeIndex([])
        values = pd.to_numeric(pd.Series([o[1] for o in obs], dtype=object), errors="coerce")
        bad = values.isna().to_numpy() & np.array([o[1] is not None for o in obs], dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{path}: series {sid_raw!r} record {i + 1} ({obs[i][0]}): value {obs[i][1]!r} "
                "is not a number; the file was not imported"
            )
        ok = ~values.isna().to_numpy()
        if dates[ok].duplicated().any():
            raise DataError(
                f"{path}: series {sid_raw!r} gives a date twice; the file was not imported"
            )
        frame = _frame(dates[ok], {"value": values.to_numpy(dtype=np.float64)[ok]}).sort_index()
        parts.append(Part(str(sid_raw), frame, series_id=spec.id, source=_live_source(spec)))
    return ParsedTable(path, "fred_json", tuple(parts), tuple(skipped))


def _read_farside_json(doc: list[Any], path: Path) -> ParsedTable:
    records = []
    funds: set[str] = set()
    for n, rec in enumerate(doc, start=1):
        if not isinstance(rec, dict) or "Date" not in rec or "Total" not in rec:
            raise DataError(
                f"{path}: record {n} must be an object with 'Date' and 'Total'; "
                "the file was not imported"
            )
        funds |= set(rec) - {"Date", "Total"}
        records.append((f"{path}: record {n}", str(rec["Date"]), str(rec["Total"])))
    dates, values, _ = _farside_rows(records, path, "json")
    ok = ~np.isnan(values)
    dup = dates[ok].duplicated()
    if dup.any():
        raise DataError(
            f"{path}: date {dates[ok][dup][0]:%Y-%m-%d} is given twice; the file was not imported"
        )
    frame = _frame(dates[ok], {"value": values[ok]}).sort_index()
    part = Part("Total", frame, series_id="etf_flows", source="farside_funds")
    skipped = ((", ".join(sorted(funds)), "per-fund flows: etf_flows stores the total"),)
    return ParsedTable(path, "farside", (part,), skipped if funds else ())


def _read_json_layout(path: Path, catalog: Catalog) -> ParsedTable:
    text = read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnsupportedLayoutError(
            f"{path}: not a JSON document liqflow reads (line {exc.lineno}: {exc.msg}); "
            "expected a FRED cache {'series': {ID: [[date, value], ...]}} or a Farside array"
        ) from None
    if isinstance(doc, dict) and isinstance(doc.get("series"), dict):
        return _read_fred_json(doc, path, catalog)
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "Total" in doc[0]:
        return _read_farside_json(doc, path)
    raise UnsupportedLayoutError(
        f"{path}: JSON shape not recognised; expected a FRED cache "
        "{'series': {ID: [[date, value], ...]}} or a Farside array of {Date, ..., Total}"
    )


def read_table(path: str | Path, catalog: Catalog) -> ParsedTable:
    """Read one data file into the catalogue series it holds.

    Parameters
    ----------
    path : path
        A ``.csv`` or ``.json`` file.
    catalog : Catalog
        Resolves wide columns, FRED ids and CFTC contracts to series.

    Raises
    ------
    UnsupportedLayoutError
        The header or JSON shape is not a layout liqflow reads.
    DataError
        The file matched a layout and a line, cell or record is malformed (the message
        gives ``file:line`` or the record).
    """
    p = Path(path)
    if p.suffix.lower() == ".json":
        return _read_json_layout(p, catalog)
    if p.suffix.lower() != ".csv":
        raise UnsupportedLayoutError(
            f"{p}: {p.suffix} files are not a layout liqflow imports yet; expected .csv or .json"
        )
    return _read_csv_layout(p, catalog)
