"""The result cache and the crypto-universe tables of a store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from liqflow._errors import StoreError
from liqflow.store._base import _StoreBase
from liqflow.store._schema import CACHE_WAIT


class _Extras(_StoreBase):
    """The cache and crypto-universe methods of :class:`liqflow.store.Store`."""

    # -- cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        """A cached JSON payload, or None."""
        payload = self._scalar("SELECT payload FROM cache WHERE key = ?", [key])
        return json.loads(payload) if payload is not None else None

    def cache_blob(self, key: str) -> bytes | None:
        """The bytes stored beside the payload of ``key`` (its arrays), or None."""
        if not self._has_table("cache_blobs"):
            return None
        data = self._scalar("SELECT data FROM cache_blobs WHERE key = ?", [key])
        return bytes(data) if data is not None else None

    def cache_put(
        self, key: str, payload: Any, *, blob: bytes | None = None, supersedes: str | None = None
    ) -> bool:
        """Store a JSON-serialisable payload (and ``blob``, bytes it refers to) under
        ``key``; False if it was not stored.

        ``supersedes`` names a key prefix (``"report:"``) whose other entries are deleted
        in the same transaction: a large part keeps only its latest copy.

        The cache is best effort: a read-only handle, or a store another process is
        writing for longer than :data:`CACHE_WAIT` seconds, only skips caching.
        """
        if self.read_only:
            return False
        stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        text = json.dumps(payload)
        wait, self.wait = self.wait, min(self.wait, CACHE_WAIT)
        try:
            with self._transaction() as con:
                con.execute("INSERT OR REPLACE INTO cache VALUES (?, ?, ?)", [key, stamp, text])
                con.execute(
                    "CREATE TABLE IF NOT EXISTS cache_blobs (key VARCHAR PRIMARY KEY, data BLOB NOT NULL)"
                )
                con.execute("DELETE FROM cache_blobs WHERE key = ?", [key])
                if supersedes is not None:
                    like = _like_prefix(supersedes)
                    for table in ("cache", "cache_blobs"):
                        con.execute(
                            f"DELETE FROM {table} WHERE key LIKE ? ESCAPE '!' AND key <> ?",
                            [like, key],
                        )
                if blob is not None:
                    con.execute("INSERT INTO cache_blobs VALUES (?, ?)", [key, blob])
        except StoreError:
            return False
        finally:
            self.wait = wait
        return True

    # -- crypto universe ---------------------------------------------------------------
    def _ensure_universe(self) -> bool:
        """True when the universe tables exist (every write creates them: see _SCHEMA)."""
        return self._has_table("universe")

    def universe_fresh(self, snapshots: pd.DataFrame) -> np.ndarray:
        """True for each row of ``snapshots`` whose key (source, date, rank) is not stored
        (what :meth:`write_universe` of these rows returns, before it is called).

        Inside :meth:`batched` this reads the block's transaction once a write of the
        block has opened it (the rows that write stored count), else the store as it is.
        """
        if self._open is None and not self._ensure_universe():
            return np.ones(len(snapshots), dtype=bool)
        side = getattr(self._side, "con", None)
        con = side or (self._open if self._open is not None else self._con)
        con.register("_urows", _snapshot_rows(snapshots))
        try:
            return self._fresh_rows(con, len(snapshots))
        finally:
            con.unregister("_urows")

    def write_universe(self, snapshots: pd.DataFrame, coins: pd.DataFrame) -> np.ndarray:
        """Upsert snapshot rows and the coin table in one transaction.

        Returns a boolean array, True for each row of ``snapshots`` that was not stored
        before (a later row with the same key replaces an earlier one).

        ``snapshots`` has the columns of :data:`liqflow.universe.SNAPSHOT_COLUMNS`, one row
        per (source, date, rank); ``coins`` has ``coin_id, symbol, name, first, last`` (each
        row one alias of a coin, merged with the stored first/last dates).
        """
        rows = _snapshot_frame(snapshots)
        aliases = pd.DataFrame(
            {
                **{c: coins[c].to_numpy() for c in ("coin_id", "symbol", "name")},
                **{c: _day_column(coins[c]) for c in ("first", "last")},
            },
            copy=False,
        )
        try:
            with self._transaction() as con:
                con.register("_urows", rows)
                con.register("_ucoins", aliases)
                try:
                    fresh = self._insert_snapshots(con, len(rows), _last_of_keys(snapshots))
                    con.execute(
                        """INSERT OR REPLACE INTO coins
                           SELECT a.coin_id, a.symbol, a.name,
                                  least(a.first::DATE, coalesce(c.first, a.first::DATE)),
                                  greatest(a.last::DATE, coalesce(c.last, a.last::DATE))
                           FROM _ucoins a LEFT JOIN coins c USING (coin_id, symbol, name)"""
                    )
                finally:
                    con.unregister("_urows")
                    con.unregister("_ucoins")
        except duckdb.Error as exc:
            raise StoreError(
                f"write of the crypto universe to store {self.path} failed, nothing was changed: {exc}"
            ) from None
        return fresh

    @staticmethod
    def _insert_snapshots(con: duckdb.DuckDBPyConnection, n: int, last: np.ndarray) -> np.ndarray:
        """Insert the ``n`` registered ``_urows`` (the last row of each key wins, ``last``
        marks them); True per row whose key was not stored before.

        Set-based and columnar: no Python object per value. The rows' keys are checked
        against the stored ones only when the table holds any, and they are inserted with a
        plain INSERT when none is stored and none repeats (a fresh import): a replacing
        insert, or picking the last row of each key in SQL (a window over the rows), costs
        DuckDB about 10 MiB of working memory for 60,000 rows.
        """
        cols = "CAST(date AS DATE), rank, coin_id, symbol, name, market_cap, price, source"
        added = _Extras._fresh_rows(con, n)
        verb = "INSERT" if added.all() else "INSERT OR REPLACE"
        if last.all():
            con.execute(f"{verb} INTO universe SELECT {cols} FROM _urows")
        else:
            con.register("_ulast", pd.DataFrame({"_row": np.flatnonzero(last)}))
            try:
                con.execute(
                    f"{verb} INTO universe SELECT {cols} FROM _urows SEMI JOIN _ulast USING (_row)"
                )
            finally:
                con.unregister("_ulast")
        return added

    @staticmethod
    def _fresh_rows(con: duckdb.DuckDBPyConnection, n: int) -> np.ndarray:
        """True per row of the registered ``_urows`` whose key is not in ``universe``."""
        added = np.ones(n, dtype=bool)
        if con.execute("SELECT count(*) FROM universe").fetchall()[0][0]:
            stored = con.execute(
                """SELECT r._row FROM _urows r SEMI JOIN universe u
                   ON u.source = r.source AND u.date = CAST(r.date AS DATE) AND u.rank = r.rank"""
            ).fetchnumpy()["_row"]
            added[np.asarray(stored, dtype=np.int64)] = False
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
        got = self._con.execute(" ".join(sql), params).fetchnumpy()
        out = {c: _filled(got[c]) for c in cols}
        out["date"] = out["date"].astype("datetime64[ns]")
        out["rank"] = out["rank"].astype(np.int64)
        # the strings stay object arrays as read (no inference of pandas' str dtype)
        return pd.DataFrame({c: pd.Series(v, dtype=v.dtype, copy=False) for c, v in out.items()})

    def coin_table(self) -> pd.DataFrame:
        """The coin table: ``coin_id, symbol, name, first, last`` (one row per alias)."""
        cols = ["coin_id", "symbol", "name", "first", "last"]
        if not self._ensure_universe():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        df = self._con.execute(f"SELECT {', '.join(cols)} FROM coins ORDER BY coin_id, first").df()
        for c in ("first", "last"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
        return df

    def coin_price_symbols(self) -> list[tuple[tuple[str, str], str | None]]:
        """((series id, source), stored symbol) of every stored coin price series."""
        rows = self._con.execute(
            "SELECT series_id, source, any_value(symbol) FROM series_meta "
            "WHERE series_id LIKE 'coin\\_%' ESCAPE '\\' GROUP BY ALL ORDER BY series_id, source"
        ).fetchall()
        return [((str(a), str(b)), None if c is None else str(c)) for a, b, c in rows]

    def coin_price_keys(self) -> list[tuple[str, str]]:
        """(series id, source) of every stored coin price series (``coin_<id>``)."""
        rows = self._con.execute(
            "SELECT DISTINCT series_id, source FROM series_meta "
            "WHERE series_id LIKE 'coin\\_%' ESCAPE '\\' ORDER BY series_id, source"
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]


def _filled(values: object) -> np.ndarray:
    """A column of ``fetchnumpy``: NULLs (a masked array's mask) as NaN."""
    if isinstance(values, np.ma.MaskedArray):
        kind = object if values.dtype == object else np.float64
        return np.asarray(np.ma.filled(values.astype(kind), np.nan))
    return np.asarray(values)


_SNAPSHOT_COLUMNS = ("date", "rank", "coin_id", "symbol", "name", "market_cap", "price", "source")


def _day_column(values: pd.Series) -> np.ndarray:
    """Dates as ``datetime64[ns]`` (DuckDB casts them to DATE in SQL; no Python objects)."""
    return pd.DatetimeIndex(pd.to_datetime(values)).to_numpy(dtype="datetime64[ns]")


def _snapshot_rows(snapshots: pd.DataFrame) -> pa.Table:
    """The snapshot columns as an Arrow table (dates as ``timestamp[ns]``) and ``_row``,
    for the look-up of stored keys.

    Text columns held by pyarrow (pandas' default string type) are taken as they are,
    not turned into Python strings and back.
    """
    cols = {c: _arrow_column(snapshots[c]) for c in _SNAPSHOT_COLUMNS if c != "date"}
    cols["date"] = pa.array(_day_column(snapshots["date"]))
    cols["_row"] = pa.array(np.arange(len(snapshots), dtype=np.int64))
    return pa.table(cols)


def _snapshot_frame(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The snapshot columns as a frame (dates as ``datetime64[ns]``) and ``_row``, for
    the insert: text as Python strings, kept so (not read back into pyarrow strings).

    DuckDB inserts from it in about the time it takes from an Arrow table
    (:func:`_snapshot_rows`), holding about 12 MiB less at the commit.
    """
    cols: dict[str, np.ndarray] = {c: snapshots[c].to_numpy() for c in _SNAPSHOT_COLUMNS}
    cols["date"] = _day_column(snapshots["date"])
    cols["_row"] = np.arange(len(snapshots), dtype=np.int64)
    return pd.DataFrame(
        {c: pd.Series(v, dtype=v.dtype, copy=False) for c, v in cols.items()}, copy=False
    )


def _arrow_column(col: pd.Series) -> pa.Array | pa.ChunkedArray:
    held = getattr(col.array, "_pa_array", None)
    if isinstance(held, pa.ChunkedArray):
        return held
    return pa.array(col.to_numpy(), from_pandas=True)


def _last_of_keys(snapshots: pd.DataFrame) -> np.ndarray:
    """True for the last row of each (source, date, rank) of ``snapshots``."""
    keys = pd.DataFrame(
        {
            "source": snapshots["source"].to_numpy(),
            "date": _day_column(snapshots["date"]),
            "rank": snapshots["rank"].to_numpy(),
        }
    )
    return ~keys.duplicated(keep="last").to_numpy()


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern (escape ``!``) matching the keys that start with ``prefix``."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
