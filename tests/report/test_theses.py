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
    holm,
)
from liqflow.report.stat_theses import alts_most_thesis, breakouts_lead_crypto_thesis, lead_thesis
from liqflow.report.theses import stage_outlook
from liqflow.stats import EventStudyResult, LeadLagResult

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
        "claims": MISSING,
        "backtests": MISSING,
        "config": ReportConfig(),
    }
    base.update(parts)
    return ReportResults(**base)  # type: ignore[arg-type]


def _event_study(
    rows: dict[tuple[str, int], tuple[int, float, float, float, float]],
) -> EventStudyResult:
    """rows: (target, h) -> (n_events, excess, ci_low, ci_high, p_value)."""
    index = pd.MultiIndex.from_tuples(list(rows), names=["target", "horizon_days"])
    vals = np.array(list(rows.values()), dtype=np.float64)
    stats = pd.DataFrame(
        {
            "n_events": vals[:, 0].astype(np.int64),
            "mean": vals[:, 1] + 0.1,
            "uncond_mean": np.full(len(vals), 0.1),
            "excess": vals[:, 1],
            "excess_ci_low": vals[:, 2],
            "excess_ci_high": vals[:, 3],
            "placebo_p05": np.full(len(vals), -0.1),
            "placebo_p95": np.full(len(vals), 0.3),
            "p_value": vals[:, 4],
        },
        index=index,
    )
    return EventStudyResult(
        stats=stats,
        per_event=pd.DataFrame(
            columns=[
                "event_date",
                "target",
                "horizon_days",
                "forward_return",
                "max_drawdown",
                "complete",
            ]
        ),
        placebo_quantiles=pd.DataFrame(index=index),
        n_raw_events=9,
        horizons=(30, 60, 90),
        alternative="greater",
        confidence=0.9,
        n_placebo=2000,
        n_boot=2000,
    )


def _lead_lag(peak: int, ci: tuple[int, int], p: float) -> LeadLagResult:
    lags = np.arange(-13, 14)
    corr = np.where(lags == peak, 0.4, 0.02)
    return LeadLagResult(
        leader="small_caps",
        follower="btc",
        freq="W",
        lags=lags,
        correlations=corr,
        null_low=np.full(lags.size, -0.1),
        null_high=np.full(lags.size, 0.1),
        familywise_threshold=0.15,
        peak_lag=peak,
        peak_corr=0.4,
        peak_lag_ci=ci,
        p_value_positive=p,
        p_value_any=p,
        n_obs=400,
        start=pd.Timestamp("2015-01-02"),
        end=pd.Timestamp("2021-01-15"),
        null_block_length=5.0,
        boot_block_length=5.0,
        n_null=999,
        n_boot=999,
        alternative="positive",
        confidence=0.95,
        lead_lags=(4, 13),
    )


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

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
    ("rows", "status"),
    [
        (
            {("btc", 30): (6, 0.20, 0.05, 0.35, 0.001), ("btc", 90): (6, 0.1, -0.1, 0.3, 0.2)},
            "supported",
        ),
        (
            {("btc", 30): (6, -0.10, -0.2, 0.0, 0.9), ("alts", 30): (4, -0.05, -0.3, 0.2, 0.7)},
            "not supported",
        ),
        (
            {("btc", 30): (6, 0.10, -0.1, 0.3, 0.04), ("btc", 60): (6, 0.05, -0.2, 0.3, 0.3)},
            "inconclusive",
        ),
        ({("btc", 30): (0, np.nan, np.nan, np.nan, np.nan)}, "unknown"),
    ],
)
def test_breakout_thesis_status(rows: dict, status: str) -> None:
    th = breakouts_lead_crypto_thesis(_results(event_study=_event_study(rows)))
    assert th.status == status
    if status == "unknown":
        return
    assert len(th.evidence) == sum(1 for v in rows.values() if v[0] > 0)
    for ev in th.evidence:  # effect, interval, n and p on every statistical number
        assert ev.n > 0 and np.isfinite(ev.p) and np.isfinite(ev.ci_low)
        assert ev.n_tests == len(th.evidence)
    if status == "inconclusive":  # p=0.04 raw, Holm over 2 tests: 0.08
        assert "not significant" in th.why
        assert th.evidence[0].p_adjusted == pytest.approx(0.08)


