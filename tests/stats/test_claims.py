from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.signals.crypto import MIN_BASKET_COINS
from liqflow.stats.claims import (
    CLAIMS,
    NOT_SUPPORTED_P,
    _Row,
    _verdict,
    assess_claims,
)
from liqflow.stats.granger import holm_adjust

DAYS = pd.date_range("2012-01-01", "2026-03-31", freq="D", name="date")
SESSIONS = pd.bdate_range(DAYS[0], DAYS[-1], name="date")
EVENTS = ["2014-06-02", "2016-11-14", "2019-03-04", "2020-11-13", "2022-08-01", "2025-09-15"]


def synthetic_panel(planted: bool, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Calendar-day panel; with ``planted`` the chain holds by construction:
    credit leads large caps by 14 days, large caps lead small caps by 14 days, small caps
    lead crypto by 56 days (8 weeks), and crypto rallies 40 % in the 30 days after each
    breakout (except a crash after the 2025 one)."""
    rng = np.random.default_rng(seed)
    n = DAYS.size
    pad = 200
    credit = 0.005 * rng.standard_normal(n + pad)
    b = 0.9 if planted else 0.0
    large = b * np.roll(credit, 14) + 0.006 * rng.standard_normal(n + pad)
    small = b * np.roll(large, 14) + 0.006 * rng.standard_normal(n + pad)
    btc = 1.5 * b * np.roll(small, 56) + 0.02 * rng.standard_normal(n + pad)
    coins = [1.2 * b * np.roll(small, 56) + 0.03 * rng.standard_normal(n + pad) for _ in range(3)]
    sl = slice(pad, None)
    events = pd.Series(False, index=SESSIONS)
    events[pd.DatetimeIndex(EVENTS)] = True
    btc_r, coin_r = btc[sl].copy(), [c[sl].copy() for c in coins]
    if planted:
        for d in pd.DatetimeIndex(EVENTS):
            i = DAYS.get_loc(d) + 1
            step = (np.log(0.6) if d.year == 2025 else np.log(1.4)) / 30
            btc_r[i : i + 30] += step
            for c in coin_r:
                c[i : i + 30] += step
    spread = 4.0 - np.cumsum(credit[sl]) * 20  # narrowing spread = rising credit "price"
    spread = np.clip(spread, 0.5, None)
    panel = pd.DataFrame(
        {
            "hy_spread": spread,
            "large_caps": 1000 * np.exp(np.cumsum(large[sl])),
            "small_caps": 500 * np.exp(np.cumsum(small[sl])),
            "btc": 300 * np.exp(np.cumsum(btc_r)),
            "eth": 10 * np.exp(np.cumsum(coin_r[0])),
            "xrp": np.exp(np.cumsum(coin_r[1])),
            "sol": 2 * np.exp(np.cumsum(coin_r[2])),
        },
        index=DAYS,
    )
    # sol lists in 2020 (no survivorship games: it enters the basket when it trades)
    panel.loc[panel.index < "2020-04-10", "sol"] = np.nan
    return panel, events


@pytest.fixture(scope="module")
def planted_result() -> object:
    panel, events = synthetic_panel(planted=True, seed=1)
    return assess_claims(panel, events, n_null=999, n_boot=199, n_placebo=999, seed=3)


def test_planted_chain_is_supported(planted_result: object) -> None:
    res = planted_result
    table = res.to_frame()  # type: ignore[attr-defined]
    verdicts = res.claim_verdicts["verdict"]  # type: ignore[attr-defined]
    assert verdicts["a"] == "supported"
    assert verdicts["e"] == "supported"
    # (b): five +40 % rallies and one -40 % crash after six breakouts. The studentized
    # placebo test weighs the excess against the events' own dispersion, and the crash
    # makes that large: the effect is measured (90 % interval above zero at 30 days),
    # but six events with one reversal do not pass Holm's bar over the whole family
    b = table[table["claim"] == "b"].set_index("test")
    b30 = b.loc["breakouts -> btc +30d (vs placebo)"]
    assert b30["n"] == 6 and b30["effect"] > 0.2 and b30["ci_low"] > 0
    assert 0.01 < b30["p_value"] < 0.1
    assert verdicts["b"] == "inconclusive"
    lead = table[table["test"].str.startswith("lead-lag small_caps -> btc")].iloc[0]
    assert lead["effect"] == 8  # weeks
    assert 4 <= lead["ci_low"] <= lead["ci_high"] <= 13
    # (d): the recent breakout was followed by a crash, but one event is too few for an
    # interval or a p-value: the value is shown, the verdict stays open
    d = table[table["claim"] == "d"]
    assert (d["n"] == 1).all()
    assert (d["effect"] < 0).all()
    assert d["p_value"].isna().all() and d["ci_low"].isna().all()
    assert (d["verdict"] == "inconclusive").all()
    # (c): exactly the two precedents (mid-2016..mid-2017, mid-2020..mid-2021); the alt
    # basket has 3 coins only from 2020-04 (sol), so only the 2020 one has alt data
    c = table[table["claim"] == "c"].set_index("test")["n"]
    assert c["2016-17/2020-21 breakouts -> btc +90d (vs placebo)"] == 2
    assert c["2016-17/2020-21 breakouts -> alts +90d (vs placebo)"] == 1
    assert list(res.per_event("c").index.strftime("%Y-%m-%d")) == ["2016-11-14", "2020-11-13"]  # type: ignore[attr-defined]


def test_table_structure_and_holm(planted_result: object) -> None:
    res = planted_result
    table = res.to_frame()  # type: ignore[attr-defined]
    assert set(table["claim"]) == set(CLAIMS)
    assert set(table["verdict"]) <= {"supported", "not supported", "inconclusive"}
    np.testing.assert_allclose(table["p_holm"], holm_adjust(table["p_value"].to_numpy()))
    assert len(table) == 4 + 6 + 2 + 2 + 3
    summary = res.summary()  # type: ignore[attr-defined]
    # the family holds the tests with a p-value: the four rows with fewer than three
    # independent events (claims (c) and (d)) have none
    assert int(table["p_value"].notna().sum()) == 13
    assert "Holm across 13 tests" in summary
    for claim in CLAIMS:
        assert f"({claim}) {CLAIMS[claim]}" in summary
    assert "n=6" in summary  # independent breakouts in (b)
    # sol lists in 2020: two coins in the basket in 2016, three from 2020 on
    assert "2016-11-14: 2, " in summary and "2020-11-13: 3" in summary
    with pytest.raises(DataError, match=r"claim must be one of \('b', 'c', 'd'\)"):
        res.per_event("a")  # type: ignore[attr-defined]


def test_alt_basket_needs_min_alts_coins(planted_result: object) -> None:
    """Days with fewer than MIN_BASKET_COINS coins have no alt basket (it would be one or
    two coins): breakouts on them count as having no alt data."""
    assert MIN_BASKET_COINS == 3
    res = planted_result
    table = res.to_frame()  # type: ignore[attr-defined]
    b = table[table["claim"] == "b"].set_index("test")["n"]
    assert (b[b.index.str.contains("-> btc")] == 6).all()
    # 2014, 2016 and 2019 breakouts: eth and xrp only (sol lists in 2020)
    assert (b[b.index.str.contains("-> alts")] == 3).all()
    per = res.events["b"].per_event  # type: ignore[attr-defined]
    alt_dates = set(per.loc[per["target"] == "alts", "event_date"])
    assert alt_dates == set(pd.DatetimeIndex(EVENTS[3:]))
    # the weekly alt lead-lag runs on the 3-coin span only (2020-04 on), BTC's on 2012 on
    lls = res.lead_lags  # type: ignore[attr-defined]
    assert lls["a:small_caps -> alts"].n_obs < 0.5 * lls["a:small_caps -> btc"].n_obs
    # the per-event coin count still covers every breakout
    assert "2014-06-02: 2, 2016-11-14: 2, 2019-03-04: 2, 2020-11-13: 3" in res.summary()  # type: ignore[attr-defined]


def test_min_alts_parameter() -> None:
    panel, events = synthetic_panel(planted=True, seed=1)
    kw = {"n_null": 399, "n_boot": 49, "n_placebo": 399, "seed": 0, "as_of": "2021-12-31"}
    # two coins accepted: the 2014-2019 breakouts have alt data again
    two = assess_claims(panel, events, min_alts=2, **kw).to_frame()  # type: ignore[arg-type]
    c = two[two["claim"] == "c"].set_index("test")["n"]
    assert c["2016-17/2020-21 breakouts -> alts +90d (vs placebo)"] == 2
    # more coins than the panel ever has: no alt basket at all, the alt rows say why
    none = assess_claims(panel, events, min_alts=4, **kw)  # type: ignore[arg-type]
    table = none.to_frame()
    alt_rows = table[table["test"].str.contains("alts")]
    assert len(alt_rows) == 2  # (a) lead-lag and Granger; no alt target in (b)-(d)
    assert (alt_rows["note"] == "no day with 4+ altcoins priced").all()
    assert (alt_rows["verdict"] == "inconclusive").all()
    assert "2016-11-14: 2" in none.summary()
    for bad in (0, 2.5, True):
        with pytest.raises(DataError, match=r"min_alts must be a positive integer, got"):
            assess_claims(panel, events, min_alts=bad, **kw)  # type: ignore[arg-type]


def test_null_panel_supports_nothing() -> None:
    panel, events = synthetic_panel(planted=False, seed=2)
    res = assess_claims(panel, events, n_null=499, n_boot=99, n_placebo=499, seed=4)
    table = res.to_frame()
    assert not (table["verdict"] == "supported").any(), table[["test", "p_value", "verdict"]]


def test_as_of_truncates_and_missing_series_are_inconclusive() -> None:
    panel, events = synthetic_panel(planted=True, seed=1)
    res = assess_claims(
        panel.drop(columns=["hy_spread"]),
        events,
        as_of="2021-12-31",
        n_null=399,
        n_boot=99,
        n_placebo=399,
        seed=0,
    )
    table = res.to_frame()
    credit = table[table["test"].str.contains("credit")].iloc[0]
    assert credit["verdict"] == "inconclusive"
    assert credit["note"] == "series missing from the panel"
    d = table[table["claim"] == "d"]
    assert (d["n"] == 0).all() and (d["verdict"] == "inconclusive").all()
    assert res.as_of == pd.Timestamp("2021-12-31")
    assert res.events["b"].per_event["event_date"].max() <= pd.Timestamp("2021-12-31")


def row(p: float, n: int = 10, supports: bool = True, contradicts: bool = False) -> _Row:
    return _Row("a", "t", 1.0, "weeks", 0.0, 2.0, n, p, supports, contradicts, 5)


def test_verdict_rules() -> None:
    assert _verdict(row(0.001), 0.01, 0.05) == "supported"
    assert _verdict(row(0.001, supports=False), 0.01, 0.05) == "inconclusive"
    assert _verdict(row(0.001, contradicts=True, supports=False), 0.01, 0.05) == "not supported"
    assert _verdict(row(0.03), 0.2, 0.05) == "inconclusive"
    assert _verdict(row(NOT_SUPPORTED_P + 0.01), 1.0, 0.05) == "not supported"
    assert _verdict(row(0.001, n=4), 0.01, 0.05) == "inconclusive"  # below min_n
    assert _verdict(row(float("nan")), float("nan"), 0.05) == "inconclusive"


def test_errors() -> None:
    panel, events = synthetic_panel(planted=False, seed=2)
    with pytest.raises(DataError, match=r"panel must be a DataFrame, got dict"):
        assess_claims({}, events)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"alpha must be in \(0, 1\), got 1\.5"):
        assess_claims(panel, events, alpha=1.5)
    with pytest.raises(
        DataError, match=r"n_null and n_placebo must be at least 340 .* got n_null=99"
    ):
        assess_claims(panel, events, n_null=99)
