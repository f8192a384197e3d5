"""The store's tables and the records a write takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

#: Seconds a write waits for another process's write to finish before giving up.
ENV_STORE_WAIT = "LIQFLOW_STORE_WAIT"
DEFAULT_WAIT = 60.0
#: Seconds a cache write waits for the writers' lock before skipping the cache.
CACHE_WAIT = 2.0
#: Relative difference under which a new value equals the stored one (float round trips).
SAME_VALUE_RTOL = 1e-12
#: Version of the tables below; a store written with an older one is upgraded by its next
#: write (:mod:`liqflow.store._migrate`). 2: ``observations`` without a PRIMARY KEY index
#: (its key is kept unique by the write path).
SCHEMA_VERSION = 2
REVISION_POLICIES = ("apply", "keep")
RevisionPolicy = Literal["apply", "keep"]

#: The columns of the observations table (no key index: the write path keeps the key
#: unique under the writers' lock); the schema upgrade builds the same table.
OBSERVATIONS_COLUMNS = """(
    series_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    field VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    source VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL
)"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS observations {OBSERVATIONS_COLUMNS};
CREATE TABLE IF NOT EXISTS store_schema (
    version INTEGER NOT NULL
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
CREATE TABLE IF NOT EXISTS imported_parts (
    path VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    "column" VARCHAR NOT NULL,
    series_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    first DATE,
    last DATE,
    detail VARCHAR NOT NULL,
    PRIMARY KEY (path, seq)
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


_TABLES = tuple(line.split()[5] for line in _SCHEMA.splitlines() if line.startswith("CREATE TABLE"))


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
    #: distinct dates stored (None when the inventory did not count them)
    rows: int | None
    first: pd.Timestamp
    last: pd.Timestamp
    fetched_at: pd.Timestamp


#: Kinds of :class:`RecordedPart`: a series loaded, one whose every value another file of
#: the same import gave (``held``), a column not imported, a note.
PART_KINDS = ("loaded", "held", "column", "note")


@dataclass(frozen=True)
class RecordedPart:
    """What an import reported of a file: a series it loaded from it (``loaded``; ``held``
    when another file of the same import gave every value of it), a column it holds
    that names no series (``column``, why in ``detail``) or a ``note``."""

    kind: str
    column: str = "*"
    series_id: str = ""
    source: str = ""
    format: str = ""
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    detail: str = ""


@dataclass(frozen=True)
class FileRecord:
    """What an import learnt of one file: its identity and the outcome of reading it.

    ``context`` fingerprints everything else the outcome depends on (catalogue, forced
    series, parser version): a record only lets a file be skipped under the same context.
    ``parts`` holds every line the import reported of the file (a file may hold several
    series, or be a crypto-universe file), so an unchanged file is reported without
    being read; the scalar fields describe the first series loaded.
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
    parts: tuple[RecordedPart, ...] = ()


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
