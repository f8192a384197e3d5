"""The local store: one DuckDB file with one long table of observations.

Schema
------
``observations(series_id, date, field, value, source, fetched_at)``, primary key
``(series_id, source, field, date)``: one value per series, source, field and date.
``revisions(series_id, source, field, date, old_value, new_value, applied, seen_at, origin)``
keeps every value that differed from the stored one: ``applied`` says whether the new
value became current or the stored one was kept. ``series_meta(series_id, source, symbol,
unit, frequency, origin, updated_at)`` records where each (series, source) came from.
``vintages(series_id, date, realtime_start, value, source, fetched_at)`` keeps ALFRED
vintages for true point-in-time panels. ``imported_files`` records each file an import
read (size, mtime, content hash, outcome), so an unchanged file is not read again.
``cache(key, created_at, payload)`` holds results that are expensive to recompute.

Revisions
---------
Nothing stored changes in silence. A write brings, for each (series, source, field,
date), a value that is either new (inserted), equal to the stored one within a relative
``1e-12`` (nothing is rewritten, ``fetched_at`` included), or different: a revision. With
``on_revision="apply"`` (the default, used by ``fetch``: providers correct their recent
values) the new value becomes current; with ``"keep"`` (the default of ``liqflow import``:
two files of one source that disagree are a data problem, not a correction) the stored
value stays. Either way the revision is recorded with when it was seen and where the new
value came from, and counted in the write's result. Several batches of one write are
applied in order, as if written one after the other.

Concurrency
-----------
DuckDB lets one process hold a file read-write, and a read-write handle excludes readers.
So the store file is never opened read-write in place: a write takes the writers' lock
(``<store>.lock``, waited for at most ``LIQFLOW_STORE_WAIT`` seconds, default 60), copies
the store to ``<store>.writing``, applies one transaction there, checkpoints, syncs it to
disk and renames it over the store. Readers attach the store read-only and keep the
snapshot they opened: they are never blocked by a write, and a write never waits for a
reader. A process killed at any moment leaves either the old or the new file, whole;
the staged copy it left behind is discarded by the next write. The price is a copy of
the file per write (fast next to parsing or fetching the data being written), so callers
with many batches should hand them to one :meth:`Store.write_each`. Replacing a file that
readers hold open relies on POSIX rename semantics.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from liqflow._errors import StoreError
from liqflow.config import store_path

try:  # POSIX advisory locks; Windows falls back to msvcrt byte-range locks
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

__all__ = ["ENV_STORE_WAIT", "Batch", "FileRecord", "Store", "StoredSeries", "WriteResult"]

#: Seconds a write waits for another process's write to finish before giving up.
ENV_STORE_WAIT = "LIQFLOW_STORE_WAIT"
DEFAULT_WAIT = 60.0
#: Seconds a cache write waits for the writers' lock before skipping the cache.
CACHE_WAIT = 2.0
#: Relative difference under which a new value equals the stored one (float round trips).
SAME_VALUE_RTOL = 1e-12
REVISION_POLICIES = ("apply", "keep")
RevisionPolicy = Literal["apply", "keep"]

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
CREATE TABLE IF NOT EXISTS revisions (
    series_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    date DATE NOT NULL,
    old_value DOUBLE NOT NULL,
    new_value DOUBLE NOT NULL,
    applied BOOLEAN NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    origin VARCHAR NOT NULL
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
CREATE TABLE IF NOT EXISTS imported_files (
    path VARCHAR PRIMARY KEY,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    context VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    series_id VARCHAR,
    source VARCHAR,
    format VARCHAR,
    rows BIGINT,
    first DATE,
    last DATE,
    detail VARCHAR,
    imported_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS cache (
    key VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    payload VARCHAR NOT NULL
);
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


@dataclass(frozen=True)
class FileRecord:
    """What an import learnt of one file: its identity and the outcome of reading it.

    ``context`` fingerprints everything else the outcome depends on (catalogue, forced
    series, parser version): a record only lets a file be skipped under the same context.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str
    context: str
    outcome: str
    series_id: str = ""
    source: str = ""
    format: str = ""
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    detail: str = ""


_REVISION_COLUMNS = ["series_id", "source", "field", "date", "old_value", "new_value", "origin"]


