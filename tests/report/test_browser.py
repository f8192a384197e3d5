"""The page in headless Chromium: no console errors, every chart drawn, a row per thesis.

The page's own boot script records errors (``window.onerror``, unhandled rejections,
``console.error``) and, for every figure, the traces plotly.js drew and their points;
it writes that as JSON into the hidden ``#liqflow-status`` element, which Chromium's
``--dump-dom`` returns after the scripts ran. Skipped when Chromium is not installed.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from liqflow.catalog import default_catalog
from liqflow.report import Report, build_report
from liqflow.store import Store

from .conftest import LIGHT, render_in_chromium

PAYLOAD = '<script>console.error("pwned")</script><img src=x onerror="console.error(1)">'


class _Rows(HTMLParser):
    """Thesis rows of the dumped DOM: key -> number of ``li.number`` items."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, int] = {}
        self._key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "thesis" in (a.get("class") or "").split():
            self._key = a.get("data-key") or ""
            self.rows[self._key] = 0
        elif tag == "li" and self._key is not None and "number" in (a.get("class") or "").split():
            self.rows[self._key] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._key = None


def page_status(dom: str) -> dict[str, Any]:
    found = re.search(r'<pre id="liqflow-status"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    assert found, "the page never wrote its status (boot script did not run)"
    return json.loads(found.group(1))


def check_page(report: Report, page: Path, profile: Path) -> dict[str, Any]:
    """Render ``page`` and check it; returns the status for further checks."""
    dom = render_in_chromium(page, profile)
    status = page_status(dom)
    assert status["done"] is True
    assert status["errors"] == [], status["errors"]
    drawn = [c.key for c in report.charts if c.available]
    assert sorted(status["charts"]) == sorted(drawn)
    assert status["expected_charts"] == len(drawn)
    for key, chart in status["charts"].items():
        assert chart["traces_with_data"] >= 1 and chart["points"] > 0, (key, chart)
        assert chart["drawn"] >= 1, (key, chart)
    rows = _Rows()
    rows.feed(dom)
    assert list(rows.rows) == [t.key for t in report.theses.theses]
    for t in report.theses.theses:
        if t.status != "unknown":
            assert rows.rows[t.key] == len(t.numbers()) >= 1, t.key
    return status


def test_synthetic_page_renders_without_errors(synthetic_path: Path, tmp_path: Path) -> None:
    cat = default_catalog()
    evil = cat.merged([replace(cat["btc"], description=f"BTC {PAYLOAD}")])
    with Store(synthetic_path, read_only=True) as st:
        report = build_report(st, catalog=evil, config=LIGHT)
    # every chart is drawn but the channels' (the synthetic market has no DTS, ETF or
    # funding data; tests/report/test_channels_now.py renders them on a store that has)
    channel_keys = {"tga_daily", "etf_flows", "funding"}
    assert all(c.available for c in report.charts if c.key not in channel_keys)
    page = report.write(tmp_path / "report.html")
    check_page(report, page, tmp_path / "profile")  # the payload would log "pwned"
