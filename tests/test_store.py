"""Store: round trip, idempotent upserts, revisions, transactional failure."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqflow._errors import StoreError
from liqflow.store import Batch, Store


def _frame(values: dict[str, list[float]], start: str = "2020-01-01") -> pd.DataFrame:
    n = len(next(iter(values.values())))
    return pd.DataFrame(values, index=pd.date_range(start, periods=n, freq="D", name="date"))


frames = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=n, max_size=n),
        st.lists(st.one_of(st.none(), st.floats(0, 1e12, allow_nan=False)), min_size=n, max_size=n),
        st.sets(st.integers(0, 3000), min_size=n, max_size=n),
    )
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_round_trip(data: tuple[list[float], list[float | None], set[int]]) -> None:
    close, volume, offsets = data
    index = pd.DatetimeIndex(
        pd.Timestamp("2000-01-01") + pd.to_timedelta(sorted(offsets), unit="D"), name="date"
    )
    frame = pd.DataFrame(
        {"close": close, "volume": [np.nan if v is None else v for v in volume]},
        index=index.astype("datetime64[ns]"),
    )
    with Store(":memory:") as store:
        added = store.write([Batch("btc", "yahoo", frame)])
        assert added == {("btc", "yahoo"): len(close) + sum(v is not None for v in volume)}
        back = store.read("btc", "yahoo").reindex(columns=["close", "volume"])
        pd.testing.assert_frame_equal(back, frame, check_freq=False)


def test_read_columns_are_the_fields_of_read_many() -> None:
    with Store(":memory:") as store:
        close = _frame({"close": [1.0, 2.0, 3.0, 4.0]})
        volume = _frame({"volume": [7.0, 8.0]}, start="2020-01-03")
        store.write([Batch("btc", "yahoo", close), Batch("btc", "yahoo", volume)])
        store.write([Batch("eth", "yahoo", _frame({"close": [5.0]}))])
        keys = [("btc", "yahoo"), ("eth", "yahoo"), ("sol", "yahoo")]
        columns, wide = store.read_columns(keys), store.read_many(keys)
        assert list(columns) == list(wide) == [("btc", "yahoo"), ("eth", "yahoo")]
        for key, fields in columns.items():
            assert list(fields) == list(wide[key].columns)
            for field, (dates, values) in fields.items():
                expected = wide[key][field].dropna()  # the field's own rows
                assert dates.dtype == np.dtype("datetime64[ns]")
                np.testing.assert_array_equal(dates, expected.index.to_numpy())
                np.testing.assert_array_equal(values, expected.to_numpy())
        assert store.read_columns([]) == {}


def test_second_write_adds_nothing_and_revisions_replace(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        frame = _frame({"value": [1.0, 2.0, 3.0]})
        assert store.write([Batch("fed_assets", "fred", frame)]) == {("fed_assets", "fred"): 3}
        assert store.write([Batch("fed_assets", "fred", frame)]) == {("fed_assets", "fred"): 0}
        revised = _frame({"value": [3.5, 4.0]}, start="2020-01-03")
        assert store.write([Batch("fed_assets", "fred", revised)]) == {("fed_assets", "fred"): 1}
        assert store.read("fed_assets", "fred")["value"].tolist() == [1.0, 2.0, 3.5, 4.0]
        assert store.row_count() == 4
        assert store.last_date("fed_assets", "fred") == pd.Timestamp("2020-01-04")


def test_sources_are_kept_apart() -> None:
    with Store(":memory:") as store:
        store.write(
            [
                Batch("btc", "yahoo", _frame({"close": [1.0]})),
                Batch("btc", "coingecko", _frame({"close": [2.0]})),
            ]
        )
        assert store.sources("btc") == ("coingecko", "yahoo")
        assert store.read("btc", "coingecko")["close"].iloc[0] == 2.0
        assert store.read("btc", "yahoo")["close"].iloc[0] == 1.0


def test_failed_write_leaves_previous_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.write([Batch("btc", "yahoo", _frame({"close": [1.0, 2.0]}))])

    good = Batch("btc", "yahoo", _frame({"close": [9.0, 9.0, 9.0]}))
    eth = Batch("eth", "yahoo", _frame({"close": [1.0]}))
    with Store(path) as store:
        with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
            # malformed vintages fail inside the transaction, after the observations went in
            store.write(
                [good, Batch("eth", "fred", eth.frame, vintages=pd.DataFrame({"bad": [1]}))]
            )
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0]
        assert store.sources("eth") == ()


def test_read_only_store_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"does not exist yet; run `liqflow import PATH`"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_vintages_and_cache_round_trip() -> None:
    with Store(":memory:") as store:
        vint = pd.DataFrame(
            {
                "date": ["2020-01-01", "2020-01-01"],
                "realtime_start": ["2020-01-03", "2020-02-01"],
                "value": [1.0, 1.1],
            }
        )
        store.write([Batch("fed_assets", "fred", _frame({"value": [1.1]}), vintages=vint)])
        back = store.read_vintages("fed_assets", "fred")
        assert back["value"].tolist() == [1.0, 1.1]
        store.cache_put("k", {"a": [1, 2]})
        assert store.cache_get("k") == {"a": [1, 2]}
        assert store.cache_get("missing") is None


def test_batched_writes_publish_together_or_not_at_all(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    frame = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.date_range("2020-01-01", periods=2))
    with Store(db) as store:
        before = db.stat().st_mtime_ns, db.stat().st_ino
        with store.batched():
            pass  # nothing written: the file is not touched
        assert (db.stat().st_mtime_ns, db.stat().st_ino) == before
        with pytest.raises(RuntimeError, match="stop"), store.batched():
            store.write([Batch("btc", "yahoo", frame)])
            store.write([Batch("eth", "yahoo", frame)])
            raise RuntimeError("stop")
        assert store.inventory() == [] and not db.with_name(db.name + ".writing").exists()
        with store.batched():
            store.write([Batch("btc", "yahoo", frame)])
            # the second write sees the first: its doubled values are revisions of it
            result = store.write_detailed([Batch("btc", "yahoo", frame * 2)], on_revision="keep")
            assert result.revised == (2,) and store.inventory() == []  # not published yet
        assert [s.series_id for s in store.inventory()] == ["btc"]
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0]
        assert len(store.revisions("btc")) == 2


def test_append_runs_under_a_small_buffer_pool_then_restores_the_limit(tmp_path: Path) -> None:
    """The new rows of a write are appended with DuckDB's memory limit at
    APPEND_MEMORY_LIMIT (the written blocks are dropped, not held to the commit); the
    default limit is back afterwards, after a failure too, and a store in memory keeps it."""
    import duckdb

    from liqflow.store._writes import APPEND_MEMORY_LIMIT, _small_buffer_pool

    def limit(con: duckdb.DuckDBPyConnection) -> str:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])

    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{tmp_path / 'a.duckdb'}' AS store")
    con.execute("USE store")
    before = limit(con)
    with _small_buffer_pool(con):
        small = limit(con)
    assert limit(con) == before
    assert small != before
    assert float(small.split()[0]) < 16 and small.endswith("MiB")  # 16 MB = 15.2 MiB
    with pytest.raises(RuntimeError, match="boom"), _small_buffer_pool(con):
        raise RuntimeError("boom")
    assert limit(con) == before
    memory = duckdb.connect(":memory:")
    with _small_buffer_pool(memory):
        assert limit(memory) == limit(duckdb.connect(":memory:"))
    assert APPEND_MEMORY_LIMIT == "16MB"


def test_a_write_larger_than_the_append_buffer_pool_is_stored_whole(tmp_path: Path) -> None:
    """About 48 MB of rows (3 x the append pool) in one write: every row stored, and a
    rewrite of them (joins under the default limit) finds them all equal."""
    n = 400_000
    index = pd.date_range("1900-01-01", periods=n // 4, freq="D", name="date")
    frame = pd.DataFrame(
        {f: np.arange(n // 4, dtype=np.float64) + k for k, f in enumerate("abcd")}, index=index
    )
    with Store(tmp_path / "s.duckdb") as store:
        assert store.write_each([Batch("big", "test", frame)]) == [n]
        assert store.row_count() == n
        again = store.write_detailed([Batch("big", "test", frame)])
        assert again.added == (0,) and again.revised == (0,)
        back = store.read("big", "test", list("abcd"))
    assert (back.index == frame.index).all() and list(back.columns) == list("abcd")
    np.testing.assert_array_equal(back.to_numpy(), frame.to_numpy())


def test_inventory_counts_distinct_dates_unless_asked_not_to() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="D", name="date")
    wide = pd.DataFrame({"close": [1.0, 2.0, 3.0, 4.0], "volume": [5.0, np.nan, 7.0, 8.0]}, idx)
    with Store(":memory:") as store:
        store.write([Batch("btc", "yahoo", wide), Batch("eth", "yahoo", wide[["close"]].iloc[:2])])
        full = store.inventory()
        light = store.inventory(count_dates=False)
    assert [(s.series_id, s.rows) for s in full] == [("btc", 4), ("eth", 2)]  # dates, not values
    assert [s.rows for s in light] == [None, None]
    assert [(s.series_id, s.source, s.first, s.last) for s in light] == [
        (s.series_id, s.source, s.first, s.last) for s in full
    ]


def test_a_handle_opens_one_duckdb_database_for_all_its_reads_and_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads and writes of one handle use connections of one in-memory DuckDB database
    (opening one costs tens of milliseconds); each read after a write sees the file that
    write published, and a write that failed leaves nothing attached that stops the next."""
    import duckdb

    opened: list[str] = []
    real = duckdb.connect

    def counted(database: str = ":memory:", *args: object, **kwargs: object) -> object:
        opened.append(database)
        return real(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(duckdb, "connect", counted)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:  # creates the file
        assert store.inventory() == []
        store.write([Batch("btc", "yahoo", _frame({"close": [1.0, 2.0]}))])
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0]
        bad = Batch("eth", "fred", _frame({"close": [1.0]}), vintages=pd.DataFrame({"bad": [1]}))
        with pytest.raises(Exception):  # noqa: B017 - fails inside the transaction
            store.write([bad])
        store.write([Batch("eth", "yahoo", _frame({"close": [3.0]}))])
        assert [s.series_id for s in store.inventory()] == ["btc", "eth"]
    assert opened == [":memory:"]
    assert not db.with_name(db.name + ".writing").exists()
    with Store(db, read_only=True) as again:
        assert again.read("eth", "yahoo")["close"].tolist() == [3.0]


