"""A store handle: opening, read-only attachment and the staged write transaction."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import duckdb

from liqflow._errors import StoreError
from liqflow.config import store_path
from liqflow.store._lock import (
    _fsync,
    _sigint_deferred,
    _sql_path,
    _wait_seconds,
    _wal,
    _WriterLock,
)
from liqflow.store._migrate import stored_version, upgrade
from liqflow.store._schema import _SCHEMA, _TABLES, SCHEMA_VERSION


class _StoreBase:
    """Opening, closing, the reading connection and the write transaction of a store."""

    def __init__(
        self, path: str | Path | None = None, *, read_only: bool = False, wait: float | None = None
    ) -> None:
        self._memory = str(path) == ":memory:"
        self.path = Path(":memory:") if self._memory else store_path(path)
        self.read_only = read_only and not self._memory
        self.wait = _wait_seconds() if wait is None else wait
        #: True once a write of data by this handle has been published (creating or
        #: upgrading the file on opening is not one).
        self.committed = False
        self._reader: duckdb.DuckDBPyConnection | None = None
        #: The handle's own DuckDB database (in memory), opened on first use: the store
        #: file is attached to it read-only for reads (``store``), a write's stage
        #: read-write (``stage``), each through a connection of its own. One database
        #: per handle, not one per connection: opening one costs about 40 ms.
        self._host: duckdb.DuckDBPyConnection | None = None
        #: The write transaction of :meth:`batched` (writes inside it join it), once open.
        self._open: duckdb.DuckDBPyConnection | None = None
        #: Per thread: the connection of its :meth:`side_transaction`, while one is open.
        self._side = threading.local()
        self._batch: contextlib.ExitStack[bool | None] | None = None
        if self._memory:
            self._reader = duckdb.connect(":memory:")
            self._reader.execute(_SCHEMA)
            upgrade(self._reader, ":memory:")
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
            if not self.path.exists() or _wal(self.path).exists() or self._outdated():
                with self._transaction():
                    pass  # creates the file, adds new tables, upgrades, folds a leftover WAL in
                self.committed = False

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self._drop_reader()
        if self._host is not None:
            self._host.close()
            self._host = None

    def _drop_reader(self) -> None:
        """Close the reading connection and detach the store file (the next read attaches
        it again, e.g. the file a write has just published)."""
        if self._reader is None:
            return
        self._reader.close()
        self._reader = None
        if self._host is not None and not self._memory:
            with contextlib.suppress(duckdb.Error):
                self._host.execute("DETACH DATABASE IF EXISTS store")

    def _database(self) -> duckdb.DuckDBPyConnection:
        """The handle's DuckDB database (see ``_host``), opened on first use."""
        if self._host is None:
            self._host = duckdb.connect(":memory:")
        return self._host

    def __enter__(self) -> Self:
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
        con = self._database().cursor()
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

    def _outdated(self) -> bool:
        """True when the store lacks a table or has an older schema version (the reading
        connection is then closed: the upgrade's write publishes another file)."""
        outdated = True
        try:
            rows = self._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'"
            ).fetchall()
            if set(_TABLES) - {r[0] for r in rows}:
                return True
            outdated = stored_version(self._con) < SCHEMA_VERSION
            return outdated
        finally:
            if outdated:
                self._drop_reader()

    def _has_table(self, name: str) -> bool:
        if self._memory:
            return True
        rows = self._con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = 'store' AND table_name = ?",
            [name],
        ).fetchall()
        return bool(rows)

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Every write made in the ``with`` block joins one transaction, published when the
        block ends (all of them) or not at all (an exception, a killed process).

        The transaction opens at the block's first write: a block that writes nothing
        leaves the store file untouched. Reads inside the block see the store as it was
        before it.
        """
        if self._batch is not None:
            yield
            return
        self._batch = contextlib.ExitStack()
        try:
            with self._batch:
                yield
        finally:
            self._batch = None

    def start_batch(self) -> None:
        """Open the transaction of the enclosing :meth:`batched` block now, in this thread
        (taking the writer lock, waiting for it as a write would), not at its first write:
        the writes of the block may then run in another thread while a Ctrl-C of the wait
        for the lock still reaches this one."""
        if self._batch is None:
            raise StoreError(
                "start_batch() opens the transaction of a batched() block; none is open"
            )
        with self._transaction():
            pass

    @contextmanager
    def side_transaction(self) -> Iterator[bool]:
        """Inside a :meth:`batched` block whose transaction is open: the writes this thread
        makes in the ``with`` block go to a second transaction on the same staged copy,
        committed when the block ends; another thread may meanwhile write in the batch's
        own transaction. Yields True then; else (no transaction open yet, a store in
        memory) False, and the writes join the batch's transaction as usual.

        The batch is still published whole or not at all: both transactions write the
        staged copy, which is published only once the batch's own transaction has
        committed. The two must not write the same keys (each sees the store as it was
        before the other); the import writes the catalogue series in one and the coin
        prices (``coin_*`` series) in the other.
        """
        if self._open is None or self._memory:
            yield False
            return
        try:
            con = self._database().cursor()
            con.execute("USE stage")
            con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            raise StoreError(
                f"write to store {self.path} failed, nothing was changed: {exc}"
            ) from None
        self._side.con = con
        try:
            yield True
            con.execute("COMMIT")
        except duckdb.Error as exc:
            raise StoreError(
                f"write to store {self.path} failed, nothing was changed: {exc}"
            ) from None
        finally:
            self._side.con = None
            with contextlib.suppress(duckdb.Error):
                con.close()  # a transaction still open is rolled back

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, published whole or not at all (see the module notes)."""
        side = getattr(self._side, "con", None)
        if side is not None:  # this thread writes in its side transaction
            yield side
            return
        if self.read_only:
            raise StoreError(f"store {self.path} was opened read-only; nothing was changed")
        if self._open is None and self._batch is not None:  # batched(): opened once
            self._batch.callback(setattr, self, "_open", None)
            self._open = self._batch.enter_context(self._opened())
        if self._open is not None:
            yield self._open
            return
        with self._opened() as con:
            yield con

    @contextmanager
    def _opened(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The outermost write transaction: staged, then published by rename."""
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
                # the commit writes the stage's file directly (a checkpoint), not a log
                # that the CHECKPOINT below would then replay: the stage is published by
                # rename or dropped, never recovered from a log
                con.execute("SET checkpoint_threshold = '0b'")
                con.execute("BEGIN TRANSACTION")
                upgrade(con, str(self.path))
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT stage")
                con.execute("USE memory")
                con.execute("DETACH stage")
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
            except StoreError:
                raise
            except OSError as exc:
                raise StoreError(
                    f"write to store {self.path} failed ({exc.strerror}), nothing was changed"
                ) from None
            finally:
                with contextlib.suppress(duckdb.Error):
                    con.close()  # a transaction still open is rolled back
                self._detach_stage()
                for leftover in (stage, _wal(stage)):
                    leftover.unlink(missing_ok=True)
                self._drop_reader()  # the next read attaches the file just published

    def _open_stage(self, stage: Path) -> duckdb.DuckDBPyConnection:
        """Copy the store (and a WAL an older writer left) to ``stage`` and open it."""
        try:
            for leftover in (stage, _wal(stage)):  # from a writer that was killed
                leftover.unlink(missing_ok=True)
            if self.path.exists():
                shutil.copyfile(self.path, stage)
                if _wal(self.path).exists():
                    shutil.copyfile(_wal(self.path), _wal(stage))
            con = self._database().cursor()
        except OSError as exc:
            raise StoreError(
                f"cannot stage a write to store {self.path} ({exc.strerror}); nothing was changed"
            ) from None
        try:
            con.execute(f"ATTACH {_sql_path(stage)} AS stage")
            con.execute("USE stage")
            con.execute(_SCHEMA)
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.close()
            self._detach_stage()
            raise StoreError(f"cannot open store {self.path} for writing: {exc}") from None
        return con

    def _detach_stage(self) -> None:
        """Detach a write's stage from the handle's database (harmless when it is not)."""
        if self._host is not None:
            with contextlib.suppress(duckdb.Error):
                self._host.execute("DETACH DATABASE IF EXISTS stage")

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        # fetchall, not fetchone: duckdb 2 keeps a half-read result open and the next
        # query on the connection then fails
        rows = self._con.execute(sql, list(params)).fetchall()
        return rows[0][0] if rows else None
