"""Theses judged from the statistics, read from the one evidence (nothing computed here).

Each thesis is one claim of :class:`liqflow.study.Evidence`: its status is the claim's
verdict, its numbers are the claim's test rows (effect, interval, n, raw and Holm p from
the run's one family) and, for the descriptive claims, the values per event.
"""

from __future__ import annotations

import math

from liqflow.report._format import fmt_p
from liqflow.report._verdict import Evidence, Reading, Thesis, missing_text, unknown_thesis
from liqflow.report.results import ReportResults, available
from liqflow.report.signal_theses import CLAIMS
from liqflow.study.evidence import Evidence as StudyEvidence
from liqflow.study.evidence import TestRow

__all__ = [
    "THESIS_CLAIMS",
    "alts_most_thesis",
    "breakouts_lead_crypto_thesis",
    "evidence_thesis",
    "lead_thesis",
    "precedents_thesis",
]

#: The evidence claim behind each statistical thesis of the report.
THESIS_CLAIMS = {
    "breakouts_lead_crypto": "breakouts",
    "alts_most": "alts_most",
    "lead": "lead",
    "precedents": "precedents",
}
_UNITS = {"return": "pct", "weeks": "weeks", "F": ""}


def _row_evidence(row: TestRow, evidence: StudyEvidence) -> Evidence:
    return Evidence(
        row.test,
        row.effect,
        row.ci_low,
        row.ci_high,
        row.confidence,
        row.n,
        row.p_value,
        row.p_holm,
        int(evidence.n_family),
        float(evidence.alpha),
        unit=_UNITS.get(row.unit, ""),
        test=row.note,
    )


def _row_reading(row: TestRow) -> Reading:
    return Reading(
        f"{row.test} ({row.n} {row.n_unit}): {row.note}",
        row.effect if math.isfinite(row.effect) else None,
        _UNITS.get(row.unit, ""),
        note=row.verdict,
    )


def _why(rows: list[TestRow], detail: str) -> str:
    tested = [r for r in rows if math.isfinite(r.p_holm)]
    if not tested:
        return detail
    best = min(tested, key=lambda r: r.p_holm)
    return f"{detail}; smallest Holm p {fmt_p(best.p_holm)} ({best.test}, n={best.n} {best.n_unit})"


def evidence_thesis(key: str, results: ReportResults) -> Thesis:
    """The thesis ``key`` of :data:`THESIS_CLAIMS`, rendered from the evidence."""
    claim = CLAIMS[key]
    ev = results.evidence
    if not available(ev):
        return unknown_thesis(key, claim, missing_text(ev))
    cid = THESIS_CLAIMS[key]
    verdict = ev.verdict(cid)
    if verdict is None:
        return unknown_thesis(
            key, claim, f"the chain {ev.chain!r} has no {cid!r} claim", "evidence"
        )
    rows = [r for r in ev.rows() if r.claim == cid]
    detail = str(ev.claims.loc[ev.claims["claim"] == cid, "detail"].iloc[0])
    tested = [r for r in rows if r.family == "thesis"]
    shown = [r for r in rows if r.family != "thesis"]
    basis = "evidence (from cache)" if results.cached.get("evidence") else "evidence"
    return Thesis(
        key,
        claim,
        verdict,
        readings=tuple(_row_reading(r) for r in shown),
        evidence=tuple(_row_evidence(r, ev) for r in tested),
        why=_why(rows, detail),
        basis=basis,
    )


def breakouts_lead_crypto_thesis(results: ReportResults) -> Thesis:
    """Breakouts are followed by crypto rallies: the ``breakouts`` claim."""
    return evidence_thesis("breakouts_lead_crypto", results)


def alts_most_thesis(results: ReportResults) -> Thesis:
    """Alts gain most after breakouts: the derived ``alts_most`` claim."""
    return evidence_thesis("alts_most", results)


def lead_thesis(results: ReportResults) -> Thesis:
    """Small caps lead crypto by one to three months: the ``lead`` claim."""
    return evidence_thesis("lead", results)


def precedents_thesis(results: ReportResults) -> Thesis:
    """The 2016-17 and 2020-21 precedents: descriptive values, never a test."""
    return evidence_thesis("precedents", results)