def test_a_side_transaction_is_published_with_its_batch_or_not_at_all(tmp_path: Path) -> None:
    """Writes of a thread in a side transaction and of another in the batch's own, at once:
    both published together when the batch ends; neither when it fails afterwards."""
    import threading

    db = tmp_path / "s.duckdb"
    btc = Batch("btc", "yahoo", _frame({"close": [1.0, 2.0]}))
    coin = Batch("coin_xem", "yahoo", _frame({"close": [0.1, 0.2, 0.3]}))
    with Store(db) as store:
        with store.side_transaction() as apart:
            assert apart is False  # no batch open: the write is an ordinary one
            store.write([Batch("eth", "yahoo", _frame({"close": [5.0]}))])
        for fail in (True, False):
            failing = pytest.raises(RuntimeError, match="stop") if fail else nullcontext()
            with failing, store.batched():
                store.start_batch()
                other = threading.Thread(target=lambda: store.write([btc]))
                with store.side_transaction() as apart:
                    assert apart is True
                    other.start()
                    assert store.write_each([coin]) == [3]
                other.join()
                assert store.inventory()[0].series_id == "eth"  # nothing published yet
                if fail:
                    raise RuntimeError("stop")
            held = {s.series_id for s in store.inventory()}
            assert held == ({"eth"} if fail else {"eth", "btc", "coin_xem"})
        assert store.read("coin_xem", "yahoo")["close"].tolist() == [0.1, 0.2, 0.3]
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0]
    assert not db.with_name(db.name + ".writing").exists()