@dataclass(frozen=True)
class WriteResult:
    """What one write did: rows added and values revised per batch, and the revisions.

    ``revisions`` has one row per differing value (columns ``series_id, source, field,
    date, old_value, new_value, origin``); ``applied`` says whether they became current.
    """

    added: tuple[int, ...]
    revised: tuple[int, ...]
    revisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REVISION_COLUMNS))
    applied: bool = True

    def to_frame(self) -> pd.DataFrame:
        """The revisions, one row per value (a copy)."""
        return self.revisions.copy()

    def summary(self) -> str:
        verb = "revised" if self.applied else "differing values kept as stored"
        return f"{sum(self.added)} new rows, {sum(self.revised)} {verb}"


# -- staging: incoming batches as numeric long columns, folded in write order ----------


@dataclass(frozen=True)
class _Staged:
    """Incoming observations as numeric columns (no object dtype), one row per value."""

    groups: pd.DataFrame  # g, series_id, source
    fields: pd.DataFrame  # f, field
    g: np.ndarray  # int32 group of (series, source)
    f: np.ndarray  # int16 field code
    day: np.ndarray  # int32 days since 1970-01-01
    value: np.ndarray  # float64
    batch: np.ndarray  # int32 batch number (write order)
    multi: np.ndarray  # bool per group: rows of that group may share keys


def _days(index: pd.Index) -> np.ndarray:
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.to_numpy(dtype="datetime64[D]").astype(np.int32)


