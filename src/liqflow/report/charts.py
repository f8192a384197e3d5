"""The report's charts: one small function per chart, each taking the results it plots.

This module holds the market charts and :func:`build_charts`; the charts of the
statistics are in :mod:`liqflow.report.stat_charts`, the building blocks in
:mod:`liqflow.report._figure`.

Each function returns a :class:`Chart` holding a plotly.js figure as JSON (or, when its
inputs are missing, no figure and the reason); how figures are encoded (float32 typed
arrays, weekly points of long daily histories, escaped text) is described in
:mod:`liqflow.report._figure`. The statistics themselves are computed on daily data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from liqflow.align import trading_days
from liqflow.report._figure import (
    COLORS,
    STAGE_COLORS,
    UNKNOWN_COLOR,
    WEEKLY_ABOVE,
    Chart,
    arr,
    arr2d,
    axis,
    base_layout,
    column,
    dates,
    esc,
    figure_json,
    line_trace,
    log_axis,
    span,
    unavailable,
    weekly,
)
from liqflow.report._format import fmt_date
from liqflow.report.channel_charts import channel_charts
from liqflow.report.results import ReportResults, available
from liqflow.report.stat_charts import equity_chart, event_paths_chart, lead_lag_chart
from liqflow.signals.breakout import BreakoutEvent
from liqflow.signals.compute import SignalSet
from liqflow.signals.regime import StageRule

__all__ = [
    "WEEKLY_ABOVE",
    "Chart",
    "alt_season_chart",
    "build_charts",
    "credit_chart",
    "equity_chart",
    "event_paths_chart",
    "figure_json",
    "lead_lag_chart",
    "net_liquidity_chart",
    "ratio_chart",
    "small_caps_chart",
    "stage_chart",
    "weekly",
]


def net_liquidity_chart(results: ReportResults) -> Chart:
    """Net liquidity (Fed assets - TGA - RRP, USD tn) against BTC (log scale)."""
    key, title = "net_liquidity", "Net liquidity (Fed assets - TGA - RRP) vs BTC"
    sig = results.signals
    net = column(sig.frame, "liquidity.net_liquidity") if available(sig) else None
    btc = column(results.panel, "btc")
    if net is None and btc is None:
        return unavailable(key, title, sig if not available(sig) else "no liquidity or BTC data")
    data, notes = [], []
    if net is not None:
        data.append(line_trace(weekly(net / 1e6), "net liquidity (USD tn)", COLORS["liquidity"]))
        notes.append(f"net liquidity {span(net)}")
    if btc is not None:
        data.append(
            line_trace(weekly(btc), "BTC (USD, log scale, right)", COLORS["btc"], yaxis="y2")
        )
        notes.append(f"BTC {span(btc)}")
    layout = base_layout(
        yaxis=axis(title={"text": "USD tn"}),
        yaxis2=log_axis(overlaying="y", side="right", title={"text": "BTC (USD)"}, showgrid=False),
    )
    note = "; ".join(notes) + "; weekly points of the values public each day"
    return Chart(key, title, figure_json(data, layout), note)


def credit_chart(results: ReportResults) -> Chart:
    """HY and IG option-adjusted spreads (and BAA10Y when present), percent."""
    key, title = "credit", "Credit spreads (option-adjusted, %)"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    data, notes = [], []
    for col, name, color in (
        ("credit.hy_spread", "HY OAS", COLORS["hy"]),
        ("credit.ig_spread", "IG OAS", COLORS["ig"]),
        ("credit.baa_spread", "BAA10Y", COLORS["baa"]),
    ):
        s = column(sig.frame, col)
        if s is not None:
            data.append(line_trace(weekly(s), name, color))
            notes.append(f"{name} {span(s)}")
    if not data:
        return unavailable(key, title, "no credit spread in the store")
    layout = base_layout(yaxis=axis(title={"text": "percent"}))
    return Chart(key, title, figure_json(data, layout), "; ".join(notes))


def _breakout_traces(events: Sequence[BreakoutEvent]) -> list[dict[str, Any]]:
    out = []
    for status in ("confirmed", "pending", "failed"):
        chosen = [e for e in events if e.status == status]
        if not chosen:
            continue
        hover = [
            esc(
                f"{fmt_date(e.date)}: close {e.level:,.2f} above the {fmt_date(e.prior_high_date)} "
                f"high {e.prior_high:,.2f}; volume "
                + ("unknown" if e.volume_confirmed is None else f"x{e.volume_ratio:.2f}")
                + f"; {e.status}"
            )
            for e in chosen
        ]
        out.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [f"{e.date:%Y-%m-%d}" for e in chosen],
                "y": arr([e.level for e in chosen]),
                "name": f"breakout, {status}",
                "marker": {
                    "color": COLORS[status],
                    "size": 10,
                    "symbol": "triangle-up",
                    "line": {"width": 1, "color": "#333"},
                },
                "text": hover,
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    return out


def small_caps_chart(results: ReportResults) -> Chart:
    """Russell 2000 (log) with each all-time-high breakout marked, and IWM volume."""
    key, title = "small_caps", "Russell 2000 with all-time-high breakouts, and IWM volume"
    panel = results.panel
    if column(panel, "small_caps") is None:
        return unavailable(key, title, "no Russell 2000 (small_caps) data in the store")
    rut = panel.loc[trading_days(panel, "small_caps"), "small_caps"]
    data = [line_trace(weekly(rut), "Russell 2000 (log scale)", COLORS["rut"])]
    sig = results.signals
    events = sig.breakouts.events if available(sig) and sig.breakouts is not None else ()
    data += _breakout_traces(events)
    if column(panel, "small_caps_volume") is not None:
        vol = panel.loc[trading_days(panel, "small_caps_volume"), "small_caps_volume"]
        wk = weekly(vol, "mean") / 1e6
        data.append(
            {
                "type": "bar",
                "x": dates(wk.index),
                "y": arr(wk.to_numpy()),
                "name": "IWM volume (mn shares a day, weekly mean)",
                "marker": {"color": COLORS["volume"]},
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    layout = base_layout(
        height=470,
        hovermode="closest",
        bargap=0,
        xaxis=axis(type="date", anchor="y", showticklabels=False),
        yaxis=log_axis(domain=[0.3, 1.0], title={"text": "index"}),
        xaxis2=axis(type="date", anchor="y2", matches="x"),
        yaxis2=axis(domain=[0.0, 0.24], title={"text": "mn/day"}),
    )
    note = (
        f"Russell 2000 {span(rut)}; {len(events)} closes above the prior all-time high "
        "(status as of the report date: confirmed = still above the old high after the "
        "persistence window)"
    )
    return Chart(key, title, figure_json(data, layout), note)


def ratio_chart(results: ReportResults) -> Chart:
    """Russell 2000 / S&P 500 ratio and its moving average."""
    key, title = "rs_ratio", "Russell 2000 / S&P 500 ratio"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    ratio = column(sig.frame, "small_caps.ratio")
    if ratio is None:
        return unavailable(key, title, "needs both the Russell 2000 and the S&P 500")
    data = [line_trace(weekly(ratio), "^RUT / ^GSPC", COLORS["rut"])]
    if column(sig.frame, "small_caps.ratio_pct_above_ma") is not None:
        ma = (
            sig.frame["small_caps.ratio"] / (1.0 + sig.frame["small_caps.ratio_pct_above_ma"])
        ).dropna()
        data.append(
            line_trace(
                weekly(ma),
                "moving average",
                "#555555",
                line={"color": "#555555", "width": 1.2, "dash": "dot"},
            )
        )
    note = f"ratio {span(ratio)}; a rising ratio means small caps outperform large caps"
    return Chart(key, title, figure_json(data, base_layout()), note)


def alt_season_chart(results: ReportResults) -> Chart:
    """Altcoin Season Index (0-100) with the alt-season and bitcoin-season lines."""
    key, title = "alt_season", "Altcoin Season Index (% of altcoins beating BTC over 90 days)"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    idx = column(sig.frame, "crypto.season_index")
    if idx is None:
        return unavailable(key, title, "too few altcoins with 90 days of history in the store")
    cy = sig.config.crypto
    data = [line_trace(weekly(idx), "Altcoin Season Index", COLORS["alts"])]
    shapes, notes = [], []
    for level, name in ((cy.alt_season, "alt season"), (cy.bitcoin_season, "bitcoin season")):
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": level,
                "y1": level,
                "line": {"color": "#888888", "dash": "dash", "width": 1},
            }
        )
        notes.append(
            {
                "xref": "paper",
                "x": 0.005,
                "y": level,
                "text": name,
                "showarrow": False,
                "yshift": 9,
                "xanchor": "left",
                "font": {"size": 11, "color": "#666"},
            }
        )
    layout = base_layout(yaxis=axis(range=[0, 100]), shapes=shapes, annotations=notes)
    note = f"{span(idx)}; computed on the coins that had data on each date (no survivorship from today's list)"
    return Chart(key, title, figure_json(data, layout), note)


def _ribbon(sig: SignalSet) -> pd.DataFrame | None:
    """Each stage and the current stage per day: -1 unknown, 0 off, the stage number when
    on; weekly (the last day of each week) over long histories. From the first day at
    least three stages are known; None when that never happens."""
    frame = sig.stages.frame
    rules = sig.stages.config.rules
    known = frame[[f"stage{r.stage}_strength" for r in rules]].notna().sum(axis=1)
    enough = known >= min(3, len(rules))
    if not enough.any():
        return None
    frame = frame.loc[enough.idxmax() :]
    rows: dict[str, pd.Series] = {}
    for r in rules:
        on = frame[f"stage{r.stage}_on"].astype(np.float64) * r.stage
        ok = frame.get(f"stage{r.stage}_known", pd.Series(True, index=frame.index))
        short = r.name.split(" & ")[0]  # fits a phone's width; the note gives the full names
        rows[f"{r.stage} {short}"] = on.where(ok.astype(bool), -1.0)
    ok = frame.get("stage_known", pd.Series(True, index=frame.index)).astype(bool)
    rows["current"] = frame["stage"].astype(np.float64).where(ok, -1.0)
    z = pd.DataFrame(rows)
    if len(z) > WEEKLY_ABOVE:
        z = z.loc[weekly(pd.Series(np.arange(len(z), dtype=np.float64), index=z.index)).index]
    return z


def _ribbon_traces(z: pd.DataFrame, rules: Sequence[StageRule]) -> list[dict[str, Any]]:
    """The ribbon as a heatmap (one colour per state), and a legend entry per state."""
    colors = (UNKNOWN_COLOR, *STAGE_COLORS)
    scale: list[list[Any]] = []
    for i, c in enumerate(colors):
        scale += [[i / len(colors), c], [(i + 1) / len(colors), c]]
    out: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "x": dates(z.index),
            "y": [esc(c) for c in z.columns],
            "z": arr2d(z.to_numpy().T),
            "zmin": -1.5,
            "zmax": len(colors) - 1.5,
            "colorscale": scale,
            "showscale": False,
            "xaxis": "x3",
            "yaxis": "y3",
            "xgap": 0,
            "ygap": 1,
            "hovertemplate": "%{x}: %{y} = %{z} (-1 unknown, 0 off)<extra></extra>",
        }
    ]
    names = {r.stage: f"stage {r.stage} on" for r in rules}
    for value, color in zip(range(-1, len(STAGE_COLORS)), colors, strict=True):
        name = "unknown" if value < 0 else "off" if value == 0 else names.get(value)
        if name is None:
            continue
        out.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [f"{z.index[0]:%Y-%m-%d}"],
                "y": arr([np.nan]),
                "marker": {"symbol": "square", "size": 11, "color": color},
                "name": name,
                "hoverinfo": "skip",
            }
        )
    return out


def stage_chart(results: ReportResults) -> Chart:
    """The Russell 2000 and BTC (log scales) over the stage ribbon, on one time axis.

    Ribbon rows: each stage (its colour when on, light grey when off) and the current
    stage; a stage whose required inputs are stale or missing is unknown (its own
    colour). Starts on the first day at least three of the stages are known.
    """
    key, title = "stages", "Where the chain stands: Russell 2000 and BTC over the stage timeline"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    z = _ribbon(sig)
    if z is None:
        return unavailable(key, title, "fewer than three stages are ever known (inputs missing)")
    panel = results.panel
    data: list[dict[str, Any]] = []
    if column(panel, "small_caps") is not None:
        rut = panel.loc[trading_days(panel, "small_caps"), "small_caps"]
        data.append(line_trace(weekly(rut), "Russell 2000 (log)", COLORS["rut"]))
    if column(panel, "btc") is not None:
        btc = panel["btc"].dropna()
        data.append(
            line_trace(weekly(btc), "BTC (USD, log)", COLORS["btc"], xaxis="x2", yaxis="y2")
        )
    data += _ribbon_traces(z, sig.stages.config.rules)
    layout = base_layout(
        height=620,
        hovermode="closest",
        xaxis=axis(type="date", anchor="y", showticklabels=False),
        yaxis=log_axis(domain=[0.62, 1.0], title={"text": "Russell 2000"}),
        xaxis2=axis(type="date", anchor="y2", matches="x", showticklabels=False),
        yaxis2=log_axis(domain=[0.36, 0.58], title={"text": "BTC (USD)"}),
        xaxis3=axis(type="date", anchor="y3", matches="x"),
        yaxis3=axis(domain=[0.0, 0.32], autorange="reversed", showgrid=False, type="category"),
    )
    current, since = sig.stages.current()
    frame = sig.stages.frame.loc[z.index[0] :]
    names = ", ".join(f"{r.stage} {r.name}" for r in sig.stages.config.rules)
    note = (
        f"stages {span(frame['stage'])}, weekly (rows: {names}; current: the stage after "
        f"confirmation); ribbon colour = the stage when on, light grey "
        f"= off, dark grey = unknown (required inputs stale or missing); current stage "
        f"{current} since {fmt_date(since)}; {len(sig.stages.transitions)} changes of the "
        "current stage"
    )
    return Chart(key, title, figure_json(data, layout), note)


def build_charts(results: ReportResults) -> tuple[Chart, ...]:
    """Every chart, in the order of the report."""
    return (
        stage_chart(results),
        net_liquidity_chart(results),
        credit_chart(results),
        small_caps_chart(results),
        ratio_chart(results),
        alt_season_chart(results),
        *channel_charts(results),
        lead_lag_chart(results),
        event_paths_chart(results),
        equity_chart(results),
    )
