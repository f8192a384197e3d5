"""Revisions: nothing stored changes in silence; unchanged values are never rewritten."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqflow._errors import StoreError
from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.importer import import_paths
from liqflow.store import Batch, Store

runner = CliRunner()
T0 = dt.datetime(2024, 1, 1)
T1 = dt.datetime(2024, 2, 1)


def _frame(values: list[float], start: str = "2020-01-01") -> pd.DataFrame:
    return pd.DataFrame(
        {"close": values}, index=pd.date_range(start, periods=len(values), name="date")
    )


def _stamps(store: Store) -> list[pd.Timestamp]:
    return [
        pd.Timestamp(r[0])
        for r in store._con.execute("SELECT fetched_at FROM observations ORDER BY date").fetchall()
    ]


def test_applied_revision_is_recorded_and_counted(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.write([Batch("btc", "yahoo", _frame([1.0, 2.0, 3.0]), origin="a")], fetched_at=T0)
        result = store.write_detailed(
            [Batch("btc", "yahoo", _frame([2.0, 3.5, 4.0], "2020-01-02"), origin="b")],
            fetched_at=T1,
        )
        assert (result.added, result.revised) == ((1,), (1,))
        assert result.summary() == "1 new rows, 1 revised"
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0, 3.5, 4.0]
        # the unchanged 2.0 kept its row and its stamp; the revised and new rows are T1
        assert _stamps(store) == [
            pd.Timestamp(T0),
            pd.Timestamp(T0),
            pd.Timestamp(T1),
            pd.Timestamp(T1),
        ]
        rev = store.revisions()
        assert rev[["date", "old_value", "new_value", "applied", "origin"]].values.tolist() == [
            [pd.Timestamp("2020-01-03"), 3.0, 3.5, True, "b"]
        ]
        assert rev["seen_at"].tolist() == [pd.Timestamp(T1)]


def test_keep_leaves_the_stored_value_and_records_the_conflict_once(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.write([Batch("btc", "yahoo", _frame([1.0, 2.0]))], fetched_at=T0)
        for _ in range(2):
            result = store.write_detailed(
                [Batch("btc", "yahoo", _frame([1.0, 9.0]), origin="f.csv")], on_revision="keep"
            )
            assert result.revised == (1,) and not result.applied
            assert result.summary() == "0 new rows, 1 differing values kept as stored"
        assert store.read("btc", "yahoo")["close"].tolist() == [1.0, 2.0]
        assert _stamps(store) == [pd.Timestamp(T0)] * 2
        assert store.revisions()[["old_value", "new_value", "applied"]].values.tolist() == [
            [2.0, 9.0, False]
        ]


def test_batches_of_one_write_apply_in_order() -> None:
    with Store(":memory:") as store:
        store.write([Batch("btc", "yahoo", _frame([5.0]))])
        a = Batch("btc", "yahoo", _frame([6.0, 1.0]), origin="a")
        b = Batch("btc", "yahoo", _frame([7.0, 1.0]), origin="b")
        result = store.write_detailed([a, b])
        assert result.added == (1, 0) and result.revised == (1, 1)
        assert result.revisions[["old_value", "new_value", "origin"]].values.tolist() == [
            [5.0, 6.0, "a"],
            [6.0, 7.0, "b"],
        ]
        assert store.read("btc", "yahoo")["close"].tolist() == [7.0, 1.0]
    with Store(":memory:") as store:
        result = store.write_detailed([a, b], on_revision="keep")
        assert result.added == (2, 0) and result.revised == (0, 1)
        assert result.revisions[["old_value", "new_value"]].values.tolist() == [[6.0, 7.0]]
        assert store.read("btc", "yahoo")["close"].tolist() == [6.0, 1.0]


def test_float_round_trip_noise_is_not_a_revision() -> None:
    with Store(":memory:") as store:
        store.write([Batch("btc", "yahoo", _frame([0.1 + 0.2]))])
        assert store.write_detailed([Batch("btc", "yahoo", _frame([0.3]))]).revised == (0,)
        assert store.revisions().empty


def test_unknown_policy_is_refused() -> None:
    with (
        Store(":memory:") as store,
        pytest.raises(StoreError, match=r"on_revision must be one of \('apply', 'keep'\), got 'x'"),
    ):
        store.write_detailed([Batch("btc", "yahoo", _frame([1.0]))], on_revision="x")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([np.nan, 1.0, 2.0, 3.0]), min_size=4, max_size=4),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["apply", "keep"]),
)
def test_one_write_equals_the_same_batches_written_one_by_one(
    frames: list[list[float]], policy: str
) -> None:
    """Set-based folding of several batches matches sequential writes (the oracle)."""
    batches = [Batch("btc", "yahoo", _frame(v), origin=str(k)) for k, v in enumerate(frames)]
    seed = Batch("btc", "yahoo", _frame([2.0, np.nan, 1.0, np.nan]))
    with Store(":memory:") as one, Store(":memory:") as seq:
        one.write([seed])
        seq.write([seed])
        together = one.write_detailed(batches, on_revision=policy)  # type: ignore[arg-type]
        apart = [seq.write_detailed([b], on_revision=policy) for b in batches]  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(one.read("btc", "yahoo"), seq.read("btc", "yahoo"))
        assert together.added == tuple(r.added[0] for r in apart)
        assert together.revised == tuple(r.revised[0] for r in apart)


def test_reimport_of_a_touched_file_rewrites_nothing(tmp_path: Path) -> None:
    path = tmp_path / "WALCL.csv"
    path.write_text("date,value\n2021-01-06,7000000\n2021-01-13,7010000\n")
    cat = default_catalog()
    with Store(tmp_path / "s.duckdb") as store:
        import_paths(store, cat, [path])
        stamps = _stamps(store)
        again = import_paths(store, cat, [path])
        assert [f.unchanged for f in again.loaded] == [True]
        path.touch()  # new mtime, same bytes: read again, nothing written
        touched = import_paths(store, cat, [path])
        assert [(f.unchanged, f.added, f.revised) for f in touched.loaded] == [(False, 0, 0)]
        assert _stamps(store) == stamps
        path.write_text("date,value\n2021-01-06,7000000\n2021-01-13,7010000\n2021-01-20,7020000\n")
        grown = import_paths(store, cat, [path])
        assert [(f.unchanged, f.added) for f in grown.loaded] == [(False, 1)]


def test_unchanged_multi_series_and_universe_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wide table (several series, a column that names none) and a universe snapshot
    are skipped from their records before being read, and reported as the first import
    reported them."""
    import liqflow.importer as importer

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "rates.csv").write_text(
        "date,WALCL,VIX,FOO\n2024-01-03,7700000,12.5,1\n2024-01-10,7710000,13.0,2\n"
    )
    (folder / "prices_2025-08-05.csv").write_text(
        "rank,name,symbol,price\n1,Bitcoin,BTC,112775\n2,Ethereum,ETH,3569.47\n"
    )
    cat = default_catalog()
    with Store(tmp_path / "s.duckdb") as store:
        fresh = import_paths(store, cat, [folder])
        assert fresh.ok and sum(f.added for f in fresh.loaded) > 0

        def unread(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"read again: {args[0]}")

        monkeypatch.setattr(importer, "read_table", unread)
        monkeypatch.setattr(importer, "sniff_universe_layout", unread)
        again = import_paths(store, cat, [folder])
        monkeypatch.undo()
    key = ["path", "column", "series_id", "source", "format", "rows", "first", "last"]
    assert (
        fresh.to_frame()[key]
        .sort_values(key, ignore_index=True)
        .equals(again.to_frame()[key].sort_values(key, ignore_index=True))
    )
    assert again.to_frame()["unchanged"].all() and (again.to_frame()["added"] == 0).all()
    assert {f.series_id for f in again.loaded} >= {"fed_assets", "vix", "universe"}
    assert again.columns == fresh.columns and again.columns[0][1] == "FOO"
    assert "2 files (2 unchanged since the last import)" in again.summary()


