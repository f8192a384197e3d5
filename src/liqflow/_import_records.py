"""File records of ``liqflow import``: a file's identity (size, mtime, content hash, the
context its outcome depends on) and what the import reported of it, so an unchanged
file is reported from its record without being read."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from liqflow._import_report import ImportedFile
from liqflow._import_splice import _Pending
from liqflow.catalog import Catalog
from liqflow.store import FileRecord, RecordedPart


def _context(catalog: Catalog, series_id: str | None, force: bool) -> str:
    """Fingerprint of what a file's outcome depends on besides its bytes: the source of
    the modules that read and write files (found, not imported: the universe's reader
    would bring the signals and numba into every import), the catalogue and the options."""
    h = hashlib.sha256()
    for name in _CONTEXT_MODULES:
        h.update(_module_source(f"liqflow.{name}"))
    h.update(repr(sorted(catalog.items())).encode())
    h.update(repr((series_id, force)).encode())
    return h.hexdigest()


#: The modules whose source is part of :func:`_context`, in its order.
_CONTEXT_MODULES = (
    "providers.csv",
    "providers.layouts",
    "_sanity",
    "universe",
    "coin_ids",
    "providers.universe_files",
    "universe_store",
    "_universe_write",
    "importer",
    "_import_write",
    "_import_records",
    "_import_splice",
    "providers._parts",
)


@functools.cache
def _module_source(name: str) -> bytes:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"liqflow module {name} not found")  # an install without it
    return Path(spec.origin).read_bytes()


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
    st = path.stat()
    key = _resolved(path)
    old = records.get(key)
    digest = _sha256(path)
    same = old is not None and (old.size, old.mtime_ns, old.sha256, old.context) == (
        st.st_size,
        st.st_mtime_ns,
        digest,
        context,
    )
    return _Seen(key, st.st_size, st.st_mtime_ns, digest, context, old if same else None)


def _resolved(path: Path) -> str:
    """``str(path.resolve())``, the folder resolved once for all its files (a file that
    is itself a symbolic link is resolved whole)."""
    if path.is_symlink():
        return str(path.resolve())
    return str(_resolved_folder(str(path.parent)) / path.name)


@functools.lru_cache(maxsize=256)
def _resolved_folder(folder: str) -> Path:
    return Path(folder).resolve()


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
