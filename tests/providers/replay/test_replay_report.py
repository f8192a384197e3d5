"""``liqflow report`` on an empty store, as the README's first command: it fetches the
report's series through the real providers (FRED keyless CSV, Yahoo through yfinance),
replayed on 127.0.0.1, then writes the report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
from replay_harness import ReplayServer
from test_replay_http import GRAPH, _graph_csv
from test_replay_yahoo import _chart, _yahoo

from liqflow.catalog import default_catalog
from liqflow.cli import report as report_cli
from liqflow.cli.main import main
from liqflow.fetch import FetchReport
from liqflow.fetch import fetch as real_fetch
from liqflow.providers import RetryPolicy
from liqflow.report.build import report_ids
from liqflow.report.results import ReportConfig
from liqflow.store import Store

CAT = default_catalog()
FIRST = pd.Timestamp("2019-01-02", tz="UTC")
LIGHT = ReportConfig(
    n_placebo=50, n_boot=50, draws=260, walk_forward=False, claims=False, use_cache=False
)


@pytest.fixture
def yahoo(replay: ReplayServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """yfinance on a curl_cffi session opened now (it reads this test's CA bundle), with
    yfinance's per-process cookie and crumb dropped before and after (the other replay
    tests expect to see yfinance fetch its own)."""
    import yfinance as yf
    from curl_cffi import requests as curl_requests
    from yfinance.data import YfData

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    type(YfData)._instances.pop(YfData, None)  # type: ignore[attr-defined]
    session = curl_requests.Session(impersonate="chrome")
    yield {"yahoo": lambda symbol: yf.Ticker(symbol, session=session)}
    type(YfData)._instances.pop(YfData, None)  # type: ignore[attr-defined]


def _routes(replay: ReplayServer) -> list[str]:
    """FRED's keyless CSV for every id; a Yahoo chart for every Yahoo series the report reads."""
    replay.route("fred.stlouisfed.org", GRAPH, _graph_csv)
    _yahoo(replay)  # cookie and crumb (and the two numbered coin symbols)
    symbols = [CAT[s].symbol for s in report_ids(CAT) if CAT[s].provider == "yahoo"]
    for sym in symbols:
        for path in {f"/v8/finance/chart/{sym}", f"/v8/finance/chart/{quote(sym)}"}:
            replay.route("query2.finance.yahoo.com", path, _chart(sym, FIRST))
    return symbols


def test_report_on_an_empty_store_fetches_then_writes(
    replay: ReplayServer,
    yahoo: dict[str, Any],
    fake_clock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)

    def fetch(store: Store, catalog: Any, ids: list[str], **kw: Any) -> FetchReport:
        # the real fetch, with instant retries; the ids are those the command chose
        kw.pop("clients", None)
        return real_fetch(store, catalog, ids, clients=yahoo, policy=policy, **kw)

    monkeypatch.setattr(report_cli, "fetch", fetch)
    monkeypatch.setattr(report_cli, "CONFIG", LIGHT)
    monkeypatch.setenv("COLUMNS", "200")
    symbols = _routes(replay)
    db, out = tmp_path / "s.duckdb", tmp_path / "report.html"

    with pytest.raises(SystemExit) as done:
        main(["report", "--store", str(db), "-o", str(out)])
    assert done.value.code == 0

    err = capsys.readouterr().err
    assert "the store is empty: fetching the report's series first" in err
    assert out.is_file() and out.stat().st_size > 10_000
    charts = {s.path for s in replay.requests("query2.finance.yahoo.com")}
    assert "/v8/finance/chart/BTC-USD" in charts
    assert charts & {"/v8/finance/chart/^RUT", f"/v8/finance/chart/{quote('^RUT')}"}
    fred_ids = {s.query["id"] for s in replay.requests("fred.stlouisfed.org")}
    assert {"WALCL", "WTREGEN", "RRPONTSYD", "BAMLH0A0HYM2"} <= fred_ids
    with Store(db, read_only=True) as st:
        stored = {item.series_id for item in st.inventory()}
    assert {"small_caps", "btc", "fed_assets", "hy_spread"} <= stored
    assert len(symbols) > 10
