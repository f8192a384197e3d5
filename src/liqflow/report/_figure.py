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
    "PALETTE",
    "STAGE_COLORS",
    "WEEKLY_ABOVE",
    "Chart",
    "arr",
    "arr2d",
    "axis",
    "band_traces",
    "base_layout",
    "column",
    "dates",
    "esc",
    "figure_json",
    "line_trace",
    "log_axis",
    "span",
    "unavailable",
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
    return axis(type="log", dtick="D2", **kw)


def base_layout(height: int = 380, **kw: Any) -> dict[str, Any]:
    """Common layout; the chart's title is the card's heading in the page."""
    out: dict[str, Any] = {
        "height": height,
        "margin": {"l": 64, "r": 64, "t": 26, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "Roboto, Arial, sans-serif", "size": 12, "color": "#2a3f5f"},
        "legend": {"orientation": "h", "y": -0.14, "x": 0},
        "hovermode": "x unified",
        "xaxis": axis(type="date"),
        "yaxis": axis(),
    }
    out.update(kw)
    return out


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


def figure_json(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> str:
    """The figure as compact JSON (no NaN: numeric data travels in typed arrays)."""
    return json.dumps(
        {"data": list(data), "layout": layout}, separators=(",", ":"), allow_nan=False
    )


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
