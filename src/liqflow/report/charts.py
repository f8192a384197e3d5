"""The report's charts: one small function per chart, each taking the results it plots.

Each function returns a :class:`Chart` holding a plotly.js figure as JSON (or, when its
inputs are missing, no figure and the reason). Figures are written directly as
plotly.js JSON (``{"data": [...], "layout": {...}}``): numeric arrays are float32
typed arrays (``{"dtype": "f4", "bdata": <base64>}``, which plotly.js decodes), dates
are ``YYYY-MM-DD`` strings, and long daily histories are plotted weekly (the last value
of each week, or the mean daily volume), so the page stays small and quick to build.
The statistics themselves are computed on daily data.

Text that comes from data (series names, event labels) is HTML-escaped before it goes
into a figure, because plotly.js renders a subset of HTML in legends and hover labels.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow.align import trading_days
from liqflow.report._format import fmt_date
from liqflow.report.results import ReportResults, Unavailable, available

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

#: Series longer than this many points are plotted weekly.
WEEKLY_ABOVE = 1500

COLORS = {
    "btc": "#f7931a",
    "alts": "#7b3fe4",
    "liquidity": "#1f77b4",
    "hy": "#d62728",
    "ig": "#2ca02c",
    "baa": "#8c564b",
    "rut": "#138d9c",
    "volume": "#9aa5b1",
    "confirmed": "#2ca02c",
    "failed": "#d62728",
    "pending": "#ff7f0e",
    "band": "rgba(120,120,120,0.22)",
}
STAGE_COLORS = ("#e6e8eb", "#1f77b4", "#2ca02c", "#ff7f0e", "#7b3fe4")
PALETTE = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


@dataclass(frozen=True)
class Chart:
    """One chart of the report.

    Attributes
    ----------
    key : str
        Identifier (also the HTML element id).
    title : str
    spec : str or None
        The plotly.js figure as JSON; None when the chart is not available.
    note : str
        Caption: what is shown, the sample, the number of events.
    missing : str
        Why the chart is not available (empty when it is).
    """

    key: str
    title: str
    spec: str | None
    note: str = ""
    missing: str = ""

    @property
    def available(self) -> bool:
        return self.spec is not None


# -- figure building blocks -------------------------------------------------------------


def _esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def _arr(values: Any) -> dict[str, str]:
    """A float32 typed array for plotly.js (NaN leaves a gap)."""
    a = np.ascontiguousarray(np.asarray(values, dtype=np.float64).astype("<f4"))
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def _arr2d(values: np.ndarray) -> dict[str, str]:
    out = _arr(values.ravel())
    out["shape"] = f"{values.shape[0]}, {values.shape[1]}"
    return out


def _dates(index: pd.Index) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in pd.DatetimeIndex(index)]


def weekly(s: pd.Series, how: str = "last") -> pd.Series:
    """Weekly points (weeks ending Friday) of a long daily series; short ones unchanged.

    ``how="last"`` keeps the last observation of each week (at its own date);
    ``how="mean"`` the mean of the week's observations (at the week's last date).
    Equivalent to ``s.dropna().resample("W-FRI").last()`` up to the dates shown.
    """
    s = s.dropna()
    if len(s) <= WEEKLY_ABOVE:
        return s
    days = s.index.to_numpy(dtype="datetime64[D]").astype(np.int64)
    key = (days - 2) // 7  # 1970-01-03 was a Saturday: weeks run Saturday to Friday
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
    if how == "mean":
        first = np.r_[0, last[:-1] + 1]
        sums = np.add.reduceat(s.to_numpy(dtype=np.float64), first)
        return pd.Series(sums / (last - first + 1), index=s.index[last], name=s.name)
    return s.iloc[last]


def _axis(**kw: Any) -> dict[str, Any]:
    base = {
        "gridcolor": "#ebf0f8",
        "linecolor": "#ccd3db",
        "zerolinecolor": "#dfe4ea",
        "automargin": True,
    }
    base.update(kw)
    return base


def _log_axis(**kw: Any) -> dict[str, Any]:
    return _axis(type="log", dtick="D2", **kw)


def _layout(height: int = 380, **kw: Any) -> dict[str, Any]:
    """Common layout; the chart's title is the card's heading in the page."""
    out: dict[str, Any] = {
        "height": height,
        "margin": {"l": 64, "r": 64, "t": 26, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "Roboto, Arial, sans-serif", "size": 12, "color": "#2a3f5f"},
        "legend": {"orientation": "h", "y": -0.14, "x": 0},
        "hovermode": "x unified",
        "xaxis": _axis(type="date"),
        "yaxis": _axis(),
    }
    out.update(kw)
    return out


def _line(s: pd.Series, name: str, color: str, **kw: Any) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "x": _dates(s.index),
        "y": _arr(s.to_numpy()),
        "name": _esc(name),
        "line": {"color": color, "width": 1.6},
    }
    trace.update(kw)
    return trace


def figure_json(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> str:
    """The figure as compact JSON (no NaN: numeric data travels in typed arrays)."""
    return json.dumps(
        {"data": list(data), "layout": layout}, separators=(",", ":"), allow_nan=False
    )


def _unavailable(key: str, title: str, reason: object) -> Chart:
    text = reason.summary() if isinstance(reason, Unavailable) else f"not available: {reason}"
    return Chart(key, title, None, missing=text)


def _span(s: pd.Series) -> str:
    s = s.dropna()
    return "no data" if s.empty else f"{fmt_date(s.index[0])} to {fmt_date(s.index[-1])}"


def _col(frame: pd.DataFrame, name: str) -> pd.Series | None:
    if name in frame.columns and frame[name].notna().any():
        return frame[name].astype(np.float64)
    return None


# -- the charts ----------------------------------------------------------------------------


def net_liquidity_chart(results: ReportResults) -> Chart:
    """Net liquidity (Fed assets - TGA - RRP, USD tn) against BTC (log scale)."""
    key, title = "net_liquidity", "Net liquidity (Fed assets - TGA - RRP) vs BTC"
    sig = results.signals
    net = _col(sig.frame, "liquidity.net_liquidity") if available(sig) else None
    btc = _col(results.panel, "btc")
    if net is None and btc is None:
        return _unavailable(key, title, sig if not available(sig) else "no liquidity or BTC data")
    data, notes = [], []
    if net is not None:
        data.append(_line(weekly(net / 1e6), "net liquidity (USD tn)", COLORS["liquidity"]))
        notes.append(f"net liquidity {_span(net)}")
    if btc is not None:
        data.append(_line(weekly(btc), "BTC (USD, log scale, right)", COLORS["btc"], yaxis="y2"))
        notes.append(f"BTC {_span(btc)}")
    layout = _layout(
        yaxis=_axis(title={"text": "USD tn"}),
        yaxis2=_log_axis(overlaying="y", side="right", title={"text": "BTC (USD)"}, showgrid=False),
    )
    note = "; ".join(notes) + "; weekly points of the values public each day"
    return Chart(key, title, figure_json(data, layout), note)


def credit_chart(results: ReportResults) -> Chart:
    """HY and IG option-adjusted spreads (and BAA10Y when present), percent."""
    key, title = "credit", "Credit spreads (option-adjusted, %)"
    sig = results.signals
    if not available(sig):
        return _unavailable(key, title, sig)
    data, notes = [], []
    for col, name, color in (
        ("credit.hy_spread", "HY OAS", COLORS["hy"]),
        ("credit.ig_spread", "IG OAS", COLORS["ig"]),
        ("credit.baa_spread", "BAA10Y", COLORS["baa"]),
    ):
        s = _col(sig.frame, col)
        if s is not None:
            data.append(_line(weekly(s), name, color))
            notes.append(f"{name} {_span(s)}")
    if not data:
        return _unavailable(key, title, "no credit spread in the store")
    layout = _layout(yaxis=_axis(title={"text": "percent"}))
    return Chart(key, title, figure_json(data, layout), "; ".join(notes))


def _breakout_traces(events: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for status in ("confirmed", "pending", "failed"):
        chosen = [e for e in events if e.status == status]
        if not chosen:
            continue
        hover = [
            _esc(
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
                "y": _arr([e.level for e in chosen]),
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
    if _col(panel, "small_caps") is None:
        return _unavailable(key, title, "no Russell 2000 (small_caps) data in the store")
    rut = panel.loc[trading_days(panel, "small_caps"), "small_caps"]
    data = [_line(weekly(rut), "Russell 2000 (log scale)", COLORS["rut"])]
    sig = results.signals
    events = sig.breakouts.events if available(sig) and sig.breakouts is not None else ()
    data += _breakout_traces(events)
    if _col(panel, "small_caps_volume") is not None:
        vol = panel.loc[trading_days(panel, "small_caps_volume"), "small_caps_volume"]
        wk = weekly(vol, "mean") / 1e6
        data.append(
            {
                "type": "bar",
                "x": _dates(wk.index),
                "y": _arr(wk.to_numpy()),
                "name": "IWM volume (mn shares a day, weekly mean)",
                "marker": {"color": COLORS["volume"]},
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    layout = _layout(
        height=470,
        hovermode="closest",
        bargap=0,
        xaxis=_axis(type="date", anchor="y", showticklabels=False),
        yaxis=_log_axis(domain=[0.3, 1.0], title={"text": "index"}),
        xaxis2=_axis(type="date", anchor="y2", matches="x"),
        yaxis2=_axis(domain=[0.0, 0.24], title={"text": "mn/day"}),
    )
    note = (
        f"Russell 2000 {_span(rut)}; {len(events)} closes above the prior all-time high "
        "(status as of the report date: confirmed = still above the old high after the "
        "persistence window)"
    )
    return Chart(key, title, figure_json(data, layout), note)


def ratio_chart(results: ReportResults) -> Chart:
    """Russell 2000 / S&P 500 ratio and its moving average."""
    key, title = "rs_ratio", "Russell 2000 / S&P 500 ratio"
    sig = results.signals
    if not available(sig):
        return _unavailable(key, title, sig)
    ratio = _col(sig.frame, "small_caps.ratio")
    if ratio is None:
        return _unavailable(key, title, "needs both the Russell 2000 and the S&P 500")
    data = [_line(weekly(ratio), "^RUT / ^GSPC", COLORS["rut"])]
    if _col(sig.frame, "small_caps.ratio_pct_above_ma") is not None:
        ma = (
            sig.frame["small_caps.ratio"] / (1.0 + sig.frame["small_caps.ratio_pct_above_ma"])
        ).dropna()
        data.append(
            _line(
                weekly(ma),
                "moving average",
                "#555555",
                line={"color": "#555555", "width": 1.2, "dash": "dot"},
            )
        )
    note = f"ratio {_span(ratio)}; a rising ratio means small caps outperform large caps"
    return Chart(key, title, figure_json(data, _layout()), note)


def alt_season_chart(results: ReportResults) -> Chart:
    """Altcoin Season Index (0-100) with the alt-season and bitcoin-season lines."""
    key, title = "alt_season", "Altcoin Season Index (% of altcoins beating BTC over 90 days)"
    sig = results.signals
    if not available(sig):
        return _unavailable(key, title, sig)
    idx = _col(sig.frame, "crypto.season_index")
    if idx is None:
        return _unavailable(key, title, "too few altcoins with 90 days of history in the store")
    cy = sig.config.crypto
    data = [_line(weekly(idx), "Altcoin Season Index", COLORS["alts"])]
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
    layout = _layout(yaxis=_axis(range=[0, 100]), shapes=shapes, annotations=notes)
    note = f"{_span(idx)}; computed on the coins that had data on each date (no survivorship from today's list)"
    return Chart(key, title, figure_json(data, layout), note)


def stage_chart(results: ReportResults) -> Chart:
    """Ribbon of each stage on/off and the current stage, week by week.

    Starts on the first day at least three of the stages are known.
    """
    key, title = "stages", "Stage timeline: which stages are on, and the current stage"
    sig = results.signals
    if not available(sig):
        return _unavailable(key, title, sig)
    frame = sig.stages.frame
    rules = sig.stages.config.rules
    known = frame[[f"stage{r.stage}_strength" for r in rules]].notna().sum(axis=1)
    enough = known >= min(3, len(rules))
    if not enough.any():
        return _unavailable(key, title, "fewer than three stages are ever known (inputs missing)")
    frame = frame.loc[enough.idxmax() :]
    rows = {
        f"stage {r.stage}: {r.name}": frame[f"stage{r.stage}_on"].astype(np.float64) * r.stage
        for r in rules
    }
    rows["current stage"] = frame["stage"].astype(np.float64)
    z = pd.DataFrame(rows)
    if len(z) > WEEKLY_ABOVE:  # last day of each week
        z = z.loc[weekly(pd.Series(np.arange(len(z), dtype=np.float64), index=z.index)).index]
    n = len(STAGE_COLORS)
    scale: list[list[Any]] = []
    for i, c in enumerate(STAGE_COLORS):
        scale += [[i / n, c], [(i + 1) / n, c]]
    data = [
        {
            "type": "heatmap",
            "x": _dates(z.index),
            "y": [_esc(c) for c in z.columns],
            "z": _arr2d(z.to_numpy().T),
            "zmin": -0.5,
            "zmax": n - 0.5,
            "colorscale": scale,
            "showscale": False,
            "hovertemplate": "%{x}: %{y} = %{z}<extra></extra>",
        }
    ]
    layout = _layout(
        height=290,
        hovermode="closest",
        margin={"l": 150, "r": 30, "t": 16, "b": 36},
        yaxis=_axis(autorange="reversed"),
    )
    current, since = sig.stages.current()
    note = (
        f"{_span(frame['stage'])}, weekly; colour = the stage number when on, grey = off; "
        f"current stage {current} since {fmt_date(since)}; {len(sig.stages.transitions)} changes of the current stage"
    )
    return Chart(key, title, figure_json(data, layout), note)


def lead_lag_chart(results: ReportResults) -> Chart:
    """Correlation of weekly returns by lag (positive = small caps first), with null bands.

    Grey band: pointwise range of each lag's correlation under no cross-dependence;
    dashed line: the family-wise threshold over all lags; shaded: the lead window.
    """
    key, title = "lead_lag", "Lead-lag correlogram: Russell 2000 vs crypto (weekly returns)"
    ll = results.lead_lag
    if not available(ll):
        return _unavailable(key, title, ll)
    if not ll:
        return _unavailable(key, title, "no lead-lag pair could be computed")
    names = list(ll)
    lo_w, hi_w = results.config.lead_weeks
    data: list[dict[str, Any]] = []
    layout = _layout(height=400, hovermode="closest", annotations=[], shapes=[])
    width = 1.0 / len(names)
    notes = []
    for j, name in enumerate(names, start=1):
        r = ll[name]
        xa, ya = ("x", "y") if j == 1 else (f"x{j}", f"y{j}")
        layout["xaxis" if j == 1 else f"xaxis{j}"] = _axis(
            domain=[(j - 1) * width + 0.04 * (j > 1), j * width - 0.04 * (j < len(names))],
            anchor=ya,
            title={"text": "lag (weeks; > 0: Russell 2000 first)"},
            zeroline=True,
        )
        layout["yaxis" if j == 1 else f"yaxis{j}"] = _axis(
            anchor=xa, title={"text": "correlation"} if j == 1 else {}
        )
        layout["annotations"].append(
            {
                "text": _esc(name),
                "xref": f"{xa} domain",
                "yref": f"{ya} domain",
                "x": 0.5,
                "y": 1.07,
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        layout["shapes"].append(
            {
                "type": "rect",
                "xref": xa,
                "yref": f"{ya} domain",
                "x0": lo_w - 0.5,
                "x1": hi_w + 0.5,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(255,127,14,0.08)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        lags = r.lags.astype(np.float64)
        common = {"xaxis": xa, "yaxis": ya}
        if np.isfinite(r.null_high).any():
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": _arr(lags),
                    "y": _arr(r.null_high),
                    "line": {"width": 0},
                    "showlegend": False,
                    "hoverinfo": "skip",
                    **common,
                }
            )
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": _arr(lags),
                    "y": _arr(r.null_low),
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": COLORS["band"],
                    "name": f"{r.confidence:.0%} band under no link (each lag)",
                    "showlegend": j == 1,
                    **common,
                }
            )
        data.append(
            {
                "type": "bar",
                "x": _arr(lags),
                "y": _arr(r.correlations),
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
                    "x": _arr([lags[0], lags[-1]]),
                    "y": _arr([r.familywise_threshold] * 2),
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


def event_paths_chart(results: ReportResults) -> Chart:
    """BTC and alt-basket paths after each independent breakout, against the placebo band."""
    key, title = (
        "event_paths",
        "After each Russell 2000 breakout: BTC and altcoins vs placebo dates",
    )
    ep = results.event_paths
    if not available(ep):
        return _unavailable(key, title, ep)
    targets = [t for t in dict.fromkeys(ep.paths.columns.get_level_values(0)) if t in ep.band.index]
    if not targets:
        return _unavailable(key, title, "no independent breakout with a price path")
    data: list[dict[str, Any]] = []
    layout = _layout(height=430, hovermode="closest", annotations=[])
    width = 1.0 / len(targets)
    notes = []
    for j, t in enumerate(targets, start=1):
        xa, ya = ("x", "y") if j == 1 else (f"x{j}", f"y{j}")
        axis_x, axis_y = ("xaxis", "yaxis") if j == 1 else (f"xaxis{j}", f"yaxis{j}")
        layout[axis_x] = _axis(
            domain=[(j - 1) * width + 0.04 * (j > 1), j * width - 0.04 * (j < len(targets))],
            anchor=ya,
            title={"text": "days after the breakout"},
        )
        layout[axis_y] = _axis(anchor=xa, tickformat=".0%")
        layout["annotations"].append(
            {
                "text": _esc(t),
                "xref": f"{xa} domain",
                "yref": f"{ya} domain",
                "x": 0.5,
                "y": 1.06,
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        band = ep.band.loc[t]
        days = np.r_[0, band.index.to_numpy(dtype=np.float64)]
        common = {"xaxis": xa, "yaxis": ya}
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": _arr(days),
                "y": _arr(np.r_[0.0, band["p95"]]),
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
                **common,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": _arr(days),
                "y": _arr(np.r_[0.0, band["p05"]]),
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": COLORS["band"],
                "name": "placebo 5-95% of the mean",
                "showlegend": j == 1,
                **common,
            }
        )
        paths = ep.paths[t]
        for d in paths.columns:
            p = paths[d].dropna()
            if p.empty:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": _arr(p.index.to_numpy(dtype=np.float64)),
                    "y": _arr(p.to_numpy()),
                    "line": {"width": 1, "color": COLORS.get(t, "#444444")},
                    "opacity": 0.45,
                    "name": _esc(f"{t} after {fmt_date(d)}"),
                    "showlegend": False,
                    **common,
                }
            )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": _arr(days),
                "y": _arr(np.r_[0.0, band["mean"]]),
                "line": {"width": 3, "color": COLORS.get(t, "#222222")},
                "marker": {"size": 4},
                "name": _esc(f"{t}: mean of the events"),
                **common,
            }
        )
        n = int(band["n_events"].max()) if len(band) else 0
        notes.append(f"{t}: {n} independent events")
    note = (
        "; ".join(notes)
        + f"; breakouts closer than {ep.horizon_days} days count once; thin lines: each event; "
        f"band: 5-95% of the mean over {ep.n_placebo} placebo sets of as many dates, as far apart"
    )
    if results.cached.get("event paths"):
        note += " (from cache)"
    return Chart(key, title, figure_json(data, layout), note)


def equity_chart(results: ReportResults) -> Chart:
    """Equity curves of the report's rules next to buy-and-hold (log scale)."""
    key, title = "equity", "Backtests: equity curves after costs (log scale)"
    bt = results.backtests
    if not available(bt):
        return _unavailable(key, title, bt)
    first = bt.results[0]
    path = first.path
    data = []
    hold = (1.0 + path["asset_return"].fillna(0.0)).cumprod()
    dotted = {"dash": "dot", "width": 1.4}
    data.append(
        _line(
            weekly(hold),
            f"buy & hold {first.rule.asset}",
            COLORS["alts"],
            line={"color": COLORS["alts"], **dotted},
        )
    )
    btc = _col(results.panel, "btc")
    if btc is not None:
        b = btc.loc[path.index[0] : path.index[-1]]
        data.append(
            _line(
                weekly(b / b.iloc[0]),
                "buy & hold btc",
                COLORS["btc"],
                line={"color": COLORS["btc"], **dotted},
            )
        )
    for i, res in enumerate(bt.results):
        data.append(_line(weekly(res.equity), res.rule.label, PALETTE[i % len(PALETTE)]))
    wf = bt.walk_forward
    if available(wf) and hasattr(wf, "equity"):
        data.append(_line(weekly(wf.equity), "walk-forward (out of sample)", "#000000"))
    layout = _layout(height=430, yaxis=_log_axis(title={"text": "growth of 1"}))
    costs = first.rule.fee_bps + first.rule.slippage_bps
    note = (
        f"{fmt_date(path.index[0])} to {fmt_date(path.index[-1])}; costs {costs:g} bp per unit of "
        "turnover; decided at the close, traded at the next close"
    )
    if isinstance(wf, Unavailable):
        note += f"; {wf.summary()}"
    return Chart(key, title, figure_json(data, layout), note)


def build_charts(results: ReportResults) -> tuple[Chart, ...]:
    """Every chart, in the order of the report."""
    return (
        net_liquidity_chart(results),
        credit_chart(results),
        small_caps_chart(results),
        ratio_chart(results),
        alt_season_chart(results),
        stage_chart(results),
        lead_lag_chart(results),
        event_paths_chart(results),
        equity_chart(results),
    )
