"""Theses judged from the statistics: event study, lead-lag, the precedents."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liqflow.report._format import fmt_date, fmt_p, fmt_pct, is_finite
from liqflow.report._verdict import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
    Evidence,
    Reading,
    Thesis,
    holm,
    missing_text,
    unknown_thesis,
)
from liqflow.report.results import ReportResults, available
from liqflow.report.signal_theses import CLAIMS

__all__ = [
    "alts_most_thesis",
    "breakouts_lead_crypto_thesis",
    "lead_thesis",
    "precedents_thesis",
]


def _basis(part: str, results: ReportResults) -> str:
    return f"{part} (from cache)" if results.cached.get(part) else part


def _excess_evidence(
    target: str, h: object, row: Any, p_adj: float, n_tests: int, results: ReportResults
) -> Evidence:
    """Excess forward return of ``target`` at horizon ``h`` after breakouts (one stats row)."""
    es = results.event_study
    return Evidence(
        f"{target} +{h}d excess return after breakouts",
        float(row["excess"]),
        float(row["excess_ci_low"]),
        float(row["excess_ci_high"]),
        es.confidence,
        int(row["n_events"]),
        float(row["p_value"]),
        float(p_adj),
        n_tests,
        results.config.alpha,
        test=f"placebo dates ({es.n_placebo} draws)",
    )


def breakouts_lead_crypto_thesis(results: ReportResults) -> Thesis:
    """Event study: mean forward return after breakouts minus the unconditional mean.

    Holm's correction over every (target, horizon) tested. ``supported`` when one is
    significant with a positive excess; ``not supported`` when every excess is <= 0;
    ``inconclusive`` otherwise; ``unknown`` with no independent event.
    """
    key, claim = "breakouts_lead_crypto", CLAIMS["breakouts_lead_crypto"]
    es = results.event_study
    if not available(es):
        return unknown_thesis(key, claim, missing_text(es))
    stats = es.stats
    stats = stats[stats["n_events"] > 0]
    if stats.empty:
        return unknown_thesis(
            key, claim, "no independent breakout with a complete window", "event study"
        )
    adj = holm(stats["p_value"].to_numpy())
    ev = []
    for (target, h), row, p_adj in zip(stats.index, stats.to_dict("records"), adj, strict=True):
        ev.append(_excess_evidence(str(target), h, row, p_adj, len(stats), results))
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
        return unknown_thesis(key, claim, missing_text(es))
    stats = es.stats
    targets = set(stats.index.get_level_values(0))
    if not {"btc", "alts"} <= targets:
        return unknown_thesis(
            key, claim, "needs both BTC and the alt basket in the event study", "event study"
        )
    alts = stats.loc["alts"]
    btc = stats.loc["btc"]
    alts = alts[alts["n_events"] > 0]
    if alts.empty:
        return unknown_thesis(
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
        ev.append(_excess_evidence("alts", h, row, p_adj, len(alts), results))
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
        return unknown_thesis(key, claim, missing_text(ll))
    if not ll:
        return unknown_thesis(key, claim, "no lead-lag pair could be computed", "lead-lag")
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
        return unknown_thesis(
            key, claim, missing_text(signals) if not available(signals) else "no Russell 2000 data"
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
