"""The channels on the whole shared data: inputs, n floors, the default date, channels now."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from liqflow.align import default_as_of
from liqflow.catalog import default_catalog
from liqflow.stats._shared import aligned_returns
from liqflow.store import Store
from liqflow.study import load_study_inputs
from liqflow.study.channels import channel_signals, channels_now
from liqflow.study.verdicts import MIN_WEEKS, NOT_SUPPORTED, SUPPORTED

pytestmark = pytest.mark.realdata


def test_real_channel_inputs_and_the_channels_on_2024_03_12(shared_store: Path) -> None:
    cat = default_catalog()
    with Store(shared_store, read_only=True) as st:
        inputs = load_study_inputs(st, cat, as_of=pd.Timestamp("2024-03-12"))
        default = default_as_of(st, cat)
    # the ETF flows (from 2024-01) and funding (2026-04) do not hold the default date back
    assert default >= pd.Timestamp("2026-08-01")
    for key in ("tga_drawdown", "fed_mbs_change", "etf_net_flows", "funding_lower"):
        assert key in inputs.series, inputs.missing
    # two months of ETF flows: far too short for a lead test; the TGA has years
    etf = aligned_returns(inputs.series["etf_net_flows"], inputs.series["btc"], "W")
    tga = aligned_returns(inputs.series["tga_drawdown"], inputs.series["btc"], "W")
    assert len(etf) < MIN_WEEKS <= len(tga)
    now = channels_now(channel_signals(inputs.channel_panel))
    # ETFs bought about 4.3x the BTC mined over 20 days; funding at the 97th percentile of
    # its year and the CME leveraged funds' net short growing: leverage is not lower
    etf_now = now.thesis("etf")
    assert etf_now.verdict == SUPPORTED and 4.0 < etf_now.readings[0].value < 4.7
    lev = now.thesis("leverage")
    assert lev.verdict == NOT_SUPPORTED and lev.readings[0].value > 0.9
    assert now.thesis("fiscal").readings[0].known  # the DTS TGA 20-day change