@pytest.mark.realdata
def test_real_btc_2024_12_07_disagreement(shared_data: Path, tmp_path: Path) -> None:
    """crypto/BTC_daily.csv holds the final 2024-12-07 bar; yahoo_top_coins/BTC-USD.csv
    ends that day with a bar downloaded during the session (close 99,980.33 against the
    final 99,923.34, volume 46.6 bn against 44.2 bn). Both are Yahoo: the later file is a
    conflict, kept out unless --revise, and recorded either way."""
    db = tmp_path / "s.duckdb"
    final = shared_data / "crypto" / "BTC_daily.csv"
    snapshot = shared_data / "crypto" / "yahoo_top_coins" / "BTC-USD.csv"
    env = {"COLUMNS": "300"}
    both = runner.invoke(app, ["import", str(snapshot), str(final), "--store", str(db)], env=env)
    assert both.exit_code == 0, both.output
    assert "0 revised;" in both.output and "kept as stored" not in both.output
    first = runner.invoke(app, ["import", str(snapshot), "--store", str(db), "--rescan"], env=env)
    assert first.exit_code == 0, first.output
    assert "0 revised, 5 differing values kept as stored (--revise applies them)" in first.output
    assert (
        "kept stored: btc yahoo close 2024-12-07: stored 99,923.33594, file 99,980.32812"
        in first.output
    )
    with Store(db, read_only=True) as store:
        day = store.read("btc", "yahoo").loc["2024-12-07"]
        assert day["close"] == pytest.approx(99923.3359375, abs=0)
        assert day["volume"] == 44177510897
        kept = store.revisions("btc")
        assert set(kept["field"]) == {"open", "high", "low", "close", "volume"}
        assert not kept["applied"].any() and (kept["date"] == "2024-12-07").all()
    revised = runner.invoke(
        app, ["import", str(snapshot), "--store", str(db), "--revise", "--rescan"], env=env
    )
    assert revised.exit_code == 0, revised.output
    assert "0 new rows, 5 revised" in revised.output
    with Store(db, read_only=True) as store:
        assert store.read("btc", "yahoo").loc["2024-12-07", "close"] == pytest.approx(99980.328125)
        applied = store.revisions("btc")
        assert applied["applied"].sum() == 5
        assert applied.loc[
            applied["applied"] & (applied["field"] == "close"), "old_value"
        ].item() == (pytest.approx(99923.3359375))


