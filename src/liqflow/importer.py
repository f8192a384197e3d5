"""``liqflow import``: local CSV files into the store, matched to catalogue series.

Each file is parsed, matched, checked (:mod:`liqflow._sanity`) and then all files that
pass are written in one transaction. A value that differs from the stored one for the
same (series, source, field, date) is a conflict: by default the stored value is kept and
the conflict recorded and counted; ``revise=True`` (``--revise``) makes the file's values
current, the old ones kept as revisions. A file whose size, mtime and content hash are
those recorded by an earlier import under the same catalogue and options is not read
again (``rescan=True`` reads every file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from liqflow import _sanity
from liqflow._errors import DataError, LiqflowError, UnsupportedLayoutError
from liqflow.catalog import Catalog, SeriesSpec, is_excluded_coin
from liqflow.providers import csv as _csv
from liqflow.providers.csv import ParsedFile, read_csv_file
from liqflow.store import Batch, FileRecord, Store

__all__ = ["NOT_SUPPORTED_YET", "ImportReport", "ImportedFile", "import_paths"]

#: What a folder scan says of a file whose layout liqflow cannot read yet.
NOT_SUPPORTED_YET = "not imported (layout not supported yet)"
#: File kinds a folder scan looks at; other files (READMEs, notebooks) are not data.
SCANNED_SUFFIXES = (".csv", ".json", ".jsonl")


@dataclass(frozen=True)
class ImportedFile:
    """One file loaded into the store (``unchanged``: skipped, as recorded before)."""

    path: Path
    series_id: str
    source: str
    format: str
    rows: int
    added: int
    first: pd.Timestamp
    last: pd.Timestamp
    revised: int = 0
    unchanged: bool = False


_REVISION_COLUMNS = ["series_id", "source", "field", "date", "old_value", "new_value", "origin"]


@dataclass(frozen=True)
class ImportReport:
    """What an import loaded, what it could not match, could not read yet, and refused.

    ``unsupported`` lists the files a folder scan found whose layout liqflow does not
    read yet (with the detail of why); they do not make the import fail. ``errors``
    lists the files refused: a file that matched a layout and failed to parse or a check,
    or a file named explicitly that liqflow cannot read. ``revisions`` lists the values
    that differed from the stored ones; ``revisions_applied`` says whether they became
    current (``--revise``) or the stored values were kept.
    """

    loaded: tuple[ImportedFile, ...]
    unmatched: tuple[tuple[Path, str], ...]
    errors: tuple[tuple[Path, str], ...]
    unsupported: tuple[tuple[Path, str], ...] = ()
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
        n_rev = len(self.revisions)
        revised = f"{n_rev if self.revisions_applied else 0} revised"
        if n_rev and not self.revisions_applied:
            revised += f", {n_rev} differing values kept as stored (--revise applies them)"
        unchanged = sum(f.unchanged for f in self.loaded)
        skipped = f" ({unchanged} unchanged since the last import)" if unchanged else ""
        return (
            f"{len(self.loaded)} files{skipped} -> {series} series, {added} new rows, {revised}; "
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


def _match(parsed: ParsedFile, catalog: Catalog) -> SeriesSpec | None:
    spec = catalog.match_file(parsed.path.stem)
    if spec is None and parsed.series_hint:
        spec = catalog.match_file(parsed.series_hint)
    return spec


def _fields(parsed: ParsedFile, spec: SeriesSpec) -> pd.DataFrame:
    frame = parsed.frame
    if list(frame.columns) == ["value"] and spec.primary_field != "value":
        frame = frame.rename(columns={"value": spec.primary_field})
    return frame


def _context(catalog: Catalog, series_id: str | None, force: bool) -> str:
    """Fingerprint of what a file's outcome depends on besides its bytes."""
    h = hashlib.sha256()
    for module in (_csv, _sanity):
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
    record: FileRecord | None


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
    return _Seen(key, st.st_size, st.st_mtime_ns, digest, old if same else None)


