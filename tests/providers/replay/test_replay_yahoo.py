"""Yahoo through the real yfinance and curl_cffi: cookie, crumb and chart, replayed.

yfinance's own sequence runs: ``GET https://fc.yahoo.com`` (sets the ``A3`` cookie),
``GET https://query1.finance.yahoo.com/v1/test/getcrumb`` (the crumb, as text), then
``GET https://query2.finance.yahoo.com/v8/finance/chart/{symbol}`` for the exchange time
zone (``range=1d``) and the bars (``period1``/``period2``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from replay_harness import ReplayServer, Reply, Seen

from liqflow.catalog import default_catalog
from liqflow.fetch import fetch
from liqflow.providers import RetryPolicy
from liqflow.store import Store

CAT = default_catalog()
CRUMB = "Xy7.replay.crumb"
FIRST = pd.Timestamp("2021-08-27", tz="UTC")  # TON11419-USD's first bar on Yahoo


@pytest.fixture
def policy(fake_clock) -> RetryPolicy:
    return RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)


@pytest.fixture
def yahoo(replay: ReplayServer, tmp_path: Path) -> dict[str, Any]:
    """``fetch`` clients: yfinance's Ticker on a curl_cffi session opened now, so that it
    reads this test's CURL_CA_BUNDLE (yfinance keeps one session per process)."""
    import yfinance as yf
    from curl_cffi import requests as curl_requests

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))  # not the user's cache folder
    session = curl_requests.Session(impersonate="chrome")
    return {"yahoo": lambda symbol: yf.Ticker(symbol, session=session)}


def _chart(symbol: str, first: pd.Timestamp):
    def answer(seen: Seen) -> Reply:
        if seen.query.get("crumb") != CRUMB:
            return Reply(
                401,
                {
                    "finance": {
                        "result": None,
                        "error": {"code": "Unauthorized", "description": "Invalid Crumb"},
                    }
                },
            )
        now = pd.Timestamp("2026-08-21 12:00", tz="UTC")
        if "period1" in seen.query:
            lo = max(pd.Timestamp(int(seen.query["period1"]), unit="s", tz="UTC"), first)
            hi = min(pd.Timestamp(int(seen.query["period2"]), unit="s", tz="UTC"), now)
        else:
            lo, hi = now.normalize(), now
        days = pd.date_range(lo.ceil("D"), hi, freq="D")
        stamps = [int(d.value // 10**9) for d in days]
        close = [round(2.0 + 0.001 * i, 6) for i in range(len(days))]
        meta = {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "CCC",
            "fullExchangeName": "CCC",
            "instrumentType": "CRYPTOCURRENCY",
            "firstTradeDate": int(first.value // 10**9),
            "regularMarketTime": int(now.value // 10**9),
            "hasPrePostMarketData": False,
            "gmtoffset": 0,
            "timezone": "UTC",
            "exchangeTimezoneName": "UTC",
            "priceHint": 2,
            "dataGranularity": "1d",
            "range": seen.query.get("range", ""),
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        }
        quote = {
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": [1e6] * len(days),
        }
        result = {
            "meta": meta,
            "timestamp": stamps,
            "indicators": {"quote": [quote], "adjclose": [{"adjclose": close}]},
        }
        return Reply(200, {"chart": {"result": [result], "error": None}})

    return answer


def _yahoo(replay: ReplayServer) -> None:
    replay.route(
        "fc.yahoo.com",
        "/",
        Reply(
            404,
            "<html>Not Found</html>",
            {
                "Set-Cookie": "A3=d=AQABBreplay; Expires=Wed, 01 Dec 2027 11:13:10 GMT; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure; HttpOnly"
            },
        ),
    )
    replay.route(
        "query1.finance.yahoo.com",
        "/v1/test/getcrumb",
        Reply(200, CRUMB, {"Content-Type": "text/plain"}),
    )
    replay.route(
        "query2.finance.yahoo.com", "/v8/finance/chart/TON11419-USD", _chart("TON11419-USD", FIRST)
    )
    replay.route(
        "query2.finance.yahoo.com",
        "/v8/finance/chart/SUI20947-USD",
        _chart("SUI20947-USD", pd.Timestamp("2023-05-03", tz="UTC")),
    )


def test_ton_and_sui_fetch_their_yahoo_symbols(replay: ReplayServer, yahoo, policy, tmp_path):
    _yahoo(replay)
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(store, CAT, ["ton", "sui"], clients=yahoo, policy=policy)
        assert report.ok, [r.error for r in report.results]
        ton = store.read("ton", "yahoo")
    assert ton.index[0] == pd.Timestamp("2021-08-27") and ton.index[-1] == pd.Timestamp(
        "2026-08-21"
    )
    assert set(ton.columns) == {
        "open",
        "high",
        "low",
        "close",
        "volume",
    }  # auto_adjust: no adj_close
    assert ton["close"].dtype == np.float64
    charts = list(replay.requests("query2.finance.yahoo.com"))
    assert {s.path for s in charts} == {
        "/v8/finance/chart/TON11419-USD",
        "/v8/finance/chart/SUI20947-USD",
    }
    assert all(s.query["crumb"] == CRUMB for s in charts)
    assert "A3=d=AQABBreplay" in charts[-1].headers.get("Cookie", "")


def test_yahoo_down_page_and_truncated_chart_are_one_line(
    replay: ReplayServer, yahoo, policy, tmp_path
):
    _yahoo(replay)
    down = "<html><body>Will be right back... Thank you for your patience.</body></html>"
    chart = "/v8/finance/chart/TON11419-USD"
    replay.route("query2.finance.yahoo.com", chart, Reply(200, down, {"Content-Type": "text/html"}))
    with Store(tmp_path / "s.duckdb") as store:
        down_report = fetch(store, CAT, ["ton"], clients=yahoo, policy=policy)
        full = _chart("TON11419-USD", FIRST)
        replay.route(
            "query2.finance.yahoo.com",
            chart,
            lambda s: Reply(200, full(s).payload()[:200], {"Content-Type": "application/json"}),
        )
        cut_report = fetch(store, CAT, ["ton"], clients=yahoo, policy=policy)
        assert store.row_count() == 0
    assert down_report.results[0].error == (
        "ton: query2.finance.yahoo.com answered YFDataException: *** YAHOO! FINANCE IS CURRENTLY DOWN! ***"
    )
    error = cut_report.results[0].error or ""
    assert error.startswith("ton: query2.finance.yahoo.com answered something that is not JSON")
    assert "\n" not in error