@pytest.mark.realdata
def test_real_folder_imported_twice_adds_and_rewrites_nothing(
    shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    cat = default_catalog()
    with Store(db) as store:
        t0 = time.perf_counter()
        fresh = import_paths(store, cat, [shared_data])
        t_fresh = time.perf_counter() - t0
        assert fresh.ok and sum(f.added for f in fresh.loaded) > 500_000
        before = store._con.execute(
            "SELECT count(*), max(fetched_at), bit_xor(hash(series_id, source, field, date, value, fetched_at)) FROM observations"
        ).fetchall()
        revisions = len(store.revisions())
        t0 = time.perf_counter()
        again = import_paths(store, cat, [shared_data])
        t_again = time.perf_counter() - t0
        assert all(f.added == 0 for f in again.loaded) and again.revisions.empty
        # every file is skipped from its record (one series, several, or universe files)
        # and reported as the fresh import reported it
        assert all(f.unchanged for f in again.loaded)
        assert len(again.loaded) == len(fresh.loaded) and again.summary().startswith(
            fresh.summary().split(" -> ")[0]
        )
        assert again.unmatched == fresh.unmatched and again.unsupported == fresh.unsupported
        assert sorted(again.columns) == sorted(fresh.columns)
        assert sorted(again.notes) == sorted(fresh.notes)
    with Store(db, read_only=True) as store:
        after = store._con.execute(
            "SELECT count(*), max(fetched_at), bit_xor(hash(series_id, source, field, date, value, fetched_at)) FROM observations"
        ).fetchall()
        assert after == before and len(store.revisions()) == revisions
    assert t_again < 0.25 * t_fresh, (t_again, t_fresh)  # nothing read, nothing written
