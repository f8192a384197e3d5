"""The write of ``liqflow import``: the parts read and spliced, the crypto-universe files
and every file's record, in one transaction (see :mod:`liqflow.importer`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from liqflow._import_report import ImportedFile, ImportReport
from liqflow._import_splice import _Pending
from liqflow.store import Batch, FileRecord, RecordedPart, Store

if TYPE_CHECKING:
    from liqflow.importer import _Scan
    from liqflow.universe_store import UniversePrep, UniverseWrite

__all__ = ["write_scan"]


def _write_universe(
    store: Store, scan: _Scan, prepared: Callable[[], UniversePrep | None] | None
) -> list[ImportedFile]:
    """Write the crypto-universe files read and their records; their report lines.

    ``prepared()`` gives what :func:`liqflow.universe_store.prepare_universe` computes
    for them, when it was computed elsewhere (None: computed here). Their records are
    written before their snapshots are inserted, once their frames are released (see
    :func:`liqflow.universe_store.write_universe_files`).
    """
    if not scan.universe:
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
        store.write_detailed([], files=out)

    write_universe_files(store, scan.universe, records, prepared() if prepared else None)
    return loaded


def write_scan(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
    prepared: Callable[[], UniversePrep | None] | None = None,
) -> ImportReport:
    """Write the parts that passed and the files' records, all in one transaction.

    The observations first, then the crypto-universe files (``prepared``: see
    :func:`_write_universe`), whose coin ids may still be computed elsewhere meanwhile.
    """
    with store.batched():
        return _write_all(store, scan, pending, errors, file_records, revise, prepared)


def _write_all(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
    prepared: Callable[[], UniversePrep | None] | None,
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
    # the observations and the records of the other files, before the universe files
    result = store.write_detailed(
        batches, on_revision="apply" if revise else "keep", files=file_records
    )
    batches.clear()
    universe = _write_universe(store, scan, prepared)
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
