"""What a thesis is made of: statuses, readings, statistics, and the shared helpers.

See :mod:`liqflow.report.theses` for the status rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow.report._format import fmt_date, fmt_num, fmt_p, fmt_pct, fmt_pp, is_finite
from liqflow.report.results import Unavailable
from liqflow.signals.compute import SignalSet
from liqflow.study.verdicts import (  # one vocabulary for every verdict liqflow prints
    DESCRIPTIVE,
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
)

__all__ = [
    "DESCRIPTIVE",
    "INCONCLUSIVE",
    "NOT_SUPPORTED",
    "STATUSES",
    "SUPPORTED",
    "UNKNOWN",
    "Evidence",
    "Reading",
    "Thesis",
    "flag_reading",
    "last_value",
    "missing_text",
    "signal_reading",
    "unknown_note",
    "unknown_thesis",
    "votes",
]

#: The statuses a thesis can have (:data:`liqflow.study.VERDICTS`).
STATUSES = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, UNKNOWN, DESCRIPTIVE)

_OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


def _fmt(value: object, unit: str, signed: bool = True) -> str:
    if isinstance(value, str):
        return value
    if not signed and is_finite(value) and float(value) == 0.0:  # type: ignore[arg-type]
        return "0"
    if unit == "pct":
        return fmt_pct(value, signed=signed)
    if unit == "pp":
        return fmt_pp(value)
    if unit == "usd_bn":
        sign = "+" if signed else ""
        return "n/a" if not is_finite(value) else f"{float(value):{sign},.0f} USD bn"  # type: ignore[arg-type]
    if unit == "weeks":
        return "n/a" if not is_finite(value) else f"{float(value):+.0f} weeks"  # type: ignore[arg-type]
    if unit == "index":
        return "n/a" if not is_finite(value) else f"{float(value):.0f}"  # type: ignore[arg-type]
    if unit == "x":
        return "n/a" if not is_finite(value) else f"x{float(value):.2f}"  # type: ignore[arg-type]
    if unit == "count":
        return "n/a" if not is_finite(value) else f"{float(value):.0f}"  # type: ignore[arg-type]
    if unit == "percent":
        return "n/a" if not is_finite(value) else f"{float(value):.2f}%"  # type: ignore[arg-type]
    return fmt_num(value)


@dataclass(frozen=True)
class Reading:
    """One value behind a thesis, and the threshold it is judged against.

    Attributes
    ----------
    label : str
    value : float, str or None
        NaN or None: unknown. A string is a state label (``confirmed``).
    unit : str
        How to print ``value`` and ``threshold``: ``pct`` (fraction), ``pp``
        (percentage points), ``usd_bn``, ``x`` (ratio), ``count``, ``percent``
        (already in percent), ``index`` (0-100) or ``""`` (plain number).
    op, threshold : str and float, optional
        The condition ``value op threshold``.
    met : bool or None
        Whether the condition holds (None: unknown or no condition).
    note : str
        Why the value is unknown, when it is.
    """

    label: str
    value: float | str | None
    unit: str = ""
    op: str | None = None
    threshold: float | None = None
    met: bool | None = None
    note: str = ""

    @property
    def known(self) -> bool:
        return isinstance(self.value, str) or is_finite(self.value)

    def value_text(self) -> str:
        return _fmt(self.value, self.unit) if self.known else "unknown"

    def condition_text(self) -> str:
        if self.op is None or self.threshold is None:
            return ""
        return f"{self.op} {_fmt(self.threshold, self.unit, signed=False)}"

    def text(self) -> str:
        """``label: value (op threshold: met)``."""
        out = f"{self.label}: {self.value_text()}"
        cond = self.condition_text()
        state = {True: "met", False: "not met", None: "unknown"}[self.met]
        if cond:
            out += f" (needs {cond}: {state})"
        elif self.met is not None:
            out += f" ({state})"
        if not self.known and self.note:
            out += f" [{self.note}]"
        return out


@dataclass(frozen=True)
class Evidence:
    """A statistical result behind a thesis: effect, interval, n and p.

    Attributes
    ----------
    label : str
        What the effect measures.
    effect, ci_low, ci_high : float
        Point estimate and interval (same unit).
    confidence : float
        Level of the interval.
    n : int
        Independent events (or observations) the estimate rests on.
    p : float
        Raw p-value of the test.
    p_adjusted : float
        After Holm's correction over ``n_tests`` tests (equal to ``p`` when 1 test).
    n_tests : int
    alpha : float
    unit : str
        As in :class:`Reading` (``pct`` for returns).
    test : str
        The test that gave ``p`` (placebo, bootstrap...).
    """

    label: str
    effect: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    p: float
    p_adjusted: float
    n_tests: int
    alpha: float
    unit: str = "pct"
    test: str = ""

    @property
    def significant(self) -> bool:
        return is_finite(self.p_adjusted) and self.p_adjusted < self.alpha

    def text(self) -> str:
        if is_finite(self.ci_low) and is_finite(self.ci_high):
            ci = (
                f"{self.confidence:.0%} CI {_fmt(self.ci_low, self.unit)} to "
                f"{_fmt(self.ci_high, self.unit)}"
            )
        else:
            ci = "no interval"
        out = f"{self.label}: {_fmt(self.effect, self.unit)} ({ci}), n={self.n}, p={fmt_p(self.p)}"
        if self.n_tests > 1:
            out += f", Holm-adjusted over {self.n_tests} tests p={fmt_p(self.p_adjusted)}"
        return out + ("" if self.significant else ": not significant")


@dataclass(frozen=True)
class Thesis:
    """One claim of the seed and what the data says about it.

    Attributes
    ----------
    key : str
        Stable identifier (``credit``, ``breakouts_lead_crypto``...).
    claim : str
        The claim, as the seed states it.
    status : str
        One of :data:`STATUSES`.
    readings : tuple of Reading
    evidence : tuple of Evidence
    why : str
        One line assembled from the numbers.
    basis : str
        Which results it rests on (and whether they came from the cache).
    """

    key: str
    claim: str
    status: str
    readings: tuple[Reading, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    why: str = ""
    basis: str = ""

    def numbers(self) -> tuple[str, ...]:
        """Each reading and statistic as one line of text."""
        return tuple(r.text() for r in self.readings) + tuple(e.text() for e in self.evidence)


# -- helpers -------------------------------------------------------------------------------


def votes(readings: Sequence[Reading]) -> str:
    known = [r.met for r in readings if r.met is not None]
    if not known:
        return UNKNOWN
    if all(known):
        return SUPPORTED
    if not any(known):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def last_value(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame.columns or frame.empty:
        return np.nan
    v = frame[column].iloc[-1]
    return np.nan if v is None or v is pd.NA else v


def flag_reading(
    signals: SignalSet,
    flag: str,
    label: str,
    unit: str,
    scale: float = 1.0,
    display: bool = False,
) -> Reading:
    """The value of ``flag``'s signal on the last day, judged by the classifier's rule."""
    specs = {s.name: s for s in signals.stages.specs}
    spec = specs.get(flag)
    if spec is None:
        return Reading(label, None, unit, note=f"flag {flag} is not configured")
    column = spec.display if display and spec.display else spec.column
    raw = last_value(signals.frame, column)
    on = last_value(signals.stages.flags, flag)
    met = None if not is_finite(on) else bool(on)
    value: float | str | None
    if isinstance(raw, str):
        value = raw
    elif is_finite(raw):
        value = float(raw) * scale
    else:
        value = None
    note = unknown_note(signals, column) if value is None else ""
    if display and spec.display and isinstance(value, str):
        return Reading(label, value, unit, met=met, note=note)
    return Reading(label, value, unit, spec.op, float(spec.threshold) * scale, met, note)


def unknown_note(signals: SignalSet, column: str) -> str:
    """Why a signal has no value on the report date: never known, or stale."""
    col = signals.frame[column] if column in signals.frame.columns else None
    if col is None:
        return f"signal {column} is not computed"
    last = col.last_valid_index()
    if last is not None:
        return f"last known {fmt_date(last)}; its input is stale on the report date"
    name = column.split(".", 1)[-1]
    reasons = [
        f"{k}: {v}"
        for k, v in signals.status.items()
        if v != "ok" and k.split(".")[-1] in name and v.startswith(("unknown", "unavailable"))
    ]
    return reasons[0] if reasons else "never known: its input is not in the store"


def signal_reading(
    signals: SignalSet,
    column: str,
    label: str,
    unit: str,
    op: str | None = None,
    threshold: float | None = None,
    scale: float = 1.0,
) -> Reading:
    """A signal column on the last day against a threshold of the report's own."""
    raw = last_value(signals.frame, column)
    if not is_finite(raw):
        return Reading(label, None, unit, op, threshold, None, unknown_note(signals, column))
    value = float(raw) * scale
    met = None
    if op is not None and threshold is not None:
        met = bool(_OPS[op](value, threshold))
    return Reading(label, value, unit, op, threshold, met)


def unknown_thesis(key: str, claim: str, why: str, basis: str = "") -> Thesis:
    return Thesis(key, claim, UNKNOWN, why=why, basis=basis)


def missing_text(part: object) -> str:
    return part.summary() if isinstance(part, Unavailable) else "not available"
