"""The claims on the real data in ../shared/data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow.signals import breakouts
from liqflow.stats.claims import assess_claims
from liqflow.stats.leadlag import lead_lag

pytestmark = pytest.mark.realdata


def read_close(path: Path, column: str = "Close") -> pd.Series:
    frame = pd.read_csv(path)
    idx = pd.DatetimeIndex(
        pd.to_datetime(frame.iloc[:, 0].astype(str).str.slice(0, 10)), name="date"
    )
    out = pd.Series(frame[column].to_numpy(dtype=np.float64), index=idx)
    return out[~out.index.duplicated(keep="last")].sort_index().dropna()


@pytest.fixture(scope="module")
def real_inputs(shared_data: Path) -> tuple[pd.DataFrame, pd.Series]:
    eq, cr, fred = shared_data / "equities", shared_data / "crypto", shared_data / "fred"
    cols = {
        "small_caps": read_close(eq / "RUT_daily.csv"),
        "large_caps": read_close(eq / "GSPC_daily.csv"),
        "btc": read_close(cr / "BTC_daily.csv"),
        "hy_spread": read_close(fred / "BAMLH0A0HYM2.csv", "value"),
    }
    for coin in ("ETH", "XRP", "ADA", "SOL", "DOGE", "LTC"):
        cols[coin.lower()] = read_close(cr / "yahoo_top_coins" / f"{coin}-USD.csv")
    panel = pd.concat(cols, axis=1, sort=True)
    rut = cols["small_caps"]
    volume = read_close(eq / "IWM_daily.csv", "Volume")
    events = (breakouts(rut, volume).daily["event"] == 1).astype(bool)
    return panel, events


def test_claims_table_on_real_data(real_inputs: tuple[pd.DataFrame, pd.Series]) -> None:
    panel, events = real_inputs
    res = assess_claims(panel, events, n_null=499, n_boot=499, n_placebo=499, seed=0)
    table = res.to_frame()
    assert len(table) == 17
    assert set(res.claim_verdicts.index) == set("abcde")
    # breakouts since BTC's data start, declustered at 30 days (hand-checked event list)
    b = res.events["b"].per_event
    btc30 = b[(b["target"] == "btc") & (b["horizon_days"] == 30)]
    assert list(btc30["event_date"].dt.strftime("%Y-%m-%d")) == [
        "2014-12-26",
        "2016-11-14",
        "2018-05-16",
        "2020-11-13",
        "2021-11-02",
        "2025-09-18",
    ]
    # the 2020 precedent by hand: BTC close 90 calendar days later over the event close
    btc = panel["btc"].dropna()
    d = pd.Timestamp("2020-11-13")
    want = btc[d + pd.Timedelta(days=90)] / btc[d] - 1
    got = b[(b["target"] == "btc") & (b["horizon_days"] == 90) & (b["event_date"] == d)]
    assert got["forward_return"].iloc[0] == pytest.approx(want)
    assert list(res.per_event("c").index.strftime("%Y-%m-%d")) == ["2016-11-14", "2020-11-13"]
    assert "n=6" in res.summary()
    # the alt basket needs 3+ coins: LTC alone before 2017-11-10, ETH alone after
    # 2024-12-17 (see the coin spans in PROVENANCE.md), so no alt return outside them
    alts = b[b["target"] == "alts"]
    assert alts["event_date"].min() >= pd.Timestamp("2017-11-10")
    late = alts["event_date"] > pd.Timestamp("2024-12-17")
    assert late.any() and not alts.loc[late, "complete"].any()
    assert alts.loc[late, "forward_return"].isna().all()
    assert "2014-12-26: 1, 2016-11-14: 1" in res.summary()


def test_small_caps_and_btc_move_together_weekly(
    real_inputs: tuple[pd.DataFrame, pd.Series],
) -> None:
    # a sanity anchor: weekly returns of ^RUT and BTC are positively correlated at lag 0
    panel, _ = real_inputs
    res = lead_lag(
        panel["small_caps"].dropna(), panel["btc"].dropna(), n_null=199, n_boot=0, seed=1
    )
    assert res.to_frame().loc[0, "correlation"] > 0.1
    assert res.to_frame().loc[0, "significant"]
