"""Reads: observations, vintages, inventory, metadata, import records and revisions."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from liqflow.store._base import _StoreBase
from liqflow.store._schema import FileRecord, RecordedPart, StoredSeries

#: The tables and columns :meth:`_Reads.fingerprint` digests (every stored value; not
#: the cache, the import records nor fetch and update times).
_FINGERPRINT = (
    ("observations", "series_id, source, field, date, value"),
    ("vintages", "series_id, source, date, realtime_start, value"),
    ("series_meta", "series_id, source, symbol, unit, frequency, origin"),
    ("universe", "source, date, rank, coin_id, symbol, name, market_cap, price"),
    ("coins", "coin_id, symbol, name, first, last"),
)


def _wide(cols: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """One series' frame (date x field) from its fields' dates and values (each sorted):
    the union of their dates, NaN where a field has no row (as a ``DataFrame`` of one
    ``Series`` per field, without aligning them one by one)."""
    spans = list(cols.values())
    first = spans[0][0]
    same = all(d.size == first.size and np.array_equal(d, first) for d, _ in spans[1:])
    index = first if same else np.unique(np.concatenate([d for d, _ in spans]))
    table = np.full((index.size, len(spans)), np.nan)
    for j, (d, v) in enumerate(spans):
        rows = slice(None) if same else np.searchsorted(index, d)
        table[rows, j] = v
    return pd.DataFrame(table, index=pd.DatetimeIndex(index, name="date"), columns=list(cols))


class _Reads(_StoreBase):
    """The read methods of :class:`liqflow.store.Store`."""

    def reader_view(self) -> Self:
        """A read-only handle on the same snapshot of the store, for reading on another
        thread while this handle is used: a DuckDB connection of its own (a cursor of this
        handle's database: one connection serves one thread at a time), nothing opened
        again. Closing it closes that connection only; it must not outlive this handle."""
        con = self._con.cursor()
        if not self._memory:
            con.execute("USE store")
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.read_only = True
        view._reader, view._host, view._open, view._batch = con, None, None, None
        view._side = threading.local()
        return view

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
        """Wide frames for several (series, source) pairs, read in one pass.

        The rows come sorted by (series, source, field, date) with only their dates and
        values; the keys are read once per group (with its row count), not once per row,
        so a million observations cost their numbers only.
        """
        out: dict[tuple[str, str], pd.DataFrame] = {}
        for key, cols in self.read_columns(keys, fields, start=start, end=end).items():
            out[key] = _wide(cols)
        return out

    def read_columns(
        self,
        keys: Sequence[tuple[str, str]],
        fields: Sequence[str] | None = None,
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> dict[tuple[str, str], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """What :meth:`read_many` reads, as arrays: per (series, source), per field (in
        field order), its dates (``datetime64[ns]``, sorted) and values (views of one
        array each)."""
        if not keys:
            return {}
        where = ["(series_id, source) IN (SELECT * FROM _keys)"]
        params: list[Any] = []
        if fields is not None:
            where.append("field IN (SELECT unnest(?))")
            params.append(list(fields))
        if start is not None:
            where.append("date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            where.append("date <= ?")
            params.append(pd.Timestamp(end).date())
        cond = " AND ".join(where)
        keys_df = pd.DataFrame(list(keys), columns=["series_id", "source"])
        self._con.register("_keys", keys_df)
        try:
            groups = self._con.execute(
                f"""SELECT series_id, source, field, count(*) FROM observations WHERE {cond}
                    GROUP BY ALL ORDER BY series_id, source, field""",
                params,
            ).fetchall()
            long = self._con.execute(
                f"""SELECT date, value FROM observations WHERE {cond}
                    ORDER BY series_id, source, field, date""",
                params,
            ).fetchnumpy()
        finally:
            self._con.unregister("_keys")
        out: dict[tuple[str, str], dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        if len(long["value"]) == 0:
            return out
        dates = np.asarray(long["date"]).astype("datetime64[ns]")
        values = np.asarray(long["value"], dtype=np.float64)
        bounds = np.concatenate([[0], np.cumsum([int(g[3]) for g in groups])])
        for (sid, src, fld, _), a, b in zip(groups, bounds[:-1], bounds[1:], strict=True):
            out.setdefault((str(sid), str(src)), {})[str(fld)] = (dates[a:b], values[a:b])
        return out

    def read_spliced(
        self, parts: pd.DataFrame, field: str, *, end: pd.Timestamp | str | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """One value per target and day from several stored series, spliced by priority.

        Parameters
        ----------
        parts : DataFrame
            One row per stored (``series_id``, ``source``) to read, with ``target`` (int,
            what it is a price of), ``priority`` (int, lower first: distinct within a
            target) and ``shift`` (int, days added to each observation date).
        field : str
            The field read.
        end : date, optional
            Last observation date read (before the shift).

        Returns
        -------
        rows : dict of arrays
            ``target``, ``date`` (shifted, datetime64[ns]), ``value`` and ``part`` (row of
            ``parts`` it came from) of the winning value of each (target, date): the part
            of lowest priority among those with a positive value that day. Sorted by
            target and date.
        read : ndarray of bool
            Per row of ``parts``: True when it has any ``field`` row (positive or not).
        """
        keys = parts[["series_id", "source", "target", "priority", "shift"]].assign(
            part=np.arange(len(parts), dtype=np.int64)
        )
        bound = "AND o.date <= ?" if end is not None else ""
        params: list[Any] = [field] + ([pd.Timestamp(end).date()] if end is not None else [])
        self._con.register("_parts", keys)
        try:
            read = self._con.execute(
                f"""SELECT DISTINCT k.part FROM observations o JOIN _parts k
                    USING (series_id, source) WHERE o.field = ? {bound}""",
                params,
            ).fetchnumpy()["part"]
            rows = self._con.execute(
                f"""SELECT k.target, o.date + k.shift::INTEGER AS date, o.value, k.part
                    FROM observations o JOIN _parts k USING (series_id, source)
                    WHERE o.field = ? {bound} AND o.value > 0 AND NOT isnan(o.value)
                    QUALIFY row_number() OVER (
                        PARTITION BY k.target, o.date + k.shift::INTEGER ORDER BY k.priority
                    ) = 1
                    ORDER BY k.target, date""",
                params,
            ).fetchnumpy()
        finally:
            self._con.unregister("_parts")
        has = np.zeros(len(parts), dtype=bool)
        has[np.asarray(read, dtype=np.int64)] = True
        out = {
            "target": np.asarray(rows["target"], dtype=np.int64),
            "date": np.asarray(rows["date"]).astype("datetime64[ns]"),
            "value": np.asarray(rows["value"], dtype=np.float64),
            "part": np.asarray(rows["part"], dtype=np.int64),
        }
        return out, has

    def read_vintages(self, series_id: str, source: str) -> pd.DataFrame:
        """ALFRED vintages ``date, realtime_start, value`` of one series (empty if none)."""
        df = self._con.execute(
            "SELECT date, realtime_start, value FROM vintages WHERE series_id = ? AND source = ? ORDER BY date, realtime_start",
            [series_id, source],
        ).df()
        for col in ("date", "realtime_start"):
            df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
        return df

    def vintage_keys(self) -> frozenset[tuple[str, str]]:
        """The (series, source) pairs that hold ALFRED vintages (one query for all)."""
        rows = self._con.execute("SELECT DISTINCT series_id, source FROM vintages").fetchall()
        return frozenset((str(sid), str(src)) for sid, src in rows)

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

    def sources_of(self, series_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """:meth:`sources` of several series in one query (a series with none is left out)."""
        if not series_ids:
            return {}
        rows = self._con.execute(
            "SELECT DISTINCT series_id, source FROM observations "
            "WHERE series_id IN (SELECT unnest(?)) ORDER BY series_id, source",
            [list(series_ids)],
        ).fetchall()
        out: dict[str, tuple[str, ...]] = {}
        for sid, src in rows:
            out[str(sid)] = (*out.get(str(sid), ()), str(src))
        return out

    def inventory(self, *, count_dates: bool = True) -> list[StoredSeries]:
        """One entry per stored (series, source), sorted.

        ``count_dates=False`` leaves :attr:`StoredSeries.rows` as None: counting the
        distinct dates of every series is most of the query's cost (a hash of each
        date), and the spans, sources and fetch times need none of it.
        """
        dates = "count(DISTINCT date)" if count_dates else "NULL"
        rows = self._con.execute(
            f"""SELECT series_id, source, {dates}, min(date), max(date), max(fetched_at)
                FROM observations GROUP BY series_id, source ORDER BY series_id, source"""
        ).fetchall()
        return [
            StoredSeries(
                r[0],
                r[1],
                None if r[2] is None else int(r[2]),
                pd.Timestamp(r[3]),
                pd.Timestamp(r[4]),
                pd.Timestamp(r[5]),
            )
            for r in rows
        ]

    def fingerprint(self) -> str:
        """A digest of every stored value: observations, vintages, series metadata and
        the crypto universe (not the cache, nor when a value was fetched).

        Any added, removed or changed value gives another fingerprint (each table
        contributes its row count and the sum of a 64-bit hash of every row, computed by
        DuckDB in one pass: a few milliseconds for a million rows), so a result keyed by
        it is recomputed exactly when the data under it changes.
        """
        parts = []
        for table, cols in _FINGERPRINT:
            if not self._has_table(table):
                parts.append(f"{table}:-")
                continue
            n, total = self._con.execute(
                f"SELECT count(*), coalesce(sum(hash({cols})::HUGEINT), 0) FROM {table}"
            ).fetchall()[0]
            parts.append(f"{table}:{n}:{total}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

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

    # -- import records and revisions -------------------------------------------------
    def file_records(self) -> dict[str, FileRecord]:
        """What earlier imports recorded of each file, by path (empty on an older store)."""
        if not self._has_table("imported_files"):
            return {}
        parts = self._recorded_parts()  # first: a query ends the connection's pending result
        rows = self._con.execute(
            """SELECT path, size, mtime_ns, sha256, context, outcome, series_id, source,
                      format, rows, first, last, detail FROM imported_files"""
        ).fetchall()
        out: dict[str, FileRecord] = {}
        for r in rows:
            out[r[0]] = FileRecord(
                r[0],
                int(r[1]),
                int(r[2]),
                r[3],
                r[4],
                r[5],
                r[6] or "",
                r[7] or "",
                r[8] or "",
                int(r[9] or 0),
                _stamp(r[10]),
                _stamp(r[11]),
                r[12] or "",
                tuple(parts.get(r[0], ())),
            )
        return out

    def _recorded_parts(self) -> dict[str, list[RecordedPart]]:
        if not self._has_table("imported_parts"):
            return {}
        rows = self._con.execute(
            """SELECT path, kind, "column", series_id, source, format, rows, first, last,
                      detail FROM imported_parts ORDER BY path, seq"""
        ).fetchall()
        parts: dict[str, list[RecordedPart]] = {}
        for r in rows:
            parts.setdefault(r[0], []).append(
                RecordedPart(
                    r[1], r[2], r[3], r[4], r[5], int(r[6]), _stamp(r[7]), _stamp(r[8]), r[9]
                )
            )
        return parts

    def revisions(self, series_id: str | None = None) -> pd.DataFrame:
        """Recorded revisions (all, or of one series), oldest first.

        Columns ``series_id, source, field, date, old_value, new_value, applied, seen_at,
        origin``.
        """
        cols = [
            "series_id",
            "source",
            "field",
            "date",
            "old_value",
            "new_value",
            "applied",
            "seen_at",
            "origin",
        ]
        if not self._has_table("revisions"):
            return pd.DataFrame(columns=cols)
        sql = f"SELECT {', '.join(cols)} FROM revisions"
        params: list[Any] = []
        if series_id is not None:
            sql += " WHERE series_id = ?"
            params.append(series_id)
        df = self._con.execute(
            sql + " ORDER BY seen_at, series_id, source, date, field", params
        ).df()
        df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
        return df


def _stamp(day: object) -> pd.Timestamp | None:
    return pd.Timestamp(day).as_unit("ns") if day is not None else None  # type: ignore[arg-type]