def _checked(
    store: Store,
    catalog: Catalog,
    parsed: ParsedFile,
    spec: SeriesSpec,
    forced: bool,
    force: bool,
) -> tuple[pd.DataFrame, str]:
    """The file's frame under liqflow fields and its source, after every sanity check."""
    hint = parsed.series_hint
    named = catalog.match_file(hint) if hint else None
    _sanity.check_header(parsed.path, hint, spec.id, spec.symbol, named.id if named else "")
    frame = _fields(parsed, spec)
    _sanity.check_values(parsed.path, frame, spec.unit, force=force)
    source = parsed.source or spec.sources[0]
    if forced and not force and spec.primary_field in frame.columns:
        held = store.sources(spec.id)
        ref = next((s for s in (*spec.sources, *held) if s in held), None)
        if ref is not None:
            stored = store.read(spec.id, ref, [spec.primary_field])
            if spec.primary_field in stored.columns:
                _sanity.check_level_against(
                    parsed.path, frame[spec.primary_field], stored[spec.primary_field], spec.id, ref
                )
    return frame, source


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
    """Import CSV files (or folders of them) into ``store``.

    Each file is matched to a catalogue series by its name (id, symbol or alias) or, for
    FRED ``DATE,<ID>`` files, by the id in its header; ``series_id`` forces the series
    for every file given. A malformed or implausible file is refused whole and reported
    (``force`` skips the level checks); the files that pass are written together in one
    transaction. ``revise`` makes values that differ from the stored ones current
    (default: keep the stored ones); both are recorded as revisions. ``rescan`` reads
    files that are unchanged since the last import.
    """
    files = _csv_files(paths)
    if not files:
        raise DataError(f"no .csv or .json files found under {', '.join(str(p) for p in paths)}")
    forced = catalog[series_id] if series_id is not None else None
    context = _context(catalog, series_id, force)
    records = {} if rescan else store.file_records()
    batches: list[Batch] = []
    matched: list[tuple[ParsedFile, SeriesSpec, str]] = []
    unmatched: list[tuple[Path, str]] = []
    errors: list[tuple[Path, str]] = []
    unsupported: list[tuple[Path, str]] = []
    skipped: list[ImportedFile] = []
    new_records: list[FileRecord] = []
    for path, explicit in files:
        if progress is not None:
            progress(path)
        try:
            seen = _identify(path, records, context)
        except OSError as exc:
            errors.append((path, f"{path}: cannot read file: {exc.strerror}"))
            continue
        rec = seen.record
        if rec is not None and not (revise and rec.outcome == "loaded"):
            if rec.outcome == "loaded":
                if (done := _from_record(path, rec)) is not None:
                    skipped.append(done)
                    continue
            elif not explicit:
                (unmatched if rec.outcome == "unmatched" else unsupported).append(
                    (path, rec.detail)
                )
                continue

        def remember(outcome: str, detail: str = "", seen: _Seen = seen) -> FileRecord:
            return FileRecord(
                seen.key, seen.size, seen.mtime_ns, seen.sha256, context, outcome, detail=detail
            )

        try:
            if path.suffix.lower() != ".csv":
                raise UnsupportedLayoutError(
                    f"{path}: {path.suffix} files are not a layout liqflow imports yet; "
                    "expected a .csv file"
                )
            parsed = read_csv_file(path)
        except UnsupportedLayoutError as exc:
            if explicit:
                errors.append((path, str(exc)))
            else:
                unsupported.append((path, str(exc)))
                new_records.append(remember("unsupported", str(exc)))
            continue
        except LiqflowError as exc:
            errors.append((path, str(exc)))
            continue
        spec = forced or _match(parsed, catalog)
        if spec is None:
            reason = (
                "stablecoin or wrapped token: excluded by rule"
                if is_excluded_coin(path.stem)
                else f"no catalogue series named {path.stem!r} (use --series ID, or add it with --catalog FILE.toml)"
            )
            if explicit:
                errors.append((path, f"{path}: {reason}"))
            else:
                unmatched.append((path, reason))
                new_records.append(remember("unmatched", reason))
            continue
        try:
            frame, source = _checked(store, catalog, parsed, spec, forced is not None, force)
        except LiqflowError as exc:
            errors.append((path, str(exc)))
            continue
        batches.append(
            Batch(spec.id, source, frame, spec.symbol, spec.unit, spec.frequency, str(path))
        )
        matched.append((parsed, spec, source))
        new_records.append(
            FileRecord(
                seen.key,
                seen.size,
                seen.mtime_ns,
                seen.sha256,
                context,
                "loaded",
                spec.id,
                source,
                parsed.format,
                len(parsed.frame),
                parsed.frame.index[0],
                parsed.frame.index[-1],
            )
        )
    return _write(
        store, batches, matched, new_records, skipped, revise, unmatched, errors, unsupported
    )


def _from_record(path: Path, rec: FileRecord) -> ImportedFile | None:
    """The report line of a file skipped as unchanged (None: the record lacks its dates)."""
    if rec.first is None or rec.last is None:
        return None
    return ImportedFile(
        path,
        rec.series_id,
        rec.source,
        rec.format,
        rec.rows,
        0,
        rec.first,
        rec.last,
        unchanged=True,
    )


def _write(
    store: Store,
    batches: list[Batch],
    matched: list[tuple[ParsedFile, SeriesSpec, str]],
    records: list[FileRecord],
    skipped: list[ImportedFile],
    revise: bool,
    unmatched: list[tuple[Path, str]],
    errors: list[tuple[Path, str]],
    unsupported: list[tuple[Path, str]],
) -> ImportReport:
    """Write the files that passed (and every file's record) in one transaction."""
    loaded: list[ImportedFile] = []
    result = store.write_detailed(batches, on_revision="apply" if revise else "keep", files=records)
    for (parsed, spec, source), added, revised in zip(
        matched, result.added, result.revised, strict=True
    ):
        loaded.append(
            ImportedFile(
                parsed.path,
                spec.id,
                source,
                parsed.format,
                len(parsed.frame),
                added,
                parsed.frame.index[0],
                parsed.frame.index[-1],
                revised=revised,
            )
        )
    return ImportReport(
        tuple(loaded + skipped),
        tuple(unmatched),
        tuple(errors),
        tuple(unsupported),
        revisions=result.revisions,
        revisions_applied=revise,
    )