def _stage(batches: Sequence[Batch]) -> _Staged:
    group_codes: dict[tuple[str, str], int] = {}
    field_codes: dict[str, int] = {}
    parts: list[tuple[np.ndarray, ...]] = []
    shared: set[int] = set()
    for k, b in enumerate(batches):
        key = (b.series_id, b.source)
        if key in group_codes or not b.frame.index.is_unique:
            shared.add(group_codes.get(key, len(group_codes)))
        gk = group_codes.setdefault(key, len(group_codes))
        days = _days(b.frame.index)
        for col in b.frame.columns:
            values = b.frame[col].to_numpy(dtype=np.float64)
            ok = np.isfinite(values)
            n = int(ok.sum())
            if n == 0:
                continue
            fk = field_codes.setdefault(str(col), len(field_codes))
            parts.append(
                (
                    np.full(n, gk, np.int32),
                    np.full(n, fk, np.int16),
                    days[ok],
                    values[ok],
                    np.full(n, k, np.int32),
                )
            )
    cols = (
        [np.concatenate([p[i] for p in parts]) for i in range(5)]
        if parts
        else [np.empty(0, t) for t in (np.int32, np.int16, np.int32, np.float64, np.int32)]
    )
    groups = pd.DataFrame(
        {
            "g": np.arange(len(group_codes), dtype=np.int32),
            "series_id": [s for s, _ in group_codes],
            "source": [s for _, s in group_codes],
        }
    )
    fields = pd.DataFrame(
        {"f": np.arange(len(field_codes), dtype=np.int16), "field": list(field_codes)}
    )
    multi = np.zeros(len(group_codes), dtype=bool)
    multi[list(shared)] = True
    g, f, day, value, batch = cols
    return _Staged(groups, fields, g, f, day, value, batch, multi)


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: a and b differ by more than :data:`SAME_VALUE_RTOL` (relative)."""
    return np.abs(a - b) > SAME_VALUE_RTOL * np.maximum(np.abs(a), np.abs(b))


@dataclass(frozen=True)
class _Plan:
    """What to do with each staged row, decided against the stored values."""

    insert: np.ndarray  # rows to insert (new keys), one per key, carrying the final value
    insert_batch: np.ndarray  # batch that first brought each inserted key
    update: np.ndarray  # rows whose value replaces the stored one
    rev_rows: np.ndarray  # rows that differ from the value current before them
    rev_old: np.ndarray  # that current value


def _plan(s: _Staged, stored: np.ndarray, policy: RevisionPolicy) -> _Plan:
    """Decide inserts, updates and revisions; ``stored`` is NaN where the key is new.

    Rows of one key are taken in batch order, as if each batch were written alone. Only
    the rows of (series, source) pairs that several batches bring (or a batch brings
    twice) need sorting; every other row is its own key.
    """
    multi = s.multi[s.g]
    one = np.flatnonzero(~multi)
    base = stored[one]
    new_key = np.isnan(base)
    differs = np.zeros(len(one), dtype=bool)
    differs[~new_key] = _differs(s.value[one][~new_key], base[~new_key])
    plan = _Plan(
        insert=one[new_key],
        insert_batch=s.batch[one[new_key]],
        update=one[differs] if policy == "apply" else one[:0],
        rev_rows=one[differs],
        rev_old=base[differs],
    )
    if not multi.any():
        return plan
    sub = np.flatnonzero(multi)
    folded = _plan_sorted(
        s.g[sub], s.f[sub], s.day[sub], s.value[sub], s.batch[sub], stored[sub], policy
    )
    return _Plan(
        insert=np.concatenate([plan.insert, sub[folded.insert]]),
        insert_batch=np.concatenate([plan.insert_batch, folded.insert_batch]),
        update=np.concatenate([plan.update, sub[folded.update]]),
        rev_rows=np.concatenate([plan.rev_rows, sub[folded.rev_rows]]),
        rev_old=np.concatenate([plan.rev_old, folded.rev_old]),
    )


def _plan_sorted(
    g: np.ndarray,
    f: np.ndarray,
    day: np.ndarray,
    value: np.ndarray,
    batch: np.ndarray,
    stored: np.ndarray,
    policy: RevisionPolicy,
) -> _Plan:
    """:func:`_plan` for rows that may share keys: sort by key then batch, fold runs."""
    n = len(value)
    order = np.lexsort((batch, day, f, g))
    gs, fs, ds = g[order], f[order], day[order]
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = (gs[1:] == gs[:-1]) & (fs[1:] == fs[:-1]) & (ds[1:] == ds[:-1])
    start = np.flatnonzero(~same)  # first row (sorted position) of each key
    run = np.cumsum(~same) - 1  # key number of each sorted position
    value = value[order]
    base = stored[order][start]  # stored value of each key (NaN: new)
    if policy == "apply":
        before = np.empty(n)
        before[~same] = base
        before[1:][same[1:]] = value[:-1][same[1:]]
        final_pos = np.append(start[1:], n) - 1  # the last row of each key wins
        final = value[final_pos]
    else:
        final = np.where(np.isnan(base), value[start], base)  # the first value stays
        before = final[run]
        before[start] = base
        final_pos = start
    has_before = ~np.isnan(before)
    rev = np.zeros(n, dtype=bool)
    rev[has_before] = _differs(value[has_before], before[has_before])
    new_key = np.isnan(base)
    changed = ~new_key
    changed[changed] = _differs(final[changed], base[changed])
    return _Plan(
        insert=order[final_pos[new_key]],
        insert_batch=batch[order[start[new_key]]],
        update=order[final_pos[changed]],
        rev_rows=order[rev],
        rev_old=before[rev],
    )


def _wait_seconds() -> float:
    raw = os.environ.get(ENV_STORE_WAIT, "")
    try:
        wait = float(raw) if raw.strip() else DEFAULT_WAIT
    except ValueError:
        raise StoreError(
            f"{ENV_STORE_WAIT} must be a number of seconds like 60, got {raw!r}"
        ) from None
    if not np.isfinite(wait) or wait < 0:
        raise StoreError(f"{ENV_STORE_WAIT} must be a number of seconds >= 0, got {raw!r}")
    return wait


class _WriterLock:
    """The writers' lock of a store: an advisory lock on ``<store>.lock``, bounded wait."""

    def __init__(self, store: Path, wait: float) -> None:
        self.path = store.with_name(store.name + ".lock")
        self.store = store
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> _WriterLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {self.path}: {exc.strerror}; nothing was changed"
            ) from None
        deadline = time.monotonic() + self.wait
        pause = 0.01
        while not self._try(fd):
            if time.monotonic() >= deadline:
                holder = self._holder(fd)
                os.close(fd)
                raise StoreError(
                    f"store {self.store} is being written by another liqflow process{holder}; "
                    f"waited {self.wait:g} s (set {ENV_STORE_WAIT} to wait longer); "
                    "nothing was changed"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {time.time():.0f}\n".encode())
        self._fd = fd
        return self

    @staticmethod
    def _try(fd: int) -> bool:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    @staticmethod
    def _holder(fd: int) -> str:
        with contextlib.suppress(OSError, ValueError):
            pid, since = os.pread(fd, 64, 0).decode().split()
            held = max(0.0, time.time() - float(since))  # a fresh lock can read as -0.0 s
            return f" (pid {int(pid)}, for {held:.0f} s)"
        return ""

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if fcntl is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C for the few statements that publish a write, then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if directory else os.O_RDWR)
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some file systems cannot sync a directory; the file is what counts
            raise
    finally:
        os.close(fd)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


