"""The channel claims: declared once, fixed-scale point-in-time inputs, one family, n floors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError
from liqflow.align import required_inputs
from liqflow.catalog import Chain, default_catalog
from liqflow.study import run_study, study_inputs
from liqflow.study.claims import CHANNELS, Channel, channel_level, claim_table
from liqflow.study.verdicts import MIN_WEEKS, SUPPORTED, UNKNOWN

from .synthetic import synthetic_panel

TGA = next(c for c in CHANNELS if c.series == "tga_daily")
ETF = next(c for c in CHANNELS if c.series == "etf_flows")


def test_default_chain_gets_every_channel_in_the_one_family() -> None:
    table = claim_table(default_catalog())
    rows = table.to_frame().set_index("test_id")
    for ch in CHANNELS:
        for tgt in ("btc", "alts"):
            ll = rows.loc[f"{ch.claim}/lead_lag:{ch.key}->{tgt}"]
            gr = rows.loc[f"{ch.claim}/granger:{ch.key}=>{tgt}"]
            assert ll["family"] == gr["family"] == "thesis"
            assert ll["lags"] == "4-13w" and gr["lags"] == "1-13w"
    assert {c for c, _ in table.claims} >= {ch.claim for ch in CHANNELS}
    assert all(
        t.min_n == MIN_WEEKS for t in table.tests if t.claim.endswith("_lead") and t.claim != "lead"
    )


def test_a_chain_that_does_not_end_in_crypto_has_no_channel_tests() -> None:
    cat = default_catalog()
    table = claim_table(cat, Chain("x", (("hy_spread",), ("large_caps",), ("small_caps",))))
    assert table.channels == ()
    assert not any(t.claim.endswith("_lead") and t.claim != "lead" for t in table.tests)


def test_channel_levels_have_the_planted_weekly_values() -> None:
    days = pd.date_range("2024-01-01", periods=6, freq="D", name="date")
    tga = pd.Series([900_000.0, 880_000, 880_000, 910_000, 850_000, 850_000], index=days)
    level = channel_level(tga, TGA)
    # log change = minus the change in USD tn: a drawdown is a rise
    np.testing.assert_allclose(np.diff(np.log(level.to_numpy())), [0.02, 0.0, -0.03, 0.06, 0.0])
    flows = pd.Series([100.0, -50.0, 0.0, 250.0, 10.0, -5.0], index=days)
    cum = channel_level(flows, ETF)
    np.testing.assert_allclose(np.log(cum.to_numpy()) * ETF.scale, np.cumsum(flows.to_numpy()))
    with pytest.raises(ConfigError, match="transform must be one of"):
        channel_level(flows, Channel("x", "x", "etf_flows", "zscore", 1, 1.0, "x"))


@pytest.mark.parametrize("cut", ["2024-03-01", "2024-09-15"])
def test_channel_inputs_are_point_in_time(cut: str) -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D", name="date")
    panel = pd.DataFrame(
        {
            "tga_daily": 800_000 + np.cumsum(rng.normal(0, 5_000, days.size)),
            "etf_flows": rng.normal(0, 300, days.size),
            "btc": 40_000 * np.exp(np.cumsum(rng.normal(0, 0.02, days.size))),
        },
        index=days,
    )
    cat = default_catalog()
    full = study_inputs(panel, cat)
    part = study_inputs(panel.loc[:cut], cat)
    for ch in (TGA, ETF):
        a, b = full.series[ch.key], part.series[ch.key]
        pd.testing.assert_series_equal(a.loc[:cut], b)


def _channel_panel() -> pd.DataFrame:
    panel, _ = synthetic_panel(planted=True, seed=1)
    # the TGA falls as small caps rise (USD 0.1 tn per unit of log price): its drawdown
    # leads BTC by the planted 8 weeks; ETF flows start in mid-2024 (too short to test)
    small = panel["small_caps"]
    panel["tga_daily"] = 1e6 * (3.0 - 0.1 * np.log(small / small.iloc[0]))
    flows = pd.Series(np.random.default_rng(2).normal(0, 300, len(panel)), index=panel.index)
    panel["etf_flows"] = flows.where(panel.index >= "2024-06-01")
    return panel


def test_a_planted_channel_is_supported_and_a_short_one_is_unknown() -> None:
    inputs = study_inputs(_channel_panel(), default_catalog())
    ev, _ = run_study(inputs, seed=5, draws=599)
    rows = ev.tests.set_index("test_id")
    tga = rows.loc["tga_lead/lead_lag:tga_drawdown->btc"]
    assert tga["effect"] == 8 and tga["verdict"] == SUPPORTED and np.isfinite(tga["p_holm"])
    for tgt in ("btc", "alts"):
        for kind in ("lead_lag:etf_net_flows->", "granger:etf_net_flows=>"):
            etf = rows.loc[f"etf_lead/{kind}{tgt}"]
            assert etf["verdict"] == UNKNOWN and "n too small" in etf["note"]
            assert 0 < etf["n"] < MIN_WEEKS and np.isnan(etf["p_value"])
            assert np.isnan(etf["p_holm"])
    # the family counts only tests with a p-value: the short ETF tests are not in it
    in_family = (rows["family"] == "thesis") & rows["p_value"].notna()
    assert (
        ev.n_family == int(in_family.sum())
        and not in_family.loc[rows.index.str.startswith("etf")].any()
    )
    assert ev.verdict("etf_lead") == UNKNOWN
    # MBS and funding are not in this panel: unknown, said why
    mbs = rows.loc["mbs_lead/lead_lag:fed_mbs_change->btc"]
    assert mbs["verdict"] == UNKNOWN and "no fed_mbs data" in mbs["note"]


def test_channel_inputs_never_bound_the_default_date() -> None:
    cat = default_catalog()
    table = claim_table(cat)
    assert table.channels and not {c.series for c in table.channels} & set(required_inputs(cat))
