"""Render the report as one self-contained HTML file.

The page is a Jinja2 template (``templates/report.html.j2``) rendered with autoescaping
on, so every piece of text that comes from data is escaped. plotly.js is inlined once
(the page opens without a network), each figure is embedded as JSON in a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` written as
``\\u003c``-style escapes (so no data can close the element), and a small script draws
the figures and writes a status line (errors seen, traces drawn per chart) into a hidden
``#liqflow-status`` element that tests read.

The page holds no generation time: the same results give byte-identical HTML.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from liqflow.report._figure import STAGE_COLORS, UNKNOWN_COLOR
from liqflow.report._format import fmt_date, fmt_num, fmt_p, fmt_pct, is_finite
from liqflow.report.charts import Chart
from liqflow.report.results import ReportResults, Unavailable, available
from liqflow.report.theses import STATUSES, StageOutlook, Theses

if TYPE_CHECKING:
    from liqflow.backtest import Metrics

__all__ = ["caveats", "render_html", "script_json", "table_data", "table_json"]

_STATUS_CLASS = {s: s.replace(" ", "-") for s in STATUSES}


def script_json(text: str) -> Markup:
    """JSON text made safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    safe = (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return Markup(safe)


@lru_cache(maxsize=1)
def _plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    # plotly.js holds no "</script"; guard anyway so the bundle cannot end its element
    return Markup(js.replace("</script", "<\\/script"))


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """The compiled template in liqflow's directory, so a new process does not compile it
    again (jinja checks the template's checksum); best effort: a directory that cannot be
    written only skips it."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    from liqflow.config import home_dir

    folder = home_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(str(folder))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("liqflow.report", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["script_json"] = script_json
    return env


def _theses_rows(theses: Theses) -> list[dict[str, Any]]:
    rows = []
    for t in theses.theses:
        rows.append(
            {
                "key": t.key,
                "claim": t.claim,
                "status": t.status,
                "status_class": _STATUS_CLASS[t.status],
                "readings": [
                    {
                        "text": r.text(),
                        "met": {True: "met", False: "not-met", None: "unknown"}[r.met],
                    }
                    for r in t.readings
                ],
                "evidence": [
                    {"text": e.text(), "met": "met" if e.significant else "not-significant"}
                    for e in t.evidence
                ],
                "why": t.why,
                "basis": t.basis,
            }
        )
    return rows


def _outlook(outlook: StageOutlook | Unavailable) -> dict[str, Any]:
    if isinstance(outlook, Unavailable):
        return {"available": False, "missing": outlook.summary()}
    return {
        "available": True,
        "known": outlook.known,
        "label": outlook.label,  # the stage line every command prints
        "stage": outlook.stage,
        "name": outlook.name,
        "since": fmt_date(outlook.since),
        "as_of": fmt_date(outlook.as_of),
        "next_stage": outlook.next_stage,
        "next_name": outlook.next_name,
        "confirm": list(outlook.confirm),
        "deny": list(outlook.deny),
    }


def _event_rows(results: ReportResults) -> list[dict[str, str]]:
    """The event-study table: effect details from the event study, p and verdict from
    the evidence's rows (one Holm family for the whole run); :func:`_event_frame` formatted."""
    return [
        {
            "target": str(r["target"]),
            "horizon": f"+{r['horizon_days']}d",
            "n": str(r["n_events"]),
            "mean": fmt_pct(r["mean"]),
            "uncond": fmt_pct(r["unconditional_mean"]),
            "excess": fmt_pct(r["excess"]),
            "ci": _interval(r["ci_low"], r["ci_high"], "return"),
            "band": f"{fmt_pct(r['placebo_p05'])} to {fmt_pct(r['placebo_p95'])}",
            "p": fmt_p(r["p_value"]),
            "p_holm": fmt_p(r["p_holm"]),
            "verdict": str(r["verdict"]),
        }
        for r in _event_frame(results).to_dict("records")
    ]


def _effect(x: float, unit: str) -> str:
    if unit == "return":
        return fmt_pct(x)
    if unit == "weeks":
        return "n/a" if not is_finite(x) else f"{x:+.0f} w"
    return fmt_num(x)


def _interval(lo: float, hi: float, unit: str) -> str:
    if not is_finite(lo):
        return "none (n too small or not estimated)"
    return f"{_effect(lo, unit)} to {_effect(hi, unit)}"


def _per_event(results: ReportResults) -> tuple[list[str], list[dict[str, Any]]]:
    es = results.event_study
    if not available(es) or es.per_event.empty:
        return [], []
    pe = es.per_event
    cols = [
        f"{t} +{h}d" for t, h in dict.fromkeys(zip(pe["target"], pe["horizon_days"], strict=True))
    ]
    table: dict[str, dict[str, str]] = {}
    for rec in pe.to_dict("records"):
        day = fmt_date(rec["event_date"])
        cell = fmt_pct(rec["forward_return"]) if rec["complete"] else "incomplete"
        table.setdefault(day, {})[f"{rec['target']} +{rec['horizon_days']}d"] = cell
    rows = [{"date": d, "cells": [v.get(c, "") for c in cols]} for d, v in sorted(table.items())]
    return cols, rows


def _metric_row(m: Metrics, kind: str) -> dict[str, str]:
    return {
        "name": m.name,
        "kind": kind,
        "period": f"{fmt_date(m.start)} to {fmt_date(m.end)}",
        "cagr": fmt_pct(m.cagr),
        "vol": fmt_pct(m.volatility, signed=False),
        "sharpe": fmt_num(m.sharpe),
        "max_dd": fmt_pct(m.max_drawdown),
        "exposure": fmt_pct(m.exposure, 0, signed=False),
        "trades": str(m.n_trades),
        "hit_rate": fmt_pct(m.hit_rate, 0, signed=False),
    }


def _backtest_rows(results: ReportResults) -> list[dict[str, str]]:
    bt = results.backtests
    if not available(bt):
        return []
    seen: set[str] = set()
    rows = []
    for res in bt.results:
        for m in (res.metrics, *res.benchmarks):
            if m.name not in seen:
                seen.add(m.name)
                rows.append(_metric_row(m, "in sample, fixed rule"))
    wf = bt.walk_forward
    if available(wf):
        rows.append(_metric_row(wf.metrics, "out of sample"))
        rows += [_metric_row(m, "same out-of-sample days") for m in wf.benchmarks]
    return rows


def _walk_forward_note(results: ReportResults) -> str:
    bt = results.backtests
    if not available(bt):
        return ""
    wf = bt.walk_forward
    if isinstance(wf, Unavailable):
        return wf.summary()
    if not available(wf):
        return ""
    kind = "expanding" if wf.expanding else "rolling"
    text = (
        f"Walk-forward: {len(wf.folds)} folds ({kind} training of {wf.train_days} days, "
        f"tests of {wf.test_days} days, embargo {wf.embargo_days} days), the best of "
        f"{wf.n_candidates} candidate rules by training Sharpe ratio traded on each next block"
    )
    if results.cached.get("walk-forward"):
        text += " (from cache)"
    return text + "."


def _claims(results: ReportResults) -> dict[str, Any]:
    ev = results.evidence
    if not available(ev):
        return {"available": False, "missing": ev.summary() if isinstance(ev, Unavailable) else ""}
    verdicts = [
        {
            "claim": str(r["claim"]),
            "text": str(r["claim_text"]),
            "verdict": str(r["verdict"]),
            "status_class": _STATUS_CLASS.get(str(r["verdict"]), "unknown"),
            "detail": str(r["detail"]),
        }
        for r in ev.claims.to_dict("records")
    ]
    tests = []
    for rec in ev.tests.to_dict("records"):
        unit = str(rec["unit"])
        tests.append(
            {
                "claim": str(rec["claim"]),
                "test": str(rec["test"]),
                "effect": _effect(rec["effect"], unit),
                "ci": _interval(rec["ci_low"], rec["ci_high"], unit),
                "n": f"{int(rec['n'])} {rec['n_unit']}",
                "p": fmt_p(rec["p_value"]),
                "p_holm": fmt_p(rec["p_holm"]),
                "verdict": str(rec["verdict"]),
                "status_class": _STATUS_CLASS.get(str(rec["verdict"]), "unknown"),
                "note": str(rec["note"]),
            }
        )
    note = (
        f"One family: Holm over the {ev.n_family} tests with a p-value, alpha = {ev.alpha}; "
        f"seed {ev.seed}, {ev.draws} draws, data {ev.data_hash[:12]}"
    )
    if results.cached.get("evidence"):
        note += " (from cache)"
    from liqflow.study import LEGEND

    legend = [
        {"verdict": k, "status_class": _STATUS_CLASS.get(k, "unknown"), "text": v}
        for k, v in LEGEND.items()
    ]
    return {"available": True, "verdicts": verdicts, "tests": tests, "note": note, "legend": legend}


def _evidence_json(results: ReportResults) -> Markup:
    ev = results.evidence
    return script_json(ev.to_json(indent=None) if available(ev) else "null")


def _series_rows(results: ReportResults) -> list[dict[str, str]]:
    from liqflow.align import MAX_STALENESS

    rows = []
    for s in results.series:
        stale = s.stale_days is not None and s.stale_days > MAX_STALENESS.get(s.frequency, 10)
        rows.append(
            {
                "id": s.id,
                "description": s.description,
                "source": f"{s.source}: {s.symbol}" if s.source else s.symbol,
                "frequency": s.frequency,
                "lag": s.release_lag,
                "first": fmt_date(s.first),
                "last": fmt_date(s.last_update),
                "rows": f"{s.updates:,}",
                "stale": f"{s.stale_days} days old" if stale else "",
            }
        )
    return rows


def _stale(results: ReportResults) -> list[str]:
    return [f"{s.id} ({s.stale_days} days)" for s in results.stale()]


def caveats(results: ReportResults) -> list[str]:
    """Caveats generated from the results: events, samples, stale inputs, missing parts."""
    out = []
    es = results.event_study
    if available(es):
        n = es.stats.groupby(level=0)["n_events"].max()
        per = ", ".join(f"{t} {int(k)}" for t, k in n.items())
        out.append(
            f"Independent breakout events with a complete window: {per} "
            f"(from {es.n_raw_events} raw breakouts; events closer than the horizon count once). "
            "With so few events, intervals are wide and p-values coarse."
        )
        pe = es.per_event
        for t, grp in pe.groupby("target", sort=False):
            ok = grp[grp["complete"]]
            if len(ok):
                out.append(
                    f"Sample for {t}: events from {fmt_date(ok['event_date'].min())} to "
                    f"{fmt_date(ok['event_date'].max())}."
                )
    stale = _stale(results)
    if stale:
        out.append(
            "Stale on the report date (no new value for longer than its frequency allows; "
            "its signals are unknown): " + ", ".join(stale) + "."
        )
    sig = results.signals
    if available(sig):
        notes = [
            f"{k}: {v}" for k, v in sig.status.items() if v.startswith(("unknown", "unavailable"))
        ]
        if notes:
            out.append("Inputs unknown to the signals: " + "; ".join(notes) + ".")
    bt = results.backtests
    if available(bt):
        out.append(
            f"Backtests end on {fmt_date(bt.end)}, the last day BTC and at least "
            f"{results.config.min_alts} altcoins are priced."
        )
    bias = results.survivorship
    if bias is not None:
        out.append(
            "Survivorship bias, measured: " + bias.summary() + ". Every alt figure of this "
            "report uses the point-in-time universe (dead coins included)."
        )
    else:
        out.append(
            "No crypto-universe snapshots in the store: the alt basket holds the coins in the "
            "catalogue today, biased upwards by the coins that died (`liqflow import` the "
            "universe snapshots to measure it)."
        )
    for part in results.missing():
        out.append(part.summary())
    cached = [k for k, v in results.cached.items() if v]
    if cached:
        out.append(
            "Read from the store's cache (same inputs, same parameters): " + ", ".join(cached) + "."
        )
    return out


def _summary_counts(theses: Theses) -> list[dict[str, Any]]:
    counts = theses.counts()
    return [{"status": s, "status_class": _STATUS_CLASS[s], "n": counts[s]} for s in STATUSES]


def _chart_rows(charts: tuple[Chart, ...]) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "title": c.title,
            "spec": c.spec,
            "note": c.note,
            "missing": c.missing,
            "available": c.available,
        }
        for c in charts
    ]


