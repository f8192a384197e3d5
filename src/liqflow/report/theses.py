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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow.report._format import fmt_date, fmt_num, fmt_p, fmt_pct, fmt_pp, is_finite
from liqflow.report.results import ReportResults, Unavailable, available

__all__ = [
    "STATUSES",
    "Evidence",
    "Reading",
    "StageOutlook",
    "Theses",
    "Thesis",
    "build_theses",
    "holm",
    "stage_outlook",
]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
UNKNOWN = "unknown"
#: The statuses a thesis can have.
STATUSES = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, UNKNOWN)

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
        conf = f"{self.confidence:.0%}"
        out = (
            f"{self.label}: {_fmt(self.effect, self.unit)} ({conf} CI "
            f"{_fmt(self.ci_low, self.unit)} to {_fmt(self.ci_high, self.unit)}), "
            f"n={self.n}, p={fmt_p(self.p)}"
        )
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


# -- helpers -------------------------------------------------------------------------------


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries stay NaN and are not counted).

    Equivalent to ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``
    on the finite entries.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    vals = p[ok]
    order = np.argsort(vals, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * vals[order]))
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def _votes(readings: Sequence[Reading]) -> str:
    known = [r.met for r in readings if r.met is not None]
    if not known:
        return UNKNOWN
    if all(known):
        return SUPPORTED
    if not any(known):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _last(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame.columns or frame.empty:
        return np.nan
    v = frame[column].iloc[-1]
    return np.nan if v is None or v is pd.NA else v


def _flag_reading(
    signals: Any, flag: str, label: str, unit: str, scale: float = 1.0, display: bool = False
) -> Reading:
    """The value of ``flag``'s signal on the last day, judged by the classifier's rule."""
    specs = {s.name: s for s in signals.stages.specs}
    spec = specs.get(flag)
    if spec is None:
        return Reading(label, None, unit, note=f"flag {flag} is not configured")
    column = spec.display if display and spec.display else spec.column
    raw = _last(signals.frame, column)
    on = _last(signals.stages.flags, flag)
    met = None if not is_finite(on) else bool(on)
    value: float | str | None
    if isinstance(raw, str):
        value = raw
    elif is_finite(raw):
        value = float(raw) * scale
    else:
        value = None
    note = _unknown_note(signals, column) if value is None else ""
    if display and spec.display and isinstance(value, str):
        return Reading(label, value, unit, met=met, note=note)
    return Reading(label, value, unit, spec.op, float(spec.threshold) * scale, met, note)


def _unknown_note(signals: Any, column: str) -> str:
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


def _signal_reading(
    signals: Any,
    column: str,
    label: str,
    unit: str,
    op: str | None = None,
    threshold: float | None = None,
    scale: float = 1.0,
) -> Reading:
    """A signal column on the last day against a threshold of the report's own."""
    raw = _last(signals.frame, column)
    if not is_finite(raw):
        return Reading(label, None, unit, op, threshold, None, _unknown_note(signals, column))
    value = float(raw) * scale
    met = None
    if op is not None and threshold is not None:
        met = bool(_OPS[op](value, threshold))
    return Reading(label, value, unit, op, threshold, met)


def _unknown(key: str, claim: str, why: str, basis: str = "") -> Thesis:
    return Thesis(key, claim, UNKNOWN, why=why, basis=basis)


def _missing_text(part: Any) -> str:
    return part.summary() if isinstance(part, Unavailable) else "not available"


def _list(items: Sequence[str]) -> str:
    return "; ".join(items) if items else "none"


# -- theses from the signals ---------------------------------------------------------------

CLAIMS = {
    "liquidity": "Liquidity is being added (Fed bill purchases, TGA drawdown, reverse-repo runoff)",
    "credit": "Credit spreads are narrowing",
    "large_caps": "Large caps are rising",
    "small_caps": "Small caps are leading: a Russell 2000 all-time-high breakout confirmed by volume, persistence and breadth",
    "crypto_now": "Crypto is following, altcoins most",
    "breakouts_lead_crypto": "Russell 2000 breakouts are followed by crypto rallies within one to three months",
    "alts_most": "After a breakout, altcoins gain more than BTC",
    "lead": "Small caps lead crypto by one to three months",
    "precedents": "The late-2016 and late-2020 breakouts preceded alt seasons (2017, 2021)",
    "supercycle": "Supercycle traits: corrections absorbed, rotation, high-beta recovery",
    "leverage": "Leverage is lower",
}


def liquidity_thesis(signals: Any) -> Thesis:
    """Net liquidity rising (required), with Fed bills, TGA drawdown and RRP runoff.

    ``unknown`` without net liquidity; ``not supported`` when it is falling; when it is
    rising, ``supported`` if at least half of the known components agree, else
    ``inconclusive``.
    """
    key, claim = "liquidity", CLAIMS["liquidity"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    cfg = signals.config.liquidity
    net = _flag_reading(
        signals,
        "liquidity.net_liquidity_rising",
        f"net liquidity {cfg.long_weeks}-week change",
        "usd_bn",
        1e-3,
    )
    parts = (
        _flag_reading(
            signals,
            "liquidity.fed_bills_rising",
            f"Fed bills {cfg.long_weeks}-week change",
            "usd_bn",
            1e-3,
        ),
        _flag_reading(
            signals, "liquidity.tga_drawdown", f"TGA {cfg.short_weeks}-week change", "usd_bn", 1e-3
        ),
        _signal_reading(
            signals, "liquidity.rrp_chg_4w", "reverse repo 4-week change", "usd_bn", "<", 0.0, 1e-3
        ),
    )
    readings = (net, *parts)
    known = [r for r in parts if r.met is not None]
    agree = [r for r in known if r.met]
    if net.met is None:
        status = UNKNOWN
    elif not net.met:
        status = NOT_SUPPORTED
    elif not known or 2 * len(agree) >= len(known):
        status = SUPPORTED
    else:
        status = INCONCLUSIVE
    unknown = [r.label for r in readings if not r.known]
    if net.known:
        why = (
            f"net liquidity {net.value_text()} over {cfg.long_weeks} weeks; "
            f"{len(agree)} of {len(known)} known components add liquidity"
        )
    else:
        why = f"net liquidity unknown on the report date ({net.note})"
    if unknown:
        why += f"; unknown: {', '.join(unknown)}"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


def credit_thesis(signals: Any) -> Thesis:
    """HY and IG spreads narrowing over 13 weeks (the stage-1 credit flags)."""
    key, claim = "credit", CLAIMS["credit"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    w = signals.config.credit.change_weeks
    readings = (
        _flag_reading(signals, "credit.hy_narrowing", f"HY OAS {w}-week change", "pp"),
        _flag_reading(signals, "credit.ig_narrowing", f"IG OAS {w}-week change", "pp"),
        _signal_reading(signals, "credit.spread", "HY OAS level", "percent"),
        _signal_reading(
            signals, "credit.spread_percentile", "HY OAS percentile of its history", "pct"
        ),
    )
    status = _votes(readings[:2])
    source = _last(signals.frame, "credit.source")
    why = f"HY OAS {readings[0].value_text()} and IG OAS {readings[1].value_text()} over {w} weeks"
    if status == UNKNOWN:
        why += f" ({readings[0].note})"
    if isinstance(source, str) and "baa" in source.lower():
        why += " (HY OAS missing on the report date: BAA10Y used instead)"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


def large_caps_thesis(signals: Any) -> Thesis:
    """S&P 500 above its moving average and with positive momentum."""
    key, claim = "large_caps", CLAIMS["large_caps"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    cfg = signals.config.large_caps
    readings = (
        _flag_reading(
            signals, "large_caps.above_ma", f"S&P 500 vs its {cfg.ma_window}-session average", "pct"
        ),
        _flag_reading(
            signals, "large_caps.momentum", f"S&P 500 {cfg.momentum_window}-session return", "pct"
        ),
    )
    why = f"S&P 500 {readings[0].value_text()} vs its average, {readings[1].value_text()} momentum"
    return Thesis(key, claim, _votes(readings), readings, why=why, basis="signals")


def _live_event(signals: Any) -> Any:
    bo = signals.breakouts
    if bo is None or not bo.events:
        return None
    return bo.events[-1]


def small_caps_thesis(signals: Any) -> Thesis:
    """A live, persistent, volume-confirmed Russell 2000 breakout, with rising relative strength.

    ``unknown`` without Russell data; ``not supported`` without a live breakout;
    ``supported`` when the live breakout is confirmed by persistence and every other
    known check holds (breadth may be unknown: said so); else ``inconclusive``.
    """
    key, claim = "small_caps", CLAIMS["small_caps"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    live = _flag_reading(signals, "small_caps.breakout_live", "breakout state", "", display=True)
    ev = _live_event(signals)
    persist_state = ev.status if ev is not None else None
    persistence = Reading(
        "persistence of the latest breakout"
        + (f" ({fmt_date(ev.date)})" if ev is not None else ""),
        persist_state,
        met=None if ev is None or ev.status == "pending" else ev.status == "confirmed",
        note="no breakout on record" if ev is None else "",
    )
    checks = (
        _flag_reading(signals, "small_caps.breakout_volume", "breakout volume ratio (IWM)", "x"),
        _flag_reading(
            signals, "small_caps.breakout_breadth", "breakout breadth (segments at highs)", "pct"
        ),
        _flag_reading(
            signals, "small_caps.rs_rising", "Russell 2000 / S&P 500 ratio momentum", "pct"
        ),
    )
    readings = (live, persistence, *checks)
    if live.met is None:
        status = UNKNOWN
    elif not live.met:
        status = NOT_SUPPORTED
    elif persistence.met and all(r.met is not False for r in checks):
        status = SUPPORTED
    else:
        status = INCONCLUSIVE
    live_days = signals.config.breakout.live_days
    if ev is None:
        why = "no all-time-high breakout on record"
    elif live.met is False:
        why = (
            f"no live breakout: the latest ({fmt_date(ev.date)}, {ev.status}) has had no new "
            f"high within {live_days} sessions"
        )
    else:
        why = (
            f"breakout {live.value_text()}: {fmt_date(ev.date)} above the "
            f"{fmt_date(ev.prior_high_date)} high, {ev.status}"
        )
    failing = [r.label for r in checks if r.met is False]
    unknown = [r.label for r in checks if r.met is None]
    if live.met and failing:
        why += f"; not met: {', '.join(failing)}"
    if live.met and unknown:
        why += f"; unknown: {', '.join(unknown)}"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


def crypto_now_thesis(signals: Any) -> Thesis:
    """BTC above its average and the alt basket beating BTC (Altcoin Season Index shown)."""
    key, claim = "crypto_now", CLAIMS["crypto_now"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    cy = signals.config.crypto
    readings = (
        _flag_reading(
            signals, "crypto.btc_above_ma", f"BTC vs its {cy.trend_window}-day average", "pct"
        ),
        _flag_reading(
            signals,
            "crypto.alts_outperform",
            f"alt basket minus BTC, {cy.rs_window}-day return",
            "pct",
        ),
        _flag_reading(
            signals,
            "crypto.alt_season",
            f"Altcoin Season Index ({cy.season_window} days)",
            "index",
            display=True,
        ),
    )
    why = (
        f"BTC {readings[0].value_text()} vs its average; alts {readings[1].value_text()} vs BTC; "
        f"season index {readings[2].value_text()}"
    )
    return Thesis(key, claim, _votes(readings[:2]), readings, why=why, basis="signals")


def supercycle_thesis(signals: Any) -> Thesis:
    """Corrections absorbed, rotation, high-beta recovery: >= 2 of the known 3 -> supported.

    Thresholds: BTC's trailing cascade rate below its historical rate (ratio < 1);
    leadership changes in the alt basket above their mean so far (over the days with 3+
    coins; unknown with fewer coins on the report date); high-beta
    alts beating low-beta alts (spread > 0). 1 of the known -> inconclusive, 0 -> not
    supported, none known -> unknown.
    """
    key, claim = "supercycle", CLAIMS["supercycle"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    frame = signals.frame
    basket = frame["traits.dispersion"].notna() if "traits.dispersion" in frame else None
    changes = (
        _signal_reading(
            signals,
            "traits.leader_changes",
            "alt leadership changes in 90 days",
            "count",
            ">",
            float(frame.loc[basket, "traits.leader_changes"].mean()),
        )
        if basket is not None and bool(basket.iloc[-1])
        else Reading(
            "alt leadership changes in 90 days",
            None,
            "count",
            note="fewer than 3 altcoins priced on the report date",
        )
    )
    readings = (
        _signal_reading(
            signals,
            "traits.btc_cascade_ratio",
            "BTC sell-off cascades, trailing year vs history",
            "x",
            "<",
            1.0,
        ),
        changes,
        _signal_reading(
            signals,
            "traits.high_beta_spread",
            "high-beta minus low-beta alts, 30-day return",
            "pct",
            ">",
            0.0,
        ),
    )
    known = [r.met for r in readings if r.met is not None]
    n_on = sum(bool(k) for k in known)
    if not known:
        status = UNKNOWN
    elif n_on >= 2:
        status = SUPPORTED
    elif n_on == 1:
        status = INCONCLUSIVE
    else:
        status = NOT_SUPPORTED
    why = f"{n_on} of {len(known)} known traits present"
    unknown = [r.label for r in readings if r.met is None]
    if unknown:
        why += f"; unknown: {', '.join(unknown)}"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


def leverage_thesis(signals: Any) -> Thesis:
    """Funding below its median so far and open interest falling; unknown without the data."""
    key, claim = "leverage", CLAIMS["leverage"]
    if not available(signals):
        return _unknown(key, claim, _missing_text(signals))
    frame = signals.frame
    med = frame["traits.funding_rate"].median() if "traits.funding_rate" in frame else np.nan
    readings = (
        _signal_reading(
            signals,
            "traits.funding_rate",
            "mean perpetual funding rate (7 days)",
            "",
            "<",
            float(med) if is_finite(med) else None,
        ),
        _signal_reading(
            signals, "traits.oi_change", "open interest 30-day change", "pct", "<", 0.0
        ),
    )
    status = _votes(readings)
    if status == UNKNOWN:
        notes = [
            v
            for k, v in signals.status.items()
            if k.startswith("traits.") and ("funding" in k or "open_interest" in k)
        ]
        why = "no funding-rate or open-interest data in the store" + (
            f" ({notes[0]})" if notes else ""
        )
    else:
        why = f"funding {readings[0].value_text()}, open interest {readings[1].value_text()}"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


# -- theses from the statistics --------------------------------------------------------------


def _basis(part: str, results: ReportResults) -> str:
    return f"{part} (from cache)" if results.cached.get(part) else part


def breakouts_lead_crypto_thesis(results: ReportResults) -> Thesis:
    """Event study: mean forward return after breakouts minus the unconditional mean.

    Holm's correction over every (target, horizon) tested. ``supported`` when one is
    significant with a positive excess; ``not supported`` when every excess is <= 0;
    ``inconclusive`` otherwise; ``unknown`` with no independent event.
    """
    key, claim = "breakouts_lead_crypto", CLAIMS["breakouts_lead_crypto"]
    es = results.event_study
    if not available(es):
        return _unknown(key, claim, _missing_text(es))
    stats = es.stats
    stats = stats[stats["n_events"] > 0]
    if stats.empty:
        return _unknown(key, claim, "no independent breakout with a complete window", "event study")
    adj = holm(stats["p_value"].to_numpy())
    ev = []
    for (target, h), row, p_adj in zip(stats.index, stats.to_dict("records"), adj, strict=True):
        ev.append(
            Evidence(
                f"{target} +{h}d excess return after breakouts",
                float(row["excess"]),
                float(row["excess_ci_low"]),
                float(row["excess_ci_high"]),
                es.confidence,
                int(row["n_events"]),
                float(row["p_value"]),
                float(p_adj),
                len(stats),
                results.config.alpha,
                test=f"placebo dates ({es.n_placebo} draws)",
            )
        )
    sig = [e for e in ev if e.significant and e.effect > 0]
    if sig:
        status = SUPPORTED
    elif all(e.effect <= 0 for e in ev if is_finite(e.effect)):
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    best = min(ev, key=lambda e: (e.p_adjusted if is_finite(e.p_adjusted) else 2.0, -e.effect))
    n_btc = max((e.n for e in ev if e.label.startswith("btc")), default=0)
    why = (
        f"best: {best.label.split(' excess')[0]} excess {fmt_pct(best.effect)}, "
        f"Holm p={fmt_p(best.p_adjusted)}"
        + ("" if best.significant else " (not significant)")
        + f"; {n_btc} independent breakouts for BTC"
    )
    return Thesis(
        key, claim, status, evidence=tuple(ev), why=why, basis=_basis("event study", results)
    )


def alts_most_thesis(results: ReportResults) -> Thesis:
    """Alt-basket excess return after breakouts against BTC's, per horizon.

    ``supported`` when the alts' excess beats BTC's at every horizon with events and at
    least one alts test is significant (Holm over the alts horizons); ``not supported``
    when it is lower at every horizon; ``inconclusive`` otherwise.
    """
    key, claim = "alts_most", CLAIMS["alts_most"]
    es = results.event_study
    if not available(es):
        return _unknown(key, claim, _missing_text(es))
    stats = es.stats
    targets = set(stats.index.get_level_values(0))
    if not {"btc", "alts"} <= targets:
        return _unknown(
            key, claim, "needs both BTC and the alt basket in the event study", "event study"
        )
    alts = stats.loc["alts"]
    btc = stats.loc["btc"]
    alts = alts[alts["n_events"] > 0]
    if alts.empty:
        return _unknown(
            key, claim, "no independent breakout with a complete alt-basket window", "event study"
        )
    adj = holm(alts["p_value"].to_numpy())
    readings = []
    ev = []
    for (h, row), p_adj in zip(alts.iterrows(), adj, strict=True):
        b = btc.loc[h, "excess"] if h in btc.index else np.nan
        readings.append(
            Reading(
                f"alts minus BTC excess, +{h}d",
                float(row["excess"] - b) if is_finite(b) else None,
                "pct",
                ">",
                0.0,
                None if not is_finite(b) else bool(row["excess"] > b),
            )
        )
        ev.append(
            Evidence(
                f"alts +{h}d excess return after breakouts",
                float(row["excess"]),
                float(row["excess_ci_low"]),
                float(row["excess_ci_high"]),
                es.confidence,
                int(row["n_events"]),
                float(row["p_value"]),
                float(p_adj),
                len(alts),
                results.config.alpha,
                test=f"placebo dates ({es.n_placebo} draws)",
            )
        )
    beats = [r.met for r in readings if r.met is not None]
    if beats and all(beats) and any(e.significant for e in ev):
        status = SUPPORTED
    elif beats and not any(beats):
        status = NOT_SUPPORTED
    elif not beats:
        status = UNKNOWN
    else:
        status = INCONCLUSIVE
    n = max(e.n for e in ev)
    sig = any(e.significant for e in ev)
    why = (
        f"alts beat BTC's excess at {sum(bool(b) for b in beats)} of {len(beats)} horizons; "
        f"{n} independent events; " + ("significant" if sig else "not significant")
    )
    return Thesis(
        key, claim, status, tuple(readings), tuple(ev), why, _basis("event study", results)
    )


def lead_thesis(results: ReportResults) -> Thesis:
    """Small caps lead crypto: weekly lead-lag, lead test on lags of one to three months.

    One test per crypto target (BTC, the alt basket): the max-statistic p-value of the
    strongest positive correlation at lags ``config.lead_weeks``, Holm-adjusted over
    the targets; the effect is the lag of peak correlation (weeks) with its block-
    bootstrap interval. ``supported`` when a test is significant and its peak-lag
    interval lies inside the lead window; ``not supported`` when every interval lies
    outside the window; ``inconclusive`` otherwise.
    """
    key, claim = "lead", CLAIMS["lead"]
    ll = results.lead_lag
    if not available(ll):
        return _unknown(key, claim, _missing_text(ll))
    if not ll:
        return _unknown(key, claim, "no lead-lag pair could be computed", "lead-lag")
    lo_w, hi_w = results.config.lead_weeks
    names = list(ll)
    adj = holm([ll[n].p_value_positive for n in names])
    ev = []
    readings = []
    inside = []
    outside = []
    for name, p_adj in zip(names, adj, strict=True):
        r = ll[name]
        lo, hi = r.peak_lag_ci
        ev.append(
            Evidence(
                f"{name}: lag of peak correlation",
                float(r.peak_lag),
                float(lo),
                float(hi),
                r.confidence,
                int(r.n_obs),
                float(r.p_value_positive),
                float(p_adj),
                len(names),
                results.config.alpha,
                unit="weeks",
                test=f"max-statistic block bootstrap over lags {lo_w}-{hi_w} weeks",
            )
        )
        window = (r.lags >= lo_w) & (r.lags <= hi_w)
        best = float(np.nanmax(r.correlations[window])) if window.any() else np.nan
        readings.append(
            Reading(
                f"{name}: strongest correlation at lags {lo_w}-{hi_w} weeks",
                best if is_finite(best) else None,
                "",
                ">",
                float(r.familywise_threshold) if is_finite(r.familywise_threshold) else None,
                None
                if not (is_finite(best) and is_finite(r.familywise_threshold))
                else bool(best > r.familywise_threshold),
            )
        )
        inside.append(lo_w <= lo and hi <= hi_w)
        outside.append(hi < lo_w or lo > hi_w)
    if any(e.significant and i for e, i in zip(ev, inside, strict=True)):
        status = SUPPORTED
    elif all(outside):
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    parts = [
        f"{n.split('-> ')[-1]} peaks at {ll[n].peak_lag:+d} weeks "
        f"[{ll[n].peak_lag_ci[0]:+d}, {ll[n].peak_lag_ci[1]:+d}]"
        for n in names
    ]
    sig = any(e.significant for e in ev)
    why = (
        "; ".join(parts)
        + f" (lead window {lo_w}-{hi_w} weeks); "
        + ("significant" if sig else "lead test not significant")
    )
    return Thesis(key, claim, status, tuple(readings), tuple(ev), why, _basis("lead-lag", results))


def _asof(s: pd.Series, when: pd.Timestamp) -> float:
    """Last non-missing value of ``s`` on or before ``when`` (NaN when none)."""
    valid = s.dropna()
    pos = int(valid.index.searchsorted(when, side="right")) - 1
    return float(valid.to_numpy(dtype=np.float64)[pos]) if pos >= 0 else np.nan


def _precedent(breakouts: Any, year_lo: str, year_hi: str) -> Any:
    for e in breakouts.events:
        if pd.Timestamp(year_lo) <= e.date <= pd.Timestamp(year_hi):
            return e
    return None


def precedents_thesis(results: ReportResults) -> Thesis:
    """The late-2016 and late-2020 breakouts: BTC's next 90 days and the next alt season.

    Per precedent: BTC's 90-day return against its unconditional 90-day mean (event
    study), and the highest Altcoin Season Index in the 180 days after the breakout
    against 75 (alt season). ``supported`` when both precedents meet both conditions,
    ``not supported`` when neither meets any, ``inconclusive`` otherwise; two events are
    an anecdote, not a test.
    """
    key, claim = "precedents", CLAIMS["precedents"]
    signals = results.signals
    if not available(signals) or signals.breakouts is None:
        return _unknown(
            key, claim, _missing_text(signals) if not available(signals) else "no Russell 2000 data"
        )
    panel = results.panel
    es = results.event_study
    uncond = np.nan
    if available(es) and ("btc", 90) in es.stats.index:
        uncond = float(es.stats.loc[("btc", 90), "uncond_mean"])
    readings: list[Reading] = []
    found = []
    for lo, hi, tag in (
        ("2016-09-01", "2017-01-31", "late 2016"),
        ("2020-09-01", "2021-01-31", "late 2020"),
    ):
        ev = _precedent(signals.breakouts, lo, hi)
        if ev is None:
            readings.append(Reading(f"{tag} breakout", None, note="no breakout in the data"))
            continue
        found.append(ev)
        r90 = np.nan
        end_day = ev.date + pd.Timedelta(days=90)
        if "btc" in panel.columns and end_day <= panel.index[-1]:
            r90 = _asof(panel["btc"], end_day) / _asof(panel["btc"], ev.date) - 1.0
        readings.append(
            Reading(
                f"BTC 90 days after the {fmt_date(ev.date)} breakout",
                r90 if is_finite(r90) else None,
                "pct",
                ">",
                uncond if is_finite(uncond) else None,
                None if not (is_finite(r90) and is_finite(uncond)) else bool(r90 > uncond),
                "window not complete or no BTC data" if not is_finite(r90) else "",
            )
        )
        season = signals.frame.get("crypto.season_index")
        peak = np.nan
        if season is not None:
            window = season.loc[ev.date : ev.date + pd.Timedelta(days=180)]
            if window.notna().any():
                peak = float(window.max())
        readings.append(
            Reading(
                f"highest Altcoin Season Index in 180 days after {fmt_date(ev.date)}",
                peak if is_finite(peak) else None,
                "",
                ">=",
                float(signals.config.crypto.alt_season),
                None if not is_finite(peak) else bool(peak >= signals.config.crypto.alt_season),
                "too few altcoins priced then" if not is_finite(peak) else "",
            )
        )
    known = [r.met for r in readings if r.met is not None]
    if not known:
        status = UNKNOWN
    elif len(found) == 2 and len(known) == 4 and all(known):
        status = SUPPORTED
    elif not any(known):
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    why = (
        f"{sum(bool(k) for k in known)} of {len(known)} known conditions met over "
        f"{len(found)} precedents (n=2 is an anecdote, not a test)"
    )
    unknown = [r.label for r in readings if r.met is None]
    if unknown:
        why += f"; unknown: {', '.join(unknown)}"
    return Thesis(key, claim, status, tuple(readings), why=why, basis="signals, event study")


# -- the stage outlook -----------------------------------------------------------------------


def _signal_text(sig: Any) -> str:
    from liqflow.signals._result import format_value

    return f"{sig.description}: needs {sig.condition}, now {format_value(sig.value)}"


def stage_outlook(signals: Any) -> StageOutlook | Unavailable:
    """Current stage, since when, and the conditions that would confirm or deny the next.

    Confirm: the signals of the next stage that are not on (required ones first) and
    any earlier stage that has not held within the lookback. Deny: the required
    signals of the current stage, which end it if they turn off.
    """
    if not available(signals):
        return signals if isinstance(signals, Unavailable) else Unavailable("stage", "no signals")
    try:
        st = signals.stage_status()
    except Exception as exc:
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
        credit_thesis(s),
        large_caps_thesis(s),
        small_caps_thesis(s),
        crypto_now_thesis(s),
        breakouts_lead_crypto_thesis(results),
        alts_most_thesis(results),
        lead_thesis(results),
        precedents_thesis(results),
        supercycle_thesis(s),
        leverage_thesis(s),
    )
    return Theses(results.as_of, theses, stage_outlook(s))
