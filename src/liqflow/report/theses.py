"""The seed's theses, each judged from the results with its numbers and one line of why.

Every :class:`Thesis` is produced by a small function of result objects (the signal set,
the event study, the lead-lag results...) and contains only text generated from those
results: a status (:data:`STATUSES`), the readings behind it (value and threshold) or
the statistics behind it (effect, interval, number of independent events, p-value), and
a ``why`` line assembled from the same numbers. A thesis whose inputs are missing is
``unknown`` and says which input is missing.

Status rules
------------
* Readings (signal values against the thresholds of the stage classifier): ``supported``
  when every known condition holds, ``not supported`` when none does, ``inconclusive``
  when they disagree, ``unknown`` when none is known. Theses with a required reading
  (net liquidity, the breakout) follow that reading first; each function's docstring
  gives its rule.
* Statistics: ``supported`` only when a test is significant at ``alpha`` after Holm's
  correction for the number of tests tried; ``not supported`` when every estimate points
  the other way; otherwise ``inconclusive`` and the line says "not significant".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from liqflow._errors import LiqflowError
from liqflow.report._verdict import STATUSES, Evidence, Reading, Thesis
from liqflow.report.results import ReportResults, Unavailable, available
from liqflow.report.signal_theses import (
    credit_thesis,
    crypto_now_thesis,
    etf_thesis,
    fiscal_thesis,
    large_caps_thesis,
    leverage_thesis,
    liquidity_thesis,
    small_caps_thesis,
    supercycle_thesis,
)
from liqflow.report.stat_theses import (
    alts_most_thesis,
    breakouts_lead_crypto_thesis,
    lead_thesis,
    precedents_thesis,
)
from liqflow.signals.compute import SignalSet
from liqflow.signals.outlook import StageOutlook

__all__ = [
    "STATUSES",
    "Evidence",
    "Reading",
    "StageOutlook",
    "Theses",
    "Thesis",
    "build_theses",
    "stage_outlook",
]


@dataclass(frozen=True)
class Theses:
    """Every thesis and the stage outlook."""

    as_of: pd.Timestamp
    theses: tuple[Thesis, ...]
    outlook: StageOutlook | Unavailable

    def to_frame(self) -> pd.DataFrame:
        """One row per thesis: claim, status, numbers (one per line), why, basis."""
        return pd.DataFrame(
            {
                "claim": [t.claim for t in self.theses],
                "status": [t.status for t in self.theses],
                "numbers": ["\n".join(t.numbers()) for t in self.theses],
                "why": [t.why for t in self.theses],
                "basis": [t.basis for t in self.theses],
            },
            index=pd.Index([t.key for t in self.theses], name="thesis"),
        )

    def counts(self) -> dict[str, int]:
        return {s: sum(t.status == s for t in self.theses) for s in STATUSES}

    def summary(self) -> str:
        lines = [self.outlook.summary()]
        lines += [f"[{t.status}] {t.claim}: {t.why}" for t in self.theses]
        return "\n".join(lines)


# -- the stage outlook -----------------------------------------------------------------------


def stage_outlook(signals: SignalSet | Unavailable) -> StageOutlook | Unavailable:
    """Current stage, since when, and the conditions that would confirm or deny the next
    (:func:`liqflow.signals.outlook.stage_outlook`, which ``liqflow status`` prints too)."""
    from liqflow.signals.outlook import stage_outlook as outlook

    if not available(signals):
        return signals if isinstance(signals, Unavailable) else Unavailable("stage", "no signals")
    try:
        return outlook(signals)
    except LiqflowError as exc:
        return Unavailable("stage", f"{type(exc).__name__}: {exc}")


def build_theses(results: ReportResults) -> Theses:
    """Every thesis, in the order of the chain, and the stage outlook."""
    s = results.signals
    theses = (
        liquidity_thesis(s),
        fiscal_thesis(results),
        credit_thesis(s),
        large_caps_thesis(s),
        small_caps_thesis(s),
        crypto_now_thesis(s),
        breakouts_lead_crypto_thesis(results),
        alts_most_thesis(results),
        lead_thesis(results),
        precedents_thesis(results),
        supercycle_thesis(s),
        etf_thesis(results),
        leverage_thesis(results),
    )
    return Theses(results.as_of, theses, stage_outlook(s))
