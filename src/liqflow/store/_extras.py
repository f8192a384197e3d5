"""The result cache and the crypto-universe tables of a store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

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

    def write_universe(self, snapshots: pd.DataFrame, coins: pd.DataFrame) -> np.ndarray:
        """Upsert snapshot rows and the coin table in one transaction.

        Returns a boolean array, True for each row of ``snapshots`` that was not stored
        before (a later row with the same key replaces an earlier one).

        ``snapshots`` has the columns of :data:`liqflow.universe.SNAPSHOT_COLUMNS`, one row
        per (source, date, rank); ``coins`` has ``coin_id, symbol, name, first, last`` (each
        row one alias of a coin, merged with the stored first/last dates).
        """
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


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern (escape ``!``) matching the keys that start with ``prefix``."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
