"""The whole report on synthetic stores: point in time, escaping, missing parts, cache."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.catalog import default_catalog
from liqflow.report import Report, build_report, render_html
from liqflow.report.build import report_ids
from liqflow.report.charts import weekly
from liqflow.report.html import table_data
from liqflow.store import Store

from .conftest import FAST, LIGHT, fill_store

AS_OF = "2021-01-15"
PAYLOAD = '</script><script>console.error("pwned")</script><img src=x onerror="console.error(1)">'


def test_every_part_is_available(synthetic_report: Report) -> None:
    res = synthetic_report.results
    assert res.missing() == ()
    # the synthetic market has no DTS, ETF or funding data (tests/report/test_channels_now.py
    # draws those charts on a store that has)
    channel_keys = {"tga_daily", "etf_flows", "funding"}
    assert all(c.available for c in synthetic_report.charts if c.key not in channel_keys), [
        c.missing for c in synthetic_report.charts
    ]
    assert [t.name for t in res.timings] == [
        "panel",
        "signals",
        "statistics",
        "backtest",
        "rendering",
    ]
    assert res.backtests.walk_forward.metrics.n_obs > 0
    assert len(synthetic_report.html) < 15e6


def test_report_reads_only_the_series_it_uses() -> None:
    cat = default_catalog()
    ids = report_ids(cat)
    assert {"small_caps", "small_caps_volume", "large_caps", "btc", "hy_spread", "eth"} <= set(ids)
    assert not {"spy", "qqq", "vix", "hyg", "m2"} & set(ids)


def test_html_is_deterministic(synthetic_report: Report) -> None:
    again = render_html(synthetic_report.results, synthetic_report.theses, synthetic_report.charts)
    assert again == synthetic_report.html
    assert not re.search(r"generated (at|on)", synthetic_report.html, re.IGNORECASE)


def _without_store_ranges(page: str) -> str:
    """The page without the store's snapshot (its data range per series, in the
    parameters table and the series table's data)."""
    page = re.sub(r"stored \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}", "stored (range)", page)
    return re.sub(
        r'<script type="application/json" id="table-data-(?:series|parameters)".*?</script>',
        "",
        page,
        flags=re.DOTALL,
    )


def test_as_of_equals_the_report_of_data_truncated_then(synthetic_path: Path) -> None:
    """--as-of uses only data public then: same theses, numbers and page as truncated data."""
    with Store(synthetic_path, read_only=True) as full:
        a = build_report(full, as_of=AS_OF, config=FAST)
    with Store(":memory:") as cut:
        fill_store(cut, end=AS_OF)
        b = build_report(cut, as_of=AS_OF, config=FAST)
    assert a.as_of == b.as_of == pd.Timestamp(AS_OF)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.results.event_study.stats, b.results.event_study.stats)
    assert [s.updates for s in a.results.series] == [s.updates for s in b.results.series]
    # the same page, but for the provenance: the range of dates each store holds
    assert _without_store_ranges(a.html) == _without_store_ranges(b.html)
    last_a = [s.stored_last for s in a.results.series if s.stored_last is not None]
    last_b = [s.stored_last for s in b.results.series if s.stored_last is not None]
    assert len(last_a) == len(last_b) == len(a.results.series)
    assert max(last_a) > pd.Timestamp(AS_OF) >= max(last_b)
    # and it differs from the full-history report (the data after AS_OF is not seen)
    with Store(synthetic_path, read_only=True) as full:
        later = build_report(full, config=LIGHT)
    assert later.as_of > a.as_of


