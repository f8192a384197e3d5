"""``liqflow import``: local data files into the store, matched to catalogue series.

A file's layout is recognised from its content (:func:`liqflow.providers.layouts.read_table`);
a file may hold several series (wide FRED tables, JSON caches, CFTC tables). Each part is
matched to a catalogue series by what the content says (a column's FRED id or alias, the
Fiscal Data table, the Farside layout) or else by the file name.

Splicing. Several files may bring the same (series, source): the ICE BofA OAS of
1996-2025 and FRED's three-year window of 2023-2026, or two Yahoo exports of a coin. They
are spliced into one series only where they agree on every common date and field; a file
that disagrees with what the earlier files of the same import say is refused, naming the
dates and both values. The check is within the files of one import; what happens to a
stored value that a later import changes is the store's revision rule. Agreement means equal within :data:`SPLICE_RTOL` (exact up to
the decimal formatting of the files), except for the daily bars of markets that trade
around the clock (group ``crypto``/``alt``, source ``yahoo``): an export written during a
UTC day holds that day's bar so far, so prices may differ by up to
:data:`SNAPSHOT_RTOL` and volumes are not compared. Within a (series, source) the file
that reaches further is written last, so its values win on such a day. A Yahoo file's
last bar may have been written during its session, so its volume is not compared either.

Series whose whole history is re-estimated at every release (:data:`liqflow.catalog.REVISED`:
the Chicago Fed NFCI and ANFCI) are not spliced: two files of different dates are two
vintages; the one reaching further is written last and its values replace the older ones.

Checks and revisions. Every part is checked (:mod:`liqflow._sanity`) before anything is
written; all parts that pass are written in one transaction. A value that differs from the
stored one for the same (series, source, field, date) is a conflict: by default the stored
value is kept and the conflict recorded and counted; ``revise=True`` (``--revise``) makes
the file's values current, the old ones kept as revisions. A file whose size, mtime and
content hash are those recorded by an earlier import under the same catalogue, options
and parser is not read again: one series or several, crypto-universe snapshots and coin
prices alike, it is reported from its record (``rescan=True`` reads every file).

Two cores. The parsers hold the GIL, so an import with more than :data:`FORK_MIN_BYTES`
to parse reads its first files (about :data:`WORKER_SHARE` of the estimated reading
cost) in a forked worker process (:mod:`liqflow._fork`, Linux) while this
process reads the rest; the worker's scan comes back pickled and is joined in file
order, so the report, records, rows and errors are those of one process reading every
file in turn. The worker never touches the store and ends once its scan is sent (its
memory would otherwise add to the write's). During the write, DuckDB appends the
observations in a thread while this one computes the coin ids of the universe files and
writes their coin prices in a side transaction of the same write (the two write
different series; the write is still published whole or not at all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from liqflow import _sanity
from liqflow._errors import DataError, LiqflowError, UnsupportedLayoutError
from liqflow._fork import Worker, fork_worker, forking_works, split_at
from liqflow._import_records import (
    _as_written,
    _context,
    _from_record,
    _identify,
    _loaded_part,
    _resolved_folder,
    _Seen,
)
from liqflow._import_report import NOT_SUPPORTED_YET, ImportedFile, ImportReport
from liqflow._import_splice import SNAPSHOT_RTOL, SPLICE_RTOL, _Pending, _splice
from liqflow._import_write import write_scan
from liqflow.catalog import FUNDS, Catalog, SeriesSpec, is_excluded_coin
from liqflow.providers.csv import fund_source
from liqflow.providers.layouts import ParsedTable, Part, read_table
from liqflow.providers.universe_files import (
    ONE_SNAPSHOT_PER_FILE,
    UniverseFile,
    coin_from_ticker_file,
    read_snapshot_files,
    read_universe_file,
    sniff_universe_layout,
)
from liqflow.store import FileRecord, RecordedPart, Store

__all__ = [
    "NOT_SUPPORTED_YET",
    "SNAPSHOT_RTOL",
    "SPLICE_RTOL",
    "ImportReport",
    "ImportedFile",
    "import_paths",
]

#: File kinds a folder scan looks at; other files (READMEs, notebooks) are not data.
SCANNED_SUFFIXES = (".csv", ".json", ".jsonl")
_TOKENS = re.compile(r"[_\s]+")


def _csv_files(paths: Sequence[str | Path]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for each path; folders are scanned recursively."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            out.extend(
                (f, False)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SCANNED_SUFFIXES
            )
        elif p.is_file():
            out.append((p, True))
        else:
            raise DataError(
                f"import path {p} does not exist; give CSV files or folders that contain them"
            )
    return out


def _shares_a_field(frame: pd.DataFrame, spec: SeriesSpec) -> bool:
    cols = set(frame.columns)
    return cols == {"value"} or bool(cols & set(spec.fields))


def _by_tokens(stem: str, frame: pd.DataFrame, catalog: Catalog) -> SeriesSpec | None:
    """The series named by a run of ``_``-separated words of the stem, longest run first.

    ``marketlab_BTC_USD`` -> ``BTC-USD``; ``heliar_RUT_daily_ibkr`` -> ``RUT_daily``;
    ``btc_funding_daily_mean`` -> ``btc_funding``. Only series that store a field of the
    file are candidates; two different series named by runs of the same length: no match.
    """
    words = [w for w in _TOKENS.split(stem) if w]
    for n in range(len(words), 0, -1):
        found: dict[str, SeriesSpec] = {}
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            for name in {"_".join(run), "-".join(run)}:
                spec = catalog.match_file(name)
                if spec is not None and _shares_a_field(frame, spec):
                    found[spec.id] = spec
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            return None
    return None


def _match(table: ParsedTable, part: Part, catalog: Catalog) -> SeriesSpec | None:
    if part.series_id is not None:
        return catalog.get(part.series_id)
    stem = table.path.stem
    for name in (stem, part.hint):
        spec = catalog.match_file(name) if name else None
        if spec is not None and _shares_a_field(part.frame, spec):
            return spec
    return _by_tokens(stem, part.frame, catalog)


def _fields(frame: pd.DataFrame, spec: SeriesSpec) -> pd.DataFrame:
    if list(frame.columns) == ["value"] and spec.primary_field != "value":
        frame = frame.rename(columns={"value": spec.primary_field})
    return frame


def _source(table: ParsedTable, part: Part, spec: SeriesSpec) -> str:
    if spec.id in FUNDS and table.single is not None and table.single.format == "yahoo":
        return fund_source(table.single)
    return part.source or spec.sources[0]


def _unmatched_reason(path: Path) -> str:
    if is_excluded_coin(path.stem):
        return "stablecoin or wrapped token: excluded by rule"
    return (
        f"no catalogue series named {path.stem!r} "
        "(use --series ID, or add it with --catalog FILE.toml)"
    )


def _universe_file(path: Path, scan: _Scan, seen: _Seen) -> bool:
    """Read ``path`` into ``scan.universe`` when it is a crypto-universe layout (True), else
    False.

    Auxiliary files (ranked ticker lists without market caps) are listed as unmatched
    with the reason; a universe file that fails to parse raises (it is refused).
    """
    layout = sniff_universe_layout(path)
    if layout is None:
        return False
    if layout in ONE_SNAPSHOT_PER_FILE:  # read with the others of its layout: _read_later
        scan.later.setdefault(layout, []).append((len(scan.universe), path, seen))
        scan.universe.append(UniverseFile(path, layout))
        return True
    f = read_universe_file(path, layout)
    if f.auxiliary is not None:
        scan.unmatched.append((path, f.auxiliary))
        scan.records[path] = seen.remember("unmatched", f.auxiliary)
    else:
        scan.universe.append(f)
        scan.seen[path] = seen
    return True


def _coin_file(table: ParsedTable, scan: _Scan, seen: _Seen) -> bool:
    """A one-series price file of a coin outside the catalogue: kept as a coin's prices."""
    if len(table.parts) != 1 or is_excluded_coin(table.path.stem):
        return False
    coin = coin_from_ticker_file(table.path, table.parts[0].frame, table.format)
    if coin is None:
        return False
    scan.universe.append(UniverseFile(table.path, f"{table.format}_coin", prices=coin))
    scan.seen[table.path] = seen
    return True


