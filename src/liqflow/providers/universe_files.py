"""Readers of the crypto-universe files: ranked snapshots and coin price histories.

Layouts are detected from content (the header, or the keys of the first JSON record);
the file name is used only for the date of one-file-per-date layouts:

================  ==========================================================  ============
layout            content                                                     gives
================  ==========================================================  ============
cmc_weekly        JSON lines ``{"Rank", "Name", "Symbol", "Market Cap",       snapshots
                  "Price", ..., "date": <ms epoch>}``, values like
                  ``"$1,234.56"``; ``Name`` = symbol + name
cmc_monthly       CSV ``Rank,Name,Symbol,Market Cap,Price,...,snapshot_date``  snapshots
                  (``snapshot_date`` YYYYMMDD)
cmc_monthly_mcap  CSV ``coin,mkt_cap``, one file per date named YYYYMMDD.csv   snapshots
coingecko_top100  CSV ``rank,name,symbol,price``, one file per day, the date   snapshots
                  (YYYY-MM-DD) in its name
coingecko_coin    CSV ``date,price,total_volume,market_cap,coin_name``         coin prices
                  (``coin_name`` = CoinGecko id)
auxiliary         JSON ``{"YYYY-MM-DD": ["BTC-USD", ...]}``: ranked ticker     nothing (no
                  lists without market caps or a documented upstream          market caps)
================  ==========================================================  ============

Coin price files in the layouts of :mod:`liqflow.providers.csv` (Yahoo ``XEM-USD-1d.csv``,
CoinGecko ``lunc-usd-max.csv``) that match no catalogue series are taken as coin prices by
:func:`coin_from_ticker_file`.

A file that matches a layout and then fails to parse is refused with ``file:line``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.providers._universe_cells import _money, _numbers, _plain_monthly, _read_csv

__all__ = [
    "KNOWN_WRONG_WEEKS",
    "LAYOUTS",
    "ONE_SNAPSHOT_PER_FILE",
    "CoinPrices",
    "UniverseFile",
    "coin_from_ticker_file",
    "read_snapshot_files",
    "read_universe_file",
    "sniff_universe_layout",
]

LAYOUTS = (
    "cmc_weekly",
    "cmc_monthly",
    "cmc_monthly_mcap",
    "coingecko_top100",
    "coingecko_coin",
    "auxiliary",
)
_ACCEPTED = (
    "CoinMarketCap weekly JSON lines (Rank, Name, Symbol, Market Cap, Price, date); "
    "CSV 'Rank,Name,Symbol,Market Cap,Price,...,snapshot_date'; CSV 'coin,mkt_cap' named "
    "YYYYMMDD.csv; CSV 'rank,name,symbol,price' with YYYY-MM-DD in its name; CSV "
    "'date,price,total_volume,market_cap,coin_name'; JSON {'YYYY-MM-DD': [tickers]}"
)
#: Weeks of the CoinMarketCap weekly scrape known to be wrong (USDT $137B, order differs;
#: independent scrapes disagree), dropped on import.
KNOWN_WRONG_WEEKS = (pd.Timestamp("2024-01-21"), pd.Timestamp("2024-01-28"))
_WEEKLY_KEYS = {"Rank", "Name", "Symbol", "Market Cap", "Price", "date"}
_MONTHLY_COLS = ("rank", "name", "symbol", "market cap", "price")
_AUX_REASON = (
    "auxiliary: monthly ranked ticker lists with no market caps, prices or documented "
    "upstream; not a series, not imported (the universe comes from the ranked snapshots)"
)


@dataclass(frozen=True)
class CoinPrices:
    """Daily prices of one coin from one source (``close`` and, when given,
    ``market_cap`` and ``volume``), with what identifies the coin."""

    symbol: str
    name: str
    coin_id: str
    source: str
    frame: pd.DataFrame


@dataclass(frozen=True)
class UniverseFile:
    """What one universe file holds: snapshot rows, coin prices, or nothing (auxiliary)."""

    path: Path
    layout: str
    snapshots: pd.DataFrame | None = None
    prices: CoinPrices | None = None
    notes: tuple[str, ...] = ()
    auxiliary: str | None = None

    @property
    def rows(self) -> int:
        if self.snapshots is not None:
            return len(self.snapshots)
        return len(self.prices.frame) if self.prices is not None else 0

    @property
    def first(self) -> pd.Timestamp | None:
        return self._dates().min() if self.rows else None

    @property
    def last(self) -> pd.Timestamp | None:
        return self._dates().max() if self.rows else None

    def _dates(self) -> pd.DatetimeIndex:
        if self.snapshots is not None:
            return pd.DatetimeIndex(self.snapshots["date"])
        assert self.prices is not None
        return pd.DatetimeIndex(self.prices.frame.index)


def _first_line(path: Path) -> str:
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
            for line in fh:
                if line.strip():
                    return line.strip()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    return ""


def sniff_universe_layout(path: str | Path) -> str | None:
    """The layout of ``path`` (one of :data:`LAYOUTS`), or None when it is none of them."""
    p = Path(path)
    head = _first_line(p)
    if not head:
        return None
    if head.startswith("{"):
        rec = None
        # a weekly record names its keys on its line; a one-line JSON document that does
        # not (a FRED cache of many MB) is not parsed here only to be read again
        if all(f'"{k}"' in head for k in _WEEKLY_KEYS):
            try:
                rec = json.loads(head)
            except json.JSONDecodeError:
                rec = None
        if isinstance(rec, dict) and set(rec) >= _WEEKLY_KEYS:
            return "cmc_weekly"
        if head == "{" or re.match(r'^\{\s*"\d{4}-\d{2}-\d{2}"\s*:', head):
            return "auxiliary" if _aux_like(p) else None
        return None
    cols = [c.strip().strip('"').lower() for c in head.split(",")]
    if tuple(cols[:5]) == _MONTHLY_COLS and "snapshot_date" in cols:
        return "cmc_monthly"
    if cols == ["coin", "mkt_cap"]:
        return "cmc_monthly_mcap"
    if cols == ["rank", "name", "symbol", "price"]:
        return "coingecko_top100"
    if cols == ["date", "price", "total_volume", "market_cap", "coin_name"]:
        return "coingecko_coin"
    return None


def _aux_like(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return (
        isinstance(doc, dict)
        and bool(doc)
        and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(k)) for k in doc)
        and all(isinstance(v, list) for v in doc.values())
    )


def _weekly_dates(ms: list[int], lines: list[int], raw: list[object], path: Path) -> np.ndarray:
    """The record dates (milliseconds since 1970) as days, converted at once; a value no
    Timestamp holds is refused naming its line."""
    try:
        return pd.to_datetime(np.asarray(ms, dtype=np.int64), unit="ms").normalize().to_numpy()
    except (ValueError, OverflowError):
        for value, line_no, rank in zip(ms, lines, raw, strict=True):
            try:
                pd.Timestamp(value, unit="ms")
            except (ValueError, OverflowError):
                raise DataError(
                    f"{path}:{line_no}: Rank {rank!r} or date {value!r} is not "
                    "an integer (date: milliseconds since 1970)"
                ) from None
        raise


def _read_weekly(path: Path) -> UniverseFile:
    rows = []
    ms: list[int] = []
    lines: list[int] = []
    ranks: list[object] = []
    with path.open("r", encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{line_no}: not a JSON record ({exc.msg})") from None
            if not isinstance(rec, dict) or not set(rec) >= _WEEKLY_KEYS:
                raise DataError(
                    f"{path}:{line_no}: record lacks {sorted(_WEEKLY_KEYS)}; got "
                    f"{sorted(rec) if isinstance(rec, dict) else type(rec).__name__}"
                )
            sym = str(rec["Symbol"]).strip()
            full = str(rec["Name"]).strip()
            name = full[len(sym) :] if full.startswith(sym) and len(full) > len(sym) else full
            try:
                rank = int(rec["Rank"])
                stamp = int(rec["date"])
            except (TypeError, ValueError):
                raise DataError(
                    f"{path}:{line_no}: Rank {rec['Rank']!r} or date {rec['date']!r} is not "
                    "an integer (date: milliseconds since 1970)"
                ) from None
            cap = _money(rec["Market Cap"], path, line_no, "Market Cap")
            price = _money(rec["Price"], path, line_no, "Price")
            rows.append((rank, sym, name, cap, price))
            ms.append(stamp)
            lines.append(line_no)
            ranks.append(rec["Rank"])
    frame = pd.DataFrame(rows, columns=["rank", "symbol", "name", "market_cap", "price"])
    frame.insert(0, "date", _weekly_dates(ms, lines, ranks, path))
    wrong = frame["date"].isin(KNOWN_WRONG_WEEKS)
    notes: tuple[str, ...] = ()
    if wrong.any():
        weeks = ", ".join(f"{d:%Y-%m-%d}" for d in sorted(frame.loc[wrong, "date"].unique()))
        notes = (f"dropped {int(wrong.sum())} rows of the weeks {weeks} (known wrong)",)
    return UniverseFile(path, "cmc_weekly", _snap(frame[~wrong], "cmc_weekly", path), None, notes)


_SNAP_COLUMNS = ("date", "rank", "coin_id", "symbol", "name", "market_cap", "price", "source")


def _snap(cols: Mapping[str, Any] | pd.DataFrame, source: str, path: Path) -> pd.DataFrame:
    """Snapshot rows in the store's columns from per-column values (a frame or a dict of
    arrays, lists or scalars), built once; a rank given twice on one date is refused."""
    return _snap_frame(_snap_arrays(cols, path), source)


def _snap_arrays(cols: Mapping[str, Any] | pd.DataFrame, path: Path) -> dict[str, np.ndarray]:
    """The columns of :func:`_snap` as arrays of one length (scalars repeated), checked:
    a rank given twice on one date is refused naming ``path``."""
    rank = np.asarray(cols["rank"]).astype(np.int64)
    n = len(rank)
    raw_date = cols["date"]
    if isinstance(raw_date, pd.Timestamp):
        date = np.full(n, raw_date.as_unit("ns").to_datetime64())
    else:
        date = pd.to_datetime(pd.Series(raw_date)).to_numpy(dtype="datetime64[ns]")

    def column(name: str, dtype: type) -> np.ndarray:
        v = cols[name]
        return np.full(n, v, dtype=dtype) if np.ndim(v) == 0 else np.asarray(v, dtype=dtype)

    order = np.lexsort((rank, date))
    same = (date[order][1:] == date[order][:-1]) & (rank[order][1:] == rank[order][:-1])
    if same.any():
        i = int(order[1:][same][0])
        raise DataError(
            f"{path}: rank {int(rank[i])} appears twice in the snapshot of "
            f"{pd.Timestamp(date[i]):%Y-%m-%d}; a snapshot ranks each coin once"
        )
    return {
        "date": date,
        "rank": rank,
        "symbol": column("symbol", object),
        "name": column("name", object),
        "market_cap": column("market_cap", np.float64),
        "price": column("price", np.float64),
    }


def _snap_frame(arrays: Mapping[str, np.ndarray], source: str) -> pd.DataFrame:
    n = len(arrays["rank"])
    return pd.DataFrame(
        {
            "date": arrays["date"],
            "rank": arrays["rank"],
            "coin_id": np.full(n, "", dtype=object),
            "symbol": arrays["symbol"],
            "name": arrays["name"],
            "market_cap": arrays["market_cap"],
            "price": arrays["price"],
            "source": np.full(n, source, dtype=object),
        },
        columns=list(_SNAP_COLUMNS),
    )


def _read_monthly(path: Path) -> UniverseFile:
    plain = _plain_monthly(path)
    if plain is not None:
        return UniverseFile(path, "cmc_monthly", _snap(plain, "cmc_monthly", path))
    raw = _read_csv(path)
    cols = {c.lower(): c for c in raw}
    days = pd.Series(raw[cols["snapshot_date"]], dtype=object)
    when = pd.to_datetime(days, format="%Y%m%d", errors="coerce")
    if when.isna().any():
        i = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise DataError(f"{path}:{i + 2}: snapshot_date {days.iloc[i]!r} is not YYYYMMDD")
    frame = pd.DataFrame(
        {
            "date": when,
            "rank": _numbers(raw[cols["rank"]], path, "Rank", integer=True),
            "symbol": raw[cols["symbol"]],
            "name": raw[cols["name"]],
            "market_cap": _numbers(raw[cols["market cap"]], path, "Market Cap"),
            "price": _numbers(raw[cols["price"]], path, "Price"),
        }
    )
    return UniverseFile(path, "cmc_monthly", _snap(frame, "cmc_monthly", path))


def _date_in_name(path: Path, pattern: str, fmt: str, example: str) -> pd.Timestamp:
    m = re.search(pattern, path.stem)
    if m is not None:
        try:  # the pattern matched digits only: strptime reads them as pandas would
            return pd.Timestamp(dt.datetime.strptime(m.group(0), fmt))
        except ValueError:
            pass
    raise DataError(
        f"{path}: this layout holds one snapshot per file and takes its date from the "
        f"file name, which must contain a date like {example}; got {path.name!r}"
    )


def _mcap_columns(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The snapshot columns of a ``cmc_monthly_mcap`` file, and its notes."""
    day = _date_in_name(path, r"(?<!\d)\d{8}(?!\d)", "%Y%m%d", "20180107.csv")
    raw = _read_csv(path)
    caps = _numbers(raw["mkt_cap"], path, "mkt_cap")
    symbols = np.asarray(raw["coin"], dtype=object)
    # a repeated symbol in one file is the same row twice: keep the larger
    order = np.argsort(-np.nan_to_num(caps, nan=-np.inf), kind="stable")
    first: dict[str, int] = {}
    for i in order.tolist():
        first.setdefault(symbols[i], i)
    keep = list(first.values())
    dups = len(order) - len(keep)
    cols = {
        "date": day,
        "rank": np.arange(1, len(keep) + 1),
        "symbol": symbols[keep],
        "name": "",
        "market_cap": caps[keep],
        "price": np.nan,
    }
    return cols, ((f"{dups} repeated symbol(s) kept once",) if dups else ())


