"""Charts of the statistics and backtests: lead-lag correlogram, event paths, equity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liqflow.report._figure import (
    COLORS,
    EVENT_PALETTE,
    PALETTE,
    Chart,
    arr,
    axis,
    band_traces,
    base_layout,
    column,
    esc,
    figure_json,
    line_trace,
    log_axis,
    stacked,
    unavailable,
    weekly,
)
from liqflow.report._format import fmt_date
from liqflow.report.results import EventPaths, ReportResults, Unavailable, available

__all__ = ["equity_chart", "event_paths_chart", "lead_lag_chart"]


def lead_lag_chart(results: ReportResults) -> Chart:
    """Correlation of weekly returns by lag (positive = small caps first), with null bands.

    Grey band: pointwise range of each lag's correlation under no cross-dependence;
    dashed line: the family-wise threshold over all lags; shaded: the lead window.
    """
    key, title = "lead_lag", "Lead-lag correlogram: Russell 2000 vs crypto (weekly returns)"
    ll = results.lead_lag
    if not available(ll):
        return unavailable(key, title, ll)
    if not ll:
        return unavailable(key, title, "no lead-lag pair could be computed")
    names = list(ll)
    lo_w, hi_w = results.config.lead_weeks
    data: list[dict[str, Any]] = []
    layout = base_layout(
        height=90 + 300 * len(names), hovermode="closest", annotations=[], shapes=[]
    )
    notes = []
    for j, name in enumerate(names, start=1):
        r = ll[name]
        xa, ya = ("x", "y") if j == 1 else (f"x{j}", f"y{j}")
        layout["xaxis" if j == 1 else f"xaxis{j}"] = axis(
            anchor=ya,
            title={"text": "lag, weeks (> 0: Russell 2000 first)"},
            zeroline=True,
        )
        layout["yaxis" if j == 1 else f"yaxis{j}"] = axis(
            anchor=xa, domain=stacked(j, len(names)), title={"text": "correlation"}
        )
        layout["annotations"].append(_panel_title(name, xa, ya))
        layout["shapes"].append(_shade(xa, ya, lo_w - 0.5, hi_w + 0.5, "rgba(255,127,14,0.08)"))
        lags = r.lags.astype(np.float64)
        common = {"xaxis": xa, "yaxis": ya}
        if np.isfinite(r.null_high).any():
            data += band_traces(
                lags,
                r.null_high,
                r.null_low,
                f"{r.confidence:.0%} band under no link (each lag)",
                showlegend=j == 1,
                **common,
            )
        data.append(
            {
                "type": "bar",
                "x": arr(lags),
                "y": arr(r.correlations),
                "name": "correlation",
                "marker": {"color": COLORS["btc"] if name.endswith("btc") else COLORS["alts"]},
                "showlegend": False,
                **common,
            }
        )
        if np.isfinite(r.familywise_threshold):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": arr([lags[0], lags[-1]]),
                    "y": arr([r.familywise_threshold] * 2),
                    "line": {"color": "#b42318", "dash": "dash", "width": 1},
                    "name": "family-wise threshold (all lags)",
                    "showlegend": j == 1,
                    **common,
                }
            )
        notes.append(
            f"{name}: {fmt_date(r.start)} to {fmt_date(r.end)}, n={r.n_obs} weeks, peak {r.peak_lag:+d} w"
        )
    note = "; ".join(notes) + f"; shaded: the claimed lead of {lo_w}-{hi_w} weeks"
    if results.cached.get("lead-lag"):
        note += " (from cache)"
    return Chart(key, title, figure_json(data, layout), note)


def _event_colors(ep: EventPaths) -> dict[pd.Timestamp, str]:
    """One colour per event date, the same in every panel."""
    days = sorted(set(ep.paths.columns.get_level_values(1)))
    return {pd.Timestamp(d): EVENT_PALETTE[i % len(EVENT_PALETTE)] for i, d in enumerate(days)}


def _event_panel(
    ep: EventPaths, t: str, j: int, colors: dict[pd.Timestamp, str], seen: set[pd.Timestamp]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The traces of one target: placebo band, each event's path (labelled with its date
    at its end, one legend entry per date for every panel), and the mean of the events;
    and the labels."""
    xa, ya = ("x", "y") if j == 1 else (f"x{j}", f"y{j}")
    common = {"xaxis": xa, "yaxis": ya}
    band = ep.band.loc[t]
    days = np.r_[0, band.index.to_numpy(dtype=np.float64)]
    data = band_traces(
        days,
        np.r_[0.0, band["p95"]],
        np.r_[0.0, band["p05"]],
        "placebo 5-95% of the mean",
        showlegend=j == 1,
        **common,
    )
    paths = ep.paths[t]
    labels: list[dict[str, Any]] = []
    for d in paths.columns:
        p = paths[d].dropna()
        if p.empty:
            continue
        day = pd.Timestamp(d)
        label = fmt_date(day)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": arr(p.index.to_numpy(dtype=np.float64)),
                "y": arr(p.to_numpy()),
                "line": {"width": 1.2, "color": colors[day]},
                "opacity": 0.8,
                "name": esc(label),
                "legendgroup": label,
                "showlegend": day not in seen,
                "hovertemplate": esc(f"{t} after {label}") + ": day %{x}, %{y:.1%}<extra></extra>",
                **common,
            }
        )
        seen.add(day)
        labels.append(
            {
                "text": esc(label),
                "xref": xa,
                "yref": ya,
                "x": float(p.index[-1]),
                "y": float(p.iloc[-1]),
                "xanchor": "left",
                "xshift": 3,
                "showarrow": False,
                "font": {"size": 10, "color": colors[day]},
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": arr(days),
            "y": arr(np.r_[0.0, band["mean"]]),
            "line": {"width": 3.5, "color": "#111111"},
            "marker": {"size": 4},
            "name": "mean of the events",
            "legendgroup": "mean",
            "showlegend": j == 1,
            **common,
        }
    )
    return data, _spread(labels, np.asarray(paths, dtype=np.float64))


