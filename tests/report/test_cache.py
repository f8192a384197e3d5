"""The store cache of heavy statistics: exact round trips, keys, hits and failures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow._cache import cache_key, cached, decode, encode
from liqflow.stats import event_study, lead_lag
from liqflow.store import Store


def _round_trip(obj: object) -> object:
    return decode(json.loads(json.dumps(encode(obj))))


def _prices(n: int = 900, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2016-01-01", periods=n, freq="D", name="date")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.001, 0.03, n))), index=idx)


def test_event_study_result_round_trips_exactly() -> None:
    px = _prices()
    events = pd.Series(False, index=px.index)
    events.iloc[[100, 320, 555]] = True
    res = event_study(events, {"btc": px, "alts": px * 1.5}, n_placebo=50, n_boot=50, seed=1)
    back = _round_trip(res)
    assert type(back) is type(res)
    for name in ("stats", "per_event", "placebo_quantiles"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name))
    assert back.horizons == res.horizons and back.n_raw_events == res.n_raw_events


def test_lead_lag_result_round_trips_with_arrays() -> None:
    a, b = _prices(seed=4), _prices(seed=5)
    res = lead_lag(a.rename("a"), b.rename("b"), max_lag=4, n_null=20, n_boot=20, seed=2)
    back = _round_trip(res)
    np.testing.assert_array_equal(back.lags, res.lags)
    np.testing.assert_array_equal(back.correlations, res.correlations)
    assert back.lags.dtype == res.lags.dtype
    assert back.peak_lag_ci == res.peak_lag_ci and back.start == res.start


def test_frames_with_mixed_columns_and_multiindex_round_trip() -> None:
    idx = pd.MultiIndex.from_tuples([("btc", 30), ("alts", 90)], names=["target", "h"])
    frame = pd.DataFrame(
        {
            "x": [1.0, np.nan],
            "n": np.array([3, 4], dtype=np.int64),
            "ok": [True, False],
            "label": pd.array(["a", "b"], dtype="str"),
            "when": pd.to_datetime(["2020-01-02", "2021-03-04"]),
        },
        index=idx,
    )
    pd.testing.assert_frame_equal(_round_trip(frame), frame)
    wide = pd.DataFrame([[0.1, 0.2]], columns=pd.Index([0.05, 0.95]))
    pd.testing.assert_frame_equal(_round_trip(wide), wide)
    s = pd.Series([1.5, 2.5], index=pd.DatetimeIndex(["2020-01-01", "2020-01-02"], name="date"))
    pd.testing.assert_series_equal(_round_trip(s), s)


@dataclass(frozen=True)
class _Foreign:
    x: int


def test_decode_refuses_classes_outside_liqflow() -> None:
    payload = {"__dc__": "os:system", "fields": {}}
    with pytest.raises(ValueError, match="refusing to rebuild 'os:system' from the cache"):
        decode(payload)
    # a dataclass from a test module encodes, but is not rebuilt
    with pytest.raises(ValueError, match="not a liqflow class"):
        decode(json.loads(json.dumps(encode(_Foreign(1)))))


def test_encode_rejects_what_it_cannot_rebuild() -> None:
    with pytest.raises(TypeError, match="cannot cache a set"):
        encode({1, 2})
    with pytest.raises(TypeError, match="cannot cache an array of dtype"):
        encode(np.array(["a"], dtype=object))


def test_cache_key_follows_data_and_parameters() -> None:
    px = _prices()
    base = cache_key("part", px, (30, 60))
    assert base == cache_key("part", px.copy(), (30, 60))
    assert base != cache_key("part", px * 1.0001, (30, 60))
    assert base != cache_key("part", px, (30, 90))
    assert base != cache_key("other", px, (30, 60))
    shifted = px.copy()
    shifted.index = shifted.index + pd.Timedelta(days=1)
    assert base != cache_key("part", shifted, (30, 60))


def test_second_call_reads_the_cache() -> None:
    calls = []

    def compute() -> dict[str, object]:
        calls.append(1)
        return {"frame": pd.DataFrame({"a": [1.0, 2.0]}), "n": 3}

    with Store(":memory:") as st:
        first, hit1 = cached(st, "k", compute)
        second, hit2 = cached(st, "k", compute)
        _third, hit3 = cached(st, "k", compute, enabled=False)
    assert (hit1, hit2, hit3) == (False, True, False)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first["frame"], second["frame"])
    assert second["n"] == 3


def test_a_read_only_store_only_disables_caching(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    with Store(path, read_only=True) as st:
        value, hit = cached(st, "k", lambda: 42)
        again, hit2 = cached(st, "k", lambda: 43)
    assert (value, hit, again, hit2) == (42, False, 43, False)


def test_a_deferred_part_runs_at_a_lower_priority_with_the_same_value() -> None:
    import os
    import sys
    import threading

    from liqflow._cache import DEFERRED_NICENESS, in_background

    def niceness() -> tuple[int, int]:
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0)

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    tid, plain = in_background("plain", niceness)()
    _, deferred = in_background("deferred", niceness, deferred=True)()
    assert tid != threading.get_native_id() and plain == mine
    if sys.platform.startswith("linux"):
        assert deferred == min(mine + DEFERRED_NICENESS, 19)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the caller's own priority kept
    failing = in_background("deferred", lambda: 1 / 0, deferred=True)
    with pytest.raises(ZeroDivisionError):
        failing()
