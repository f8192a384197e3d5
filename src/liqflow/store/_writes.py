"""Writes: observations (with revisions), metadata, vintages and import records."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from liqflow._errors import StoreError
from liqflow.store._base import _StoreBase
from liqflow.store._plan import _Plan, _plan, _stage, _Staged
from liqflow.store._schema import (
    REVISION_POLICIES,
    Batch,
    FileRecord,
    RecordedPart,
    RevisionPolicy,
    WriteResult,
)

#: Values per chunk of a write (all chunks in the write's one transaction).
INSERT_CHUNK = 200_000


def _chunks(batches: Sequence[Batch], limit: int) -> list[list[int]]:
    """Batch numbers (in write order) in chunks of whole (series, source) groups, each
    closed once it holds ``limit`` cells or more."""
    groups: dict[tuple[str, str], list[int]] = {}
    for k, b in enumerate(batches):
        groups.setdefault((b.series_id, b.source), []).append(k)
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for members in groups.values():
        current.extend(members)
        size += sum(batches[k].frame.size for k in members)
        if size >= limit:
            chunks.append(sorted(current))
            current, size = [], 0
    if current:
        chunks.append(sorted(current))
    return chunks


#: DuckDB buffer pool while the new observations are appended (see _small_buffer_pool).
APPEND_MEMORY_LIMIT = "16MB"


#: Connections appending under the small buffer pool, per database file: the limit is
#: the database's, shared by its connections (a write's side transaction appends too).
_SMALL_POOL_USERS: dict[str, int] = {}
_SMALL_POOL_LOCK = threading.Lock()


@contextmanager
def _small_buffer_pool(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Append with a small DuckDB buffer pool, then back to DuckDB's default limit (a
    write's connection never sets another).

    An append to a table without an index writes each filled block to the stage file;
    DuckDB still keeps the block in memory up to its memory limit (80 % of the machine's
    by default), so a write's memory grows with its rows. With a small limit the written
    blocks are dropped instead: 13 MiB less at the peak of the import of the shared data
    (1.2 million values), in the same time; a write of 4 million values under
    50-character series names holds 100 MiB less and takes about 1.4 times as long.
    Only the append runs under it: joins and index upserts keep the default limit (under
    16 MB they would fail, not spill). A store in memory has no file to drop its blocks
    to: its limit is left alone. Two connections appending at once (a side transaction,
    see :meth:`liqflow.store.Store.side_transaction`) share the limit: the first sets
    it, the last one done resets it.
    """
    path = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0][0]
    if path is None:
        yield
        return
    with _SMALL_POOL_LOCK:
        if not _SMALL_POOL_USERS.get(path):
            con.execute(f"SET memory_limit = '{APPEND_MEMORY_LIMIT}'")
        _SMALL_POOL_USERS[path] = _SMALL_POOL_USERS.get(path, 0) + 1
    try:
        yield
    finally:
        with _SMALL_POOL_LOCK:
            _SMALL_POOL_USERS[path] -= 1
            if not _SMALL_POOL_USERS[path]:
                del _SMALL_POOL_USERS[path]
                con.execute("RESET memory_limit")


def _run_or_rows(idx: np.ndarray) -> slice | np.ndarray:
    """``idx`` as a slice when it is a run of consecutive rows (a fresh import), so that
    the staged columns are viewed, not copied; else ``idx`` itself."""
    run = len(idx) and int(idx[-1]) - int(idx[0]) == len(idx) - 1
    if run and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return slice(int(idx[0]), int(idx[0]) + len(idx))
    return idx


def _keyed_rows(s: _Staged, idx: np.ndarray) -> pa.Table:
    """Staged rows ``idx`` in the columns of ``observations`` (but ``fetched_at``).

    The names come as dictionary arrays over the staged group and field tables: DuckDB
    reads each distinct name once and the rows as codes, without the joins (and their
    hash tables) a lookup by code in SQL would cost: about a quarter less CPU time and
    20 MiB less memory for the 1.2 million values of the shared data.
    """
    part = _run_or_rows(idx)
    g = pa.array(s.g[part])
    return pa.table(
        {
            "series_id": pa.DictionaryArray.from_arrays(g, _names(s.groups["series_id"])),
            "date": pa.array(s.day[part]).view(pa.date32()),
            "field": pa.DictionaryArray.from_arrays(pa.array(s.f[part]), _names(s.fields["field"])),
            "value": pa.array(s.value[part]),
            "source": pa.DictionaryArray.from_arrays(g, _names(s.groups["source"])),
        }
    )


