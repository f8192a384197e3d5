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
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow import _sanity
from liqflow._errors import DataError, LiqflowError, UnsupportedLayoutError
from liqflow.catalog import FUNDS, REVISED, Catalog, SeriesSpec, is_excluded_coin
from liqflow.providers.csv import fund_source
from liqflow.providers.layouts import ParsedTable, Part, read_table
from liqflow.providers.universe_files import (
    UniverseFile,
    coin_from_ticker_file,
    read_universe_file,
    sniff_universe_layout,
)
from liqflow.store import Batch, FileRecord, RecordedPart, Store

__all__ = [
    "NOT_SUPPORTED_YET",
    "SNAPSHOT_RTOL",
    "SPLICE_RTOL",
    "ImportReport",
    "ImportedFile",
    "import_paths",
]

#: What a folder scan says of a file whose layout liqflow cannot read yet.
NOT_SUPPORTED_YET = "not imported (layout not supported yet)"
#: File kinds a folder scan looks at; other files (READMEs, notebooks) are not data.
SCANNED_SUFFIXES = (".csv", ".json", ".jsonl")
#: Relative tolerance of the splice check: files must agree up to their decimal formatting.
SPLICE_RTOL = 1e-9
#: Relative price tolerance for bars of 24-hour markets captured before the day ended.
SNAPSHOT_RTOL = 0.02
_SNAPSHOT_GROUPS = ("crypto", "alt")
_TOKENS = re.compile(r"[_\s]+")


@dataclass(frozen=True)
class ImportedFile:
    """One series (``column`` of the file; ``*`` = the whole file) loaded into the store."""

    path: Path
    series_id: str
    source: str
    format: str
    rows: int
    added: int
    first: pd.Timestamp
    last: pd.Timestamp
    column: str = "*"
    revised: int = 0
    unchanged: bool = False


_REVISION_COLUMNS = ["series_id", "source", "field", "date", "old_value", "new_value", "origin"]


@dataclass(frozen=True)
class ImportReport:
    """What an import loaded, what it could not match, could not read yet, and refused.

    ``unsupported`` lists the files a folder scan found whose layout liqflow does not
    read yet (with the detail of why); they do not make the import fail. ``errors``
    lists the files refused: a file that matched a layout and failed to parse or a check,
    a splice that disagrees, or a file named explicitly that liqflow cannot read.
    ``columns`` lists, per file, the columns it holds that name no catalogue series (not
    an error). ``revisions`` lists the values that differed from the stored ones;
    ``revisions_applied`` says whether they became current (``--revise``) or the stored
    values were kept.
    """

    loaded: tuple[ImportedFile, ...]
    unmatched: tuple[tuple[Path, str], ...]
    errors: tuple[tuple[Path, str], ...]
    unsupported: tuple[tuple[Path, str], ...] = ()
    columns: tuple[tuple[Path, str, str], ...] = ()
    notes: tuple[tuple[Path, str], ...] = ()
    revisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REVISION_COLUMNS))
    revisions_applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                (
                    str(f.path),
                    f.column,
                    f.series_id,
                    f.source,
                    f.format,
                    f.rows,
                    f.added,
                    f.revised,
                    f.unchanged,
                    f.first,
                    f.last,
                )
                for f in self.loaded
            ],
            columns=[
                "path",
                "column",
                "series_id",
                "source",
                "format",
                "rows",
                "added",
                "revised",
                "unchanged",
                "first",
                "last",
            ],
        )

    def summary(self) -> str:
        added = sum(f.added for f in self.loaded)
        series = len({f.series_id for f in self.loaded})
        files = len({f.path for f in self.loaded})
        n_rev = len(self.revisions)
        revised = f"{n_rev if self.revisions_applied else 0} revised"
        if n_rev and not self.revisions_applied:
            revised += f", {n_rev} differing values kept as stored (--revise applies them)"
        unchanged = len({f.path for f in self.loaded if f.unchanged})
        skipped = f" ({unchanged} unchanged since the last import)" if unchanged else ""
        return (
            f"{files} files{skipped} -> {series} series, {added} new rows, {revised}; "
            f"{len(self.unmatched)} unmatched, {len(self.unsupported)} {NOT_SUPPORTED_YET}, "
            f"{len(self.errors)} refused"
        )


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


@dataclass(frozen=True)
class _Pending:
    table: ParsedTable
    part: Part
    spec: SeriesSpec
    source: str
    frame: pd.DataFrame
    trimmed: bool = False  # dates left to a file of the same import that reaches further


