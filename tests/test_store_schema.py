"""Store schema: the observations key kept unique without an index, and the upgrade of a
store written before the schema version existed (observations with a PRIMARY KEY)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqflow._errors import StoreError
from liqflow.store import Batch, Store
from liqflow.store._schema import SCHEMA_VERSION

_KEY = "series_id, source, field, date"
_V1_OBSERVATIONS = """CREATE TABLE observations (
    series_id VARCHAR NOT NULL, date DATE NOT NULL, field VARCHAR NOT NULL,
    value DOUBLE NOT NULL, source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, source, field, date))"""


def _duplicate_keys(store: Store) -> int:
    return int(store._scalar(f"SELECT count(*) - count(DISTINCT ({_KEY})) FROM observations"))


def _primary_keys(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return int(
            con.execute(
                "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'observations' "
                "AND constraint_type = 'PRIMARY KEY'"
            ).fetchall()[0][0]
        )


def _v1_store(path: Path) -> None:
    """A store as liqflow wrote it before schema versions: observations keyed by a
    PRIMARY KEY, no ``store_schema`` table."""
    with duckdb.connect(str(path)) as con:
        con.execute(_V1_OBSERVATIONS)
        con.execute(
            "INSERT INTO observations VALUES "
            "('fed_assets', DATE '2020-01-01', 'value', 1.0, 'fred', TIMESTAMP '2020-01-02'), "
            "('fed_assets', DATE '2020-01-02', 'value', 2.0, 'fred', TIMESTAMP '2020-01-03'), "
            "('btc', DATE '2020-01-01', 'close', 7200.5, 'yahoo', TIMESTAMP '2020-01-02')"
        )


batches = st.lists(
    st.tuples(
        st.sampled_from(["btc", "eth"]),
        st.sampled_from(["yahoo", "coingecko"]),
        st.integers(0, 30),  # first day
        st.lists(st.floats(1, 1e6, allow_nan=False), min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches, batches)
def test_overlapping_writes_keep_one_row_per_key(
    first: list[tuple[str, str, int, list[float]]], second: list[tuple[str, str, int, list[float]]]
) -> None:
    def as_batches(spec: list[tuple[str, str, int, list[float]]]) -> list[Batch]:
        return [
            Batch(sid, src, pd.DataFrame({"close": vals, "volume": vals}, index=pd.date_range(
                pd.Timestamp("2020-01-01") + pd.Timedelta(days=start), periods=len(vals),
                freq="D", name="date")))
            for sid, src, start, vals in spec
        ]  # fmt: skip

    with Store(":memory:") as store:
        for policy in ("keep", "apply"):
            store.write_each(as_batches(first), on_revision=policy)
            store.write_each(as_batches(second), on_revision=policy)
            store.write_each(as_batches(first + second), on_revision=policy)
            assert _duplicate_keys(store) == 0
        keys = {
            (sid, src, f, pd.Timestamp("2020-01-01") + pd.Timedelta(days=start + k))
            for sid, src, start, vals in first + second
            for k in range(len(vals))
            for f in ("close", "volume")
        }
        assert store.row_count() == len(keys)


def test_new_store_has_the_current_version_and_no_index(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.write([Batch("btc", "yahoo", pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(
            ["2020-01-01"], name="date")))])  # fmt: skip
        assert store._scalar("SELECT max(version) FROM store_schema") == SCHEMA_VERSION
    assert _primary_keys(path) == 0


def test_old_store_is_upgraded_on_open_with_its_rows_and_readers_keep_reading(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    _v1_store(path)
    assert _primary_keys(path) == 1
    with Store(path, read_only=True) as old:  # an older store reads as it is
        before = old.read("fed_assets", "fred")
        assert before["value"].tolist() == [1.0, 2.0]
        with Store(path) as store:  # opening it for writing upgrades it (a staged write)
            assert store._scalar("SELECT max(version) FROM store_schema") == SCHEMA_VERSION
            assert store.row_count() == 3
            pd.testing.assert_frame_equal(store.read("fed_assets", "fred"), before)
            assert store.read("btc", "yahoo")["close"].tolist() == [7200.5]
            stamps = store._con.execute(
                "SELECT fetched_at FROM observations ORDER BY series_id, date"
            ).fetchall()
            assert [s[0] for s in stamps] == [
                pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")
            ]  # fmt: skip
        # the reader that opened the old file keeps its snapshot through the upgrade
        pd.testing.assert_frame_equal(old.read("fed_assets", "fred"), before)
    assert _primary_keys(path) == 0
    with Store(path) as store:  # upgraded once: the key stays unique through new writes
        frame = pd.DataFrame(
            {"value": [2.5, 3.0]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="date")
        )
        assert store.write([Batch("fed_assets", "fred", frame)], on_revision="keep") == {
            ("fed_assets", "fred"): 1
        }
        assert store.read("fed_assets", "fred")["value"].tolist() == [1.0, 2.0, 3.0]
        assert _duplicate_keys(store) == 0


def test_store_of_a_newer_version_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Store(path) as store:
        store.write([Batch("btc", "yahoo", pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(
            ["2020-01-01"], name="date")))])  # fmt: skip
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE store_schema SET version = ?", [SCHEMA_VERSION + 1])
    before = path.read_bytes()
    with Store(path) as store:
        frame = pd.DataFrame({"close": [2.0]}, index=pd.DatetimeIndex(["2020-01-02"], name="date"))
        with pytest.raises(
            StoreError,
            match=rf"schema version {SCHEMA_VERSION + 1}; this liqflow writes version "
            rf"{SCHEMA_VERSION} at most: upgrade liqflow; nothing was changed",
        ):
            store.write([Batch("btc", "yahoo", frame)])
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0]
    assert path.read_bytes() == before
    assert not path.with_name(path.name + ".writing").exists()
