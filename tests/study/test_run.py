"""The evidence engine on planted and null synthetic markets: verdicts, one family, JSON."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from liqflow._errors import ConfigError
from liqflow.store import Store
from liqflow.study import Evidence, run_study
from liqflow.study.verdicts import (
    DESCRIPTIVE,
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
    bh_adjust,
    claim_verdict,
    holm_adjust,
    test_verdict,
)

from .synthetic import EVENTS, planted_inputs


@pytest.fixture(scope="module")
def planted() -> Evidence:
    ev, hit = run_study(planted_inputs(True, seed=1), seed=3, draws=499)
    assert not hit
    return ev


def test_planted_chain_is_supported(planted: Evidence) -> None:
    assert planted.verdict("lead") == SUPPORTED
    assert planted.verdict("chain") == SUPPORTED
    # six planted +40 % rallies: the studentized placebo test sees them (raw p <= 0.1 at
    # 30 days) but six events do not survive Holm over the family: weak, said as weak
    btc30 = planted.tests.set_index("test_id").loc["breakouts/event:btc+30d"]
    assert btc30["effect"] > 0.2 and btc30["p_value"] <= 0.1
    assert planted.verdict("breakouts") in (SUPPORTED, INCONCLUSIVE)
    rows = planted.tests.set_index("test_id")
    lead = rows.loc["lead/lead_lag:small_caps->btc"]
    assert lead["effect"] == 8  # weeks: the planted 56-day lead
    assert 4 <= lead["ci_low"] <= lead["ci_high"] <= 13
    assert lead["verdict"] == SUPPORTED
    # the recent breakout was followed by a crash: a value, never a test
    recent = rows.loc["recent/values:btc+90d"]
    assert recent["verdict"] == DESCRIPTIVE and recent["n"] == 1
    assert np.isnan(recent["p_value"]) and np.isnan(recent["ci_low"])
    assert recent["effect"] < 0
    # the precedents: exactly the 2016 and 2020 breakouts, values only
    prec = rows.loc["precedents/values:btc+90d"]
    assert prec["n"] == 2 and "2016-11-14" in prec["note"] and "2020-11-13" in prec["note"]
    assert planted.verdict("precedents") == DESCRIPTIVE


def test_one_family_holm_and_bh(planted: Evidence) -> None:
    t = planted.tests
    fam = t["family"] == "thesis"
    p = t["p_value"].where(fam).to_numpy()
    np.testing.assert_allclose(t["p_holm"], holm_adjust(p), equal_nan=True)
    finite = np.isfinite(p)
    want = multipletests(p[finite], method="fdr_bh")[1]
    np.testing.assert_allclose(t["p_bh"].to_numpy()[finite], want)
    assert planted.n_family == int(finite.sum()) == 13
    assert t["p_holm"][~fam].isna().all()  # descriptive and derived rows are not tested


def test_few_events_have_values_but_no_interval_or_p(planted: Evidence) -> None:
    # the alt basket has 3 coins only from 2020-04 (sol lists then): 3 events with alt data
    alts = planted.tests[planted.tests["test_id"].str.startswith("breakouts/event:alts")]
    assert (alts["n"] == 3).all()
    few = planted_inputs(True, seed=1, as_of="2021-06-30")
    ev, _ = run_study(few, seed=3, draws=299)
    rows = ev.tests[ev.tests["test_id"].str.startswith("breakouts/event:alts")]
    assert (rows["n"] == 1).all()
    assert rows["ci_low"].isna().all() and rows["p_value"].isna().all()
    assert rows["note"].str.contains("n too small").all()
    assert (rows["verdict"] == INCONCLUSIVE).all()


def test_null_market_supports_nothing() -> None:
    ev, _ = run_study(planted_inputs(False, seed=2), seed=4, draws=299)
    assert not (ev.tests["verdict"] == SUPPORTED).any(), ev.tests[["test", "p_value", "verdict"]]


def test_same_seed_same_evidence_and_cache(tmp_path: object) -> None:
    inputs = planted_inputs(True, seed=1, as_of="2019-12-31")
    a, _ = run_study(inputs, seed=7, draws=299)
    b, _ = run_study(inputs, seed=7, draws=299)
    assert a.to_json() == b.to_json()
    c, _ = run_study(inputs, seed=8, draws=299)
    assert c.to_json() != a.to_json()
    with Store(":memory:") as store:
        first, hit1 = run_study(inputs, seed=7, draws=299, store=store)
        again, hit2 = run_study(inputs, seed=7, draws=299, store=store)
    assert (hit1, hit2) == (False, True)
    assert again.to_json() == first.to_json() == a.to_json()


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_concurrent_tests_give_the_serial_evidence(workers: int) -> None:
    # each test draws from its own spawned stream and rows are assembled in the table's
    # order: the JSON document is the same byte for byte whatever the number of threads
    inputs = planted_inputs(True, seed=1, as_of="2019-12-31")
    serial, _ = run_study(inputs, seed=7, draws=299, workers=1)
    threaded, _ = run_study(inputs, seed=7, draws=299, workers=workers)
    assert threaded.to_json() == serial.to_json()
    assert list(threaded.lead_lags) == list(serial.lead_lags)


def test_workers_are_checked() -> None:
    inputs = planted_inputs(False, seed=2, as_of="2016-12-31")
    for bad in (0, -1, 1.5, True, "2"):
        message = rf"workers must be a positive integer or None, got {re.escape(repr(bad))}$"
        with pytest.raises(ConfigError, match=message):
            run_study(inputs, draws=299, workers=bad)  # type: ignore[arg-type]


def test_json_document(planted: Evidence) -> None:
    doc = json.loads(planted.to_json())
    assert doc["seed"] == 3 and doc["draws"] == 499
    assert doc["as_of"] == "2026-03-31"
    assert doc["data_hash"] == planted.data_hash and len(doc["data_hash"]) == 64
    assert doc["family"] == {"correction": "holm", "beside": "benjamini-hochberg", "n_tests": 13}
    assert set(doc["legend"]) == {SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, UNKNOWN, DESCRIPTIVE}
    assert {c["claim"] for c in doc["claims"]} == {
        "chain", "lead", "breakouts", "alts_most", "precedents", "recent",
        "tga_lead", "mbs_lead", "etf_lead", "leverage_lead",
    }  # fmt: skip
    assert len(doc["tests"]) == len(planted.tests)
    assert all(e["event_date"][:4].isdigit() for e in doc["events"])


def test_every_test_carries_its_horizon(planted: Evidence) -> None:
    """Tests after the breakouts carry their forward-return horizon in days (the ``+30d``
    of their id), the lead-lag and Granger tests none; the rows, frame and JSON agree."""
    rows = planted.rows()
    assert {r.horizon for r in rows if r.kind == "event"} == {30, 60, 90}
    for r in rows:
        if r.kind in ("lead_lag", "granger"):
            assert r.horizon is None, r.test_id
        else:
            assert r.test_id.endswith(f"+{r.horizon}d"), r.test_id
    doc = json.loads(planted.to_json())
    assert [t["horizon"] for t in doc["tests"]] == [r.horizon for r in rows]
    assert "horizon" in planted.to_frame().columns


def test_missing_series_are_unknown() -> None:
    inputs = planted_inputs(True, seed=1, as_of="2021-12-31")
    series = {k: v for k, v in inputs.series.items() if k != "hy_spread"}
    gone = dataclasses.replace(inputs, series=series, missing={"hy_spread": "no hy data"})
    ev, _ = run_study(gone, seed=0, draws=299)
    row = ev.tests.set_index("test_id").loc["chain/lead_lag:hy_spread->large_caps"]
    assert row["verdict"] == UNKNOWN and row["note"] == "no hy data"
    no_events = dataclasses.replace(inputs, events=None)
    ev2, _ = run_study(no_events, seed=0, draws=299)
    assert ev2.verdict("breakouts") == UNKNOWN
    assert ev2.event_study is None


def test_per_event_dates_are_the_planted_ones(planted: Evidence) -> None:
    per = planted.per_event
    btc30 = per[(per["target"] == "btc") & (per["horizon_days"] == 30)]
    assert list(btc30["event_date"]) == list(pd.DatetimeIndex(EVENTS))


def test_parameters_are_checked() -> None:
    inputs = planted_inputs(False, seed=2, as_of="2016-12-31")
    with pytest.raises(
        ConfigError, match=r"draws must be an integer of at least 160 .* over 8 tests .* got 100"
    ):
        run_study(inputs, draws=100)
    with pytest.raises(ConfigError, match=r"alpha and confidence must be in \(0, 1\), got 1.5"):
        run_study(inputs, alpha=1.5)


def test_verdict_rules() -> None:
    kw = {"family": "thesis", "available": True, "n": 200, "min_n": 104, "alpha": 0.05}
    assert (
        test_verdict(p_value=0.001, p_holm=0.01, supports=True, contradicts=False, **kw)
        == SUPPORTED
    )  # type: ignore[arg-type]
    assert (
        test_verdict(p_value=0.001, p_holm=0.01, supports=False, contradicts=False, **kw)
        == INCONCLUSIVE
    )  # type: ignore[arg-type]
    assert (
        test_verdict(p_value=0.001, p_holm=0.01, supports=False, contradicts=True, **kw)
        == NOT_SUPPORTED
    )  # type: ignore[arg-type]
    assert (
        test_verdict(p_value=0.6, p_holm=1.0, supports=True, contradicts=False, **kw)
        == NOT_SUPPORTED
    )  # type: ignore[arg-type]
    assert (
        test_verdict(p_value=0.03, p_holm=0.2, supports=True, contradicts=False, **kw)
        == INCONCLUSIVE
    )  # type: ignore[arg-type]
    small = {**kw, "n": 50}
    assert (
        test_verdict(p_value=0.001, p_holm=0.01, supports=True, contradicts=False, **small)
        == INCONCLUSIVE
    )  # type: ignore[arg-type]
    gone = {**kw, "available": False}
    assert (
        test_verdict(p_value=np.nan, p_holm=np.nan, supports=False, contradicts=False, **gone)
        == UNKNOWN
    )  # type: ignore[arg-type]
    assert claim_verdict([SUPPORTED, INCONCLUSIVE]) == SUPPORTED
    assert claim_verdict([SUPPORTED, NOT_SUPPORTED]) == INCONCLUSIVE
    assert claim_verdict([NOT_SUPPORTED, UNKNOWN]) == NOT_SUPPORTED
    assert claim_verdict([UNKNOWN, UNKNOWN]) == UNKNOWN
    assert claim_verdict([DESCRIPTIVE, UNKNOWN]) == DESCRIPTIVE


def test_bh_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=25) ** 2
    p[[3, 9]] = np.nan
    got = bh_adjust(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(got[ok], multipletests(p[ok], method="fdr_bh")[1])
    assert np.isnan(got[~ok]).all()


def test_a_pairs_common_returns_are_counted_once_per_study(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a pair's lead-lag and Granger tests (here tga_lead's, which need 104 weekly returns
    # in common) share one count of the returns in common; the tests' own alignment is
    # bound at their modules' import, before the patch
    import liqflow.stats.granger
    import liqflow.stats.leadlag  # noqa: F401
    from liqflow.stats import _shared

    base = planted_inputs(True, seed=1, as_of="2019-12-31")
    tga = base.series["small_caps"].rename("tga_drawdown")
    inputs = dataclasses.replace(base, series={**base.series, "tga_drawdown": tga})
    calls: list[tuple[str, str]] = []
    real = _shared.aligned_returns

    def counting(a: pd.Series, b: pd.Series, *args: object, **kw: object) -> pd.DataFrame:
        calls.append((str(a.name), str(b.name)))
        return real(a, b, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_shared, "aligned_returns", counting)
    ref = run_study(inputs, seed=7, draws=299, workers=1)[0]
    assert calls.count(("tga_drawdown", "btc")) == 1  # two tests, one count
    assert ref.tests.set_index("test_id").loc["tga_lead/granger:tga_drawdown=>btc", "n"] >= 104
    monkeypatch.setattr(_shared, "aligned_returns", real)
    assert run_study(inputs, seed=7, draws=299, workers=1)[0].to_json() == ref.to_json()


def test_concurrent_jobs_run_blas_single_threaded_and_restore_it() -> None:
    from threadpoolctl import threadpool_info

    from liqflow.study.run import _run_jobs

    def blas_threads() -> list[int]:
        return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    done = _run_jobs(dict.fromkeys(range(3), blas_threads), workers=2)
    assert all(n == [1] * len(before) for n in done.values())
    assert blas_threads() == before
    assert _run_jobs({0: blas_threads}, workers=1)[0] == before  # serial: left as it is