def _checked(store: Store, catalog: Catalog, p: _Pending, forced: bool, force: bool) -> None:
    """Every sanity check of one part (raises the first failure, naming file:line)."""
    path = p.table.path
    hint = p.table.single.series_hint if p.table.single is not None else None
    if hint is None and p.table.format == "wide" and len(p.table.parts) == 1:
        hint = p.part.column  # a ``DATE,<ID>`` file read as a one-column wide table
    # a one-series file whose header names another series than the one it is loaded as
    # (forced with --series) or named after is refused: which one was meant is unclear
    target = p.spec if forced else (catalog.match_file(path.stem) or p.spec)
    named = catalog.match_file(hint) if hint else None
    _sanity.check_header(path, hint, target.id, target.symbol, named.id if named else "")
    _sanity.check_values(path, p.frame, p.spec.unit, force=force)
    field_ = p.spec.primary_field
    if forced and not force and field_ in p.frame.columns:
        held = store.sources(p.spec.id)
        ref = next((s for s in (*p.spec.sources, *held) if s in held), None)
        if ref is not None:
            stored = store.read(p.spec.id, ref, [field_])
            if field_ in stored.columns:
                _sanity.check_level_against(path, p.frame[field_], stored[field_], p.spec.id, ref)


@dataclass
class _Scan:
    """What the reading of the files found (filled by :func:`_read`)."""

    pending: list[_Pending] = field(default_factory=list)
    unmatched: list[tuple[Path, str]] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    unsupported: list[tuple[Path, str]] = field(default_factory=list)
    columns: list[tuple[Path, str, str]] = field(default_factory=list)
    universe: list[UniverseFile] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[ImportedFile] = field(default_factory=list)
    records: dict[Path, FileRecord] = field(default_factory=dict)
    #: identity of each universe file read: recorded once its write says what it held
    seen: dict[Path, _Seen] = field(default_factory=dict)
    #: files of one-snapshot-per-file layouts, read together after the others: (place in
    #: ``universe``, path, identity) by layout
    later: dict[str, list[tuple[int, Path, _Seen]]] = field(default_factory=dict)

    def extended(self, after: _Scan) -> _Scan:
        """This scan followed by ``after``, the scan of the files after these (each read
        whole, their later files included): what reading all of them in turn gives."""
        if self.later or after.later:
            raise ValueError("a scan with files left for later cannot be extended")
        for name in ("pending", "unmatched", "errors", "unsupported", "columns", "universe"):
            getattr(self, name).extend(getattr(after, name))
        self.notes.extend(after.notes)
        self.skipped.extend(after.skipped)
        self.records.update(after.records)
        self.seen.update(after.seen)
        return self


