"""The binary-search membership test of :mod:`liqflow.sessions` against ``Index.isin``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow.sessions import _exchange_open, _members, exchange_sessions


@pytest.mark.parametrize("seed", range(5))
def test_members_equals_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = pd.date_range("1995-01-01", periods=3000, freq="D", name="date")
    days = pd.DatetimeIndex(np.sort(rng.choice(index.to_numpy(), 900, replace=False)))
    days = days.append(pd.DatetimeIndex(["1990-01-01", "2030-01-01"])).sort_values()
    np.testing.assert_array_equal(_members(index, days), index.isin(days))
    np.testing.assert_array_equal(_members(index, days.as_unit("s")), index.isin(days))
    assert not _members(index, pd.DatetimeIndex([])).any()


def test_exchange_open_equals_isin_and_is_open_outside_the_calendar() -> None:
    index = pd.date_range("1899-12-01", "2001-03-01", freq="D", name="date")
    sessions = exchange_sessions()
    inside = (index >= sessions[0]) & (index <= sessions[-1])
    np.testing.assert_array_equal(_exchange_open(index), index.isin(sessions) | ~inside)
    assert _exchange_open(index[:10]).all()  # before the calendar's first session


def test_recorded_exchange_days_give_the_same_sessions_without_the_calendar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from liqflow import sessions
    from liqflow.sessions import ROWS_ATTR, SourceRows, trading_days, with_exchange_days

    index = pd.date_range("2001-08-01", "2002-03-31", freq="D", name="date")
    rng = np.random.default_rng(3)
    panel = pd.DataFrame({"rut": rng.normal(size=len(index)).cumsum()}, index=index)
    rows = index[index.day_of_week < 6]  # a vendor's Saturday rows are not sessions
    panel.attrs[ROWS_ATTR] = SourceRows({"rut": pd.DatetimeIndex(rows)}, frozenset({"rut"}))
    expected = trading_days(panel, "rut")
    part = trading_days(panel.loc["2001-09-01":"2001-12-31"], "rut")
    assert pd.Timestamp("2001-09-11") not in expected  # the exchange was closed
    recorded = with_exchange_days(panel.copy())

    def no_calendar() -> pd.DatetimeIndex:
        raise AssertionError("the exchange calendar was built")

    monkeypatch.setattr(sessions, "exchange_sessions", no_calendar)
    pd.testing.assert_index_equal(trading_days(recorded, "rut"), expected)
    sliced = recorded.loc["2001-09-01":"2001-12-31"]
    pd.testing.assert_index_equal(trading_days(sliced, "rut"), part)
    longer = recorded.reindex(pd.date_range("2001-07-01", "2002-03-31", freq="D", name="date"))
    longer.attrs = recorded.attrs
    with pytest.raises(AssertionError, match="calendar was built"):
        trading_days(longer, "rut")  # outside the recorded span: the calendar decides


def test_exchange_sessions_are_built_once_when_threads_ask_together() -> None:
    # the report starts the calendar on a background thread while the panel is read: a
    # second thread asking meanwhile waits for that build instead of starting its own
    from concurrent.futures import ThreadPoolExecutor

    from liqflow import sessions

    sessions._built_sessions.cache_clear()
    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(lambda _: sessions.exchange_sessions(), range(3)))
    assert built[0] is built[1] is built[2]  # one build (without the lock: three)
    assert sessions._built_sessions.cache_info().misses <= 1


def test_exchange_sessions_are_kept_for_the_day_and_rebuilt_when_unreadable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from liqflow import sessions

    home = tmp_path
    monkeypatch.setenv("LIQFLOW_HOME", str(home))
    sessions._built_sessions.cache_clear()
    built = sessions.exchange_sessions()
    kept = sessions._sessions_file()
    assert kept is not None and kept.parent == home / "sessions" and kept.exists()
    sessions._built_sessions.cache_clear()
    again = sessions.exchange_sessions()  # read back, not built
    pd.testing.assert_index_equal(again, built)
    assert again.name == "date" and again.dtype == np.dtype("datetime64[ns]")
    kept.write_bytes(b"not a numpy file")
    sessions._built_sessions.cache_clear()
    pd.testing.assert_index_equal(sessions.exchange_sessions(), built)  # rebuilt
    assert sessions._read_sessions(kept) is not None  # and kept again
    sessions._built_sessions.cache_clear()


def test_exchange_sessions_work_when_the_cache_folder_cannot_be_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from liqflow import sessions

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LIQFLOW_HOME", str(blocker / "home"))  # under a file: unwritable
    sessions._built_sessions.cache_clear()
    days = sessions.exchange_sessions()
    assert pd.Timestamp("2001-09-11") not in days and pd.Timestamp("2001-09-10") in days
    assert list(tmp_path.iterdir()) == [blocker]
    sessions._built_sessions.cache_clear()