def _names(col: pd.Series) -> pa.Array:
    return pa.array([str(x) for x in col.tolist()], type=pa.string())


class _Writes(_StoreBase):
    """The write methods of :class:`liqflow.store.Store`."""

    def write(
        self,
        batches: Iterable[Batch],
        *,
        fetched_at: dt.datetime | None = None,
        on_revision: RevisionPolicy = "apply",
    ) -> dict[tuple[str, str], int]:
        """Write all batches in one transaction; return rows added per (series, source).

        A row is *added* when its (series, source, field, date) was not stored before.
        A differing value is a revision (see the module notes). If anything fails, no
        batch is written.
        """
        batches = list(batches)
        added: dict[tuple[str, str], int] = {}
        result = self.write_detailed(batches, fetched_at=fetched_at, on_revision=on_revision)
        for b, n in zip(batches, result.added, strict=True):
            added[(b.series_id, b.source)] = added.get((b.series_id, b.source), 0) + n
        return added

    def write_each(
        self,
        batches: Sequence[Batch],
        *,
        fetched_at: dt.datetime | None = None,
        on_revision: RevisionPolicy = "apply",
    ) -> list[int]:
        """Like :meth:`write` (one transaction) but return rows added by each batch, in order.

        When several batches hold the same (series, source, field, date), the row counts
        as added by the first batch that brought it.
        """
        result = self.write_detailed(batches, fetched_at=fetched_at, on_revision=on_revision)
        return list(result.added)

    def write_detailed(
        self,
        batches: Sequence[Batch],
        *,
        fetched_at: dt.datetime | None = None,
        on_revision: RevisionPolicy = "apply",
        files: Sequence[FileRecord] = (),
    ) -> WriteResult:
        """Write batches (and import records) in one transaction; say what changed.

        Parameters
        ----------
        batches : sequence of Batch
            Applied in order.
        fetched_at : datetime, optional
            Stamp of the rows inserted or revised (default: now, UTC).
        on_revision : {"apply", "keep"}
            What a value that differs from the stored one does: become current
            (``"apply"``) or leave the stored value (``"keep"``). Recorded either way.
        files : sequence of FileRecord
            Import records written in the same transaction.

        Returns
        -------
        WriteResult
            Rows added and values revised per batch, and the revisions themselves.
        """
        if on_revision not in REVISION_POLICIES:
            raise StoreError(f"on_revision must be one of {REVISION_POLICIES}, got {on_revision!r}")
        stamp = fetched_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        empty = WriteResult(
            (0,) * len(batches), (0,) * len(batches), applied=on_revision == "apply"
        )
        if not batches and not files:
            return empty
        with self._transaction() as con:
            result = self._write_chunks(con, batches, stamp, on_revision)
            self._write_meta(con, batches, stamp)
            for b in batches:
                if b.vintages is not None and len(b.vintages):
                    self._write_vintages(con, b, stamp)
            if files:
                self._write_files(con, files, stamp)
        return result

    def _write_chunks(
        self,
        con: duckdb.DuckDBPyConnection,
        batches: Sequence[Batch],
        stamp: dt.datetime,
        policy: RevisionPolicy,
    ) -> WriteResult:
        """:meth:`_write_observations` of the batches in chunks of whole (series, source)
        groups of about :data:`INSERT_CHUNK` values: the staged columns, the plan and
        DuckDB's working memory stay bounded by the chunk, not the write. Chunks share no
        key, so each is planned alone; the result is that of one plan of all batches."""
        n = len(batches)
        added = np.zeros(n, dtype=np.int64)
        revised = np.zeros(n, dtype=np.int64)
        found: list[pd.DataFrame] = []
        typed = WriteResult((), ()).revisions  # no chunk written: the default empty table
        for ks in _chunks(batches, INSERT_CHUNK):
            mine = [batches[k] for k in ks]
            staged = _stage(mine)
            if not len(staged.value):
                continue
            part = self._write_observations(con, mine, staged, stamp, policy)
            added[ks] = part.added
            revised[ks] = part.revised
            typed = part.revisions
            if len(part.revisions):
                found.append(part.revisions)
        if len(found) > 1:  # each chunk's are sorted; so are all of them (stable: in order)
            revisions = pd.concat(found, ignore_index=True).sort_values(
                ["series_id", "source", "date", "field"], ignore_index=True, kind="stable"
            )
        else:
            revisions = found[0] if found else typed
        return WriteResult(
            tuple(int(x) for x in added),
            tuple(int(x) for x in revised),
            revisions,
            applied=policy == "apply",
        )

    def _write_observations(
        self,
        con: duckdb.DuckDBPyConnection,
        batches: Sequence[Batch],
        s: _Staged,
        stamp: dt.datetime,
        policy: RevisionPolicy,
    ) -> WriteResult:
        """Insert new keys, update revised values, record revisions: all set-based."""
        con.register("_in_groups", s.groups)
        con.register("_in_fields", s.fields)
        try:
            stored = self._stored_values(con, s)
        except BaseException:
            con.unregister("_in_groups")
            con.unregister("_in_fields")
            raise
        plan = _plan(s, stored, policy)
        del stored
        try:
            self._apply_plan(con, s, plan, stamp, policy, [b.origin or b.source for b in batches])
        finally:
            con.unregister("_in_groups")
            con.unregister("_in_fields")
        n = len(batches)
        added = np.bincount(plan.insert_batch, minlength=n)
        revised = np.bincount(s.batch[plan.rev_rows], minlength=n)
        revisions = pd.DataFrame(
            {
                "series_id": s.groups["series_id"].to_numpy()[s.g[plan.rev_rows]],
                "source": s.groups["source"].to_numpy()[s.g[plan.rev_rows]],
                "field": s.fields["field"].to_numpy()[s.f[plan.rev_rows]],
                "date": pd.DatetimeIndex(s.day[plan.rev_rows].astype("datetime64[D]")).astype(
                    "datetime64[ns]"
                ),
                "old_value": plan.rev_old,
                "new_value": s.value[plan.rev_rows],
                "origin": [batches[k].origin or batches[k].source for k in s.batch[plan.rev_rows]],
            }
        ).sort_values(["series_id", "source", "date", "field"], ignore_index=True)
        return WriteResult(
            tuple(int(x) for x in added),
            tuple(int(x) for x in revised),
            revisions,
            applied=policy == "apply",
        )

    @staticmethod
    def _stored_values(con: duckdb.DuckDBPyConnection, s: _Staged) -> np.ndarray:
        """The stored value of each staged row's key (NaN where the key is new)."""
        stored = np.full(len(s.value), np.nan)
        held = con.execute(
            """SELECT g.g FROM _in_groups g WHERE EXISTS (SELECT 1 FROM observations o
               WHERE o.series_id = g.series_id AND o.source = g.source)"""
        ).fetchnumpy()["g"]
        if len(held) == 0:  # nothing stored for these series yet: every key is new
            return stored
        mine = np.flatnonzero(np.isin(s.g, np.asarray(held, dtype=np.int32)))
        rows = pd.DataFrame(
            {"r": mine.astype(np.int32), "g": s.g[mine], "f": s.f[mine], "day": s.day[mine]},
            copy=False,
        )
        con.register("_in_rows", rows)
        try:
            hit = con.execute(
                """SELECT i.r, o.value FROM _in_rows i
                   JOIN _in_groups g ON g.g = i.g JOIN _in_fields f ON f.f = i.f
                   JOIN observations o ON o.series_id = g.series_id AND o.source = g.source
                    AND o.field = f.field AND o.date = DATE '1970-01-01' + i.day"""
            ).fetchnumpy()
        finally:
            con.unregister("_in_rows")
        stored[np.asarray(hit["r"], dtype=np.int64)] = np.asarray(hit["value"], dtype=np.float64)
        return stored

    @staticmethod
    def _apply_plan(
        con: duckdb.DuckDBPyConnection,
        s: _Staged,
        plan: _Plan,
        stamp: dt.datetime,
        policy: RevisionPolicy,
        origins: list[str],
    ) -> None:
        def rows(idx: np.ndarray, **extra: np.ndarray) -> pd.DataFrame:
            part = _run_or_rows(idx)  # never copied again into the frame
            cols = (s.g[part], s.f[part], s.day[part], s.value[part])
            named = dict(zip(("g", "f", "day", "value"), cols, strict=True))
            return pd.DataFrame({**named, **extra}, copy=False)

        keyed = """JOIN _in_groups g ON g.g = x.g JOIN _in_fields f ON f.f = x.f"""
        # inserted in chunks: DuckDB's working memory of one INSERT grows with its rows
        # (about 95 bytes a row for 1.2 million rows in one statement, under half of that
        # in chunks of 200,000)
        if len(plan.insert):
            with _small_buffer_pool(con):
                for a in range(0, len(plan.insert), INSERT_CHUNK):
                    con.register("_x", _keyed_rows(s, plan.insert[a : a + INSERT_CHUNK]))
                    con.execute("INSERT INTO observations SELECT *, ? FROM _x", [stamp])
                    con.unregister("_x")
        if len(plan.update):
            con.register("_x", rows(plan.update))
            con.execute(
                f"""UPDATE observations AS o SET value = u.value, fetched_at = ?
                    FROM (SELECT g.series_id, g.source, f.field,
                          DATE '1970-01-01' + x.day AS date, x.value FROM _x x {keyed}) u
                    WHERE o.series_id = u.series_id AND o.source = u.source
                      AND o.field = u.field AND o.date = u.date""",
                [stamp],
            )
            con.unregister("_x")
        if len(plan.rev_rows):
            con.register(
                "_x",
                rows(plan.rev_rows, old=plan.rev_old, b=s.batch[plan.rev_rows]),
            )
            con.register(
                "_origins", pd.DataFrame({"b": np.arange(len(origins)), "origin": origins})
            )
            # a conflict kept again and again (the same file re-read) is recorded once
            con.execute(
                f"""INSERT INTO revisions SELECT * FROM (
                    SELECT g.series_id, g.source, f.field, DATE '1970-01-01' + x.day AS date,
                           x.old AS old_value, x.value AS new_value, ? AS applied,
                           ?::TIMESTAMP AS seen_at, og.origin
                    FROM _x x {keyed} JOIN _origins og ON og.b = x.b) n
                    WHERE n.applied OR NOT EXISTS (SELECT 1 FROM revisions r
                      WHERE r.series_id = n.series_id AND r.source = n.source
                        AND r.field = n.field AND r.date = n.date AND NOT r.applied
                        AND r.old_value = n.old_value AND r.new_value = n.new_value)""",
                [policy == "apply", stamp],
            )
            con.unregister("_x")
            con.unregister("_origins")

    @staticmethod
    def _write_meta(
        con: duckdb.DuckDBPyConnection, batches: Sequence[Batch], stamp: dt.datetime
    ) -> None:
        if not batches:
            return
        meta = pd.DataFrame(
            [(b.series_id, b.source, b.symbol, b.unit, b.frequency, b.origin) for b in batches],
            columns=["series_id", "source", "symbol", "unit", "frequency", "origin"],
        ).drop_duplicates(["series_id", "source"], keep="last")
        con.register("_meta", meta)
        try:
            con.execute(
                "INSERT OR REPLACE INTO series_meta SELECT series_id, source, symbol, unit, "
                "frequency, origin, ? FROM _meta",
                [stamp],
            )
        finally:
            con.unregister("_meta")

    @staticmethod
    def _write_files(
        con: duckdb.DuckDBPyConnection, files: Sequence[FileRecord], stamp: dt.datetime
    ) -> None:
        last = {f.path: f for f in files}  # a file recorded twice: the later record holds
        cols = [c for c in FileRecord.__dataclass_fields__ if c != "parts"]
        frame = pd.DataFrame([[getattr(f, c) for c in cols] for f in last.values()], columns=cols)
        part_cols = list(RecordedPart.__dataclass_fields__)
        parts = pd.DataFrame(
            [
                [f.path, k, *(getattr(p, c) for c in part_cols)]
                for f in last.values()
                for k, p in enumerate(f.parts)
            ],
            columns=["path", "seq", *part_cols],
        )
        for df in (frame, parts):
            for col in ("first", "last"):
                df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
        con.register("_files", frame)
        con.register("_parts", parts)
        try:
            con.execute(
                """INSERT OR REPLACE INTO imported_files SELECT path, size, mtime_ns, sha256,
                   context, outcome, series_id, source, format, rows, CAST(first AS DATE),
                   CAST(last AS DATE), detail, ? FROM _files""",
                [stamp],
            )
            con.execute("DELETE FROM imported_parts WHERE path IN (SELECT path FROM _files)")
            con.execute(
                """INSERT INTO imported_parts SELECT path, seq, kind, "column", series_id,
                   source, format, rows, CAST(first AS DATE), CAST(last AS DATE), detail
                   FROM _parts"""
            )
        finally:
            con.unregister("_files")
            con.unregister("_parts")

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
            # a vintage (date, realtime_start) is published once: only new ones are added
            con.execute("INSERT OR IGNORE INTO vintages SELECT * FROM _vint")
        finally:
            con.unregister("_vint")