def _cell(x: object) -> object:
    """A JSON value of a table cell: NaN and NaT as null, dates as ``YYYY-MM-DD``."""
    if isinstance(x, pd.Timestamp):
        return None if pd.isna(x) else f"{x:%Y-%m-%d}"
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(float(x)) else None
    if x is None or x is pd.NaT:
        return None
    return str(x)


def table_json(frame: pd.DataFrame) -> str:
    """A table's numbers as JSON, ``{"columns": [...], "rows": [[...], ...]}`` (the data a
    page's CSV link downloads: full precision, NaN as null)."""
    flat = frame.reset_index(drop=True)
    rows = [[_cell(v) for v in rec] for rec in flat.itertuples(index=False, name=None)]
    return json.dumps(
        {"columns": [str(c) for c in flat.columns], "rows": rows},
        separators=(",", ":"),
        allow_nan=False,
    )


def _event_frame(results: ReportResults) -> pd.DataFrame:
    """The numbers of the event-study table: the evidence's event tests, with the event
    study's means and placebo range beside them."""
    es, ev = results.event_study, results.evidence
    if not available(es) or not available(ev):
        return pd.DataFrame()
    rows = []
    for r in ev.rows():
        if r.kind != "event" or r.horizon is None or (r.target, r.horizon) not in es.stats.index:
            continue
        st = es.stats.loc[[(r.target, r.horizon)]].iloc[0]
        rows.append(
            {
                "target": r.target,
                "horizon_days": r.horizon,
                "n_events": r.n,
                "mean": float(st["mean"]),
                "unconditional_mean": float(st["uncond_mean"]),
                "excess": r.effect,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "placebo_p05": float(st["placebo_p05"]),
                "placebo_p95": float(st["placebo_p95"]),
                "p_value": r.p_value,
                "p_holm": r.p_holm,
                "verdict": r.verdict,
            }
        )
    return pd.DataFrame(rows)


