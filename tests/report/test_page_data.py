"""The data embedded in the page: each table's numbers, each chart's points, the
parameters table, the default window of the time charts and the stage ribbon.

The browser side (the CSV each link downloads, built from these blocks) is checked in
``test_browser.py``; here the blocks themselves are compared with the evidence JSON, the
rendered cells and the results they come from.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from liqflow.report import Report
from liqflow.report._figure import DEFAULT_START, chart_frame
from liqflow.report._format import fmt_pct
from liqflow.report._params import PACKAGES, parameter_rows
from liqflow.report.charts import _ribbon
from liqflow.study.evidence import TEST_COLUMNS


def _block(page: str, element_id: str) -> Any:
    found = re.search(
        rf'<script type="application/json" id="{re.escape(element_id)}"[^>]*>(.*?)</script>',
        page,
        re.DOTALL,
    )
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


def _table(page: str, key: str) -> list[dict[str, Any]]:
    doc = _block(page, f"table-data-{key}")
    return [dict(zip(doc["columns"], row, strict=True)) for row in doc["rows"]]


def test_verdict_tables_hold_the_embedded_evidence(synthetic_report: Report) -> None:
    """The claims, tests and per-event downloads are the evidence document's own rows."""
    page = synthetic_report.html
    evidence = _block(page, "liqflow-evidence")
    tests = _table(page, "claim-tests")
    assert list(tests[0]) == list(TEST_COLUMNS)
    assert len(tests) == len(evidence["tests"]) > 0
    for mine, theirs in zip(tests, evidence["tests"], strict=True):
        for col in TEST_COLUMNS:
            assert mine[col] == theirs[col], (col, mine[col], theirs[col])
    assert _table(page, "claims") == evidence["claims"]
    per_event = _table(page, "per-event")
    assert len(per_event) == len(evidence["events"]) > 0
    for mine, theirs in zip(per_event, evidence["events"], strict=True):
        assert {k: mine[k] for k in theirs} == theirs


def test_event_study_download_is_what_the_table_shows(synthetic_report: Report) -> None:
    page = synthetic_report.html
    rows = _table(page, "event-study")
    body = re.search(r'<table id="event-study">.*?<tbody>(.*?)</tbody>', page, re.DOTALL)
    assert body and rows
    cells = [
        re.findall(r"<td[^>]*>(.*?)</td>", tr)
        for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1))
    ]
    assert len(cells) == len(rows)
    tests = {
        (r["target"], r["horizon"]): r
        for r in _block(page, "liqflow-evidence")["tests"]
        if r["kind"] == "event"
    }
    for shown, row in zip(cells, rows, strict=True):
        assert shown[0] == row["target"] and shown[1] == f"+{row['horizon_days']}d"
        assert shown[2] == str(row["n_events"])
        assert shown[3] == fmt_pct(row["mean"]) and shown[5] == fmt_pct(row["excess"])
        ev = tests[(row["target"], row["horizon_days"])]
        assert row["excess"] == ev["effect"] and row["p_holm"] == ev["p_holm"]
        assert row["ci_low"] == ev["ci_low"] and row["verdict"] == ev["verdict"]


def test_chart_data_is_every_point_drawn(synthetic_report: Report) -> None:
    """A chart's rows are its traces' points, decoded from the float32 arrays it draws."""
    for chart in synthetic_report.charts:
        if not chart.available:
            continue
        frame = chart.to_frame()
        fig = json.loads(chart.spec or "{}")
        assert list(frame.columns) == ["trace", "x", "y", "z"]
        expected = 0
        for trace in fig["data"]:
            if trace["type"] == "heatmap":
                expected += len(trace["x"]) * len(trace["y"])
            else:
                n = trace["x"] if isinstance(trace["x"], list) else None
                expected += len(n) if n is not None else _n_typed(trace["y"])
        assert len(frame) == expected, chart.key
        assert frame["y"].notna().any() or frame["z"].notna().any(), chart.key


def _n_typed(a: dict[str, str]) -> int:
    import base64

    return len(base64.b64decode(a["bdata"])) // 4


def test_net_liquidity_rows_are_the_weekly_points(synthetic_report: Report) -> None:
    """The numbers of the download are the plotted ones (float32, as plotly.js draws)."""
    from liqflow.report._figure import weekly

    chart = next(c for c in synthetic_report.charts if c.key == "net_liquidity")
    frame = chart.to_frame()
    net = weekly(synthetic_report.results.signals.frame["liquidity.net_liquidity"] / 1e6)
    rows = frame[frame["trace"] == "net liquidity (USD tn)"]
    assert list(rows["x"]) == [f"{d:%Y-%m-%d}" for d in net.index]
    np.testing.assert_array_equal(
        rows["y"].to_numpy(dtype=np.float64), net.to_numpy().astype(np.float32).astype(np.float64)
    )


def test_time_charts_open_from_2014_with_their_whole_span(synthetic_report: Report) -> None:
    dated = 0
    for chart in synthetic_report.charts:
        if not chart.available:
            continue
        fig = json.loads(chart.spec or "{}")
        if fig["layout"].get("xaxis", {}).get("type") != "date":
            assert "window" not in fig, chart.key
            continue
        dated += 1
        win = fig["window"]
        xs = [x for t in fig["data"] if isinstance(t.get("x"), list) for x in t["x"]]
        assert win["first"] == min(xs) and win["last"] == max(xs), chart.key
        assert win["start"] == max(win["first"], DEFAULT_START)
        assert fig["layout"]["xaxis"]["range"] == [win["start"], win["last"]]
    assert dated >= 6