def _reuse(scan: _Scan, path: Path, explicit: bool, rec: FileRecord, revise: bool) -> bool:
    """Report an unchanged file from its record instead of reading it (True when done)."""
    if revise and rec.outcome == "loaded":
        return False
    if rec.outcome == "loaded":
        done = _from_record(path, rec)
        if done is None:
            return False
        scan.skipped.extend(done)
        scan.columns.extend((path, q.column, q.detail) for q in rec.parts if q.kind == "column")
        scan.notes.extend((path, q.detail) for q in rec.parts if q.kind == "note")
        return True
    if explicit:
        return False
    (scan.unmatched if rec.outcome == "unmatched" else scan.unsupported).append((path, rec.detail))
    return True


def _read_one(
    scan: _Scan,
    path: Path,
    explicit: bool,
    seen: _Seen,
    ctx: tuple[Store, Catalog, SeriesSpec | None, bool],
) -> None:
    store, catalog, forced, force = ctx
    try:
        if forced is None and _universe_file(path, scan, seen):
            return
        table = read_table(path, catalog)
    except UnsupportedLayoutError as exc:
        if explicit:
            scan.errors.append((path, str(exc)))
        else:
            scan.unsupported.append((path, str(exc)))
            scan.records[path] = seen.remember("unsupported", str(exc))
        return
    except LiqflowError as exc:
        scan.errors.append((path, str(exc)))
        return
    scan.columns.extend((path, col, why) for col, why in table.skipped if col != "*")
    found = []
    for part in table.parts:
        spec = forced or _match(table, part, catalog)
        if spec is not None and len(part.frame):
            frame = _fields(part.frame, spec)
            found.append(_Pending(table, part, spec, _source(table, part, spec), frame))
    if not found and forced is None and _coin_file(table, scan, seen):
        return
    if not found:
        whole = dict(table.skipped).get("*")
        reason = whole or (
            "no column names a catalogue series" if table.skipped else _unmatched_reason(path)
        )
        if explicit:
            scan.errors.append((path, f"{path}: {reason}"))
        else:
            scan.unmatched.append((path, reason))
            scan.records[path] = seen.remember("unmatched", reason)
        return
    try:
        for p in found:
            _checked(store, catalog, p, forced is not None, force)
    except LiqflowError as exc:
        scan.errors.append((path, str(exc)))
        return
    scan.pending.extend(found)
    unread = [RecordedPart("column", col, detail=why) for col, why in table.skipped if col != "*"]
    scan.records[path] = seen.remember("loaded", parts=[*map(_loaded_part, found), *unread])


