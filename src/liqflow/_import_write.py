"""The write of ``liqflow import``: the parts read and spliced, the crypto-universe files
and every file's record, in one transaction (see :mod:`liqflow.importer`)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from liqflow._fork import trim_heap
from liqflow._import_report import ImportedFile, ImportReport
from liqflow._import_splice import _Pending
from liqflow.coin_ids import coin_series_id
from liqflow.store import Batch, FileRecord, RecordedPart, Store

if TYPE_CHECKING:
    from liqflow._universe_write import UniversePrep, UniverseWrite
    from liqflow.importer import _Scan

__all__ = ["write_scan"]

_T = TypeVar("_T")
#: What every series id of a coin's prices starts with (:func:`coin_series_id`).
COIN_PREFIX = coin_series_id("x")[: -len("x")]


def _prepared(scan: _Scan, stored: pd.DataFrame | None) -> UniversePrep | None:
    """The coin ids of the scan's universe files (None: it has none)."""
    if not scan.universe or stored is None:
        return None
    from liqflow._universe_write import prepare_universe

    return prepare_universe(scan.universe, stored)


def _write_universe(
    store: Store, scan: _Scan, prep: UniversePrep | None, prices: list[UniverseWrite] | None
) -> list[ImportedFile]:
    """Write the crypto-universe files read and their records; their report lines.

    ``prep`` is what :func:`liqflow._universe_write.prepare_universe` gives for them,
    ``prices`` the writes of their prices when written already (see :func:`_write_prices`). Their
    records are written before their snapshots are inserted, once their frames are
    released (see :func:`liqflow._universe_write.write_universe_files`).
    """
    if not scan.universe or prep is None:
        return []
    from liqflow._universe_write import write_universe_files

    notes = {f.path: f.notes for f in scan.universe}
    loaded: list[ImportedFile] = []

    def records(writes: list[UniverseWrite]) -> None:
        out = []
        for w in writes:
            loaded.append(
                ImportedFile(
                    w.path, w.series_id, w.source, w.layout, w.rows, w.added, w.first, w.last
                )
            )
            seen = scan.seen.get(w.path)
            if seen is not None:
                parts = [
                    RecordedPart(
                        "loaded", "*", w.series_id, w.source, w.layout, w.rows, w.first, w.last
                    ),
                    *(RecordedPart("note", detail=n) for n in notes.get(w.path, ())),
                ]
                out.append(seen.remember("loaded", parts=parts))
        scan.universe.clear()  # their rows are written or held: the memory goes to the write
        store.write_detailed([], files=out)

    write_universe_files(store, scan.universe, records, prep, prices)
    return loaded


def _write_prices(
    store: Store, scan: _Scan, prep: UniversePrep | None, beside: list[Batch]
) -> list[UniverseWrite] | None:
    """Write the coin prices of the scan's universe files in a side transaction of the
    write (:meth:`Store.side_transaction`), beside the observations ``beside`` DuckDB
    appends in the batch's own transaction meanwhile; their writes, or None when they
    are not written apart (nothing to write, no side transaction, or a series of
    ``beside`` named like a coin's prices, ``coin_*``: the two must not share a key;
    they are then written with the rest)."""
    if prep is None or not (prep.coin_ids or prep.top100):
        return None
    if any(b.series_id.startswith(COIN_PREFIX) for b in beside):
        return None
    from liqflow._universe_write import write_universe_prices

    with store.side_transaction() as apart:
        return write_universe_prices(store, scan.universe, prep) if apart else None


#: Seconds a thread holds the GIL before it is handed to a waiting one while DuckDB
#: writes in a thread and this one computes (Python's default: 0.005).
WRITE_SWITCH_INTERVAL = 0.0005


@contextmanager
def _quick_switches(interval: float = WRITE_SWITCH_INTERVAL) -> Iterator[None]:
    """Hand the GIL over every ``interval`` seconds in the block, then restore the
    previous interval.

    DuckDB's append of the observations releases the GIL for its work but takes it back
    many times (each statement, each Arrow table it scans); at Python's default
    interval, each time it waits up to 5 ms for the thread computing the coin ids: the
    append of 1.2 million values took about 0.75 s instead of 0.45 s beside a busy
    Python thread, and 0.44 s with an interval of 0.5 ms.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _in_thread(run: Callable[[], _T]) -> Callable[[], _T]:
    """Start ``run()`` in a thread; return what waits for it and gives its result (or
    raises its exception).

    For DuckDB's work, which releases the GIL: this thread computes meanwhile. The wait
    is not cut short by Ctrl-C: the interrupt is raised once the thread is done, so the
    transaction it writes into is never closed under it.
    """
    out: list[_T] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            out.append(run())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=target, name="liqflow-write", daemon=True)
    thread.start()

    def wait() -> _T:
        interrupted: KeyboardInterrupt | None = None
        while thread.is_alive():
            try:
                thread.join()
            except KeyboardInterrupt as exc:
                interrupted = exc
        if failed:
            raise failed[0]
        if interrupted is not None:
            raise interrupted
        return out[0]

    return wait


def write_scan(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
) -> ImportReport:
    """Write the parts that passed and the files' records, all in one transaction.

    The observations first, then the crypto-universe files, whose coin ids are computed
    (:func:`liqflow._universe_write.prepare_universe`) and coin prices written (in a side
    transaction) while DuckDB writes the observations.
    """
    with store.batched():
        report = _write_all(store, scan, pending, errors, file_records, revise)
        trim_heap()  # the parsed files are gone: their pages back before DuckDB commits
        return report


def _write_all(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
) -> ImportReport:
    notes = [(f.path, n) for f in scan.universe for n in f.notes]
    batches = [
        Batch(
            p.spec.id,
            p.source,
            p.frame,
            p.spec.symbol,
            p.spec.unit,
            p.spec.frequency,
            str(p.table.path) + ("" if p.part.column == "*" else f" [{p.part.column}]"),
        )
        for p in pending
    ]
    # what the report says of each part; the parsed files themselves are let go (the
    # caller's list emptied, the batches once written), so that DuckDB's commit does not
    # find them still in memory
    said = [
        (
            p.table.path,
            p.spec.id,
            p.source,
            p.table.format,
            len(p.frame),
            p.frame.index[0],
            p.frame.index[-1],
            p.part.column,
        )
        for p in pending
    ]
    pending.clear()
    # the observations and the records of the other files, before the universe files; the
    # stored snapshots read first: the store's reading connection is not used meanwhile
    stored = store.read_universe() if scan.universe else None
    if batches or file_records or scan.universe:
        store.start_batch()  # the lock taken here, where Ctrl-C lands
    with _quick_switches():
        observations = _in_thread(
            lambda: store.write_detailed(
                batches, on_revision="apply" if revise else "keep", files=file_records
            )
        )
        try:
            prep = _prepared(scan, stored)
            prices = _write_prices(store, scan, prep, batches)
        finally:
            result = observations()
    batches.clear()
    universe = _write_universe(store, scan, prep, prices)
    loaded = [
        ImportedFile(path, sid, source, fmt, rows, added, first, last, column, revised)
        for (path, sid, source, fmt, rows, first, last, column), added, revised in zip(
            said, result.added, result.revised, strict=True
        )
    ]
    return ImportReport(
        tuple(loaded + universe + scan.skipped),
        tuple(scan.unmatched),
        tuple(errors),
        tuple(scan.unsupported),
        tuple(scan.columns),
        tuple(notes + scan.notes),
        revisions=result.revisions,
        revisions_applied=revise,
    )