def _spread(labels: list[dict[str, Any]], values: np.ndarray) -> list[dict[str, Any]]:
    """Labels moved apart vertically (at least 4.5 % of the panel's span) so that lines
    ending close together keep readable dates; top to bottom in the lines' order."""
    finite = values[np.isfinite(values)]
    if not labels or finite.size == 0:
        return labels
    gap = 0.045 * max(float(finite.max() - finite.min()), 1e-9)
    out, floor = [], np.inf
    for lab in sorted(labels, key=lambda a: -float(a["y"])):
        y = min(float(lab["y"]), floor - gap)
        out.append({**lab, "y": y})
        floor = y
    return out


def event_paths_chart(results: ReportResults) -> Chart:
    """BTC and the alt basket around each independent breakout, against the placebo band.

    Each event's path (labelled with its date) runs from ``pre_days`` before the breakout
    (shaded) to the longest horizon after it; the band is the 5-95 % range of the mean
    forward return over placebo sets of as many dates, as far apart.
    """
    key, title = (
        "event_paths",
        "Around each Russell 2000 breakout: BTC and altcoins vs placebo dates",
    )
    ep = results.event_paths
    if not available(ep):
        return unavailable(key, title, ep)
    targets = [t for t in dict.fromkeys(ep.paths.columns.get_level_values(0)) if t in ep.band.index]
    if not targets:
        return unavailable(key, title, "no independent breakout with a price path")
    data: list[dict[str, Any]] = []
    layout = base_layout(
        height=90 + 330 * len(targets), hovermode="closest", annotations=[], shapes=[]
    )
    layout["margin"] = {**layout["margin"], "r": 72}  # room for the labels at the lines' ends
    colors, seen = _event_colors(ep), set[pd.Timestamp]()
    notes = []
    for j, t in enumerate(targets, start=1):
        xa, ya = ("x", "y") if j == 1 else (f"x{j}", f"y{j}")
        layout["xaxis" if j == 1 else f"xaxis{j}"] = axis(
            anchor=ya,
            title={"text": "days from the breakout"},
            zeroline=True,
            zerolinecolor="#333333",
        )
        layout["yaxis" if j == 1 else f"yaxis{j}"] = axis(
            anchor=xa, domain=stacked(j, len(targets)), tickformat=".0%"
        )
        layout["annotations"].append(_panel_title(t, xa, ya))
        if ep.pre_days:
            layout["shapes"].append(_shade(xa, ya, -ep.pre_days, 0, "rgba(19,141,156,0.07)"))
        traces, labels = _event_panel(ep, t, j, colors, seen)
        data += traces
        layout["annotations"] += labels
        n = int(ep.band.loc[t, "n_events"].max()) if len(ep.band.loc[t]) else 0
        notes.append(f"{t}: {n} independent events")
    note = (
        "; ".join(notes)
        + f"; breakouts closer than {ep.horizon_days} days count once; coloured lines: each "
        f"event (labelled by its date), shaded: the {ep.pre_days} days before it; grey band: "
        f"5-95% of the mean over {ep.n_placebo} placebo sets of as many dates, as far apart"
    )
    if results.cached.get("event paths"):
        note += " (from cache)"
    return Chart(key, title, figure_json(data, layout), note)


