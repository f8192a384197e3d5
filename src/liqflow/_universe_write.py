"""The write of imported crypto-universe files: snapshots to the store's ``universe``
table, the coin aliases to its ``coins`` table, and daily coin prices to observations
under ``coin_<id>`` (see :mod:`liqflow.universe_store`, which reads them back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow.providers.universe_files import CoinPrices, UniverseFile
from liqflow.store import Batch, Store
from liqflow.universe import (
    assign_coin_ids,
    coin_series_id,
    coin_symbols,
    resolve_among,
    ticker_base,
)

__all__ = [
    "UniversePrep",
    "UniverseWrite",
    "prepare_universe",
    "write_universe_files",
    "write_universe_prices",
]


@dataclass(frozen=True)
class UniverseWrite:
    """One universe file written: what it held and how many rows were new."""

    path: Path
    series_id: str
    source: str
    layout: str
    rows: int
    added: int
    first: pd.Timestamp
    last: pd.Timestamp


def _rows_by_symbol(aliases: pd.DataFrame) -> dict[str, list[int]]:
    """The rows of the coin table of each upper-case symbol, found once (then only the
    rows of a ticker's symbol are cut out of the table for :func:`resolve_among`)."""
    rows_of: dict[str, list[int]] = {}
    for k, sym in enumerate(aliases["symbol"].str.upper().to_numpy(dtype=object).tolist()):
        rows_of.setdefault(str(sym), []).append(k)
    return rows_of


def _price_aliases(prices: list[CoinPrices], aliases: pd.DataFrame) -> list[CoinPrices]:
    """Each coin price file with its coin id (by :func:`liqflow.universe.resolve_symbol` of its ticker)."""
    rows_of = _rows_by_symbol(aliases)
    out = []
    for cp in prices:
        cid = cp.coin_id
        if not cid:
            last = pd.Timestamp(cp.frame.index.max()) if len(cp.frame) else None
            sym = ticker_base(cp.symbol)
            hits = aliases.iloc[rows_of.get(sym, [])]
            cid = resolve_among(hits, sym, last) or cp.symbol.lower()
        out.append(CoinPrices(cp.symbol, cp.name, cid, cp.source, cp.frame))
    return out


def _top100_prices(snaps: pd.DataFrame) -> list[CoinPrices]:
    """The CoinGecko top-100 captures as daily prices of each coin (source ``coingecko_top100``).

    One price per coin and date (the first capture of the date), the coin's symbol from its
    last capture; the rows are sorted once and split per coin (no per-coin group-by).
    """
    cg = snaps[(snaps["source"] == "coingecko_top100") & (snaps["price"] > 0)]
    if cg.empty:
        return []
    coin = cg["coin_id"].to_numpy(dtype=object).astype(str)
    day = cg["date"].to_numpy(dtype="datetime64[ns]")
    price = cg["price"].to_numpy(dtype=np.float64)
    symbol = cg["symbol"].to_numpy(dtype=object)
    order = np.lexsort((day, coin))  # stable: equal (coin, date) keep their capture order
    coin, day, price, pos = coin[order], day[order], price[order], order
    first = np.ones(len(order), dtype=bool)
    first[1:] = (coin[1:] != coin[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(np.r_[True, coin[1:] != coin[:-1]])
    ends = np.r_[starts[1:], len(order)]
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        keep = first[a:b]
        frame = pd.DataFrame(
            {"close": price[a:b][keep]}, index=pd.DatetimeIndex(day[a:b][keep], name="date")
        )
        last_symbol = str(symbol[int(pos[a:b].max())])
        out.append(CoinPrices(last_symbol, "", str(coin[a]), "coingecko_top100", frame))
    return out


@dataclass(frozen=True)
class UniversePrep:
    """What the write of universe files computes before it touches the store
    (:func:`prepare_universe`): pure, so it can be computed anywhere, e.g. while the
    store is busy with other writes.

    ``snaps`` are the snapshot rows with their coin ids (and ``_file``, the number of
    the snapshot file of each row), ``mine`` their aliases (None: no rows), ``aliases``
    those of the stored and new rows together, ``coin_ids`` the coin id of each file's
    prices (in the order of the files that hold prices), ``price_aliases`` their
    aliases, ``top100`` the CoinGecko top-100 captures as daily prices.
    """

    snaps: pd.DataFrame
    mine: pd.DataFrame | None
    coin_ids: tuple[str, ...]
    price_aliases: pd.DataFrame
    top100: list[CoinPrices]


def prepare_universe(files: list[UniverseFile], stored: pd.DataFrame) -> UniversePrep:
    """The coin ids of ``files`` (snapshots and prices), with ``stored`` (the stored
    snapshot rows, :meth:`Store.read_universe`) as reference; see :class:`UniversePrep`."""
    snap_files = [f for f in files if f.snapshots is not None and len(f.snapshots)]
    parts = [f.snapshots for f in snap_files if f.snapshots is not None]
    if parts:
        rows = pd.concat(parts, ignore_index=True)
        rows["_file"] = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
        snaps = assign_coin_ids(rows, reference=stored)
    else:
        snaps = pd.DataFrame(columns=[*stored.columns, "_file"])
    # nothing stored yet (a fresh import): the aliases are those of the new rows alone
    mine = coin_symbols(snaps) if len(snaps) else None
    if mine is not None and not len(stored):
        aliases = mine
    else:
        aliases = coin_symbols(pd.concat([stored, snaps.drop(columns="_file")], ignore_index=True))
    prices = _price_aliases([f.prices for f in files if f.prices is not None], aliases)
    price_aliases = pd.DataFrame(
        [
            (cp.coin_id, cp.symbol, cp.name, cp.frame.index.min(), cp.frame.index.max())
            for cp in prices
            if cp.symbol and len(cp.frame)
        ],
        columns=["coin_id", "symbol", "name", "first", "last"],
    )
    return UniversePrep(
        snaps, mine, tuple(cp.coin_id for cp in prices), price_aliases, _top100_prices(snaps)
    )


def write_universe_prices(
    store: Store, files: list[UniverseFile], prep: UniversePrep
) -> list[UniverseWrite]:
    """Write the daily coin prices of ``files`` alone (their price files and the top-100
    captures), with the coin ids ``prep`` gives; the writes of the price files.

    The first step of :func:`write_universe_files`, which takes the result as
    ``prices_written`` and then writes the rest: the import writes the prices in a side
    transaction (:meth:`Store.side_transaction`) while its observations are written.
    """
    return _write_prices(store, files, _priced(files, prep), prep.top100)


def _priced(files: list[UniverseFile], prep: UniversePrep) -> list[CoinPrices]:
    """The coin prices of ``files``, each with its coin id from ``prep``."""
    priced = [f.prices for f in files if f.prices is not None]
    return [
        CoinPrices(cp.symbol, cp.name, cid, cp.source, cp.frame)
        for cp, cid in zip(priced, prep.coin_ids, strict=True)
    ]


def write_universe_files(
    store: Store,
    files: list[UniverseFile],
    then: Callable[[list[UniverseWrite]], None] | None = None,
    prepared: UniversePrep | None = None,
    prices_written: list[UniverseWrite] | None = None,
) -> list[UniverseWrite]:
    """Identify the coins of ``files`` and write them: snapshots, aliases, daily prices.

    Coin ids are assigned over all files at once, with the stored snapshots as reference,
    so a file with symbols only (monthly market caps, Yahoo tickers) is matched whatever
    the order of the files. ``prepared``: what :func:`prepare_universe` gives for
    ``files`` and the stored snapshots, computed already (else computed here).

    ``then``, when given, is called with the writes once the prices are written and
    before the snapshots and aliases are inserted (the rows ``added`` counted already):
    inside one :meth:`Store.batched` block, a write it makes runs before that insert.
    The import writes its observations there: DuckDB then works on them before it holds
    the snapshot rows until the commit (about 9 MiB less at the peak of the shared-data
    import), and ``files`` may be released by ``then``. ``prices_written``: what
    :func:`write_universe_prices` of ``files`` and ``prepared`` returned (the prices are
    then not written again).
    """
    prep = prepared if prepared is not None else prepare_universe(files, store.read_universe())
    snaps, coins, written = _write_parts(store, files, prep, prices_written)
    if then is not None:
        then(written)
    if coins is not None:
        store.write_universe(snaps, coins)
    return written


def _write_parts(
    store: Store,
    files: list[UniverseFile],
    prep: UniversePrep,
    prices_written: list[UniverseWrite] | None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[UniverseWrite]]:
    """Write the prices of ``files`` (unless ``prices_written`` says they are); the
    snapshot rows and aliases to insert (None: no aliases) and every write, the
    snapshots' rows ``added`` counted."""
    snap_files = [f for f in files if f.snapshots is not None and len(f.snapshots)]
    snaps = prep.snaps
    written: list[UniverseWrite] = []
    coins: pd.DataFrame | None = None
    if len(snaps):
        written.extend(_snapshot_writes(snap_files, snaps, store.universe_fresh(snaps)))
        coins = pd.concat([prep.mine, prep.price_aliases])
    elif len(prep.price_aliases):
        coins = prep.price_aliases
    if prices_written is None:
        prices_written = _write_prices(store, files, _priced(files, prep), prep.top100)
    written.extend(prices_written)
    return snaps.drop(columns="_file"), coins, written


def _snapshot_writes(
    files: list[UniverseFile], snaps: pd.DataFrame, new: np.ndarray
) -> list[UniverseWrite]:
    """One :class:`UniverseWrite` per snapshot file, from one pass over the rows."""
    file_no = snaps["_file"].to_numpy(dtype=np.int64)
    order = np.argsort(file_no, kind="stable")
    bounds = np.searchsorted(file_no[order], np.arange(len(files) + 1))
    source = snaps["source"].to_numpy(dtype=object)
    day = snaps["date"].to_numpy(dtype="datetime64[ns]")
    out = []
    for k, f in enumerate(files):
        mine = order[bounds[k] : bounds[k + 1]]
        out.append(
            UniverseWrite(
                f.path, "universe", str(source[mine[0]]), f.layout, len(mine),
                int(new[mine].sum()), pd.Timestamp(day[mine].min()), pd.Timestamp(day[mine].max()),
            )
        )  # fmt: skip
    return out


def _write_prices(
    store: Store, files: list[UniverseFile], prices: list[CoinPrices], top100: list[CoinPrices]
) -> list[UniverseWrite]:
    price_files = [f for f in files if f.prices is not None]
    everything = prices + top100
    batches = [
        Batch(coin_series_id(cp.coin_id), cp.source, cp.frame, cp.coin_id, "USD", "D", "")
        for cp in everything
    ]
    if not batches:
        return []
    added = store.write_each(batches)
    out = []
    for f, cp, n in zip(price_files, prices, added, strict=False):
        out.append(
            UniverseWrite(
                f.path, coin_series_id(cp.coin_id), cp.source, f.layout, len(cp.frame), n,
                cp.frame.index.min(), cp.frame.index.max(),
            )
        )  # fmt: skip
    return out
