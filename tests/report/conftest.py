"""Synthetic stores for the report tests (no network, no real data).

The synthetic market runs from 2014 to 2021: Fed liquidity (weekly), HY/IG spreads and
the two equity indexes on business days, IWM volume with a planted surge on the
Russell 2000's all-time-high breakouts, BTC and six altcoins listed on different days
(so the Altcoin Season Index has at least five coins from 2017). Every draw comes from
a fixed seed, so the data (and the report built from it) is the same on every run.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow.catalog import default_catalog
from liqflow.report import Report, ReportConfig, build_report
from liqflow.store import Batch, Store

START, END = "2014-01-01", "2021-12-31"
ALTS = {
    "eth": "2015-08-07",
    "xrp": "2015-01-21",
    "ltc": "2014-01-01",
    "ada": "2017-10-01",
    "doge": "2014-06-01",
    "bnb": "2017-07-25",
}

#: Fast settings: few draws (the evidence needs 260 to pass Holm over its 13 tests), a
#: one-rule walk-forward.
FAST = ReportConfig(
    n_placebo=200,
    n_boot=200,
    draws=260,
    wf_hold_days=(60,),
    wf_min_stage=(3,),
    wf_volume=(1.2,),
    use_cache=False,
)
#: Lighter still, for tests about plumbing rather than statistics: no walk-forward, few
#: draws for the event-path band (the evidence keeps the fewest draws Holm allows).
LIGHT = replace(FAST, walk_forward=False, n_placebo=50, n_boot=50)


def _walk(rng: np.random.Generator, n: int, drift: float, vol: float, start: float) -> np.ndarray:
    return start * np.exp(np.cumsum(rng.normal(drift, vol, n)))


def synthetic_batches(end: str | None = None) -> list[Batch]:
    """Observations of the synthetic market, dated up to ``end`` (default: all)."""
    rng = np.random.default_rng(20161114)
    days = pd.date_range(START, END, freq="D", name="date")
    bdays = days[days.day_of_week < 5]
    weds = days[days.day_of_week == 2]
    market = rng.normal(0.0004, 0.01, len(bdays))
    large = 1800 * np.exp(np.cumsum(market))
    small = 1100 * np.exp(np.cumsum(1.2 * market + rng.normal(0.0001, 0.006, len(bdays))))
    high = np.maximum.accumulate(small)
    new_high = np.r_[False, small[1:] > high[:-1]]
    volume = rng.lognormal(np.log(3e7), 0.25, len(bdays)) * np.where(new_high, 1.8, 1.0)
    net = np.cumsum(rng.normal(2e3, 4e4, len(weds)))
    frames: dict[tuple[str, str], pd.DataFrame] = {
        ("fed_assets", "fred"): pd.DataFrame({"value": 4.4e6 + net}, index=weds),
        ("tga", "fred"): pd.DataFrame(
            {"value": 3e5 + np.cumsum(rng.normal(0, 2e4, len(weds))).clip(-2e5)}, index=weds
        ),
        ("rrp", "fred"): pd.DataFrame(
            {"value": np.abs(100 + np.cumsum(rng.normal(0, 8, len(bdays))))}, index=bdays
        ),
        ("hy_spread", "fred"): pd.DataFrame(
            {"value": np.abs(4 + np.cumsum(rng.normal(0, 0.04, len(bdays))))}, index=bdays
        ),
        ("ig_spread", "fred"): pd.DataFrame(
            {"value": np.abs(1.3 + np.cumsum(rng.normal(0, 0.015, len(bdays))))}, index=bdays
        ),
        ("large_caps", "yahoo"): pd.DataFrame({"close": large}, index=bdays),
        ("small_caps", "yahoo"): pd.DataFrame({"close": small}, index=bdays),
        ("small_caps_volume", "yahoo"): pd.DataFrame(
            {"volume": volume, "close": small / 10}, index=bdays
        ),
        ("btc", "yahoo"): pd.DataFrame(
            {"close": _walk(rng, len(days), 0.0015, 0.04, 500.0)}, index=days
        ),
    }
    for coin, listed in ALTS.items():
        idx = days[days >= pd.Timestamp(listed)]
        frames[(coin, "yahoo")] = pd.DataFrame(
            {"close": _walk(rng, len(idx), 0.0015, 0.06, 1.0)}, index=idx
        )
    cat = default_catalog()
    out = []
    for (sid, source), frame in frames.items():
        if end is not None:
            frame = frame.loc[: pd.Timestamp(end)]
        spec = cat[sid]
        out.append(Batch(sid, source, frame, spec.symbol, spec.unit, spec.frequency, "synthetic"))
    return out


def fill_store(store: Store, end: str | None = None) -> Store:
    store.write(synthetic_batches(end))
    return store


@pytest.fixture(scope="session")
def synthetic_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the whole synthetic market (do not write to it)."""
    path = tmp_path_factory.mktemp("synthetic") / "store.duckdb"
    with Store(path) as st:
        fill_store(st)
    return path


def chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def render_in_chromium(page: Path, profile: Path, budget_ms: int = 20000) -> str:
    """The DOM of ``page`` after headless Chromium ran its scripts (network-quiet flags)."""
    exe = chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not done.stdout:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


_HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>liqflow report at {width} px</title></head>
<body style="margin:0;background:#fff">
<iframe id="page" src="{src}" style="border:0;display:block;width:{width}px;height:{height}px"></iframe>
<pre id="harness-status" hidden></pre>
<script>
function poll() {{
  var out = document.getElementById("harness-status"), doc;
  try {{ doc = document.getElementById("page").contentDocument; }}
  catch (e) {{ out.textContent = "harness: " + e; return; }}
  var st = doc && doc.getElementById("liqflow-status");
  if (st && st.textContent) {{ out.textContent = st.textContent; return; }}
  setTimeout(poll, 50);
}}
poll();
</script>
</body></html>
"""


def _chromium_cmd(profile: Path, width: int, height: int, budget_ms: int) -> list[str]:
    exe = chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    return [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--allow-file-access-from-files",  # the harness reads its frame's status
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        f"--window-size={max(width, 500)},{height}",
    ]


def render_at_width(
    page: Path, width: int, profile: Path, screenshot: Path | None = None, budget_ms: int = 30000
) -> dict[str, object]:
    """The page's status (errors, charts, layout, downloads) at a viewport ``width`` px
    wide, and a full-page screenshot when ``screenshot`` is given.

    Headless Chromium's window is at least 500 px wide, so the page is loaded in a frame
    of exactly ``width`` px (its own viewport) inside a harness page next to it.
    """
    import json
    import re

    harness = page.parent / f"harness-{width}.html"
    harness.write_text(_HARNESS.format(src=page.name, width=width, height=4000), encoding="utf-8")
    cmd = _chromium_cmd(profile, width, 4000, budget_ms)
    done = subprocess.run(
        [*cmd, "--dump-dom", harness.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    found = re.search(r'<pre id="harness-status" hidden="">(.*?)</pre>', done.stdout, re.DOTALL)
    if done.returncode != 0 or not found or not found.group(1).startswith("{"):
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    status: dict[str, object] = json.loads(found.group(1))
    if screenshot is not None:
        layout = status["layout"]
        assert isinstance(layout, dict)
        height = min(int(layout["height"]) + 20, 40000)
        harness.write_text(
            _HARNESS.format(src=page.name, width=width, height=height), encoding="utf-8"
        )
        shot = subprocess.run(
            [
                *_chromium_cmd(profile, width, height, budget_ms),
                f"--screenshot={screenshot}",
                harness.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if shot.returncode != 0 or not screenshot.exists():
            raise AssertionError(f"chromium screenshot failed: {shot.stderr[-2000:]}")
    return status


def check_fits(report: Report, status: dict[str, object], width: int) -> dict[str, dict]:
    """Assert the page rendered at ``width`` px without errors or horizontal overflow, with
    every available chart of ``report`` drawn with data and the stage ribbon a heatmap;
    return the charts' status by key."""
    assert status["errors"] == [], status["errors"]
    layout = status["layout"]
    assert isinstance(layout, dict)
    assert layout["viewport"] == width
    assert layout["scroll_width"] <= layout["client_width"], layout
    assert layout["overflowing"] == [], layout["overflowing"]
    charts = status["charts"]
    assert isinstance(charts, dict)
    assert sorted(charts) == sorted(c.key for c in report.charts if c.available)
    for key, chart in charts.items():
        assert chart["traces_with_data"] >= 1 and chart["points"] > 0, (key, chart)
    assert "heatmap" in charts["stages"]["types"]
    return charts


@pytest.fixture(scope="session")
def synthetic_report(synthetic_path: Path) -> Report:
    """The report of the whole synthetic market (fast settings, no cache)."""
    with Store(synthetic_path, read_only=True) as st:
        return build_report(st, config=FAST)
