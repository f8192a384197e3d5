"""Channels now: planted signals give the planted verdicts; stale inputs are unknown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from liqflow.signals import default_flags
from liqflow.study.channels import channel_panel, channel_signals, channels_now
from liqflow.study.verdicts import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, UNKNOWN

DAYS = pd.date_range("2023-01-01", "2024-06-30", freq="D", name="date")


def _panel(etf_end: str | None = None) -> pd.DataFrame:
    n = DAYS.size
    t = np.arange(n, dtype=np.float64)
    frame = pd.DataFrame(
        {
            "tga_daily": 800_000 - 500.0 * t,  # drawn down every day
            "fed_assets": np.full(n, 7.5e6),
            "rrp": 500_000 - 100.0 * t,
            "fed_mbs": 2.4e6 - 100.0 * t,  # runoff: not rising
            # about USD 500 m a day (never the same two days running: a repeated flow in
            # the as-of panel counts once), far above the BTC mined
            "etf_flows": 500.0 + t % 7,
            "btc": np.full(n, 50_000.0),
            "btc_funding": 1e-3 - 1e-6 * t,  # falling: today's is the lowest of the year
            "cftc_btc": -5000.0 + 2.0 * t,  # net short shrinking
        },
        index=DAYS,
        dtype=np.float64,
    )
    if etf_end is not None:
        frame.loc[frame.index > etf_end, "etf_flows"] = np.nan
    return frame


def test_planted_channels_give_the_planted_verdicts() -> None:
    now = channels_now(channel_signals(channel_panel(_panel())))
    assert now.as_of == DAYS[-1]
    fiscal = now.thesis("fiscal")
    # TGA drawn down and net liquidity up, MBS falling: mixed; refunds, mortgages unknown
    assert fiscal.verdict == INCONCLUSIVE and "2 of 3 known conditions met" in fiscal.why
    tga = fiscal.readings[0]
    assert tga.value == -10.0 and tga.met is True and tga.condition_text() == "< 0.0 USD bn"
    etf = now.thesis("etf")
    assert etf.verdict == SUPPORTED
    multiple = etf.readings[0]
    spec = next(s for s in default_flags() if s.name == "market.etf_absorbing_supply")
    assert (multiple.op, multiple.threshold) == (spec.op, spec.threshold)  # one threshold
    # the last 20 days' flows / USD 50,000 against 20 x 144 x 3.125 = 9,000 BTC mined
    flows = _panel()["etf_flows"].iloc[-20:].sum()
    np.testing.assert_allclose(multiple.value, flows * 1e6 / 50_000 / 9_000)
    assert not etf.readings[1].votes and etf.readings[1].met is None  # shown beside
    lev = now.thesis("leverage")
    assert lev.verdict == SUPPORTED  # funding lowest of its year, net short shrinking
    assert [r.met for r in lev.readings[:3]] == [True, None, True]  # no open interest
    doc = json.loads(json.dumps(now.to_dict(), allow_nan=False))
    assert [t["verdict"] for t in doc["theses"]] == [INCONCLUSIVE, SUPPORTED, SUPPORTED]
    assert doc["theses"][1]["readings"][1]["verdict"] == "descriptive"
    assert len(now.to_frame()) == sum(len(t.readings) for t in now.theses)


def test_stale_or_missing_inputs_are_unknown_with_why() -> None:
    now = channels_now(channel_signals(channel_panel(_panel(etf_end="2024-04-30"))))
    etf = now.thesis("etf")
    assert etf.verdict == UNKNOWN
    assert "last known 2024-05" in etf.readings[0].note and "stale" in etf.readings[0].note
    assert "no condition known on the as-of date" in etf.why
    panel = _panel().drop(columns=["btc_funding", "cftc_btc"])
    lev = channels_now(channel_signals(channel_panel(panel))).thesis("leverage")
    assert lev.verdict == UNKNOWN and all(not r.known for r in lev.readings)


def test_reversed_channels_are_not_supported() -> None:
    p = _panel()
    p["tga_daily"] = 800_000 + 500.0 * np.arange(len(p))  # refilled
    p["rrp"] = 500_000 + 900.0 * np.arange(len(p))
    p["fed_mbs"] = 2.4e6 - 100.0 * np.arange(len(p))
    assert channels_now(channel_signals(channel_panel(p))).thesis("fiscal").verdict == NOT_SUPPORTED


def test_the_channel_panel_ignores_other_columns_and_leading_rows() -> None:
    p = _panel()
    wide = p.reindex(pd.date_range("2010-01-01", DAYS[-1], freq="D", name="date"))
    wide["small_caps"] = 1.0
    pd.testing.assert_frame_equal(channel_panel(wide), channel_panel(p), check_freq=False)


def test_channel_blocks_alone_read_as_the_whole_signal_set() -> None:
    from liqflow.signals import compute_signals

    for panel in (channel_panel(_panel()), channel_panel(_panel(etf_end="2024-04-30"))):
        alone, whole = channel_signals(panel), compute_signals(panel)
        assert channels_now(alone) == channels_now(whole)  # values, conditions and notes
        cols = list(alone.frame.columns)
        assert cols and all(c.startswith(("fiscal.", "market.")) for c in cols)
        pd.testing.assert_frame_equal(alone.frame, whole.frame[cols])
        assert {k: v for k, v in whole.status.items() if k in alone.status} == dict(alone.status)
