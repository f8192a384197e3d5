"""Theses judged from the signals on the report date (values against thresholds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow.report._format import fmt_date, is_finite
from liqflow.report._verdict import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
    Reading,
    Thesis,
    flag_reading,
    last_value,
    missing_text,
    signal_reading,
    unknown_thesis,
    votes,
)
from liqflow.report.results import ReportResults, Unavailable, available
from liqflow.signals.crypto import MIN_BASKET_COINS

if TYPE_CHECKING:
    from liqflow.signals.breakout import BreakoutEvent
    from liqflow.signals.compute import SignalSet
    from liqflow.study.channels import ChannelsNow

__all__ = [
    "CLAIMS",
    "credit_thesis",
    "crypto_now_thesis",
    "etf_thesis",
    "fiscal_thesis",
    "large_caps_thesis",
    "leverage_thesis",
    "liquidity_thesis",
    "small_caps_thesis",
    "supercycle_thesis",
]

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
    "fiscal": "Fiscal easing adds liquidity",
    "etf": "Spot ETFs absorb supply",
}


def liquidity_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """Net liquidity rising (required), with Fed bills, TGA drawdown and RRP runoff.

    ``unknown`` without net liquidity; ``not supported`` when it is falling; when it is
    rising, ``supported`` if at least half of the known components agree, else
    ``inconclusive``.
    """
    key, claim = "liquidity", CLAIMS["liquidity"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    cfg = signals.config.liquidity
    net = flag_reading(
        signals,
        "liquidity.net_liquidity_rising",
        f"net liquidity {cfg.long_weeks}-week change",
        "usd_bn",
        1e-3,
    )
    parts = (
        flag_reading(
            signals,
            "liquidity.fed_bills_rising",
            f"Fed bills {cfg.long_weeks}-week change",
            "usd_bn",
            1e-3,
        ),
        flag_reading(
            signals, "liquidity.tga_drawdown", f"TGA {cfg.short_weeks}-week change", "usd_bn", 1e-3
        ),
        signal_reading(
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


def credit_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """HY and IG spreads narrowing over 13 weeks (the stage-1 credit flags)."""
    key, claim = "credit", CLAIMS["credit"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    w = signals.config.credit.change_weeks
    readings = (
        flag_reading(signals, "credit.hy_narrowing", f"HY OAS {w}-week change", "pp"),
        flag_reading(signals, "credit.ig_narrowing", f"IG OAS {w}-week change", "pp"),
        signal_reading(signals, "credit.spread", "HY OAS level", "percent"),
        signal_reading(
            signals, "credit.spread_percentile", "HY OAS percentile of its history", "pct"
        ),
    )
    status = votes(readings[:2])
    source = last_value(signals.frame, "credit.source")
    why = f"HY OAS {readings[0].value_text()} and IG OAS {readings[1].value_text()} over {w} weeks"
    if status == UNKNOWN:
        why += f" ({readings[0].note})"
    if isinstance(source, str) and "baa" in source.lower():
        why += " (HY OAS missing on the report date: BAA10Y used instead)"
    return Thesis(key, claim, status, readings, why=why, basis="signals")


def large_caps_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """S&P 500 above its moving average and with positive momentum."""
    key, claim = "large_caps", CLAIMS["large_caps"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    cfg = signals.config.large_caps
    readings = (
        flag_reading(
            signals, "large_caps.above_ma", f"S&P 500 vs its {cfg.ma_window}-session average", "pct"
        ),
        flag_reading(
            signals, "large_caps.momentum", f"S&P 500 {cfg.momentum_window}-session return", "pct"
        ),
    )
    why = f"S&P 500 {readings[0].value_text()} vs its average, {readings[1].value_text()} momentum"
    return Thesis(key, claim, votes(readings), readings, why=why, basis="signals")


def _live_event(signals: SignalSet) -> BreakoutEvent | None:
    bo = signals.breakouts
    if bo is None or not bo.events:
        return None
    return bo.events[-1]


def small_caps_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """A live, persistent, volume-confirmed Russell 2000 breakout, with rising relative strength.

    ``unknown`` without Russell data; ``not supported`` without a live breakout;
    ``supported`` when the live breakout is confirmed by persistence and every other
    known check holds (breadth may be unknown: said so); else ``inconclusive``.
    """
    key, claim = "small_caps", CLAIMS["small_caps"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    live = flag_reading(signals, "small_caps.breakout_live", "breakout state", "", display=True)
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
        flag_reading(signals, "small_caps.breakout_volume", "breakout volume ratio (IWM)", "x"),
        flag_reading(
            signals, "small_caps.breakout_breadth", "breakout breadth (segments at highs)", "pct"
        ),
        flag_reading(
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


def crypto_now_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """BTC above its average and the alt basket beating BTC (Altcoin Season Index shown)."""
    key, claim = "crypto_now", CLAIMS["crypto_now"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    cy = signals.config.crypto
    readings = (
        flag_reading(
            signals, "crypto.btc_above_ma", f"BTC vs its {cy.trend_window}-day average", "pct"
        ),
        flag_reading(
            signals,
            "crypto.alts_outperform",
            f"alt basket minus BTC, {cy.rs_window}-day return",
            "pct",
        ),
        flag_reading(
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
    return Thesis(key, claim, votes(readings[:2]), readings, why=why, basis="signals")


def supercycle_thesis(signals: SignalSet | Unavailable) -> Thesis:
    """Corrections absorbed, rotation, high-beta recovery: >= 2 of the known 3 -> supported.

    Thresholds: BTC's trailing cascade rate below its historical rate (ratio < 1);
    leadership changes in the alt basket above their mean over the days they are known
    (:func:`liqflow.signals.traits.rotation` leaves them NaN unless 3+ coins had a leader
    through the whole window, so unknown with fewer coins on the report date); high-beta
    alts beating low-beta alts (spread > 0). 1 of the known -> inconclusive, 0 -> not
    supported, none known -> unknown.
    """
    key, claim = "supercycle", CLAIMS["supercycle"]
    if not available(signals):
        return unknown_thesis(key, claim, missing_text(signals))
    frame = signals.frame
    col, label = "traits.leader_changes", "alt leadership changes in 90 days"
    if is_finite(last_value(frame, col)):
        changes = signal_reading(signals, col, label, "count", ">", float(frame[col].mean()))
    else:
        traits_cfg = getattr(getattr(signals, "config", None), "traits", None)
        n = getattr(traits_cfg, "min_coins", MIN_BASKET_COINS)
        days = getattr(traits_cfg, "leadership_window", 90)
        changes = Reading(
            label,
            None,
            "count",
            note=f"fewer than {n} altcoins priced through the last {days} days",
        )
    readings = (
        signal_reading(
            signals,
            "traits.btc_cascade_ratio",
            "BTC sell-off cascades, trailing year vs history",
            "x",
            "<",
            1.0,
        ),
        changes,
        signal_reading(
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


def _channels(results: ReportResults) -> ChannelsNow | None:
    """The channels now of the run's evidence (what ``liqflow study --json`` prints), else
    judged from the report's own signals by the same library function."""
    from liqflow.study.channels import channels_now
    from liqflow.study.evidence import Evidence

    ev = getattr(results, "evidence", None)
    if isinstance(ev, Evidence) and ev.channels is not None:
        return ev.channels
    if available(results.signals):
        return channels_now(results.signals)
    return None


def _channel_thesis(results: ReportResults, key: str) -> Thesis:
    """The channel thesis ``key`` of :mod:`liqflow.study.channels`, rendered (no judging here)."""
    now = _channels(results)
    if now is None:
        return unknown_thesis(key, CLAIMS[key], missing_text(results.signals))
    t = now.thesis(key)
    readings = tuple(
        Reading(
            r.label,
            r.value if r.known else None,
            r.unit,
            r.op,
            r.threshold,
            r.met,
            r.note,
        )
        for r in t.readings
    )
    return Thesis(key, t.claim, t.verdict, readings, why=t.why, basis="signals")


def fiscal_thesis(results: ReportResults) -> Thesis:
    """Fiscal easing adds liquidity (judged by :func:`liqflow.study.channels.channels_now`)."""
    return _channel_thesis(results, "fiscal")


def etf_thesis(results: ReportResults) -> Thesis:
    """Spot ETFs absorb supply (judged by :func:`liqflow.study.channels.channels_now`)."""
    return _channel_thesis(results, "etf")


def leverage_thesis(results: ReportResults) -> Thesis:
    """Leverage is lower (judged by :func:`liqflow.study.channels.channels_now`)."""
    return _channel_thesis(results, "leverage")
