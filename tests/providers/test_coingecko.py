"""CoinGecko market chart on a recorded payload (fixtures/coingecko_tether_market_chart.json)."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

from liqflow._errors import DataError, ProviderError
from liqflow.catalog import default_catalog
from liqflow.providers import coingecko, fetch_spec, get_provider
from liqflow.providers._http import RetryPolicy

CAT = default_catalog()
NOW = pd.Timestamp("2024-06-12 14:45", tz="UTC")


@pytest.fixture(autouse=True)
def keyless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(coingecko.ENV_DEMO_KEY, raising=False)
    monkeypatch.delenv(coingecko.ENV_PRO_KEY, raising=False)


def _recording(payload: dict, seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=payload)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_demo_key_goes_in_its_header(load_json, monkeypatch, fake_clock):
    monkeypatch.setenv(coingecko.ENV_DEMO_KEY, "CG-demo123")
    seen: list[httpx.Request] = []
    client = _recording(load_json("coingecko_tether_market_chart.json"), seen)
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock)
    batch = coingecko.fetch_spec(CAT["usdt_mcap"], None, client=client, policy=policy, now=NOW)
    assert seen[0].url.host == "api.coingecko.com"
    assert seen[0].headers["x-cg-demo-api-key"] == "CG-demo123"
    assert seen[0].url.params["days"] == "365"
    assert "CG-demo123" not in batch.origin and coingecko.host() == "api.coingecko.com"


def test_pro_key_uses_the_pro_host_and_the_full_history(load_json, monkeypatch, fake_clock):
    monkeypatch.setenv(coingecko.ENV_PRO_KEY, "CG-pro456")
    seen: list[httpx.Request] = []
    client = _recording(load_json("coingecko_tether_market_chart.json"), seen)
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock)
    coingecko.fetch_spec(CAT["usdt_mcap"], None, client=client, policy=policy, now=NOW)
    assert seen[0].url.host == "pro-api.coingecko.com"
    assert seen[0].headers["x-cg-pro-api-key"] == "CG-pro456"
    assert "x-cg-demo-api-key" not in seen[0].headers
    assert seen[0].url.params["days"] == "max"
    assert coingecko.host() == "pro-api.coingecko.com"


def test_build_query_days_cover_the_start():
    spec = CAT["usdt_mcap"]
    q = coingecko.build_query(spec, pd.Timestamp("2024-06-09"), now=NOW)
    assert q.url == "https://api.coingecko.com/api/v3/coins/tether/market_chart"
    assert q.params() == {"vs_currency": "usd", "days": "5", "interval": "daily"}
    assert coingecko.build_query(spec, None, now=NOW).days == 365
    assert coingecko.build_query(spec, pd.Timestamp("2015-01-01"), now=NOW).days == 365


def test_transform_keeps_the_snapshot_day(load_json):
    out = coingecko.transform(load_json("coingecko_tether_market_chart.json"))
    # 00:00 UTC snapshots of 06-10..06-12 keep their own day (never early); 14:45 point dropped
    assert out.index.tolist() == list(pd.date_range("2024-06-10", "2024-06-12"))
    assert list(out.columns) == ["close", "market_cap", "volume"]
    assert out.loc["2024-06-10", "market_cap"] == 112447581346.10068


def test_transform_rejects_other_json():
    with pytest.raises(
        DataError,
        match=r"CoinGecko market chart needs keys \['market_caps', 'prices', 'total_volumes'\]",
    ):
        coingecko.transform({"error": "coin not found"})


def test_fetch_spec(load_json, fake_clock):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=load_json("coingecko_tether_market_chart.json"))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock)
    batch = coingecko.fetch_spec(
        CAT["usdt_mcap"], pd.Timestamp("2024-06-10"), None, client, policy=policy, now=NOW
    )
    assert seen[0].path == "/api/v3/coins/tether/market_chart"
    assert list(batch.frame.columns) == ["market_cap"]
    assert batch.frame.index.tolist() == list(
        pd.to_datetime(["2024-06-10", "2024-06-11", "2024-06-12"])
    )
    assert batch.source == "coingecko"


def test_global_chart_has_no_live_route():
    spec = CAT["total_crypto_mcap"]
    assert get_provider("coingecko").live_reason(spec) is not None
    with pytest.raises(
        ProviderError,
        match=r"total_crypto_mcap: no live route \(CoinGecko symbol 'global' needs the paid .*\); .*`liqflow import PATH`",
    ):
        fetch_spec(spec, None)


def test_csv_provider_has_no_live_route():
    with pytest.raises(
        ProviderError,
        match=r"fear_greed: no live route \(provider 'csv' has no live route\); .*`liqflow import PATH`",
    ):
        fetch_spec(CAT["fear_greed"], None)