def _read(
    files: list[tuple[Path, bool]],
    ctx: tuple[Store, Catalog, SeriesSpec | None, bool],
    progress: Callable[[Path], None] | None,
    records: dict[str, FileRecord],
    context: str,
    revise: bool,
) -> _Scan:
    """Read every file: the first ones in a forked worker process when there is enough to
    parse (see :func:`_worker_files`), the others here meanwhile; the same scan either way."""
    k = _worker_files(files, records, context, revise) if ctx[2] is None else 0
    worker: Worker[_Scan] | None = None
    try:
        if k:
            try:
                worker = fork_worker(
                    lambda: iter([_read_files(files[:k], ctx, None, records, context, revise)]),
                    f"reading {files[0][0]} to {files[k - 1][0]}",
                )
            except OSError:  # no process could be started: all read here
                k = 0
        scan = _read_files(files[k:], ctx, progress, records, context, revise)
        if worker is not None:
            scan = worker.receive().extended(scan)
            if progress is not None:
                for path, _ in files[:k]:
                    progress(path)
    finally:
        if worker is not None:
            worker.stop()
    at = {path: k for k, (path, _) in enumerate(files)}
    scan.errors.sort(key=lambda e: at.get(e[0], len(at)))  # in file order, as read
    return scan


#: Bytes to parse (files an earlier import did not record as they are now) from which
#: a forked worker reads the first files while this process reads the rest: below it,
#: starting the worker and sending its result back costs more than it saves.
FORK_MIN_BYTES = 4 << 20
#: Share of the estimated reading cost given to the worker: under half, as it also
#: pickles what it read (about a tenth of its reading time on the shared data) before
#: this process, done with its own files, can unpickle it.
WORKER_SHARE = 0.45
#: Reading cost of a file besides its bytes (opening, sniffing, building its frames), in
#: bytes' worth.
_PER_FILE_BYTES = 30_000


def _worker_files(
    files: list[tuple[Path, bool]], records: dict[str, FileRecord], context: str, revise: bool
) -> int:
    """How many of the first files a forked worker reads (0: none, all read here).

    The cost of each file is estimated from its size: a file recorded with its size and
    mtime is likely unchanged, to be hashed and reported from its record, not parsed.
    """
    if not forking_works():
        return 0
    # by size and mtime alone (no path resolved): an estimate, not the reuse decision
    known = {
        (r.size, r.mtime_ns)
        for r in records.values()
        if r.context == context and not (revise and r.outcome == "loaded")
    }
    costs = []
    parse = 0
    for path, _ in files:
        try:
            st = path.stat()
        except OSError:
            costs.append(0.0)
            continue
        if (st.st_size, st.st_mtime_ns) in known:
            costs.append(st.st_size / 50)  # hashed, not parsed
        else:
            costs.append(float(st.st_size + _PER_FILE_BYTES))
            parse += st.st_size
    return split_at(costs, WORKER_SHARE) if parse >= max(FORK_MIN_BYTES, 1) else 0


