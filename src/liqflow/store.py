"""The local store: one DuckDB file with one long table of observations.

Schema
------
``observations(series_id, date, field, value, source, fetched_at)``, primary key
``(series_id, source, field, date)``: one value per series, source, field and date.
``series_meta(series_id, source, symbol, unit, frequency, origin, updated_at)`` records
where each (series, source) came from. ``vintages(series_id, date, realtime_start, value,
source, fetched_at)`` keeps ALFRED vintages for true point-in-time panels. ``cache(key,
created_at, payload)`` holds results that are expensive to recompute, keyed by a hash of
their inputs.

Every write is one transaction: it either lands whole or leaves the previous data intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from liqflow._errors import StoreError
from liqflow._series import normalize_index
from liqflow.config import store_path

__all__ = ["Batch", "Store", "StoredSeries"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    field VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, source, field, date)
);
CREATE TABLE IF NOT EXISTS series_meta (
    series_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    symbol VARCHAR,
    unit VARCHAR,
    frequency VARCHAR,
    origin VARCHAR,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, source)
);
CREATE TABLE IF NOT EXISTS vintages (
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    realtime_start DATE NOT NULL,
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, source, date, realtime_start)
);
CREATE TABLE IF NOT EXISTS cache (
    key VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    payload VARCHAR NOT NULL
);
"""


@dataclass(frozen=True)
class Batch:
    """Observations of one series from one source, ready to upsert.

    ``frame`` is indexed by date with one float column per field; NaN cells are not stored.
    ``vintages`` optionally holds ALFRED rows with columns ``date, realtime_start, value``.
    """

    series_id: str
    source: str
    frame: pd.DataFrame
    symbol: str = ""
    unit: str = ""
    frequency: str = ""
    origin: str = ""
    vintages: pd.DataFrame | None = None


@dataclass(frozen=True)
class StoredSeries:
    """What the store holds for one (series, source)."""

    series_id: str
    source: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    fetched_at: pd.Timestamp


def _long(
    frame: pd.DataFrame, series_id: str, source: str, fetched_at: dt.datetime
) -> pd.DataFrame:
    """Wide (date x field) -> long rows with the table's columns; NaN cells dropped."""
    wide = normalize_index(frame)
    dates = wide.index.to_numpy(dtype="datetime64[ns]")
    parts_d, parts_f, parts_v = [], [], []
    for col in wide.columns:
        values = wide[col].to_numpy(dtype=np.float64)
        ok = np.isfinite(values)
        parts_d.append(dates[ok])
        parts_v.append(values[ok])
        parts_f.append(np.full(int(ok.sum()), str(col), dtype=object))
    n = sum(len(v) for v in parts_v)
    return pd.DataFrame(
        {
            "series_id": np.full(n, series_id, dtype=object),
            "date": np.concatenate(parts_d) if parts_d else np.array([], dtype="datetime64[ns]"),
            "field": np.concatenate(parts_f) if parts_f else np.array([], dtype=object),
            "value": np.concatenate(parts_v) if parts_v else np.array([], dtype=np.float64),
            "source": np.full(n, source, dtype=object),
            "fetched_at": np.full(n, np.datetime64(fetched_at, "us")),
        }
    )


