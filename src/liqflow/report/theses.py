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
from liqflow.report._format import fmt_date, fmt_pct, is_finite
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
from liqflow.signals.regime import SignalState

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
class StageOutlook:
    """The current stage, since when, and what would confirm or deny the next stage."""

    as_of: pd.Timestamp
    stage: int
    name: str
    since: pd.Timestamp | None
    next_stage: int | None
    next_name: str
    confirm: tuple[str, ...]
    deny: tuple[str, ...]

    def summary(self) -> str:
        lines = [
            f"as of {fmt_date(self.as_of)}: stage {self.stage} ({self.name}) since {fmt_date(self.since)}"
        ]
        if self.next_stage is not None:
            lines.append(f"  stage {self.next_stage} ({self.next_name}) would be confirmed by:")
            lines += [f"    - {c}" for c in self.confirm]
        if self.deny:
            lines.append("  the current stage would be denied by:")
            lines += [f"    - {d}" for d in self.deny]
        return "\n".join(lines)


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


def _signal_text(sig: SignalState) -> str:
    from liqflow.signals._result import format_value

    return f"{sig.description}: needs {sig.condition}, now {format_value(sig.value)}"


def stage_outlook(signals: SignalSet | Unavailable) -> StageOutlook | Unavailable:
    """Current stage, since when, and the conditions that would confirm or deny the next.

    Confirm: the signals of the next stage that are not on (required ones first) and
    any earlier stage that has not held within the lookback. Deny: the required
    signals of the current stage, which end it if they turn off.
    """
    if not available(signals):
        return signals if isinstance(signals, Unavailable) else Unavailable("stage", "no signals")
    try:
        st = signals.stage_status()
    except LiqflowError as exc:
        return Unavailable("stage", f"{type(exc).__name__}: {exc}")
    stages = {s.stage: s for s in st.stages}
    rules = {r.stage: r for r in signals.stages.config.rules}
    nxt = st.stage + 1 if st.stage + 1 in stages else None
    confirm: list[str] = []
    if nxt is not None:
        target = stages[nxt]
        rule = rules[nxt]
        for sig in sorted(target.signals, key=lambda s: not s.required):
            if sig.on is True:
                continue
            tag = "(required) " if sig.required else ""
            confirm.append(f"{tag}{_signal_text(sig)}")
        confirm.append(
            f"strength >= {rule.min_strength:.0%} of its known signals (now "
            f"{fmt_pct(target.strength, 0, signed=False) if is_finite(target.strength) else 'unknown'})"
        )
        days = signals.stages.config.lookback_days
        for k in range(1, nxt):
            if not stages[k].held:
                confirm.append(f"stage {k} ({stages[k].name}) must hold again within {days} days")
    deny: list[str] = []
    if st.stage in stages:
        cur = stages[st.stage]
        for sig in cur.signals:
            if sig.required and sig.on:
                deny.append(f"{_signal_text(sig)} turning off")
        deny.append(
            f"stage {st.stage} strength falling below {rules[st.stage].min_strength:.0%} "
            f"(now {fmt_pct(cur.strength, 0, signed=False) if is_finite(cur.strength) else 'unknown'})"
        )
    next_name = stages[nxt].name if nxt is not None else ""
    return StageOutlook(
        as_of=pd.Timestamp(st.as_of),
        stage=int(st.stage),
        name=st.stage_name,
        since=st.since,
        next_stage=nxt,
        next_name=next_name,
        confirm=tuple(confirm),
        deny=tuple(deny),
    )


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