def _disagreement(base: _Pending, new: _Pending) -> str | None:
    """Why ``new`` cannot be spliced onto ``base`` (same series and source), or None."""
    if new.spec.id in REVISED:
        return None
    snapshot = new.source == "yahoo" and new.spec.group in _SNAPSHOT_GROUPS
    rtol = SNAPSHOT_RTOL if snapshot else SPLICE_RTOL
    for fld in base.frame.columns.intersection(new.frame.columns):
        if snapshot and fld == "volume":
            continue
        a = base.frame[fld].dropna()
        b = new.frame[fld].dropna()
        if fld == "volume" and new.source == "yahoo":
            # a file's last bar may have been written during its session: volume so far
            a, b = a.iloc[:-1], b.iloc[:-1]
        common = a.index.intersection(b.index)
        if common.empty:
            continue
        av, bv = a[common].to_numpy(), b[common].to_numpy()
        scale = np.maximum(np.maximum(np.abs(av), np.abs(bv)), 1e-12)
        bad = np.flatnonzero(np.abs(av - bv) > rtol * scale)
        if bad.size:
            shown = ", ".join(
                f"{common[i]:%Y-%m-%d}: {base.part.where(base.table.path, common[i])} says "
                f"{av[i]:.10g}, {new.part.where(new.table.path, common[i])} says {bv[i]:.10g}"
                for i in bad[:3]
            )
            more = f" and {bad.size - 3} more dates" if bad.size > 3 else ""
            return (
                f"splice refused: {new.spec.id} ({new.source}) field {fld!r} disagrees on "
                f"{bad.size} of {common.size} common dates (relative tolerance {rtol:g}): "
                f"{shown}{more}; the file was not imported"
            )
    return None


def _splice(pending: list[_Pending]) -> tuple[list[_Pending], list[tuple[Path, str]]]:
    """Order each (series, source) by reach and refuse parts that disagree on the overlap."""
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for p in pending:
        groups.setdefault((p.spec.id, p.source), []).append(p)
    kept: list[_Pending] = []
    refused: list[tuple[Path, str]] = []
    for members in groups.values():
        members.sort(key=lambda p: (p.frame.index[-1], p.frame.index[0]))
        accepted: list[_Pending] = []
        for p in members:
            why = next((w for b in accepted if (w := _disagreement(b, p)) is not None), None)
            if why is None:
                accepted.append(p)
            else:
                refused.append((p.table.path, why))
        kept.extend(_later_wins(accepted))
    bad_files = {path for path, _ in refused}
    # a file is refused whole: drop every part of a file one of whose parts was refused
    return [p for p in kept if p.table.path not in bad_files], refused


def _later_wins(members: list[_Pending]) -> list[_Pending]:
    """Members ordered by reach, each without the (date, field) values a later member holds.

    They agree on those values (within the snapshot tolerance, or they are vintages of a
    re-estimated series); the file reaching further is the one written for them, so the
    store's revision rule never sees the files of one import disagree.
    """
    out = []
    for k, p in enumerate(members):
        frame = p.frame
        for q in members[k + 1 :]:
            common = [c for c in frame.columns if c in q.frame.columns]
            if not common:
                continue
            held = q.frame[common].reindex(frame.index).notna()
            frame = frame.mask(held.reindex(columns=frame.columns, fill_value=False))
        frame = frame.dropna(how="all")
        trimmed = int(frame.notna().to_numpy().sum()) != int(p.frame.notna().to_numpy().sum())
        out.append(dataclasses.replace(p, frame=frame, trimmed=True) if trimmed else p)
    return out


def _universe_file(path: Path, scan: _Scan, seen: _Seen) -> bool:
    """Read ``path`` into ``scan.universe`` when it is a crypto-universe layout (True), else
    False.

    Auxiliary files (ranked ticker lists without market caps) are listed as unmatched
    with the reason; a universe file that fails to parse raises (it is refused).
    """
    layout = sniff_universe_layout(path)
    if layout is None:
        return False
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