def test_alts_most_compares_alts_with_btc() -> None:
    es = _event_study(
        {
            ("btc", 30): (6, 0.02, -0.1, 0.1, 0.4),
            ("btc", 90): (6, 0.05, -0.1, 0.2, 0.3),
            ("alts", 30): (4, 0.10, 0.01, 0.2, 0.01),
            ("alts", 90): (4, 0.30, 0.05, 0.6, 0.02),
        }
    )
    th = alts_most_thesis(_results(event_study=es))
    assert th.status == "supported"  # beats BTC at both horizons, Holm p = 0.02 and 0.04
    assert [r.value for r in th.readings] == pytest.approx([0.08, 0.25])
    weaker = _event_study(
        {("btc", 30): (6, 0.2, 0, 0.4, 0.01), ("alts", 30): (4, 0.1, -0.1, 0.3, 0.2)}
    )
    assert alts_most_thesis(_results(event_study=weaker)).status == "not supported"
    no_alts = _event_study({("btc", 30): (6, 0.2, 0, 0.4, 0.01)})
    assert alts_most_thesis(_results(event_study=no_alts)).status == "unknown"


def test_lead_thesis_needs_the_interval_inside_the_window() -> None:
    inside = {"small_caps -> btc": _lead_lag(8, (5, 11), 0.001)}
    th = lead_thesis(_results(lead_lag=inside))
    assert th.status == "supported"
    ev = th.evidence[0]
    assert (ev.effect, ev.ci_low, ev.ci_high, ev.n) == (8.0, 5.0, 11.0, 400)
    assert "+8 weeks (95% CI +5 weeks to +11 weeks), n=400, p=0.001" in ev.text()
    outside = {
        "small_caps -> btc": _lead_lag(0, (-1, 0), 0.4),
        "small_caps -> alts": _lead_lag(0, (0, 1), 0.3),
    }
    assert lead_thesis(_results(lead_lag=outside)).status == "not supported"
    wide = {"small_caps -> btc": _lead_lag(6, (-3, 10), 0.2)}
    th = lead_thesis(_results(lead_lag=wide))
    assert th.status == "inconclusive" and "not significant" in th.why


def test_missing_parts_make_unknown_theses_that_say_why() -> None:
    res = _results(lead_lag=Unavailable("lead-lag", "liqflow.stats.leadlag is not available"))
    theses = build_theses(res)
    assert {t.status for t in theses.theses} == {"unknown"}
    lead = next(t for t in theses.theses if t.key == "lead")
    assert lead.why == "not available: lead-lag (liqflow.stats.leadlag is not available)"
    assert isinstance(theses.outlook, Unavailable)
    assert len(theses.to_frame()) == len(theses.theses)


def test_synthetic_theses_are_complete_and_deterministic(synthetic_report: Report) -> None:
    theses = synthetic_report.theses
    frame = theses.to_frame()
    assert list(frame.index) == [
        "liquidity",
        "credit",
        "large_caps",
        "small_caps",
        "crypto_now",
        "breakouts_lead_crypto",
        "alts_most",
        "lead",
        "precedents",
        "supercycle",
        "leverage",
    ]
    assert set(frame["status"]) <= set(STATUSES)
    pd.testing.assert_frame_equal(build_theses(synthetic_report.results).to_frame(), frame)
    for t in theses.theses:
        assert t.why and "nan" not in t.why.lower()
        if t.status != "unknown":
            assert t.numbers(), t.key
    # the synthetic store has no leverage data: unknown, and said so
    lev = next(t for t in theses.theses if t.key == "leverage")
    assert lev.status == "unknown" and "no funding-rate or open-interest data" in lev.why


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
