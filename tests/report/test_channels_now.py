"""The channel theses: judged once in the library, the same in the report and `study --json`."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.report import build_report
from liqflow.store import Batch, Store

from .conftest import END, FAST, LIGHT, synthetic_batches
from .test_browser import check_page

_EMBEDDED = re.compile(
    r'<script type="application/json" id="liqflow-evidence">(.*?)</script>', re.DOTALL
)
DRAWS = 600  # Holm over the 13 chain tests and the 16 channel tests needs 580


def channel_batches() -> list[Batch]:
    """DTS TGA, Fed MBS, spot-ETF flows, BTC funding and CME positions for the synthetic
    market (the ETF flows and funding start late, as the real ones do)."""
    rng = np.random.default_rng(11)
    days = pd.date_range("2016-01-01", END, freq="D", name="date")
    bdays = days[days.day_of_week < 5]
    weds = days[days.day_of_week == 2]
    tues = days[days.day_of_week == 1]
    flows_days = bdays[bdays >= "2021-01-11"]
    funding_days = days[days >= "2019-09-10"]
    frames = {
        ("tga_daily", "treasury"): pd.DataFrame(
            {"value": 4e5 + np.cumsum(rng.normal(0, 1e4, len(bdays)))}, index=bdays
        ),
        ("fed_mbs", "fred"): pd.DataFrame(
            {"value": 1.7e6 + np.cumsum(rng.normal(0, 5e3, len(weds)))}, index=weds
        ),
        ("etf_flows", "farside"): pd.DataFrame(
            {"value": rng.normal(100, 300, len(flows_days))}, index=flows_days
        ),
        ("btc_funding", "ccxt:binance"): pd.DataFrame(
            {"funding_rate": 3e-4 + 2e-4 * np.sin(np.arange(len(funding_days)) / 40)},
            index=funding_days,
        ),
        ("cftc_btc", "cftc"): pd.DataFrame(
            {
                "lev_net": np.cumsum(rng.normal(0, 300, len(tues))) - 2000,
                "open_interest": 1e4 + np.cumsum(rng.normal(0, 200, len(tues))).clip(-5e3),
            },
            index=tues,
        ),
    }
    cat = default_catalog()
    return [
        Batch(sid, src, f, cat[sid].symbol, cat[sid].unit, cat[sid].frequency, "synthetic")
        for (sid, src), f in frames.items()
    ]


@pytest.fixture(scope="module")
def channel_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("channels") / "store.duckdb"
    with Store(path) as st:
        st.write(synthetic_batches())
        st.write(channel_batches())
    return path


def test_report_theses_and_study_json_tell_the_same_channels(channel_store: Path) -> None:
    cfg = replace(FAST, draws=DRAWS, walk_forward=False)
    with Store(channel_store, read_only=True) as st:
        rep = build_report(st, config=cfg)
    out = CliRunner().invoke(
        app, ["study", "--store", str(channel_store), "--draws", str(DRAWS), "--json"]
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    match = _EMBEDDED.search(rep.html)
    assert match is not None
    assert json.loads(match.group(1)) == printed
    now = printed["channels_now"]
    assert now["as_of"] == printed["as_of"] == f"{rep.as_of:%Y-%m-%d}"
    theses = {t.key: t for t in rep.theses.theses}
    page = html.unescape(rep.html)
    for t in now["theses"]:
        shown = theses[t["key"]]
        assert shown.status == t["verdict"] and shown.why == t["why"]
        assert t["claim"] in page
        assert [r.label for r in shown.readings] == [r["label"] for r in t["readings"]]
    # the inputs are there: each thesis has a known condition, none is unknown
    assert all(t["verdict"] != "unknown" for t in now["theses"])
    # the channel lead tests ran through the one family, the short ETF history did not
    tests = {t["test_id"]: t for t in printed["tests"]}
    tga = tests["tga_lead/lead_lag:tga_drawdown->btc"]
    assert tga["p_holm"] is not None and tga["verdict"] != "unknown"
    etf = tests["etf_lead/granger:etf_net_flows=>btc"]
    assert etf["verdict"] == "unknown" and "n too small" in etf["note"] and etf["p_value"] is None


def test_channel_charts_plot_the_signals(channel_store: Path) -> None:
    cfg = replace(FAST, claims=False, walk_forward=False)
    with Store(channel_store, read_only=True) as st:
        rep = build_report(st, config=cfg)
    charts = {c.key: c for c in rep.charts}
    frame = rep.results.signals.frame
    for key in ("tga_daily", "etf_flows", "funding"):
        assert charts[key].available and charts[key].spec is not None, charts[key].missing
    tga = json.loads(charts["tga_daily"].spec)
    marks = next(t for t in tga["data"] if t["name"] == "April 15 (tax day)")
    assert marks["x"] and all(d[5:] == "04-15" for d in marks["x"])
    funding = json.loads(charts["funding"].spec)
    assert [t.get("fill") for t in funding["data"]][:2] == [None, "tonexty"]
    # the band is the signals' trailing quantiles: the median lies inside it
    band = frame[["market.funding_q10", "market.funding_median", "market.funding_q90"]].dropna()
    assert len(band) and (band.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert "tga_daily" in rep.html and "funding" in rep.html


def test_charts_say_why_without_the_channel_data(synthetic_report: object) -> None:
    charts = {c.key: c for c in synthetic_report.charts}  # type: ignore[attr-defined]
    assert not charts["tga_daily"].available and "tga_daily" in charts["tga_daily"].missing
    assert not charts["funding"].available and "btc_funding" in charts["funding"].missing


def test_channel_charts_render_in_a_browser(channel_store: Path, tmp_path: Path) -> None:
    with Store(channel_store, read_only=True) as st:
        report = build_report(st, config=replace(LIGHT, claims=False))
    assert all(c.available for c in report.charts if c.key in ("tga_daily", "etf_flows", "funding"))
    status = check_page(report, report.write(tmp_path / "report.html"), tmp_path / "profile")
    assert {"tga_daily", "etf_flows", "funding"} <= set(status["charts"])
