"""Building blocks of the report's charts: :class:`Chart`, colours, axes, traces, encoding.

The charts themselves are in :mod:`liqflow.report.charts` and
:mod:`liqflow.report.stat_charts`. Figures are written directly as plotly.js JSON
(``{"data": [...], "layout": {...}}``): numeric arrays are float32 typed arrays
(``{"dtype": "f4", "bdata": <base64>}``, which plotly.js decodes), dates are
``YYYY-MM-DD`` strings, and long daily histories are plotted weekly (the last value of
each week, or the mean daily volume), so the page stays small and quick to build.

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

from liqflow.report._format import fmt_date
from liqflow.report.results import Unavailable

__all__ = [
    "COLORS",
    "DEFAULT_START",
    "EVENT_PALETTE",
    "OFF_COLOR",
    "PALETTE",
    "STAGE_COLORS",
    "UNKNOWN_COLOR",
    "WEEKLY_ABOVE",
    "Chart",
    "arr",
    "arr2d",
    "axis",
    "band_traces",
    "base_layout",
    "chart_frame",
    "column",
    "dates",
    "esc",
    "figure_json",
    "line_trace",
    "log_axis",
    "span",
    "stacked",
    "time_window",
    "unavailable",
    "weekly",
]

#: Series longer than this many points are plotted weekly.
WEEKLY_ABOVE = 1500
#: First day of the default window of every time chart (the range buttons show 1y, 5y, all).
DEFAULT_START = "2014-01-01"
#: "Unknown" (inputs stale or missing) in every chart, badge and ribbon of the page.
UNKNOWN_COLOR = "#4b5563"
#: A stage that is known and off.
OFF_COLOR = "#e9ecef"

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
#: Stage 0 (none) to 4 when on; unknown has :data:`UNKNOWN_COLOR`.
STAGE_COLORS = (OFF_COLOR, "#1f77b4", "#2ca02c", "#ff7f0e", "#7b3fe4")
PALETTE = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
#: One colour per breakout event (the same event has the same colour in every panel).
EVENT_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#ff7f0e",
    "#393b79",
    "#637939",
    "#843c39",
)


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

    def to_frame(self) -> pd.DataFrame:
        """The chart's data (:func:`chart_frame`); empty when the chart is not available."""
        if self.spec is None:
            return pd.DataFrame(columns=["trace", "x", "y", "z"])
        return chart_frame(self.spec)


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def arr(values: Any) -> dict[str, str]:
    """A float32 typed array for plotly.js (NaN leaves a gap)."""
    a = np.ascontiguousarray(np.asarray(values, dtype=np.float64).astype("<f4"))
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def arr2d(values: np.ndarray) -> dict[str, str]:
    out = arr(values.ravel())
    out["shape"] = f"{values.shape[0]}, {values.shape[1]}"
    return out


def dates(index: pd.Index) -> list[str]:
    """``YYYY-MM-DD`` of each day; equivalent to ``[f"{d:%Y-%m-%d}" for d in index]``."""
    days = pd.DatetimeIndex(index).to_numpy(dtype="datetime64[D]")
    return [str(d) for d in np.datetime_as_string(days, unit="D")]


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


def axis(**kw: Any) -> dict[str, Any]:
    base = {
        "gridcolor": "#ebf0f8",
        "linecolor": "#ccd3db",
        "zerolinecolor": "#dfe4ea",
        "automargin": True,
    }
    base.update(kw)
    return base


def log_axis(**kw: Any) -> dict[str, Any]:
    """A log axis labelled 1, 2, 5 per decade in full (``2000``, not a small ``2``)."""
    return axis(type="log", dtick="D2", minorloglabels="complete", **kw)


def base_layout(height: int = 380, **kw: Any) -> dict[str, Any]:
    """Common layout; the chart's title is the card's heading in the page."""
    out: dict[str, Any] = {
        "height": height,
        "margin": {"l": 56, "r": 56, "t": 26, "b": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "Roboto, Arial, sans-serif", "size": 12, "color": "#2a3f5f"},
        # below everything, axis titles included: a container-anchored legend pushes the
        # bottom margin by its own height (however many rows it wraps to on a phone)
        "legend": {
            "orientation": "h",
            "xref": "container",
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
        },
        "hovermode": "x unified",
        "xaxis": axis(type="date"),
        "yaxis": axis(),
    }
    out.update(kw)
    return out


def stacked(j: int, n: int, gap: float = 0.16) -> list[float]:
    """The y domain of panel ``j`` (1 = top) of ``n`` panels stacked with ``gap`` between
    them: panels side by side would not fit a phone's width."""
    height = (1.0 - gap * (n - 1)) / n
    top = 1.0 - (j - 1) * (height + gap)
    return [round(max(0.0, top - height), 6), round(top, 6)]


def line_trace(s: pd.Series, name: str, color: str, **kw: Any) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "x": dates(s.index),
        "y": arr(s.to_numpy()),
        "name": esc(name),
        "line": {"color": color, "width": 1.6},
    }
    trace.update(kw)
    return trace


