"""ccxt's own OKX code path through the replay server: markets, then candles paged to the start.

ccxt ignores ``HTTPS_PROXY``; the exchange is built by liqflow's ``make_exchange``, which
passes ``$LIQFLOW_CCXT_PROXY`` as ccxt's ``httpsProxy`` (the documented setting), and is
injected with ``fetch(clients=...)``. Its ``requests`` session is told to trust the test CA.
OKX's ``history-candles`` answers newest first within ``before < ts < after``, at most
``limit`` (100) rows, as documented (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-candlesticks-history).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from replay_harness import ReplayServer, Reply, Seen
from requests.adapters import HTTPAdapter

from liqflow.catalog import Catalog, SeriesSpec, default_catalog
from liqflow.fetch import fetch
from liqflow.providers import RetryPolicy
from liqflow.providers import ccxt as pccxt
from liqflow.store import Store

DAY = 86_400_000
LISTED = pd.Timestamp("2019-01-22", tz="UTC")  # BTC-USDT listTime on OKX (within a day)
NOW_MS = int(pd.Timestamp("2026-08-21 12:00", tz="UTC").value // 1_000_000)


class TrustCA(HTTPAdapter):
    """requests adapter whose TLS context trusts the replay CA (through the proxy too)."""

    def __init__(self, ca: Path) -> None:
        self.ctx = ssl.create_default_context(cafile=str(ca))
        super().__init__()

    def init_poolmanager(self, *args: Any, **kw: Any) -> Any:
        kw["ssl_context"] = self.ctx
        return super().init_poolmanager(*args, **kw)

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        kw["ssl_context"] = self.ctx
        return super().proxy_manager_for(proxy, **kw)


def _instruments(seen: Seen) -> Reply:
    inst = {
        "instType": "SPOT",
        "instId": "BTC-USDT",
        "uly": "",
        "instFamily": "",
        "baseCcy": "BTC",
        "quoteCcy": "USDT",
        "settleCcy": "",
        "ctValCcy": "",
        "optType": "",
        "stk": "",
        "listTime": str(int(LISTED.value // 1_000_000)),
        "expTime": "",
        "lever": "10",
        "tickSz": "0.1",
        "lotSz": "0.00000001",
        "minSz": "0.00001",
        "ctVal": "",
        "state": "live",
        "ctType": "",
        "alias": "",
        "ctMult": "",
        "maxLmtSz": "9999999999",
        "maxMktSz": "1000000",
        "maxTwapSz": "",
        "maxIcebergSz": "",
        "maxTriggerSz": "",
        "maxStopSz": "",
        "ruleType": "normal",
    }
    return Reply(
        200, {"code": "0", "msg": "", "data": [inst] if seen.query["instType"] == "SPOT" else []}
    )


def _candles(seen: Seen) -> Reply:
    q = seen.query
    after = int(q.get("after", NOW_MS))
    before = int(q.get("before", 0))
    limit = min(int(q.get("limit", 100)), 100)
    first = int(LISTED.normalize().value // 1_000_000)
    days = [t for t in range(first, NOW_MS, DAY) if before < t < after]
    rows = [
        [str(t), "100", "110", "90", f"{100 + (t - first) // DAY}", "5", "500", "500", "1"]
        for t in reversed(days[-limit:] if "after" in q else days[:limit])
    ]
    return Reply(200, {"code": "0", "msg": "", "data": rows})


def test_okx_history_pages_to_the_listing(
    replay: ReplayServer, ca_file: Path, fake_clock, tmp_path
):
    replay.route("www.okx.com", "/api/v5/public/instruments", _instruments)
    replay.route("www.okx.com", "/api/v5/market/history-candles", _candles)
    replay.route("www.okx.com", "/api/v5/market/candles", _candles)
    exchange = pccxt.make_exchange("okx")  # the proxy comes from $LIQFLOW_CCXT_PROXY
    assert exchange.httpsProxy is not None and exchange.httpsProxy.startswith("http://127.0.0.1:")
    exchange.session.mount("https://", TrustCA(ca_file))
    exchange.options["fetchMarkets"] = {"types": ["spot"]}
    exchange.rateLimit = 1
    spec = SeriesSpec(
        "btc_okx",
        "ccxt",
        "BTC/USDT",
        ("close", "volume"),
        "USDT",
        group="crypto",
        options={"exchange": "okx"},
    )
    cat = Catalog([*default_catalog().values(), spec])
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(
            store,
            cat,
            ["btc_okx"],
            clients={"ccxt:okx": exchange},
            end=pd.Timestamp("2026-08-20"),
            policy=policy,
        )
        assert report.ok, report.results[0].error
        close = store.read("btc_okx", "ccxt:okx")["close"]
        n_first = len(replay.requests())
        again = fetch(
            store,
            cat,
            ["btc_okx"],
            clients={"ccxt:okx": exchange},
            end=pd.Timestamp("2026-08-20"),
            policy=policy,
        )
    assert close.index[0] == pd.Timestamp("2019-01-22")  # paged to the listing, not 0 rows
    assert close.index[-1] == pd.Timestamp("2026-08-20") and close.index.is_unique
    assert len(close) == (pd.Timestamp("2026-08-20") - pd.Timestamp("2019-01-22")).days + 1
    candles = [s for s in replay.requests() if "candles" in s.path]
    assert {s.query["limit"] for s in candles} == {"100"}  # OKX's documented maximum
    assert again.ok and again.rows_added == 0
    assert len(replay.requests()) - n_first == 1  # up to date: one request


BYBIT_PERP_LAUNCH = pd.Timestamp("2020-03-30", tz="UTC")
BYBIT_SPOT_LAUNCH = pd.Timestamp("2021-07-05", tz="UTC")
H8 = 8 * 3_600_000


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def _bybit_ok(result: dict) -> Reply:
    return Reply(
        200, {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": NOW_MS}
    )


def _bybit_instruments(seen: Seen) -> Reply:
    cat = seen.query["category"]
    if seen.query.get("status") == "PreLaunch" or cat not in ("spot", "linear"):
        return _bybit_ok({"category": cat, "list": [], "nextPageCursor": ""})
    lot = {
        "basePrecision": "0.000001",
        "quotePrecision": "0.00000001",
        "minOrderQty": "0.000048",
        "maxOrderQty": "71.73",
        "minOrderAmt": "1",
        "maxOrderAmt": "2000000",
        "qtyStep": "0.001",
    }
    common = {
        "symbol": "BTCUSDT",
        "status": "Trading",
        "baseCoin": "BTC",
        "quoteCoin": "USDT",
        "priceFilter": {"tickSize": "0.01", "minPrice": "0.10", "maxPrice": "1999999.80"},
        "lotSizeFilter": lot,
    }
    if cat == "spot":
        market = common | {"innovation": "0", "marginTrading": "both"}
    else:
        market = common | {
            "contractType": "LinearPerpetual",
            "launchTime": str(_ms(BYBIT_PERP_LAUNCH)),
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": "2",
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": "USDT",
        }
    return _bybit_ok({"category": cat, "list": [market], "nextPageCursor": ""})


def _bybit_kline(seen: Seen) -> Reply:
    q = seen.query
    start, limit = int(q["start"]), int(q["limit"])
    end = int(q.get("end", start + limit * DAY))
    days = [t for t in range(_ms(BYBIT_SPOT_LAUNCH), NOW_MS, DAY) if start <= t <= end][:limit]
    rows = [[str(t), "100", "110", "90", "101", "5", "505"] for t in reversed(days)]
    return _bybit_ok({"category": q["category"], "symbol": q["symbol"], "list": rows})


def _bybit_funding(seen: Seen) -> Reply:
    q = seen.query
    start, end, limit = int(q["startTime"]), int(q["endTime"]), int(q["limit"])
    stamps = [t for t in range(_ms(BYBIT_PERP_LAUNCH), NOW_MS, H8) if start <= t <= end][-limit:]
    rows = [
        {"symbol": "BTCUSDT", "fundingRate": "0.0001", "fundingRateTimestamp": str(t)}
        for t in reversed(stamps)
    ]
    return _bybit_ok({"category": "linear", "list": rows})


def test_bybit_funding_history_pages_to_the_perpetuals_launch(
    replay: ReplayServer, ca_file: Path, fake_clock, tmp_path
):
    replay.route("api.bybit.com", "/v5/market/instruments-info", _bybit_instruments)
    replay.route("api.bybit.com", "/v5/market/kline", _bybit_kline)
    replay.route("api.bybit.com", "/v5/market/funding/history", _bybit_funding)
    exchange = pccxt.make_exchange("bybit")
    exchange.session.mount("https://", TrustCA(ca_file))
    exchange.options["fetchMarkets"] = {"types": ["spot", "linear"]}
    exchange.rateLimit = 1
    spec = SeriesSpec(
        "btc_bybit",
        "ccxt",
        "BTC/USDT",
        ("close", "funding_rate"),
        "USDT",
        group="crypto",
        options={"exchange": "bybit"},
    )
    cat = Catalog([*default_catalog().values(), spec])
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(
            store,
            cat,
            ["btc_bybit"],
            clients={"ccxt:bybit": exchange},
            end=pd.Timestamp("2026-08-20"),
            policy=policy,
        )
        assert report.ok, report.results[0].error
        frame = store.read("btc_bybit", "ccxt:bybit")
    funding = frame["funding_rate"].dropna()
    assert funding.index[0] == pd.Timestamp("2020-03-30")  # the perpetual's launch, not 2010
    assert funding.iloc[0] == pytest.approx(0.0003)  # three 8-hour rates a day
    assert frame["close"].first_valid_index() == pd.Timestamp("2021-07-05")
    calls = replay.requests("api.bybit.com")
    assert {s.query["limit"] for s in calls if s.path.endswith("funding/history")} == {"200"}