def test_data_derived_text_is_escaped() -> None:
    cat = default_catalog()
    spec = replace(cat["small_caps"], description=f"Russell {PAYLOAD}")
    evil = cat.merged([spec])
    with Store(":memory:") as st:
        fill_store(st)
        rep = build_report(st, catalog=evil, config=LIGHT)
    page = rep.html
    assert PAYLOAD not in page
    assert "console.error(&#34;pwned&#34;)" in page or "console.error(&quot;pwned&quot;)" in page
    assert "&lt;/script&gt;&lt;script&gt;" in page
    # script elements: the error capture, one JSON spec per chart, one JSON block per
    # table's data, plotly.js, the boot script and the evidence JSON
    n_blocks = sum(c.available for c in rep.charts) + len(table_data(rep.results))
    assert page.count("<script") == 4 + n_blocks
    assert page.count("</script>") == 4 + n_blocks
    assert "<img" not in page


def test_switched_off_evidence_is_stated_not_invented(synthetic_path: Path) -> None:
    with Store(synthetic_path, read_only=True) as st:
        rep = build_report(st, config=replace(LIGHT, claims=False))
    missing = {m.part: m.reason for m in rep.results.missing()}
    assert missing["evidence"] == "switched off in the report's configuration"
    lead = next(t for t in rep.theses.theses if t.key == "lead")
    assert lead.status == "unknown" and lead.why.startswith("not available: evidence")
    chart = next(c for c in rep.charts if c.key == "lead_lag")
    assert chart.spec is None and chart.missing.startswith("not available: evidence")
    assert "not available: evidence (switched off" in rep.html
    assert '<script type="application/json" id="liqflow-evidence">null</script>' in rep.html
    wf = rep.results.backtests.walk_forward
    assert (
        wf.summary() == "not available: walk-forward (switched off in the report's configuration)"
    )


def test_heavy_statistics_come_from_the_cache_the_second_time(
    synthetic_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "store.duckdb"
    shutil.copy(synthetic_path, path)
    cfg = replace(FAST, use_cache=True, n_placebo=50, n_boot=50)
    with Store(path) as st:
        first = build_report(st, as_of=AS_OF, config=cfg)
        second = build_report(st, as_of=AS_OF, config=cfg)
    assert not any(first.results.cached.values())
    assert all(second.results.cached.values()), second.results.cached
    pd.testing.assert_frame_equal(
        first.to_frame().drop(columns="basis"), second.to_frame().drop(columns="basis")
    )
    basis = second.to_frame()["basis"]
    assert basis["breakouts_lead_crypto"] == "evidence (from cache)"
    assert "(from cache)" in second.html and "(from cache)" not in first.html
    # outside the cache notes, the two pages are the same
    strip = lambda s: s.replace(" (from cache)", "")  # noqa: E731
    no_note = re.sub(r"<li>Read from the store&#39;s cache[^<]*</li>\n?", "", second.html)
    assert strip(no_note) == strip(first.html)


def test_an_empty_store_is_a_clear_error() -> None:
    with (
        Store(":memory:") as st,
        pytest.raises(DataError, match="the store holds no data; run `liqflow import DIR`"),
    ):
        build_report(st)


def test_a_date_before_the_data_is_a_clear_error(synthetic_path: Path) -> None:
    with (
        Store(synthetic_path, read_only=True) as st,
        pytest.raises(DataError, match="no data public on or before 2001-01-01"),
    ):
        build_report(st, as_of="2001-01-01", config=FAST)


def test_weekly_points_equal_pandas_resample() -> None:
    idx = pd.date_range("2010-01-01", "2024-06-30", freq="B", name="date")
    s = pd.Series(np.arange(len(idx), dtype=np.float64) ** 1.5, index=idx)
    last = weekly(s)
    ref = s.resample("W-FRI").last().dropna()  # the pandas oracle, labelled by week end
    np.testing.assert_array_equal(last.to_numpy(), ref.to_numpy())
    assert (last.index <= ref.index).all() and ((ref.index - last.index).days < 7).all()
    mean = weekly(s, "mean")
    np.testing.assert_allclose(mean.to_numpy(), s.resample("W-FRI").mean().dropna().to_numpy())
    assert len(s) > 1500 and len(last) < len(s) / 4
    short = s.iloc[:100]
    pd.testing.assert_series_equal(weekly(short), short)