def _backtest_frame(results: ReportResults) -> pd.DataFrame:
    bt = results.backtests
    if not available(bt):
        return pd.DataFrame()
    out: list[dict[str, object]] = []
    seen: set[str] = set()

    def add(m: Metrics, kind: str) -> None:
        out.append(
            {
                "rule": m.name,
                "kind": kind,
                "start": m.start,
                "end": m.end,
                "cagr": m.cagr,
                "volatility": m.volatility,
                "sharpe": m.sharpe,
                "max_drawdown": m.max_drawdown,
                "exposure": m.exposure,
                "trades": m.n_trades,
                "hit_rate": m.hit_rate,
            }
        )

    for res in bt.results:
        for m in (res.metrics, *res.benchmarks):
            if m.name not in seen:
                seen.add(m.name)
                add(m, "in sample, fixed rule")
    wf = bt.walk_forward
    if available(wf):
        add(wf.metrics, "out of sample")
        for m in wf.benchmarks:
            add(m, "same out-of-sample days")
    return pd.DataFrame(out)


def table_data(results: ReportResults) -> dict[str, pd.DataFrame]:
    """The numbers behind each table of the page, by the table's id.

    The evidence's own frames for the verdict tables (``claims``, ``claim-tests``,
    ``per-event``: the same numbers as the embedded evidence JSON), the event-study and
    backtest metrics unformatted, the series and the parameters. A table without an
    entry (the theses) downloads the text it shows.
    """
    from liqflow.report._params import parameter_frame

    out: dict[str, pd.DataFrame] = {}
    ev = results.evidence
    if available(ev):
        out["claims"] = ev.claims
        out["claim-tests"] = ev.tests
    es = results.event_study
    if available(es):
        out["event-study"] = _event_frame(results)
        out["per-event"] = es.per_event
    if available(results.backtests):
        out["backtests"] = _backtest_frame(results)
    out["series"] = pd.DataFrame([dataclasses.asdict(s) for s in results.series])
    out["parameters"] = parameter_frame(results)
    return out


