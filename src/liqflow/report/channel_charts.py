"""Charts of the fiscal and market-structure channels: Treasury cash, ETF flows, funding.

Each chart plots columns of the signals (:mod:`liqflow.signals.fiscal`,
:mod:`liqflow.signals.market_structure`) and the panel's BTC, as the report computed
them: nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liqflow.report._figure import (
    COLORS,
    Chart,
    arr,
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
from liqflow.report.results import ReportResults, available

__all__ = [
    "CHANNEL_CHART_KEYS",
    "TAX_DATES",
    "channel_charts",
    "etf_flows_chart",
    "funding_chart",
    "tga_chart",
]

#: Keys of the channel charts (they need the fiscal and market-structure files).
CHANNEL_CHART_KEYS = ("tga_daily", "etf_flows", "funding")

#: (month, day) of the US individual tax deadlines: April 15 (the annual return) and the
#: quarterly estimated-tax payments of January, June and September 15 (April 15 is also
#: the first). Receipts refill the Treasury's account around them.
TAX_DATES = ((1, 15), (4, 15), (6, 15), (9, 15))
_FUNDING_GREY = "rgba(120,120,120,0.18)"


def tax_dates(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The :data:`TAX_DATES` from ``start`` to ``end`` (the day itself, weekends included)."""
    days = [
        pd.Timestamp(year, m, d) for year in range(start.year, end.year + 1) for m, d in TAX_DATES
    ]
    return pd.DatetimeIndex([d for d in days if start <= d <= end], name="date")


def _marker_trace(s: pd.Series, name: str, color: str, symbol: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": dates(s.index),
        "y": arr(s.to_numpy()),
        "name": esc(name),
        "marker": {"color": color, "size": 7, "symbol": symbol},
    }


def tga_chart(results: ReportResults) -> Chart:
    """The Daily Treasury Statement's TGA closing balance (USD bn) with the tax dates."""
    key, title = "tga_daily", "Treasury cash (daily TGA) and the tax dates"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    tga = column(sig.frame, "fiscal.tga_daily")
    if tga is None:
        return unavailable(key, title, "no daily Treasury Statement (tga_daily) in the store")
    tga = tga.dropna() / 1e3
    marks = tga.reindex(tax_dates(tga.index[0], tga.index[-1])).dropna()
    in_april = pd.DatetimeIndex(marks.index).month == 4
    april, other = marks[in_april], marks[~in_april]
    data = [
        line_trace(weekly(tga), "TGA closing balance (USD bn)", COLORS["liquidity"]),
        _marker_trace(april, "April 15 (tax day)", "#d62728", "diamond"),
        _marker_trace(other, "estimated tax (Jan, Jun, Sep 15)", "#ff7f0e", "circle"),
    ]
    layout = base_layout(yaxis=axis(title={"text": "USD bn"}))
    note = (
        f"TGA {span(tga)} (weekly points of the daily balance public each day); markers on "
        "the tax dates: the balance rises with receipts around them, and a drawdown in "
        "between adds reserves"
    )
    return Chart(key, title, figure_json(data, layout), note)


def etf_flows_chart(results: ReportResults) -> Chart:
    """Spot-ETF net flows over 5 days (USD bn, bars, weekly points) against BTC (log)."""
    key, title = "etf_flows", "Spot bitcoin ETF net flows vs BTC"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    cfg = sig.config.market
    flows = column(sig.frame, f"market.etf_flow_{cfg.short_days}d")
    if flows is None:
        return unavailable(key, title, "no spot-ETF flows (etf_flows) in the store")
    pts = weekly(flows.dropna() / 1e3)
    colors = np.where(pts.to_numpy() >= 0, "#2ca02c", "#d62728").tolist()
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": dates(pts.index),
            "y": arr(pts.to_numpy()),
            "name": esc(f"net flow over {cfg.short_days} days (USD bn)"),
            "marker": {"color": colors},
        }
    ]
    notes = [f"ETF flows {span(flows)}, one bar a week (the {cfg.short_days}-day sum)"]
    btc = column(results.panel, "btc")
    if btc is not None:
        btc = btc.loc[pts.index[0] - pd.Timedelta(days=30) : pts.index[-1] + pd.Timedelta(days=30)]
        data.append(line_trace(weekly(btc), "BTC (USD, log, right)", COLORS["btc"], yaxis="y2"))
    multiple = column(sig.frame, f"market.etf_supply_multiple_{cfg.long_days}d")
    if multiple is not None:
        last = multiple.dropna()
        notes.append(
            f"last {cfg.long_days}-day net buying x{last.iloc[-1]:.2f} the BTC mined "
            f"({last.index[-1]:%Y-%m-%d})"
        )
    layout = base_layout(
        yaxis=axis(title={"text": "USD bn"}),
        yaxis2=log_axis(overlaying="y", side="right", title={"text": "BTC (USD)"}, showgrid=False),
    )
    return Chart(key, title, figure_json(data, layout), "; ".join(notes))


def funding_chart(results: ReportResults) -> Chart:
    """Perpetual funding (7-day mean, % a day) inside its trailing 10-90 % band."""
    key, title = "funding", "Perpetual funding and its trailing percentile band"
    sig = results.signals
    if not available(sig):
        return unavailable(key, title, sig)
    cfg = sig.config.market
    level = column(sig.frame, "market.funding")
    if level is None:
        return unavailable(key, title, "no perpetual funding (btc_funding) in the store")
    frame = sig.frame.loc[level.dropna().index]
    pts = weekly(frame["market.funding"]).index
    band = frame.reindex(pts)[["market.funding_q10", "market.funding_q90"]] * 100
    x = dates(pts)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": arr(band["market.funding_q90"].to_numpy()),
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": arr(band["market.funding_q10"].to_numpy()),
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": _FUNDING_GREY,
            "name": esc(f"10-90 % of the trailing {cfg.percentile_days} days"),
        },
        line_trace(
            frame["market.funding_median"].reindex(pts) * 100,
            "trailing median (the 'lower leverage' line)",
            "#7f7f7f",
            line={"color": "#7f7f7f", "width": 1, "dash": "dot"},
        ),
        line_trace(
            frame["market.funding"].reindex(pts) * 100,
            f"funding, {cfg.funding_days}-day mean (% a day)",
            COLORS["btc"],
        ),
    ]
    pct = column(sig.frame, "market.funding_pct")
    note = f"funding {span(level)}, weekly points"
    if pct is not None and pct.notna().any():
        last = pct.dropna()
        note += f"; last percentile {last.iloc[-1]:.0%} ({last.index[-1]:%Y-%m-%d})"
    layout = base_layout(yaxis=axis(title={"text": "% of notional a day"}))
    return Chart(key, title, figure_json(data, layout), note)


def channel_charts(results: ReportResults) -> tuple[Chart, ...]:
    """The channel charts, in the order of the report."""
    return (tga_chart(results), etf_flows_chart(results), funding_chart(results))
