"""Russell breakouts: a planted breakout on a known day with a known volume ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, InsufficientDataError
from liqflow.signals import BreakoutConfig, breadth, breakouts, volume_ratio

SESSIONS = pd.bdate_range("2019-01-01", periods=200, name="date")
BREAKOUT = 130  # session index of the planted breakout


def _close(after: str = "hold") -> pd.Series:
    """Rise to an all-time high of 100 on session 49, base at 90 for 80 sessions,
    close at 101 on session 130, then hold above (or fall back below) the old high."""
    c = np.empty(len(SESSIONS))
    c[:50] = np.linspace(50.0, 100.0, 50)
    c[50:BREAKOUT] = 90.0
    c[BREAKOUT] = 101.0
    if after == "hold":
        c[BREAKOUT + 1 :] = 101.0 + np.arange(1, len(SESSIONS) - BREAKOUT)  # continuation highs
    else:
        c[BREAKOUT + 1 :] = 95.0
    return pd.Series(c, index=SESSIONS)


def _volume(surge: float = 2000.0) -> pd.Series:
    v = np.full(len(SESSIONS), 1000.0)
    v[BREAKOUT - 4 : BREAKOUT + 1] = surge  # the 5 sessions ending on the breakout day
    return pd.Series(v, index=SESSIONS)


def test_planted_breakout_date_level_base_volume_and_persistence() -> None:
    res = breakouts(_close(), _volume())
    assert len(res.events) == 1  # the continuation highs after it are not events
    e = res.events[0]
    assert e.date == SESSIONS[BREAKOUT]
    assert e.level == 101.0 and e.prior_high == 100.0
    assert e.prior_high_date == SESSIONS[49]
    assert e.base_days == BREAKOUT - 49
    # 5-session mean 2000 over the 50 sessions before them at 1000: exactly 2.0
    assert e.volume_ratio == pytest.approx(2.0)
    assert e.day_volume_ratio == pytest.approx(2.0)
    assert e.volume_confirmed is True
    assert e.status == "confirmed"
    assert e.decided_on == SESSIONS[BREAKOUT + 20]
    assert e.persistence_return == pytest.approx((101.0 + 20) / 100.0 - 1.0)
    assert e.breadth_confirmed is None and np.isnan(e.breadth)  # no segments: unknown


def test_status_is_pending_until_enough_sessions_point_in_time() -> None:
    close, vol = _close(), _volume()
    early = breakouts(close, vol, as_of=SESSIONS[BREAKOUT + 19])
    assert early.events[0].status == "pending" and early.events[0].decided_on is None
    assert np.isnan(early.events[0].persistence_return)
    full = breakouts(close, vol)
    state = full.daily["state"]
    assert (state.iloc[:BREAKOUT] == "none").all()
    assert (state.iloc[BREAKOUT : BREAKOUT + 20] == "pending").all()
    assert (state.iloc[BREAKOUT + 20 :] == "confirmed").all()
    # the per-day state is what was known then
    pd.testing.assert_frame_equal(early.daily, full.daily.iloc[: BREAKOUT + 20])


def test_failed_breakout_and_weak_volume() -> None:
    res = breakouts(_close("fail"), _volume(surge=500.0))
    e = res.events[0]
    assert e.status == "failed"
    assert e.persistence_return == pytest.approx(-0.05)
    assert e.volume_ratio == pytest.approx(0.5) and e.volume_confirmed is False
    assert res.daily["live"].iloc[-1] == 0.0
    assert res.daily["live"].iloc[BREAKOUT] == 1.0


def test_base_rule_separates_events_from_continuation_highs() -> None:
    c = _close().to_numpy().copy()
    # after the run, a 30-session pause then a new high: base 31 < 60, not an event
    c[160:190] = c[159] - 5.0
    c[190:] = c[159] + 1.0 + np.arange(10)
    res = breakouts(pd.Series(c, index=SESSIONS))
    assert [e.date for e in res.events] == [SESSIONS[BREAKOUT]]
    short = breakouts(pd.Series(c, index=SESSIONS), config=BreakoutConfig(min_base_days=20))
    assert [e.date for e in short.events] == [SESSIONS[BREAKOUT], SESSIONS[190]]
    assert short.events[1].base_days == 190 - 159
    assert short.events[0].volume_confirmed is None  # no volume supplied: unknown


def test_zero_volume_rows_are_ignored() -> None:
    v = _volume()
    v.iloc[100] = 0.0  # an incomplete row (PROVENANCE: intraday snapshot)
    ratio = volume_ratio(v, 5, 50)
    assert 100 not in [SESSIONS.get_loc(d) for d in ratio.index]
    assert breakouts(_close(), v).events[0].volume_ratio == pytest.approx(2.0)


def test_breadth_share_of_segments_at_highs() -> None:
    idx = SESSIONS
    up = pd.Series(np.arange(len(idx), dtype=float) + 10, index=idx)  # new highs every day
    down = pd.Series(200.0 - np.arange(len(idx)), index=idx)  # never at a high after day 0
    late = up.iloc[150:]  # too short for a 20-session high before session 169
    b = breadth(
        {"banks": up, "biotech": down, "industrials": late}, idx, high_window=20, breadth_window=5
    )
    assert np.isnan(b.iloc[10])  # nobody has 20 sessions yet
    assert b.iloc[BREAKOUT] == pytest.approx(0.5)  # banks yes, biotech no, industrials unknown
    assert b.iloc[-1] == pytest.approx(2 / 3)
    cfg = BreakoutConfig(high_window=20)
    res = breakouts(_close(), _volume(), {"banks": up, "biotech": down}, cfg)
    assert res.events[0].breadth == pytest.approx(0.5)
    assert res.events[0].breadth_confirmed is True
    assert breadth({}, idx).isna().all()


def test_errors_and_summary() -> None:
    with pytest.raises(InsufficientDataError, match="close has no observation up to 2018-01-01"):
        breakouts(_close(), as_of="2018-01-01")
    with pytest.raises(ConfigError, match=r"BreakoutConfig\.volume_threshold must be > 0, got 0"):
        BreakoutConfig(volume_threshold=0)
    with pytest.raises(ConfigError, match="breadth_threshold must be between 0 and 1, got 2"):
        BreakoutConfig(breadth_threshold=2)
    res = breakouts(_close(), _volume())
    text = res.summary()
    assert "1 all-time-high breakout(s)" in text and "volume x2.00 (confirmed)" in text
    frame = res.to_frame()
    assert frame.index.tolist() == [SESSIONS[BREAKOUT]] and frame["status"].iloc[0] == "confirmed"
