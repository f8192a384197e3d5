"""Upgrading a store written by an older liqflow to :data:`SCHEMA_VERSION`.

A store records its schema version in ``store_schema``; a store without it is of version
1. The upgrade runs on the staged copy of a write (see :mod:`liqflow.store`), so readers
keep the old file until the upgraded one is published whole, and a process killed during
it leaves the old file as it was.

Version 2 drops the PRIMARY KEY of ``observations``. DuckDB keeps a primary key as an ART
index that every insert updates and that stays in memory while a write runs: inserting
1.2 million rows into a DuckDB file in one transaction took 2.3 s with it and 1.0 s
without. The key (series_id, source, field, date) stays unique without it: every write
runs under the writers' lock, joins its rows to the stored ones and inserts only the keys
not stored yet, one row per key (:mod:`liqflow.store._plan`).
"""

from __future__ import annotations

import duckdb

from liqflow._errors import StoreError
from liqflow.store._schema import OBSERVATIONS_COLUMNS, SCHEMA_VERSION

_OBSERVATIONS = f"CREATE TABLE observations_v2 {OBSERVATIONS_COLUMNS}"


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of the current database of ``con`` (1 when it records none)."""
    rows = con.execute("SELECT max(version) FROM store_schema").fetchall()
    return 1 if rows[0][0] is None else int(rows[0][0])


def _has_primary_key(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = con.execute(
        """SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database()
           AND table_name = ? AND constraint_type = 'PRIMARY KEY'""",
        [table],
    ).fetchall()
    return bool(rows[0][0])


def upgrade(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Bring the current database of ``con`` (tables created) to :data:`SCHEMA_VERSION`.

    Raises
    ------
    StoreError
        The store was written by a newer liqflow (a higher version than this one knows).
    """
    version = stored_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {version}; this liqflow writes version "
            f"{SCHEMA_VERSION} at most: upgrade liqflow; nothing was changed"
        )
    if version == SCHEMA_VERSION:
        return
    if _has_primary_key(con, "observations"):
        con.execute(_OBSERVATIONS)
        con.execute(
            "INSERT INTO observations_v2 SELECT series_id, date, field, value, source, "
            "fetched_at FROM observations ORDER BY series_id, source, field, date"
        )
        con.execute("DROP TABLE observations")
        con.execute("ALTER TABLE observations_v2 RENAME TO observations")
    con.execute("DELETE FROM store_schema")
    con.execute("INSERT INTO store_schema VALUES (?)", [SCHEMA_VERSION])