_TABLES = tuple(line.split()[5] for line in _SCHEMA.splitlines() if line.startswith("CREATE TABLE"))


class Store:
    """A DuckDB-backed store of observations.

    Parameters
    ----------
    path : path, optional
        The DuckDB file; default ``$LIQFLOW_HOME/liqflow.duckdb`` or the user cache dir.
        ``":memory:"`` gives a throw-away store (tests).
    read_only : bool
        Refuse writes (and do not create the file). Reads never lock the file either way.
    wait : float, optional
        Seconds a write waits for another process's write (default ``$LIQFLOW_STORE_WAIT``
        or 60).

    Notes
    -----
    Reads see the snapshot of the store as of the first read after opening or after this
    handle's last write; see the module docstring for how writes are published.
    """

    def __init__(
        self, path: str | Path | None = None, *, read_only: bool = False, wait: float | None = None
    ) -> None:
        self._memory = str(path) == ":memory:"
        self.path = Path(":memory:") if self._memory else store_path(path)
        self.read_only = read_only and not self._memory
        self.wait = _wait_seconds() if wait is None else wait
        #: True once a write of this handle has been published.
        self.committed = False
        self._reader: duckdb.DuckDBPyConnection | None = None
        if self._memory:
            self._reader = duckdb.connect(":memory:")
            self._reader.execute(_SCHEMA)
            return
        if read_only and not self.path.exists():
            raise StoreError(
                f"store {self.path} does not exist yet; run `liqflow import PATH` or `liqflow fetch` first"
            )
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create store directory {self.path.parent}: {exc.strerror}"
                ) from None
            if not self.path.exists() or _wal(self.path).exists() or self._missing_tables():
                with self._transaction():
                    pass  # creates the file, adds new tables, folds a leftover WAL in

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        """The reading connection: the store file attached read-only (opened on first use)."""
        if self._reader is None:
            self._reader = self._attach_read_only()
        return self._reader

    def _attach_read_only(self) -> duckdb.DuckDBPyConnection:
        # A private in-memory database per handle: DuckDB caches databases by path within a
        # process, which would pin a replaced file's old snapshot for every later handle.
        con = duckdb.connect(":memory:")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                con.execute(f"ATTACH {_sql_path(self.path)} AS store (READ_ONLY)")
                con.execute("USE store")
                return con
            except duckdb.IOException as exc:
                # only a process writing the file in place (an older liqflow) holds a lock
                if "lock" in str(exc).lower() and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                con.close()
                raise StoreError(f"cannot open store {self.path}: {exc}") from None
            except duckdb.Error as exc:
                con.close()
                raise StoreError(f"cannot open store {self.path}: {exc}") from None

    def _missing_tables(self) -> bool:
        try:
            rows = self._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'"
            ).fetchall()
        finally:
            self.close()
        return bool(set(_TABLES) - {r[0] for r in rows})

    def _has_table(self, name: str) -> bool:
        if self._memory:
            return True
        rows = self._con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = 'store' AND table_name = ?",
            [name],
        ).fetchall()
        return bool(rows)

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, published whole or not at all (see the module notes)."""
        if self.read_only:
            raise StoreError(f"store {self.path} was opened read-only; nothing was changed")
        if self._memory:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
            return
        with _WriterLock(self.path, self.wait):
            stage = self.path.with_name(self.path.name + ".writing")
            con = self._open_stage(stage)
            try:
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT store")
                con.execute("USE memory")
                con.execute("DETACH store")
                con.close()
                _fsync(stage)
                with _sigint_deferred():
                    os.replace(stage, self.path)
                    self.committed = True
                    _wal(self.path).unlink(missing_ok=True)
                    _fsync(self.path.parent, directory=True)
            except duckdb.Error as exc:
                raise StoreError(
                    f"write to store {self.path} failed, nothing was changed: {exc}"
                ) from None
            except OSError as exc:
                raise StoreError(
                    f"write to store {self.path} failed ({exc.strerror}), nothing was changed"
                ) from None
            finally:
                with contextlib.suppress(duckdb.Error):
                    con.close()
                for leftover in (stage, _wal(stage)):
                    leftover.unlink(missing_ok=True)
                self.close()  # the next read attaches the file just published

    def _open_stage(self, stage: Path) -> duckdb.DuckDBPyConnection:
        """Copy the store (and a WAL an older writer left) to ``stage`` and open it."""
        try:
            for leftover in (stage, _wal(stage)):  # from a writer that was killed
                leftover.unlink(missing_ok=True)
            if self.path.exists():
                shutil.copyfile(self.path, stage)
                if _wal(self.path).exists():
                    shutil.copyfile(_wal(self.path), _wal(stage))
            con = duckdb.connect(":memory:")
            con.execute(f"ATTACH {_sql_path(stage)} AS store")
            con.execute("USE store")
            con.execute(_SCHEMA)
        except OSError as exc:
            raise StoreError(
                f"cannot stage a write to store {self.path} ({exc.strerror}); nothing was changed"
            ) from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path} for writing: {exc}") from None
        return con

    # -- writes ----------------------------------------------------------------------
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
        staged = _stage(batches)
        with self._transaction() as con:
            result = (
                self._write_observations(con, batches, staged, stamp, on_revision)
                if len(staged.value)
                else empty
            )
            self._write_meta(con, batches, stamp)
            for b in batches:
                if b.vintages is not None and len(b.vintages):
                    self._write_vintages(con, b, stamp)
            if files:
                self._write_files(con, files, stamp)
        return result

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
            {"r": mine.astype(np.int32), "g": s.g[mine], "f": s.f[mine], "day": s.day[mine]}
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
            return pd.DataFrame(
                {"g": s.g[idx], "f": s.f[idx], "day": s.day[idx], "value": s.value[idx], **extra}
            )

        keyed = """JOIN _in_groups g ON g.g = x.g JOIN _in_fields f ON f.f = x.f"""
        if len(plan.insert):
            con.register("_x", rows(plan.insert))
            con.execute(
                f"""INSERT INTO observations SELECT g.series_id, DATE '1970-01-01' + x.day,
                    f.field, x.value, g.source, ? FROM _x x {keyed}""",
                [stamp],
            )
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
        frame = pd.DataFrame([vars(f) for f in files]).drop_duplicates("path", keep="last")
        for col in ("first", "last"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        con.register("_files", frame)
        try:
            con.execute(
                """INSERT OR REPLACE INTO imported_files SELECT path, size, mtime_ns, sha256,
                   context, outcome, series_id, source, format, rows, CAST(first AS DATE),
                   CAST(last AS DATE), detail, ? FROM _files""",
                [stamp],
            )
        finally:
            con.unregister("_files")

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

    # -- import records and revisions -------------------------------------------------
    def file_records(self) -> dict[str, FileRecord]:
        """What earlier imports recorded of each file, by path (empty on an older store)."""
        if not self._has_table("imported_files"):
            return {}
        cur = self._con.execute(
            """SELECT path, size, mtime_ns, sha256, context, outcome, series_id, source,
                      format, rows, first, last, detail FROM imported_files"""
        )
        out: dict[str, FileRecord] = {}
        for r in cur.fetchall():
            first = pd.Timestamp(r[10]) if r[10] is not None else None
            last = pd.Timestamp(r[11]) if r[11] is not None else None
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
                first,
                last,
                r[12] or "",
            )
        return out

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

    # -- cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        """A cached JSON payload, or None."""
        payload = self._scalar("SELECT payload FROM cache WHERE key = ?", [key])
        return json.loads(payload) if payload is not None else None

    def cache_put(self, key: str, payload: Any) -> bool:
        """Store a JSON-serialisable payload under ``key``; False if it was not stored.

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

    def coin_price_keys(self) -> list[tuple[str, str]]:
        """(series id, source) of every stored coin price series (``coin_<id>``)."""
        rows = self._con.execute(
            "SELECT DISTINCT series_id, source FROM series_meta "
            "WHERE series_id LIKE 'coin\\_%' ESCAPE '\\' ORDER BY series_id, source"
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]
