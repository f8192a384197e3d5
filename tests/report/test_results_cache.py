"""The report's cached results: read back identical, recomputed when any value changes."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.report.conftest import LIGHT

from liqflow._cache import cache_read, cache_write, decode, encode
from liqflow.align import ROWS_ATTR, SourceRows, trading_days
from liqflow.report import ReportResults, build_report
from liqflow.report.compute import compute_results
from liqflow.store import Batch, Store

CACHED = replace(LIGHT, use_cache=True)


@pytest.fixture
def store_path(synthetic_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copy(synthetic_path, path)
    return path


def _same(a: ReportResults, b: ReportResults) -> None:
    pd.testing.assert_frame_equal(a.panel, b.panel)
    assert a.as_of == b.as_of and a.series == b.series and a.freshness == b.freshness
    rows_a, rows_b = a.panel.attrs[ROWS_ATTR], b.panel.attrs[ROWS_ATTR]
    assert rows_a.exchange == rows_b.exchange and list(rows_a.days) == list(rows_b.days)
    for col, days in rows_a.days.items():
        pd.testing.assert_index_equal(days, rows_b.days[col])
    for col in ("small_caps", "btc"):
        pd.testing.assert_index_equal(trading_days(a.panel, col), trading_days(b.panel, col))
    sa, sb = a.signals, b.signals
    assert not isinstance(sa, type(None)) and not isinstance(sb, type(None))
    pd.testing.assert_frame_equal(sa.frame, sb.frame)  # type: ignore[union-attr]
    pd.testing.assert_frame_equal(sa.stages.frame, sb.stages.frame)  # type: ignore[union-attr]
    assert a.evidence.to_json() == b.evidence.to_json()  # type: ignore[union-attr]
    for x, y in zip(a.backtests.results, b.backtests.results, strict=True):  # type: ignore[union-attr]
        pd.testing.assert_series_equal(x.equity, y.equity)
        assert x.metrics == y.metrics


def test_second_report_reads_every_part_from_the_cache(store_path: Path) -> None:
    with Store(store_path) as st:
        computed = compute_results(st, config=LIGHT)  # no cache: every part computed
        first = compute_results(st, config=CACHED)
        second = compute_results(st, config=CACHED)
    assert not first.timing_frame().loc["panel", "cached"]
    assert second.timing_frame()["cached"].all()
    assert second.cached["panel and signals"] and second.cached["evidence"]
    _same(computed, second)
    _same(first, second)
    assert [t.name for t in second.timings] == ["panel", "signals", "statistics", "backtest"]


def test_cached_report_renders_the_same_page_but_for_the_cache_note(store_path: Path) -> None:
    with Store(store_path) as st:
        cold = build_report(st, config=CACHED)
        warm = build_report(st, config=CACHED)
    note = "Read from the store"
    assert note not in cold.html and note in warm.html
    strip = [
        re.sub(r"<li>Read from the store[^<]*</li>", "", page).replace(" (from cache)", "")
        for page in (cold.html, warm.html)
    ]
    assert strip[0] == strip[1]


def test_a_new_value_in_the_store_computes_the_report_again(store_path: Path) -> None:
    with Store(store_path) as st:
        before = compute_results(st, config=CACHED)
        print_before = st.fingerprint()
        day = before.panel["btc"].dropna().index[-40]
        close = st.read("btc", "yahoo")["close"]
        st.write(
            [
                Batch(
                    "btc",
                    "yahoo",
                    pd.DataFrame({"close": [close.loc[day] * 1.5]}, index=[day]),
                    "BTC-USD",
                    "USD",
                    "D",
                    "synthetic",
                )
            ]
        )
        assert st.fingerprint() != print_before
        after = compute_results(st, config=CACHED)
        again = compute_results(st, config=CACHED)
    assert not after.timing_frame()["cached"].any()
    assert after.panel.loc[day, "btc"] == pytest.approx(close.loc[day] * 1.5)
    assert before.panel.loc[day, "btc"] == pytest.approx(close.loc[day])
    _same(after, again)
    with Store(store_path, read_only=True) as st:  # only the latest entry is kept
        keys = [k for (k,) in st._con.execute("SELECT key FROM cache").fetchall()]
    assert sum(k.startswith("report_results:") for k in keys) == 1


def test_the_fingerprint_ignores_the_cache_and_follows_every_table(store_path: Path) -> None:
    with Store(store_path) as st:
        base = st.fingerprint()
        st.cache_put("x", {"a": 1})
        assert st.fingerprint() == base
        snaps = pd.DataFrame(
            {
                "date": [pd.Timestamp("2020-01-05")],
                "rank": [1],
                "coin_id": ["bitcoin"],
                "symbol": ["BTC"],
                "name": ["Bitcoin"],
                "market_cap": [1e11],
                "price": [7000.0],
                "source": ["cmc"],
            }
        )
        coins = pd.DataFrame(
            {"coin_id": ["bitcoin"], "symbol": ["BTC"], "name": ["Bitcoin"]}
            | {"first": [pd.Timestamp("2020-01-05")], "last": [pd.Timestamp("2020-01-05")]}
        )
        st.write_universe(snaps, coins)
        with_universe = st.fingerprint()
        assert with_universe != base
        st.write_universe(snaps.assign(market_cap=[1.1e11]), coins)
        assert st.fingerprint() != with_universe


def _panel_like() -> pd.DataFrame:
    idx = pd.date_range("2020-01-01", periods=40, freq="D", name="date")
    rng = np.random.default_rng(5)
    values = rng.normal(size=(40, 3))
    values[::7, 1] = np.nan
    frame = pd.DataFrame(values, index=idx, columns=["a", "b", "c.volume"])
    days = dict.fromkeys(frame.columns, idx[::2])
    frame.attrs[ROWS_ATTR] = SourceRows(days, frozenset({"a"}))
    return frame


def test_side_bytes_round_trip_every_bit() -> None:
    frame = _panel_like()
    frame.iloc[3, 0] = np.float64("nan")
    mixed = frame.assign(
        state=pd.array(["up", None, "down"] * 13 + ["up"], dtype="string"),
        label=pd.array(["x", "y"] * 20, dtype="str"),
        n=np.arange(40, dtype=np.int64),
    )
    mixed.loc[mixed.index[5], "label"] = np.nan
    for obj in (frame, mixed):
        raw = bytearray()
        back = decode(json.loads(json.dumps(encode(obj, raw))), bytes(raw))
        inline = decode(json.loads(json.dumps(encode(obj))))
        for other in (back, inline):
            pd.testing.assert_frame_equal(other, obj)
            assert other.index.freq == obj.index.freq
            np.testing.assert_array_equal(
                other.select_dtypes("number").to_numpy().view(np.uint64),
                obj.select_dtypes("number").to_numpy().view(np.uint64),
            )
            rows = other.attrs[ROWS_ATTR]
            assert isinstance(rows, SourceRows) and rows.exchange == frozenset({"a"})
            pd.testing.assert_index_equal(rows.days["b"], obj.attrs[ROWS_ATTR].days["b"])


def test_cache_write_compresses_the_bytes_and_reads_them_back(tmp_path: Path) -> None:
    frame = _panel_like()
    with Store(tmp_path / "s.duckdb") as st:
        cache_write(st, "k", {"panel": frame})
        back, hit = cache_read(st, "k")
        blob = st.cache_blob("k")
        head = st.cache_get("k")
    assert hit and blob is not None and head["codec"] == "lz4"
    pd.testing.assert_frame_equal(back["panel"], frame)
    back["panel"].iloc[0, 0] = 99.0  # the decoded arrays are writable
    with Store(tmp_path / "s.duckdb") as st:
        st._con.execute("SELECT 1")
        missing, hit = cache_read(st, "nope")
    assert (missing, hit) == (None, False)
