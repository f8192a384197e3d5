"""compute_signals on synthetic panels, and the point-in-time invariance property."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from liqflow._errors import DataError
from liqflow.signals import SignalConfig, SignalSet, compute_signals, default_flags

from .conftest import SMALL, synthetic_panel


def test_every_block_is_computed_and_the_panel_is_not_mutated(panel: pd.DataFrame) -> None:
    before = panel.copy()
    sig = compute_signals(panel, SMALL)
    pd.testing.assert_frame_equal(panel, before)
    f = sig.frame
    assert f.index.equals(panel.index)
    for col in (
        "liquidity.net_liquidity_chg_13w",
        "credit.spread_percentile",
        "large_caps.pct_above_ma",
        "small_caps.ratio_momentum",
        "small_caps.breakout_state",
        "small_caps.live_volume_ratio",
        "crypto.season_index",
        "crypto.btc_dominance",
        "traits.btc_cascade_ratio",
        "traits.leader",
    ):
        assert col in f.columns, col
        assert f[col].notna().any(), col
    # equities carried over weekends: Saturday equals Friday
    sat = f.index[f.index.day_of_week == 5][10]
    assert f.loc[sat, "large_caps.ma"] == f.loc[sat - pd.Timedelta(days=1), "large_caps.ma"]
    # the stablecoin column is never in the alt universe (and "usdt" is not a catalogue alt)
    assert "usdt" not in sig.status.get("crypto.alts", "")
    assert sig.status["breadth"] == (
        "unknown: no small-cap segment series in the data "
        "(seg_regional_banks, seg_industrials, seg_biotech); `liqflow fetch` them for breadth"
    )
    assert set(sig.flags.columns) == {s.name for s in default_flags(SMALL)}
    assert sig.breakouts is not None
    assert "stage" in sig.summary()


def test_missing_blocks_are_unknown(panel: pd.DataFrame) -> None:
    keep = [c for c in panel.columns if c in ("large_caps", "hy_spread")]
    sig = compute_signals(panel[keep], SMALL)
    assert sig.status["small_caps"] == "unknown: not supplied"
    assert sig.status["crypto.btc"] == "unknown: not supplied"
    assert sig.status["liquidity.net_liquidity"] == "unknown: no data for fed_assets, tga, rrp"
    assert sig.breakouts is None
    st = sig.stage_status()
    crypto = st.stages[3]
    assert all(s.on is None for s in crypto.signals) and not crypto.on
    assert not sig.stages.frame["stage3_on"].any()


def test_panel_errors() -> None:
    with pytest.raises(DataError, match="panel must be a DataFrame, got list"):
        compute_signals([1, 2])  # type: ignore[arg-type]
    empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"), columns=["btc"], dtype=float)
    with pytest.raises(DataError, match="panel has no rows"):
        compute_signals(empty)


def _compare(full: pd.DataFrame, part: pd.DataFrame, t: pd.Timestamp) -> None:
    pd.testing.assert_frame_equal(part, full.loc[:t], check_freq=False, check_index_type=False)


def _check_cutoff(full: SignalSet, panel: pd.DataFrame, t: pd.Timestamp) -> None:
    part = compute_signals(panel.loc[:t], SMALL)
    _compare(full.frame, part.frame, t)
    _compare(full.stages.frame, part.stages.frame, t)
    _compare(full.stages.flags, part.stages.flags, t)
    assert full.breakouts is not None and part.breakouts is not None
    _compare(full.breakouts.daily, part.breakouts.daily, t)
    # an event's status can only move from pending to decided as time passes
    for a, b in zip(part.breakouts.events, full.breakouts.events, strict=False):
        assert a.date == b.date and a.level == b.level
        assert a.status == b.status or a.status == "pending"


# no shrinking: a failure is reported at once (each example recomputes everything)
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(seed=st.integers(0, 2**16), cut=st.floats(0.05, 0.95))
def test_point_in_time_invariance(seed: int, cut: float) -> None:
    """Every signal (breakout state and stages included) computed on the panel truncated
    at t equals, up to t, the one computed on the full history: at a random cutoff and
    two days after the first breakout events (while their persistence is pending)."""
    panel = synthetic_panel(seed, n=420)
    full = compute_signals(panel, SMALL)
    _check_cutoff(full, panel, panel.index[int(cut * (len(panel) - 1))])
    assert full.breakouts is not None
    for event in full.breakouts.events[:2]:
        _check_cutoff(full, panel, event.date + pd.Timedelta(days=2))


def test_default_config_on_the_synthetic_panel(panel: pd.DataFrame) -> None:
    sig = compute_signals(panel, SignalConfig())
    # two years of data are too short for a 200-session average but not for the rest
    assert sig.frame["large_caps.above_ma"].notna().sum() > 0
    assert sig.stages.frame["stage"].isin([0, 1, 2, 3, 4]).all()


def test_default_segments_give_breakout_breadth_when_stored(panel: pd.DataFrame) -> None:
    """With the catalogue's segment series in the panel, breadth is measured, not unknown."""
    from liqflow.catalog import SEGMENTS

    weekdays = panel.index.day_of_week < 5
    rising = pd.Series(range(len(panel)), index=panel.index, dtype=float).where(weekdays).ffill()
    seg_panel = panel.assign(**{sid: 10.0 + rising * (k + 1) for k, sid in enumerate(SEGMENTS)})
    sig = compute_signals(seg_panel, SMALL)
    assert "breadth" not in sig.status
    assert all(sig.status[f"segment.{sid}"] == "ok" for sid in SEGMENTS)
    assert sig.frame.filter(like="breadth").notna().any().any()