def _context(catalog: Catalog, series_id: str | None, force: bool) -> str:
    """Fingerprint of what a file's outcome depends on besides its bytes."""
    from liqflow import universe as _universe
    from liqflow import universe_store as _universe_store
    from liqflow.providers import csv as _csv
    from liqflow.providers import layouts as _layouts
    from liqflow.providers import universe_files as _universe_files

    h = hashlib.sha256()
    for module in (_csv, _layouts, _sanity, _universe, _universe_files, _universe_store):
        if module.__file__:
            h.update(Path(module.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(repr(sorted(catalog.items())).encode())
    h.update(repr((series_id, force)).encode())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class _Seen:
    """A file's identity now, and its record if an earlier import left an unchanged one."""

    key: str
    size: int
    mtime_ns: int
    sha256: str
    context: str
    record: FileRecord | None

    def remember(
        self, outcome: str, detail: str = "", parts: Sequence[RecordedPart] = ()
    ) -> FileRecord:
        """The record of this file: its outcome and every line the import reported of it."""
        first = next((q for q in parts if q.kind == "loaded"), RecordedPart("loaded"))
        return FileRecord(
            self.key,
            self.size,
            self.mtime_ns,
            self.sha256,
            self.context,
            outcome,
            first.series_id,
            first.source,
            first.format,
            first.rows,
            first.first,
            first.last,
            detail,
            tuple(parts),
        )


def _loaded_part(p: _Pending) -> RecordedPart:
    return RecordedPart(
        "loaded",
        p.part.column,
        p.spec.id,
        p.source,
        p.table.format,
        len(p.frame),
        p.frame.index[0],
        p.frame.index[-1],
    )


def _identify(path: Path, records: dict[str, FileRecord], context: str) -> _Seen:
    key = str(path.resolve())
    st = path.stat()
    old = records.get(key)
    digest = _sha256(path)
    same = old is not None and (old.size, old.mtime_ns, old.sha256, old.context) == (
        st.st_size,
        st.st_mtime_ns,
        digest,
        context,
    )
    return _Seen(key, st.st_size, st.st_mtime_ns, digest, context, old if same else None)


def _from_record(path: Path, rec: FileRecord) -> list[ImportedFile] | None:
    """The report lines of a file skipped as unchanged (None: the record lacks them)."""
    loaded = [q for q in rec.parts if q.kind == "loaded"]
    held = any(q.kind == "held" for q in rec.parts)
    if (not loaded and not held) or any(q.first is None or q.last is None for q in loaded):
        return None
    return [
        ImportedFile(
            path,
            q.series_id,
            q.source,
            q.format,
            q.rows,
            0,
            q.first,  # type: ignore[arg-type]
            q.last,  # type: ignore[arg-type]
            q.column,
            unchanged=True,
        )
        for q in loaded
    ]


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
    return scan


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
    files = _csv_files(paths)
    if not files:
        raise DataError(f"no .csv or .json files found under {', '.join(str(p) for p in paths)}")
    forced = catalog[series_id] if series_id is not None else None
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
    return _write(store, scan, pending, scan.errors + refused, file_records, revise)


def _as_written(
    rec: FileRecord, path: Path, written: dict[tuple[Path, str], _Pending]
) -> FileRecord:
    """``rec`` with each loaded part as written: a part whose every value another file of
    the same import gave is recorded as ``held`` (reported by neither import)."""
    if rec.outcome != "loaded":
        return rec
    parts = []
    for q in rec.parts:
        if q.kind != "loaded":
            parts.append(q)
        elif (path, q.column) in written:
            parts.append(_loaded_part(written[(path, q.column)]))
        else:
            parts.append(dataclasses.replace(q, kind="held", rows=0, first=None, last=None))
    fresh = _Seen(rec.path, rec.size, rec.mtime_ns, rec.sha256, rec.context, None)
    return fresh.remember("loaded", rec.detail, parts)


def _write_universe(store: Store, scan: _Scan) -> tuple[list[ImportedFile], list[FileRecord]]:
    """Write the crypto-universe files read; their report lines and records."""
    if not scan.universe:
        return [], []
    from liqflow.universe_store import write_universe_files

    notes = {f.path: f.notes for f in scan.universe}
    loaded, records = [], []
    for w in write_universe_files(store, scan.universe):
        loaded.append(
            ImportedFile(w.path, w.series_id, w.source, w.layout, w.rows, w.added, w.first, w.last)
        )
        seen = scan.seen.get(w.path)
        if seen is not None:
            parts = [
                RecordedPart(
                    "loaded", "*", w.series_id, w.source, w.layout, w.rows, w.first, w.last
                ),
                *(RecordedPart("note", detail=n) for n in notes.get(w.path, ())),
            ]
            records.append(seen.remember("loaded", parts=parts))
    return loaded, records


def _write(
    store: Store,
    scan: _Scan,
    pending: list[_Pending],
    errors: list[tuple[Path, str]],
    file_records: list[FileRecord],
    revise: bool,
) -> ImportReport:
    """Write the parts that passed and the files' records.

    The universe files go first; the catalogue series and every file's record follow in
    one transaction, so a record never lands without the data it describes (a process
    killed in between only makes the next import read the universe files again).
    """
    universe, universe_records = _write_universe(store, scan)
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
    result = store.write_detailed(
        batches, on_revision="apply" if revise else "keep", files=file_records + universe_records
    )
    loaded = [
        ImportedFile(
            p.table.path,
            p.spec.id,
            p.source,
            p.table.format,
            len(p.frame),
            added,
            p.frame.index[0],
            p.frame.index[-1],
            p.part.column,
            revised,
        )
        for p, added, revised in zip(pending, result.added, result.revised, strict=True)
    ]
    notes = [(f.path, n) for f in scan.universe for n in f.notes]
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
