"""The report on the real data in ../shared/data: complete, small, drawn in Chromium."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from liqflow.catalog import default_catalog
from liqflow.importer import import_paths
from liqflow.report import Report, build_report
from liqflow.store import Store

from .conftest import FAST, check_fits, render_at_width
from .test_browser import check_page

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real_report(real_chain_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Report:
    path = tmp_path_factory.mktemp("real") / "store.duckdb"
    with Store(path) as st:
        import_paths(st, default_catalog(), real_chain_files)
        return build_report(st, config=replace(FAST, walk_forward=True, wf_hold_days=(30, 60)))


def test_real_report_is_complete(real_report: Report) -> None:
    res = real_report.results
    assert res.missing() == (), [m.summary() for m in res.missing()]
    # the chain's files hold no DTS, ETF or funding data: those charts say which input
    # is missing (tests/report/test_channels_now.py draws them on a store that has it)
    channel = {"tga_daily": "tga_daily", "etf_flows": "etf_flows", "funding": "btc_funding"}
    others = [c for c in real_report.charts if c.key not in channel]
    assert all(c.available for c in others), [c.missing for c in others]
    for c in real_report.charts:
        if c.key in channel and not c.available:
            assert channel[c.key] in c.missing, c.missing
    dates = [e.date for e in res.signals.breakouts.events]
    for day in ("2016-11-14", "2020-11-13", "2025-09-18"):  # known ^RUT all-time-high breakouts
        assert pd.Timestamp(day) in dates
    es = res.event_study.stats
    assert int(es.loc[("btc", 90), "n_events"]) >= 5
    # series that stopped updating are flagged, not carried forward silently
    stale = {s.id for s in res.series if s.stale_days is not None and s.stale_days > 21}
    assert "xrp" in stale
    assert "Stale on the report date" in real_report.html


def test_real_page_is_small_and_renders_offline(real_report: Report, tmp_path: Path) -> None:
    page = real_report.write(tmp_path / "report.html")
    assert page.stat().st_size < 15e6
    html = page.read_text(encoding="utf-8")
    # nothing is loaded from elsewhere: plotly.js is inline, no external script or style
    assert "<script src=" not in html and "<link " not in html
    assert html.count("plotly.js v") >= 1
    check_page(real_report, page, tmp_path / "profile")


@pytest.mark.parametrize("width", [420, 1400])
def test_real_page_fits_a_phone_and_a_wide_screen(
    real_report: Report, tmp_path: Path, width: int
) -> None:
    """No horizontal overflow, every chart with data, the stage ribbon under the prices;
    the screenshot is saved and its path printed."""
    page = real_report.write(tmp_path / "report.html")
    shot = tmp_path / f"real-report-{width}px.png"
    status = render_at_width(page, width, tmp_path / "profile", shot)
    print(f"screenshot of the real-data report at {width} px: {shot}")
    check_fits(real_report, status, width)