def _top100_columns(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The snapshot columns of a ``coingecko_top100`` file (no notes)."""
    day = _date_in_name(path, r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", "prices_2025-08-05.csv")
    raw = _read_csv(path)
    cols = {
        "date": day,
        "rank": _numbers(raw["rank"], path, "rank", integer=True),
        "symbol": [x.upper() for x in raw["symbol"]],
        "name": raw["name"],
        "market_cap": np.nan,
        "price": _numbers(raw["price"], path, "price"),
    }
    return cols, ()


#: Layouts of one small snapshot per file (hundreds of files): :func:`read_snapshot_files`
#: builds the rows of many such files into one frame.
ONE_SNAPSHOT_PER_FILE = {"cmc_monthly_mcap": _mcap_columns, "coingecko_top100": _top100_columns}


def _read_mcap(path: Path) -> UniverseFile:
    cols, notes = _mcap_columns(path)
    return UniverseFile(
        path, "cmc_monthly_mcap", _snap(cols, "cmc_monthly_mcap", path), None, notes
    )


def _read_top100(path: Path) -> UniverseFile:
    cols, notes = _top100_columns(path)
    return UniverseFile(
        path, "coingecko_top100", _snap(cols, "coingecko_top100", path), None, notes
    )


def read_snapshot_files(paths: Sequence[Path], layout: str) -> list[UniverseFile | DataError]:
    """Files of one layout of :data:`ONE_SNAPSHOT_PER_FILE`, each read and checked as
    :func:`read_universe_file` reads it, their rows built into one frame.

    Returns, for each path in order, its :class:`UniverseFile` (whose ``snapshots`` is its
    rows of that frame, equal to what :func:`read_universe_file` gives) or the
    :class:`DataError` that refuses it. A pandas frame costs about as much to build for
    100 rows as the parsing of the file; one frame for all of them is built once.
    """
    if layout not in ONE_SNAPSHOT_PER_FILE:
        raise DataError(f"layout must be one of {sorted(ONE_SNAPSHOT_PER_FILE)}, got {layout!r}")
    reader = ONE_SNAPSHOT_PER_FILE[layout]
    out: list[UniverseFile | DataError] = []
    arrays: list[dict[str, np.ndarray]] = []
    notes: list[tuple[str, ...]] = []
    for path in paths:
        try:
            cols, said = reader(path)
            arrays.append(_snap_arrays(cols, path))
        except DataError as exc:
            out.append(exc)
            continue
        notes.append(said)
        out.append(UniverseFile(path, layout))  # replaced below, once the frame is built
    if not arrays:
        return out
    whole = _snap_frame({k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}, layout)
    ends = np.cumsum([len(a["rank"]) for a in arrays]).tolist()
    starts = [0, *ends[:-1]]
    spans = iter(zip(starts, ends, notes, strict=True))
    for k, item in enumerate(out):
        if isinstance(item, UniverseFile):
            a, b, said = next(spans)
            out[k] = UniverseFile(
                item.path, layout, whole.iloc[a:b].reset_index(drop=True), None, said
            )
    return out


_COIN_COLUMNS = ("date", "price", "total_volume", "market_cap", "coin_name")


def _plain_coin_frame(path: Path) -> tuple[pd.DataFrame, list[str]] | None:
    """A ``coingecko_coin`` file read in one pyarrow pass: (frame, coin ids), or None.

    Only a plainly well-formed file is taken (the header's field count on every line, no
    quotes, a ``YYYY-MM-DD`` date first, plain numbers or blanks); anything else returns
    None and :func:`_read_coingecko_coin` reads it cell by cell, naming a bad line. The
    two readings give the same frame on every file this one accepts.
    """
    import pyarrow as pa
    from pyarrow import compute as pc
    from pyarrow import csv as pacsv

    numeric = {"price": "close", "market_cap": "market_cap", "total_volume": "volume"}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=list(_COIN_COLUMNS), skip_rows=1, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    c: pa.float64() if c in numeric else pa.string() for c in _COIN_COLUMNS
                },
                null_values=[""],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    if table.num_rows == 0:
        return None
    raw = pc.utf8_trim_whitespace(table.column("date"))
    if not pc.all(pc.match_substring_regex(raw, r"^\d{4}-\d{2}-\d{2}")).as_py():
        return None
    days = pc.strptime(pc.utf8_slice_codeunits(raw, 0, 10), "%Y-%m-%d", "s", error_is_null=True)
    if days.null_count:
        return None
    data = {}
    for col, name in numeric.items():
        values = table.column(col)
        if pc.any(pc.invert(pc.is_finite(values))).as_py():
            return None  # "nan", "inf": the cell-by-cell reading decides
        data[name] = values.to_numpy()
    index = pd.DatetimeIndex(
        days.cast(pa.date32()).to_numpy().astype("datetime64[us]"), name="date"
    )
    ids = pc.unique(pc.utf8_trim_whitespace(table.column("coin_name"))).to_pylist()
    return pd.DataFrame(data, index=index), [str(i) for i in ids]


def _read_coingecko_coin(path: Path) -> UniverseFile:
    plain = _plain_coin_frame(path)
    if plain is None:
        frame, ids = _checked_coin_frame(path)
    else:
        frame, ids = plain
    if len(ids) != 1:
        raise DataError(f"{path}: coin_name must name one coin, got {list(ids)[:5]}")
    return UniverseFile(
        path, "coingecko_coin", None, _coin_prices(frame, "", "", str(ids[0]), "coingecko", path)
    )


def _checked_coin_frame(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A ``coingecko_coin`` file read cell by cell: (frame, coin ids); a bad cell is refused
    with file:line."""
    raw = _read_csv(path)
    days = pd.Series([d[:10] for d in raw["date"]], dtype=object)
    when = pd.to_datetime(days, format="%Y-%m-%d", errors="coerce")
    if when.isna().any():
        i = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise DataError(f"{path}:{i + 2}: date {raw['date'][i]!r} is not YYYY-MM-DD")
    frame = pd.DataFrame(
        {
            "close": _numbers(raw["price"], path, "price"),
            "market_cap": _numbers(raw["market_cap"], path, "market_cap"),
            "volume": _numbers(raw["total_volume"], path, "total_volume"),
        },
        index=pd.DatetimeIndex(when, name="date"),
    )
    return frame, list(dict.fromkeys(raw["coin_name"]))


def _coin_prices(
    frame: pd.DataFrame, symbol: str, name: str, coin_id: str, source: str, path: Path
) -> CoinPrices:
    if frame.index.has_duplicates:
        d = frame.index[frame.index.duplicated()][0]
        raise DataError(f"{path}: date {d:%Y-%m-%d} appears twice; one price per day")
    # sorted by date; 0 market caps (no supply known) are not values; dates left with no
    # value dropped: ``frame.sort_index().where(frame > 0).dropna(how="all")``, in numpy
    index = frame.index
    values = frame.to_numpy(dtype=np.float64, copy=True)
    if not index.is_monotonic_increasing:
        order = np.argsort(index.to_numpy(), kind="stable")
        index, values = index[order], values[order]
    with np.errstate(invalid="ignore"):
        values[~(values > 0)] = np.nan
    keep = ~np.isnan(values).all(axis=1)
    clean = pd.DataFrame(values[keep], index=index[keep], columns=frame.columns)
    return CoinPrices(symbol, name, coin_id, source, clean)


_READERS = {
    "cmc_weekly": _read_weekly,
    "cmc_monthly": _read_monthly,
    "cmc_monthly_mcap": _read_mcap,
    "coingecko_top100": _read_top100,
    "coingecko_coin": _read_coingecko_coin,
}


def read_universe_file(path: str | Path, layout: str | None = None) -> UniverseFile:
    """Read one universe file (layout detected unless given).

    Raises
    ------
    DataError
        The file is in none of :data:`LAYOUTS` (naming them), or it is and a line does
        not parse (``file:line``).
    """
    p = Path(path)
    kind = layout or sniff_universe_layout(p)
    if kind is None:
        raise DataError(f"{p}: not a crypto-universe layout; accepted: {_ACCEPTED}")
    if kind == "auxiliary":
        return UniverseFile(p, "auxiliary", auxiliary=_AUX_REASON)
    if kind not in _READERS:
        raise DataError(f"layout must be one of {LAYOUTS}, got {kind!r}")
    return _READERS[kind](p)


_TICKER = re.compile(r"^([A-Za-z0-9]+)-usd(?:-max|-1d)?$", re.IGNORECASE)


def coin_from_ticker_file(path: Path, frame: pd.DataFrame, fmt: str) -> CoinPrices | None:
    """Coin prices from a Yahoo or CoinGecko file named by its ticker (``EOS-USD-1d.csv``,
    ``lunc-usd-max.csv``), or None when the name is not a ticker or the file has no close.

    The coin is identified later, from its symbol and dates (Yahoo's numeric suffixes such
    as ``LUNA1`` or ``TON11419`` are kept as aliases of the symbol).
    """
    m = _TICKER.match(path.stem)
    if m is None or fmt not in ("yahoo", "coingecko") or "close" not in frame.columns:
        return None
    keep = [c for c in ("close", "market_cap", "volume") if c in frame.columns]
    sym = m.group(1).upper()
    priced = ~np.isnan(frame["close"].to_numpy(dtype=np.float64))  # dropna(subset=close)
    return _coin_prices(
        frame[keep] if priced.all() else frame.loc[priced, keep], sym, "", "", fmt, path
    )
