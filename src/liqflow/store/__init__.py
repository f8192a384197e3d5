"""The local store: one DuckDB file with one long table of observations.

Schema
------
``observations(series_id, date, field, value, source, fetched_at)``, keyed by
``(series_id, source, field, date)``: one value per series, source, field and date. The
key is kept unique by the write path, not by an index (every write runs under the
writers' lock and inserts only keys not stored yet, see :mod:`liqflow.store._migrate`).
``store_schema(version)`` holds the schema version; an older store is upgraded by its
next write.
``revisions(series_id, source, field, date, old_value, new_value, applied, seen_at, origin)``
keeps every value that differed from the stored one: ``applied`` says whether the new
value became current or the stored one was kept. ``series_meta(series_id, source, symbol,
unit, frequency, origin, updated_at)`` records where each (series, source) came from.
``vintages(series_id, date, realtime_start, value, source, fetched_at)`` keeps ALFRED
vintages for true point-in-time panels. ``imported_files`` records each file an import
read (size, mtime, content hash, outcome) and ``imported_parts`` what it reported of it
(each series loaded, each column not imported, each note), so an unchanged file is not
read again.
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
with many batches should hand them to one :meth:`Store.write_each`, and callers with
several kinds of writes should make them inside one :meth:`Store.batched` block (one
transaction, one copy: ``liqflow import`` writes everything it read that way). Replacing a file that
readers hold open relies on POSIX rename semantics.
"""

from liqflow.store._lock import _WriterLock
from liqflow.store._schema import (
    CACHE_WAIT,
    DEFAULT_WAIT,
    ENV_STORE_WAIT,
    REVISION_POLICIES,
    SAME_VALUE_RTOL,
    Batch,
    FileRecord,
    RecordedPart,
    RevisionPolicy,
    StoredSeries,
    WriteResult,
)
from liqflow.store._store import Store

__all__ = [
    "CACHE_WAIT",
    "DEFAULT_WAIT",
    "ENV_STORE_WAIT",
    "REVISION_POLICIES",
    "SAME_VALUE_RTOL",
    "Batch",
    "FileRecord",
    "RecordedPart",
    "RevisionPolicy",
    "Store",
    "StoredSeries",
    "WriteResult",
    "_WriterLock",
]