def band_traces(
    x: np.ndarray, high: Any, low: Any, name: str, *, showlegend: bool, **kw: Any
) -> list[dict[str, Any]]:
    """A grey band from ``low`` to ``high``: an invisible upper line, then the lower line
    filled up to it (``fill="tonexty"``); ``kw`` (axes) goes on both traces."""
    upper = {
        "type": "scatter",
        "mode": "lines",
        "x": arr(x),
        "y": arr(high),
        "line": {"width": 0},
        "showlegend": False,
        "hoverinfo": "skip",
        **kw,
    }
    lower = {
        "type": "scatter",
        "mode": "lines",
        "x": arr(x),
        "y": arr(low),
        "line": {"width": 0},
        "fill": "tonexty",
        "fillcolor": COLORS["band"],
        "name": name,
        "showlegend": showlegend,
        **kw,
    }
    return [upper, lower]


def _date_span(data: Sequence[dict[str, Any]]) -> tuple[str, str] | None:
    """First and last ``YYYY-MM-DD`` x value over the traces with date strings."""
    first: str | None = None
    last: str | None = None
    for trace in data:
        x = trace.get("x")
        if not isinstance(x, list) or not x or not isinstance(x[0], str):
            continue
        lo, hi = min(x), max(x)
        first = lo if first is None else min(first, lo)
        last = hi if last is None else max(last, hi)
    return None if first is None or last is None else (first, last)


def time_window(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> dict[str, str] | None:
    """The default window of a figure whose first x axis holds dates, or None.

    ``{"first", "last", "start"}``: the span of the dated traces and the window's first
    day (:data:`DEFAULT_START`, or the first date when the data starts later). The page
    draws the range buttons (1y, 5y, all) of every figure that has one; axes that
    ``matches`` the first follow it.
    """
    xaxis = layout.get("xaxis")
    if not isinstance(xaxis, dict) or xaxis.get("type") != "date":
        return None
    span = _date_span(data)
    if span is None:
        return None
    first, last = span
    start = max(first, DEFAULT_START) if last > DEFAULT_START else first
    return {"first": first, "last": last, "start": start}


def figure_json(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> str:
    """The figure as compact JSON (no NaN: numeric data travels in typed arrays).

    A figure over dates opens on its default window (:func:`time_window`), recorded
    under ``"window"`` for the page's range buttons.
    """
    fig: dict[str, Any] = {"data": list(data), "layout": layout}
    window = time_window(data, layout)
    if window is not None:
        xaxis = {"range": [window["start"], window["last"]], **layout["xaxis"]}
        fig["layout"] = {**layout, "xaxis": xaxis}
        fig["window"] = window
    return json.dumps(fig, separators=(",", ":"), allow_nan=False)


_TYPED = {
    "f4": "<f4",
    "f8": "<f8",
    "i1": "i1",
    "u1": "u1",
    "i2": "<i2",
    "u2": "<u2",
    "i4": "<i4",
    "u4": "<u4",
}


def _values(a: object) -> list[object]:
    """A trace's array as Python values (typed arrays decoded exactly, as plotly.js does)."""
    if a is None:
        return []
    if isinstance(a, dict) and "bdata" in a:
        raw = base64.b64decode(str(a["bdata"]))
        return [float(v) for v in np.frombuffer(raw, dtype=_TYPED[str(a["dtype"])])]
    if isinstance(a, list):
        return list(a)
    return []


def chart_frame(spec: str) -> pd.DataFrame:
    """The data of a figure, one row per point of every trace: ``trace``, ``x``, ``y`` and,
    for heatmaps, ``z`` (``y`` the row label), exactly the values plotly.js draws.

    The page's "download data" link of each chart writes these rows as CSV (built in the
    browser from the same embedded figure, so the file holds the numbers on screen).
    """
    rows: list[tuple[str, object, object, object]] = []
    for i, trace in enumerate(json.loads(spec)["data"]):
        name = html.unescape(str(trace.get("name") or f"trace {i + 1}"))
        x, y = _values(trace.get("x")), _values(trace.get("y"))
        if trace.get("type") == "heatmap":
            z = _values(trace.get("z"))
            for r, label in enumerate(y):
                rows += [
                    (name, col, html.unescape(str(label)), z[r * len(x) + c])
                    for c, col in enumerate(x)
                ]
            continue
        n = max(len(x), len(y))
        x += [None] * (n - len(x))
        y += [None] * (n - len(y))
        rows += [(name, xv, yv, None) for xv, yv in zip(x, y, strict=True)]
    return pd.DataFrame(rows, columns=["trace", "x", "y", "z"])


def unavailable(key: str, title: str, reason: object) -> Chart:
    text = reason.summary() if isinstance(reason, Unavailable) else f"not available: {reason}"
    return Chart(key, title, None, missing=text)


def span(s: pd.Series) -> str:
    s = s.dropna()
    return "no data" if s.empty else f"{fmt_date(s.index[0])} to {fmt_date(s.index[-1])}"


def column(frame: pd.DataFrame, name: str) -> pd.Series | None:
    if name in frame.columns and frame[name].notna().any():
        return frame[name].astype(np.float64)
    return None
