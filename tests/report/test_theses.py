"""Theses: status rules, numbers and the why line, from hand-built results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.report import (
    STATUSES,
    Evidence,
    Reading,
    Report,
    ReportConfig,
    ReportResults,
    Unavailable,
    build_theses,
)
from liqflow.report.stat_theses import (
    alts_most_thesis,
    breakouts_lead_crypto_thesis,
    lead_thesis,
    precedents_thesis,
)
from liqflow.report.theses import stage_outlook

MISSING = Unavailable("signals and stages", "not in this test")


def _results(**parts: object) -> ReportResults:
    base: dict[str, object] = {
        "as_of": pd.Timestamp("2021-01-15"),
        "panel": pd.DataFrame(index=pd.DatetimeIndex([], name="date")),
        "series": (),
        "signals": MISSING,
        "event_study": MISSING,
        "event_paths": MISSING,
        "lead_lag": MISSING,
        "evidence": MISSING,
        "backtests": MISSING,
        "config": ReportConfig(),
    }
    base.update(parts)
    return ReportResults(**base)  # type: ignore[arg-type]


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    from liqflow.study.verdicts import holm_adjust as holm

    p = [0.01, 0.04, 0.03, 0.5, np.nan]
    # by hand: sorted 0.01*4=0.04, 0.03*3=0.09, max(0.04*2, 0.09)=0.09, 0.5*1=0.5
    np.testing.assert_allclose(holm(p)[:4], [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(holm(p)[4])
    ref = multipletests(p[:4], method="holm")[1]  # statsmodels 0.15 oracle
    np.testing.assert_allclose(holm(p)[:4], ref)


def test_evidence_says_not_significant_after_holm() -> None:
    ev = Evidence("btc +60d excess", 0.12, -0.05, 0.3, 0.9, 6, 0.02, 0.08, 4, 0.05)
    text = ev.text()
    assert not ev.significant
    assert text.endswith("not significant")
    for part in ("+12.0%", "90% CI -5.0% to +30.0%", "n=6", "p=0.020", "over 4 tests p=0.080"):
        assert part in text
    sig = Evidence("x", 0.12, 0.05, 0.3, 0.9, 6, 0.001, 0.004, 4, 0.05)
    assert sig.significant and "not significant" not in sig.text()


def test_reading_text_shows_value_threshold_and_state() -> None:
    r = Reading("HY OAS 13-week change", -0.35, "pp", "<", 0.0, True)
    assert r.text() == "HY OAS 13-week change: -0.35 pp (needs < 0: met)"
    unknown = Reading("net liquidity", None, "usd_bn", ">", 0.0, None, "last known 2025-12-01")
    assert unknown.text() == "net liquidity: unknown (needs > 0: unknown) [last known 2025-12-01]"
    assert Reading("state", "confirmed", met=True).text() == "state: confirmed (met)"


@pytest.mark.parametrize(
    ("key", "claim"),
    [
        ("breakouts_lead_crypto", "breakouts"),
        ("alts_most", "alts_most"),
        ("lead", "lead"),
        ("precedents", "precedents"),
    ],
)
def test_statistical_theses_render_the_one_evidence(
    synthetic_report: Report, key: str, claim: str
) -> None:
    res = synthetic_report.results
    ev = res.evidence
    th = {
        "breakouts_lead_crypto": breakouts_lead_crypto_thesis,
        "alts_most": alts_most_thesis,
        "lead": lead_thesis,
        "precedents": precedents_thesis,
    }[key](res)
    assert th.status == ev.verdict(claim)
    rows = ev.claim(claim)
    tested = rows[rows["family"] == "thesis"]
    assert [e.label for e in th.evidence] == list(tested["test"])
    np.testing.assert_allclose([e.p for e in th.evidence], tested["p_value"])
    np.testing.assert_allclose([e.p_adjusted for e in th.evidence], tested["p_holm"])
    assert all(e.n_tests == ev.n_family for e in th.evidence)
    assert len(th.readings) == int((rows["family"] != "thesis").sum())


def test_evidence_without_an_interval_says_so() -> None:
    ev = Evidence("alts +90d excess", 1.04, np.nan, np.nan, 0.9, 2, np.nan, np.nan, 13, 0.05)
    assert "(no interval), n=2, p=n/a" in ev.text() and ev.text().endswith("not significant")


def test_missing_parts_make_unknown_theses_that_say_why() -> None:
    res = _results(evidence=Unavailable("evidence", "switched off in the report's configuration"))
    theses = build_theses(res)
    assert {t.status for t in theses.theses} == {"unknown"}
    lead = next(t for t in theses.theses if t.key == "lead")
    assert lead.why == "not available: evidence (switched off in the report's configuration)"
    assert isinstance(theses.outlook, Unavailable)
    assert len(theses.to_frame()) == len(theses.theses)


def test_synthetic_theses_are_complete_and_deterministic(synthetic_report: Report) -> None:
    theses = synthetic_report.theses
    frame = theses.to_frame()
    assert list(frame.index) == [
        "liquidity",
        "fiscal",
        "credit",
        "large_caps",
        "small_caps",
        "crypto_now",
        "breakouts_lead_crypto",
        "alts_most",
        "lead",
        "precedents",
        "supercycle",
        "etf",
        "leverage",
    ]
    assert set(frame["status"]) <= set(STATUSES)
    pd.testing.assert_frame_equal(build_theses(synthetic_report.results).to_frame(), frame)
    for t in theses.theses:
        assert t.why and "nan" not in t.why.lower()
        if t.status != "unknown":
            assert t.numbers(), t.key
    # the synthetic store has no leverage, ETF or DTS data: unknown, and said so
    for key in ("leverage", "etf", "fiscal"):
        t = next(t for t in theses.theses if t.key == key)
        assert t.status == "unknown" and "no condition known on the as-of date" in t.why


def test_stage_outlook_names_the_next_stage_conditions(synthetic_report: Report) -> None:
    signals = synthetic_report.results.signals
    out = stage_outlook(signals)
    status = signals.stage_status()
    assert out.stage == status.stage and out.since == status.since
    if status.stage < 4:
        assert out.next_stage == status.stage + 1
        rule = signals.stages.config.rules[status.stage]
        off_required = [
            s
            for st in status.stages
            if st.stage == out.next_stage
            for s in st.signals
            if s.required and not s.on
        ]
        assert sum(c.startswith("(required)") for c in out.confirm) == len(off_required)
        assert any(f"{rule.min_strength:.0%}" in c for c in out.confirm)
    if status.stage >= 1:
        assert out.deny


def test_supercycle_rotation_reads_leader_changes_as_known_or_not() -> None:
    """The traits leave leader changes NaN when the basket had too few coins, so the
    threshold is their mean over the days they are known (not diluted by zeros) and the
    reading is unknown when the report date has none."""
    from types import SimpleNamespace

    from liqflow.report.signal_theses import supercycle_thesis
    from liqflow.signals import SignalConfig

    idx = pd.date_range("2021-01-01", periods=6, freq="D", name="date")
    changes = [np.nan, np.nan, 2.0, 4.0, 9.0, 3.0]
    frame = pd.DataFrame(
        {
            "traits.leader_changes": changes,
            "traits.btc_cascade_ratio": np.full(6, 0.5),
            "traits.high_beta_spread": np.full(6, 0.1),
        },
        index=idx,
    )
    signals = SimpleNamespace(frame=frame, status={}, config=SignalConfig())
    reading = supercycle_thesis(signals).readings[1]
    assert reading.threshold == pytest.approx(np.mean([2.0, 4.0, 9.0, 3.0]))
    assert reading.value == 3.0 and reading.met is False
    frame.loc[idx[-1], "traits.leader_changes"] = np.nan
    reading = supercycle_thesis(SimpleNamespace(frame=frame, status={})).readings[1]
    assert reading.value is None and reading.met is None
    assert reading.note == "fewer than 3 altcoins priced through the last 90 days"
