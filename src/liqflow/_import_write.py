"""The write of ``liqflow import``: the parts read and spliced, the crypto-universe files
and every file's record, in one transaction (see :mod:`liqflow.importer`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from liqflow._import_report import ImportedFile, ImportReport
from liqflow._import_splice import _Pending
from liqflow.store import Batch, FileRecord, RecordedPart, Store, WriteResult

if TYPE_CHECKING:
    from liqflow.importer import _Scan
    from liqflow.universe_store import UniverseWrite

__all__ = ["write_scan"]


def _write_universe(
    store: Store, scan: _Scan, then: Callable[[list[FileRecord]], None]
) -> list[ImportedFile]:
    """Write the crypto-universe files read and their report lines; ``then`` is called with
    their records before their snapshots are inserted (see
    :func:`liqflow.universe_store.write_universe_files`), once their frames are released."""
    if not scan.universe:
        then([])
        return []
    from liqflow.universe_store import write_universe_files

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
        then(out)

    write_universe_files(store, scan.universe, records)
    return loaded


def write_scan(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
) -> ImportReport:
    """Write the parts that passed and the files' records, all in one transaction."""
    with store.batched():
        return _write_all(store, scan, pending, errors, file_records, revise)


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
    results: list[WriteResult] = []

    def observations(universe_records: list[FileRecord]) -> None:
        # the observations and every record, before the universe snapshots are inserted
        results.append(
            store.write_detailed(
                batches,
                on_revision="apply" if revise else "keep",
                files=file_records + universe_records,
            )
        )
        batches.clear()

    universe = _write_universe(store, scan, observations)
    result = results[0]
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