def _panel_title(text: str, xa: str, ya: str) -> dict[str, Any]:
    return {
        "text": esc(text),
        "xref": f"{xa} domain",
        "yref": f"{ya} domain",
        "x": 0.5,
        "y": 1.0,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 13},
    }


def _shade(xa: str, ya: str, x0: float, x1: float, color: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": xa,
        "yref": f"{ya} domain",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "fillcolor": color,
        "line": {"width": 0},
        "layer": "below",
    }


def equity_chart(results: ReportResults) -> Chart:
    """Equity curves of the report's rules next to buy-and-hold (log scale)."""
    key, title = "equity", "Backtests: equity curves after costs (log scale)"
    bt = results.backtests
    if not available(bt):
        return unavailable(key, title, bt)
    first = bt.results[0]
    path = first.path
    data = []
    hold = (1.0 + path["asset_return"].fillna(0.0)).cumprod()
    dotted = {"dash": "dot", "width": 1.4}
    data.append(
        line_trace(
            weekly(hold),
            f"buy & hold {first.rule.asset}",
            COLORS["alts"],
            line={"color": COLORS["alts"], **dotted},
        )
    )
    btc = column(results.panel, "btc")
    if btc is not None:
        b = btc.loc[path.index[0] : path.index[-1]]
        data.append(
            line_trace(
                weekly(b / b.iloc[0]),
                "buy & hold btc",
                COLORS["btc"],
                line={"color": COLORS["btc"], **dotted},
            )
        )
    for i, res in enumerate(bt.results):
        data.append(line_trace(weekly(res.equity), res.rule.label, PALETTE[i % len(PALETTE)]))
    wf = bt.walk_forward
    if available(wf) and hasattr(wf, "equity"):
        data.append(line_trace(weekly(wf.equity), "walk-forward (out of sample)", "#000000"))
    layout = base_layout(height=430, yaxis=log_axis(title={"text": "growth of 1"}))
    costs = first.rule.fee_bps + first.rule.slippage_bps
    note = (
        f"{fmt_date(path.index[0])} to {fmt_date(path.index[-1])}; costs {costs:g} bp per unit of "
        "turnover; decided at the close, traded at the next close"
    )
    if isinstance(wf, Unavailable):
        note += f"; {wf.summary()}"
    return Chart(key, title, figure_json(data, layout), note)