def _read_files(
    files: list[tuple[Path, bool]],
    ctx: tuple[Store, Catalog, SeriesSpec | None, bool],
    progress: Callable[[Path], None] | None,
    records: dict[str, FileRecord],
    context: str,
    revise: bool,
) -> _Scan:
    """The scan of ``files``, read one after the other (errors not yet in file order)."""
    scan = _Scan()
    for path, explicit in files:
        if progress is not None:
            progress(path)
        try:
            seen = _identify(path, records, context)
        except OSError as exc:
            scan.errors.append((path, f"{path}: cannot read file: {exc.strerror}"))
            continue
        if seen.record is not None and _reuse(scan, path, explicit, seen.record, revise):
            continue
        _read_one(scan, path, explicit, seen, ctx)
    _read_later(scan)
    return scan


def _read_later(scan: _Scan) -> None:
    """Read the files of one-snapshot-per-file layouts left for later, each layout at once,
    into their places in ``scan.universe``; a file refused is listed with its error."""
    dropped = set()
    for layout, slots in scan.later.items():
        results = read_snapshot_files([path for _, path, _ in slots], layout)
        for (k, path, seen), got in zip(slots, results, strict=True):
            if isinstance(got, UniverseFile):
                scan.universe[k] = got
                scan.seen[path] = seen
            else:
                scan.errors.append((path, str(got)))
                dropped.add(k)
    scan.later.clear()
    if dropped:
        scan.universe = [f for k, f in enumerate(scan.universe) if k not in dropped]


def import_paths(
    store: Store,
    catalog: Catalog,
    paths: Sequence[str | Path],
    *,
    series_id: str | None = None,
    progress: Callable[[Path], None] | None = None,
    force: bool = False,
    revise: bool = False,
    rescan: bool = False,
) -> ImportReport:
    """Import data files (or folders of them) into ``store``.

    Each series a file holds is matched to a catalogue series by its content (a wide
    column's FRED id or alias, a layout that names its series) or by the file name (id,
    symbol or alias, or a run of its ``_``-separated words); ``series_id`` forces the
    series for every file given. A malformed or implausible file is refused whole and
    reported (``force`` skips the level checks), and so is a file whose values disagree
    with another file of the same (series, source) on their overlap (see the module
    notes); the files accepted are written together in one transaction. ``revise`` makes
    values that differ from the stored ones current (default: keep the stored ones);
    both are recorded as revisions. ``rescan`` reads files unchanged since the last import.
    """
    with _system_memory_pool():
        return _import(store, catalog, paths, series_id, progress, force, revise, rescan)


@contextmanager
def _system_memory_pool() -> Iterator[None]:
    """pyarrow allocates from the C library's allocator while the import runs.

    Its default pool (mimalloc) keeps what the many small reads free for reuse by pyarrow
    only, and the DuckDB write that follows cannot use it: about 20 MiB of an import of a
    million values. The previous pool is restored on exit.
    """
    import pyarrow as pa

    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _import(
    store: Store,
    catalog: Catalog,
    paths: Sequence[str | Path],
    series_id: str | None,
    progress: Callable[[Path], None] | None,
    force: bool,
    revise: bool,
    rescan: bool,
) -> ImportReport:
    files = _csv_files(paths)
    if not files:
        raise DataError(f"no .csv or .json files found under {', '.join(str(p) for p in paths)}")
    forced = catalog[series_id] if series_id is not None else None
    _resolved_folder.cache_clear()  # folders resolved afresh by each import
    context = _context(catalog, series_id, force)
    records = {} if rescan else store.file_records()
    scan = _read(files, (store, catalog, forced, force), progress, records, context, revise)
    pending, refused = _splice(scan.pending)
    # a refused file is not remembered; an accepted one is, even when a file of the same
    # import that reaches further won some of its dates (re-reading it alone would only
    # replay that decision as conflicts): ``rescan`` reads it again
    refused_paths = {p for p, _ in refused}
    pending = [p for p in pending if len(p.frame)]
    written = {(p.table.path, p.part.column): p for p in pending}
    file_records = [
        _as_written(r, path, written)
        for path, r in scan.records.items()
        if path not in refused_paths
    ]
    # from here on ``pending`` is the only holder of the parsed files: _write_all lets
    # them go once they are written (see there)
    del written
    scan.pending.clear()
    return write_scan(store, scan, pending, scan.errors + refused, file_records, revise)
