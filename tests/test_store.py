"""Store: round trip, idempotent upserts, revisions, transactional failure."""

from __future__ import annotations

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
