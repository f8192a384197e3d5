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