def test_ribbon_marks_unknown_stages_apart(synthetic_report: Report) -> None:
    """-1 where a stage (or the current stage) is unknown, 0 off, the stage when on."""
    sig = synthetic_report.results.signals
    z = _ribbon(sig)
    assert z is not None
    frame = sig.stages.frame.loc[z.index]
    for r in sig.stages.config.rules:
        col = next(c for c in z.columns if c.startswith(f"{r.stage} "))
        known = frame[f"stage{r.stage}_known"].astype(bool)
        assert (z.loc[~known, col] == -1).all()
        on = frame[f"stage{r.stage}_on"].astype(bool)
        assert (z.loc[known & on, col] == r.stage).all()
        assert (z.loc[known & ~on, col] == 0).all()
    assert set(np.unique(z.to_numpy())) <= {-1.0, 0.0, 1.0, 2.0, 3.0, 4.0}
    chart = next(c for c in synthetic_report.charts if c.key == "stages")
    fig = json.loads(chart.spec or "{}")
    assert [t["type"] for t in fig["data"]].count("heatmap") == 1
    assert {t["name"] for t in fig["data"] if t["type"] == "scatter"} >= {"unknown", "off"}


def test_parameters_table_lists_every_setting(synthetic_report: Report) -> None:
    res = synthetic_report.results
    rows = parameter_rows(res)
    table = {(r.group, r.name): r.value for r in rows}
    cfg = res.signals.config
    for block in fields(cfg):
        sub = getattr(cfg, block.name)
        if not hasattr(sub, "__dataclass_fields__"):
            continue
        for f in fields(sub):
            if f.name != "rules":
                assert (f"signals.{block.name}", f.name) in table, (block.name, f.name)
    for spec in res.signals.stages.specs:
        assert table[("stages.flags", spec.name)] == f"{spec.column} {spec.op} {spec.threshold:g}"
    ev = res.evidence
    assert table[("evidence", "seed")] == str(ev.seed)
    assert table[("evidence", "data hash")] == ev.data_hash
    assert {n for g, n in table if g == "packages"} == set(PACKAGES)
    assert table[("packages", "numpy")] == np.__version__
    for s in res.series:
        assert table[("data", s.id)].startswith(
            f"stored {s.stored_first:%Y-%m-%d} to {s.stored_last:%Y-%m-%d}"
        )
    assert _table(synthetic_report.html, "parameters") == [
        {"group": r.group, "name": r.name, "value": r.value} for r in rows
    ]


@pytest.mark.parametrize("key", ["theses", "claims", "claim-tests", "series", "parameters"])
def test_every_table_has_a_download_link(synthetic_report: Report, key: str) -> None:
    page = synthetic_report.html
    assert f'data-download="table" data-key="{key}"' in page
    assert f'<table id="{key}"' in page


def test_every_chart_has_a_download_link(synthetic_report: Report) -> None:
    for chart in synthetic_report.charts:
        if chart.available:
            assert f'data-download="chart" data-key="{chart.key}"' in synthetic_report.html


def test_table_json_writes_nan_as_null() -> None:
    from liqflow.report.html import table_json

    doc = json.loads(
        table_json(pd.DataFrame({"a": [1.5, np.nan], "d": pd.to_datetime(["2020-01-02", None])}))
    )
    assert doc == {"columns": ["a", "d"], "rows": [[1.5, "2020-01-02"], [None, None]]}


def test_chart_frame_of_a_small_figure() -> None:
    from liqflow.report._figure import arr, arr2d, figure_json

    spec = figure_json(
        [
            {
                "type": "scatter",
                "x": ["2020-01-01", "2020-01-02"],
                "y": arr([1.0, np.nan]),
                "name": "a &amp; b",
            },
            {
                "type": "heatmap",
                "x": ["2020-01-01"],
                "y": ["r1", "r2"],
                "z": arr2d(np.array([[1.0], [2.0]])),
            },
        ],
        {"xaxis": {"type": "date"}},
    )
    frame = chart_frame(spec)
    assert frame["trace"].tolist() == ["a & b", "a & b", "trace 2", "trace 2"]
    assert frame["y"].tolist()[:1] == [1.0] and math.isnan(frame["y"].tolist()[1])
    assert frame["y"].tolist()[2:] == ["r1", "r2"]
    assert frame["z"].tolist()[2:] == [1.0, 2.0]


def test_the_current_stage_reads_as_every_command_prints_it(synthetic_report: Report) -> None:
    """A known stage shows its number and name; an unknown one shows "unknown" and the
    stage line every command prints (why, and the last confirmed stage), never a number
    beside "unknown"."""
    import dataclasses
    import html

    from liqflow.report.html import render_html
    from liqflow.signals.outlook import StageOutlook

    outlook = synthetic_report.theses.outlook
    assert isinstance(outlook, StageOutlook)
    known = dataclasses.replace(outlook, known=True, name="small caps", stage=3)
    unknown = dataclasses.replace(
        outlook, known=False, name="unknown", label="stage unknown (<inputs> stale) & more"
    )
    pages = {}
    for key, o in (("known", known), ("unknown", unknown)):
        theses = dataclasses.replace(synthetic_report.theses, outlook=o)
        pages[key] = render_html(synthetic_report.results, theses, synthetic_report.charts)
    big = re.compile(r'id="current-stage">([^<]*)<')
    assert big.findall(pages["known"]) == ["3: small caps"]
    assert big.findall(pages["unknown"]) == ["unknown"]
    why = f"as of {outlook.as_of:%Y-%m-%d}: {html.escape(unknown.label, quote=False)}"
    assert why in pages["unknown"].replace("&#34;", '"')  # the label, escaped as text
    assert "<inputs>" not in pages["unknown"]