def render_html(results: ReportResults, theses: Theses, charts: tuple[Chart, ...]) -> str:
    """The whole page as a string (deterministic: no timestamps)."""
    from liqflow import __version__
    from liqflow.report._params import parameter_rows

    cols, per_event = _per_event(results)
    es = results.event_study
    context = {
        "version": __version__,
        "as_of": fmt_date(results.as_of),
        "outlook": _outlook(theses.outlook),
        "counts": _summary_counts(theses),
        "theses": _theses_rows(theses),
        "charts": _chart_rows(charts),
        "event_rows": _event_rows(results),
        "event_note": (
            f"{round(es.confidence * 100)}% stationary-bootstrap intervals; placebo p-values "
            f"({es.alternative}, {es.n_placebo} draws); Holm-adjusted p and verdicts from the "
            "run's one family of tests (see the verdicts below)"
            + (" (from cache)" if results.cached.get("evidence") else "")
        )
        if available(es)
        else (es.summary() if isinstance(es, Unavailable) else ""),
        "per_event_cols": cols,
        "per_event": per_event,
        "backtest_rows": _backtest_rows(results),
        "walk_forward_note": _walk_forward_note(results),
        "claims": _claims(results),
        "evidence_json": _evidence_json(results),
        "backtest_missing": results.backtests.summary()
        if isinstance(results.backtests, Unavailable)
        else "",
        "series": _series_rows(results),
        "caveats": caveats(results),
        "missing": [m.summary() for m in results.missing()],
        "stale": _stale(results),
        "alpha": results.config.alpha,
        "seed": results.config.seed,
        "plotly_js": _plotly_js(),
        "n_charts": int(np.sum([c.available for c in charts])),
        "tables": {k: table_json(v) for k, v in table_data(results).items()},
        "params": [dataclasses.asdict(r) for r in parameter_rows(results)],
        "unknown_color": UNKNOWN_COLOR,
        "stage_colors": STAGE_COLORS,
    }
    return _environment().get_template("report.html.j2").render(**context)