class Store:
    """A DuckDB-backed store of observations.

    Parameters
    ----------
    path : path, optional
        The DuckDB file; default ``$LIQFLOW_HOME/liqflow.duckdb`` or the user cache dir.
        ``":memory:"`` gives a throw-away store (tests).
    read_only : bool
        Open without write access (several readers may share the file).
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path == ":memory:" else store_path(path)
        memory = str(path) == ":memory:"
        if read_only and not memory and not self.path.exists():
            raise StoreError(
                f"store {self.path} does not exist yet; run `liqflow import PATH` or `liqflow fetch` first"
            )
        try:
            if not memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(
                ":memory:" if memory else str(self.path), read_only=read_only and not memory
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot create store directory {self.path.parent}: {exc}") from None
        if not read_only or memory:
            self._con.execute(_SCHEMA)

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    # -- writes ----------------------------------------------------------------------
    def write(
        self, batches: Iterable[Batch], *, fetched_at: dt.datetime | None = None
    ) -> dict[tuple[str, str], int]:
        """Upsert all batches in one transaction; return rows added per (series, source).

        A row is *added* when its (series, source, field, date) was not stored before;
        existing rows are replaced by the new values (revisions). If anything fails, no
        batch is written.
        """
        batches = list(batches)
        added: dict[tuple[str, str], int] = {}
        for b, n in zip(batches, self.write_each(batches, fetched_at=fetched_at), strict=True):
            added[(b.series_id, b.source)] = added.get((b.series_id, b.source), 0) + n
        return added

    def write_each(
        self, batches: Sequence[Batch], *, fetched_at: dt.datetime | None = None
    ) -> list[int]:
        """Like :meth:`write` (one transaction) but return rows added by each batch, in order.

        When several batches hold the same (series, source, field, date), the later batch's
        value is stored and the row counts as added by the first batch that brought it.
        """
        stamp = fetched_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if not batches:
            return []
        longs = []
        for k, b in enumerate(batches):
            long = _long(b.frame, b.series_id, b.source, stamp)
            long["_batch"] = k
            longs.append(long)
        incoming = pd.concat(longs, ignore_index=True)
        incoming["_row"] = np.arange(len(incoming))
        keys = ["series_id", "source", "field", "date"]
        try:
            with self._transaction() as con:
                con.register("_incoming", incoming)
                try:
                    fresh = con.execute(
                        """SELECT i._row FROM _incoming i ANTI JOIN observations o
                           ON o.series_id = i.series_id AND o.source = i.source
                          AND o.field = i.field AND o.date = CAST(i.date AS DATE)"""
                    ).fetchnumpy()["_row"]
                    latest = incoming.drop_duplicates(keys, keep="last")
                    con.register("_latest", latest)
                    con.execute(
                        "INSERT OR REPLACE INTO observations SELECT series_id, "
                        "CAST(date AS DATE), field, value, source, fetched_at FROM _latest"
                    )
                finally:
                    con.unregister("_incoming")
                    con.unregister("_latest")
                for b in batches:
                    con.execute(
                        "INSERT OR REPLACE INTO series_meta VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [b.series_id, b.source, b.symbol, b.unit, b.frequency, b.origin, stamp],
                    )
                    if b.vintages is not None and len(b.vintages):
                        self._write_vintages(con, b, stamp)
        except duckdb.Error as exc:
            raise StoreError(
                f"write to store {self.path} failed, nothing was changed: {exc}"
            ) from None
        new = incoming.iloc[np.sort(np.asarray(fresh, dtype=np.int64))].drop_duplicates(
            keys, keep="first"
        )
        counts = new.groupby("_batch").size()
        return [int(counts.get(k, 0)) for k in range(len(batches))]

    @staticmethod
    def _write_vintages(con: duckdb.DuckDBPyConnection, b: Batch, stamp: dt.datetime) -> None:
        assert b.vintages is not None
        v = b.vintages[["date", "realtime_start", "value"]].copy()
        v = v[np.isfinite(v["value"].to_numpy(dtype=float))]
        v["date"] = pd.to_datetime(v["date"]).dt.date
        v["realtime_start"] = pd.to_datetime(v["realtime_start"]).dt.date
        v.insert(0, "series_id", b.series_id)
        v["source"] = b.source
        v["fetched_at"] = stamp
        con.register(
            "_vint", v[["series_id", "date", "realtime_start", "value", "source", "fetched_at"]]
        )
        try:
            con.execute("INSERT OR REPLACE INTO vintages SELECT * FROM _vint")
        finally:
            con.unregister("_vint")

    # -- reads -----------------------------------------------------------------------
    def read(
        self,
        series_id: str,
        source: str,
        fields: Sequence[str] | None = None,
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> pd.DataFrame:
        """Wide frame (date x field) of one series from one source; empty if nothing stored."""
        return self.read_many([(series_id, source)], fields, start=start, end=end).get(
            (series_id, source), pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
        )

    def read_many(
        self,
        keys: Sequence[tuple[str, str]],
        fields: Sequence[str] | None = None,
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> dict[tuple[str, str], pd.DataFrame]:
        """Wide frames for several (series, source) pairs, read in one query."""
        if not keys:
            return {}
        sql = [
            "SELECT series_id, source, date, field, value FROM observations WHERE (series_id, source) IN (SELECT * FROM _keys)"
        ]
        params: list[Any] = []
        if fields is not None:
            sql.append("AND field IN (SELECT unnest(?))")
            params.append(list(fields))
        if start is not None:
            sql.append("AND date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            sql.append("AND date <= ?")
            params.append(pd.Timestamp(end).date())
        keys_df = pd.DataFrame(list(keys), columns=["series_id", "source"])
        self._con.register("_keys", keys_df)
        try:
            sql.append("ORDER BY series_id, source, field, date")
            long = self._con.execute(" ".join(sql), params).fetchnumpy()
        finally:
            self._con.unregister("_keys")
        out: dict[tuple[str, str], pd.DataFrame] = {}
        if len(long["value"]) == 0:
            return out
        # rows arrive sorted by (series_id, source, field, date): split at key changes
        sid, src, fld = long["series_id"], long["source"], long["field"]
        dates = long["date"].astype("datetime64[ns]")
        values = long["value"].astype(np.float64)
        change = (
            np.flatnonzero((sid[1:] != sid[:-1]) | (src[1:] != src[:-1]) | (fld[1:] != fld[:-1]))
            + 1
        )
        bounds = np.concatenate([[0], change, [len(values)]])
        columns: dict[tuple[str, str], dict[str, pd.Series]] = {}
        for a, b in itertools.pairwise(bounds):
            idx = pd.DatetimeIndex(dates[a:b], name="date")
            columns.setdefault((str(sid[a]), str(src[a])), {})[str(fld[a])] = pd.Series(
                values[a:b], index=idx
            )
        for key, cols in columns.items():
            out[key] = pd.DataFrame(cols).rename_axis("date")
        return out

    def read_vintages(self, series_id: str, source: str) -> pd.DataFrame:
        """ALFRED vintages ``date, realtime_start, value`` of one series (empty if none)."""
        df = self._con.execute(
            "SELECT date, realtime_start, value FROM vintages WHERE series_id = ? AND source = ? ORDER BY date, realtime_start",
            [series_id, source],
        ).df()
        for col in ("date", "realtime_start"):
            df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
        return df

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        # fetchall, not fetchone: duckdb 2 keeps a half-read result open and the next
        # query on the connection then fails
        rows = self._con.execute(sql, list(params)).fetchall()
        return rows[0][0] if rows else None

    def last_date(self, series_id: str, source: str) -> pd.Timestamp | None:
        """Last stored observation date of (series, source), or None."""
        last = self._scalar(
            "SELECT max(date) FROM observations WHERE series_id = ? AND source = ?",
            [series_id, source],
        )
        return pd.Timestamp(last) if last is not None else None

    def sources(self, series_id: str) -> tuple[str, ...]:
        """Sources that hold data for ``series_id``."""
        rows = self._con.execute(
            "SELECT DISTINCT source FROM observations WHERE series_id = ? ORDER BY source",
            [series_id],
        ).fetchall()
        return tuple(r[0] for r in rows)

    def inventory(self) -> list[StoredSeries]:
        """One entry per stored (series, source), sorted."""
        rows = self._con.execute(
            """SELECT series_id, source, count(DISTINCT date), min(date), max(date), max(fetched_at)
               FROM observations GROUP BY series_id, source ORDER BY series_id, source"""
        ).fetchall()
        return [
            StoredSeries(
                r[0], r[1], int(r[2]), pd.Timestamp(r[3]), pd.Timestamp(r[4]), pd.Timestamp(r[5])
            )
            for r in rows
        ]

    def row_count(self) -> int:
        return int(self._scalar("SELECT count(*) FROM observations") or 0)

    def meta(self, series_id: str, source: str) -> dict[str, Any]:
        """The metadata row of (series, source), or an empty dict."""
        cur = self._con.execute(
            "SELECT * FROM series_meta WHERE series_id = ? AND source = ?", [series_id, source]
        )
        rows = cur.fetchall()
        if not rows:
            return {}
        return dict(zip([d[0] for d in cur.description], rows[0], strict=True))

    # -- cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        """A cached JSON payload, or None."""
        payload = self._scalar("SELECT payload FROM cache WHERE key = ?", [key])
        return json.loads(payload) if payload is not None else None

    def cache_put(self, key: str, payload: Any) -> None:
        """Store a JSON-serialisable payload under ``key``."""
        stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self._transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO cache VALUES (?, ?, ?)", [key, stamp, json.dumps(payload)]
            )

    # -- crypto universe ---------------------------------------------------------------
    def _ensure_universe(self) -> bool:
        """Create the universe tables when the store is writable; True when they exist."""
        with contextlib.suppress(duckdb.Error):  # read-only store: the tables exist or not
            self._con.execute(_UNIVERSE_SCHEMA)
        have = self._scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'universe'"
        )
        return bool(have)

    def write_universe(self, snapshots: pd.DataFrame, coins: pd.DataFrame) -> np.ndarray:
        """Upsert snapshot rows and the coin table in one transaction.

        Returns a boolean array, True for each row of ``snapshots`` that was not stored
        before (a later row with the same key replaces an earlier one).

        ``snapshots`` has the columns of :data:`liqflow.universe.SNAPSHOT_COLUMNS`, one row
        per (source, date, rank); ``coins`` has ``coin_id, symbol, name, first, last`` (each
        row one alias of a coin, merged with the stored first/last dates).
        """
        self._ensure_universe()
        cols = ["date", "rank", "coin_id", "symbol", "name", "market_cap", "price", "source"]
        rows = snapshots[cols].copy()
        rows["date"] = pd.to_datetime(rows["date"]).dt.date
        rows["_row"] = np.arange(len(rows))
        aliases = coins[["coin_id", "symbol", "name", "first", "last"]].copy()
        for c in ("first", "last"):
            aliases[c] = pd.to_datetime(aliases[c]).dt.date
        try:
            with self._transaction() as con:
                con.register("_urows", rows)
                con.register("_ucoins", aliases)
                try:
                    fresh = con.execute(
                        """SELECT r._row FROM _urows r ANTI JOIN universe u
                           ON u.source = r.source AND u.date = r.date AND u.rank = r.rank"""
                    ).fetchnumpy()["_row"]
                    con.execute(
                        f"INSERT OR REPLACE INTO universe SELECT {', '.join(cols)} FROM "
                        "(SELECT *, row_number() OVER (PARTITION BY source, date, rank "
                        "ORDER BY _row DESC) AS _k FROM _urows) WHERE _k = 1"
                    )
                    con.execute(
                        """INSERT OR REPLACE INTO coins
                           SELECT a.coin_id, a.symbol, a.name,
                                  least(a.first, coalesce(c.first, a.first)),
                                  greatest(a.last, coalesce(c.last, a.last))
                           FROM _ucoins a LEFT JOIN coins c USING (coin_id, symbol, name)"""
                    )
                finally:
                    con.unregister("_urows")
                    con.unregister("_ucoins")
        except duckdb.Error as exc:
            raise StoreError(
                f"write of the crypto universe to store {self.path} failed, nothing was changed: {exc}"
            ) from None
        added = np.zeros(len(rows), dtype=bool)
        added[np.asarray(fresh, dtype=np.int64)] = True
        return added

    def read_universe(
        self, *, end: pd.Timestamp | str | None = None, sources: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The stored snapshot rows (up to ``end``), sorted by date, source and rank."""
        cols = ["date", "rank", "coin_id", "symbol", "name", "market_cap", "price", "source"]
        if not self._ensure_universe():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        sql = [f"SELECT {', '.join(cols)} FROM universe WHERE true"]
        params: list[Any] = []
        if end is not None:
            sql.append("AND date <= ?")
            params.append(pd.Timestamp(end).date())
        if sources is not None:
            sql.append("AND source IN (SELECT unnest(?))")
            params.append(list(sources))
        sql.append("ORDER BY date, source, rank")
        df = self._con.execute(" ".join(sql), params).df()
        df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
        df["rank"] = df["rank"].astype(np.int64)
        for c in ("coin_id", "symbol", "name", "source"):
            df[c] = df[c].astype(object)
        return df

    def coin_table(self) -> pd.DataFrame:
        """The coin table: ``coin_id, symbol, name, first, last`` (one row per alias)."""
        cols = ["coin_id", "symbol", "name", "first", "last"]
        if not self._ensure_universe():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        df = self._con.execute(f"SELECT {', '.join(cols)} FROM coins ORDER BY coin_id, first").df()
        for c in ("first", "last"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
        return df

    def coin_price_keys(self) -> list[tuple[str, str]]:
        """(series id, source) of every stored coin price series (``coin_<id>``)."""
        rows = self._con.execute(
            "SELECT DISTINCT series_id, source FROM series_meta "
            "WHERE series_id LIKE 'coin\\_%' ESCAPE '\\' ORDER BY series_id, source"
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]


_UNIVERSE_SCHEMA = """
CREATE TABLE IF NOT EXISTS universe (
    date DATE NOT NULL,
    rank INTEGER NOT NULL,
    coin_id VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    name VARCHAR,
    market_cap DOUBLE,
    price DOUBLE,
    source VARCHAR NOT NULL,
    PRIMARY KEY (source, date, rank)
);
CREATE TABLE IF NOT EXISTS coins (
    coin_id VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    first DATE NOT NULL,
    last DATE NOT NULL,
    PRIMARY KEY (coin_id, symbol, name)
);
"""
