"""ccxt provider on a fake exchange serving recorded Binance pages."""

from __future__ import annotations

import ccxt
import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError, ProviderError
from liqflow.catalog import SeriesSpec
from liqflow.providers import ccxt as pccxt
from liqflow.providers import fetch_spec, get_provider
from liqflow.providers._http import ProviderUnreachable, RetryPolicy

NOW = pd.Timestamp("2024-01-05 12:00", tz="UTC")  # 2024-01-05 has not closed yet
DAY = 86_400_000
JAN1 = 1704067200000


def _spec(**kw) -> SeriesSpec:
    base = {
        "id": "btc_binance",
        "provider": "ccxt",
        "symbol": "BTC/USDT",
        "fields": ("close", "open", "high", "low", "volume"),
        "unit": "USDT",
        "group": "crypto",
    }
    return SeriesSpec(**(base | kw))


def _policy(clock) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, rand=lambda: 0.0)


class FakeExchange:
    """The parts of a ccxt exchange the provider uses, playing recorded pages."""

    def __init__(self, pages, *, funding=None, open_interest=None, has=None, errors=()):
        self.pages = pages
        self.funding = funding or []
        self.oi = open_interest or []
        self.has = has or {"fetchOHLCV": True}
        self.errors = list(errors)
        self.served = 0
        self.ohlcv_calls: list[tuple] = []
        self.funding_calls: list[tuple] = []
        self.oi_calls: list[tuple] = []
        self.urls = {"api": {"public": "https://api.binance.com/api/v3"}}

    def fetch_ohlcv(self, symbol, timeframe="1m", since=None, limit=None, params=None):
        self.ohlcv_calls.append((symbol, timeframe, since, limit))
        if self.errors:
            raise self.errors.pop(0)
        self.served += 1
        i = self.served - 1
        return [list(c) for c in self.pages[i]] if i < len(self.pages) else []

    def fetch_funding_rate_history(self, symbol=None, since=None, limit=None, params=None):
        self.funding_calls.append((symbol, since, limit))
        return [r for r in self.funding if r["timestamp"] >= since][: limit or None]

    def fetch_open_interest_history(
        self, symbol, timeframe="5m", since=None, limit=None, params=None
    ):
        self.oi_calls.append((symbol, timeframe, since, limit))
        return [r for r in self.oi if r["timestamp"] >= since][: limit or None]


def test_build_query():
    q = pccxt.build_query(_spec(), pd.Timestamp("2024-01-01"), None, now=NOW)
    assert q.exchange == "binance"
    assert q.since == JAN1
    assert q.until == int(NOW.value // 1_000_000)
    assert q.perp_symbol == "BTC/USDT:USDT"
    assert not q.funding and not q.open_interest
    full = pccxt.build_query(
        _spec(options={"exchange": "kraken", "since": "2015-01-01"}), None, now=NOW
    )
    assert full.exchange == "kraken"
    assert full.since == 1420070400000
    assert pccxt.source(_spec(options={"exchange": "kraken"})) == "ccxt:kraken"
    ended = pccxt.build_query(
        _spec(), pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02"), now=NOW
    )
    assert ended.until == JAN1 + 2 * DAY


def test_pagination_advances_past_the_last_candle(load_json, fake_clock):
    pages = load_json("ccxt_binance_btcusdt_1d_pages.json")
    ex = FakeExchange(pages)
    batch = pccxt.fetch_spec(
        _spec(), pd.Timestamp("2024-01-01"), None, ex, policy=_policy(fake_clock), now=NOW
    )
    sinces = [c[2] for c in ex.ohlcv_calls]
    assert sinces == [
        JAN1 - 1,  # one millisecond early: see paginate
        JAN1 + DAY + 1,
        JAN1 + 3 * DAY + 1,
        JAN1 + 4 * DAY + 1,
    ]  # last page empty
    assert all(c[1] == "1d" and c[3] == 1000 for c in ex.ohlcv_calls)
    frame = batch.frame
    assert batch.source == "ccxt:binance"
    assert list(frame.columns) == ["close", "open", "high", "low", "volume"]
    # 2024-01-05 is dropped: its daily candle had not closed at NOW
    assert frame.index.tolist() == list(pd.date_range("2024-01-01", "2024-01-04"))
    assert frame.loc["2024-01-03", "close"] == 42845.23
    assert (frame.dtypes == np.float64).all()


def test_pagination_stops_when_a_page_makes_no_progress():
    calls = []
    page = [[JAN1, 1, 1, 1, 1, 1], [JAN1 + DAY, 1, 1, 1, 1, 1]]

    def same_page(since: int):
        calls.append(since)
        return page

    rows = pccxt.paginate(same_page, JAN1, JAN1 + 30 * DAY, lambda r: r[0])
    assert len(calls) == 2  # the second call returned nothing past the cursor
    assert [r[0] for r in rows] == [JAN1, JAN1 + DAY]


def test_pagination_stops_at_until():
    calls = []

    def pages(since: int):
        calls.append(since)
        first = -(-since // DAY) * DAY  # candles open at 00:00 UTC
        return [[first + i * DAY, 1, 1, 1, 1, 1] for i in range(3)]

    rows = pccxt.paginate(pages, JAN1, JAN1 + 4 * DAY, lambda r: r[0])
    assert [r[0] for r in rows] == [JAN1 + i * DAY for i in range(4)]
    assert len(calls) == 2


def test_funding_and_open_interest_where_the_exchange_has_them(load_json, fake_clock):
    spec = _spec(fields=("close", "volume", "funding_rate", "open_interest"))
    ex = FakeExchange(
        load_json("ccxt_binance_btcusdt_1d_pages.json"),
        funding=load_json("ccxt_binance_funding.json"),
        open_interest=load_json("ccxt_binance_open_interest.json"),
        has={"fetchOHLCV": True, "fetchFundingRateHistory": True, "fetchOpenInterestHistory": True},
    )
    batch = pccxt.fetch_spec(
        spec, pd.Timestamp("2024-01-01"), None, ex, policy=_policy(fake_clock), now=NOW
    )
    f = batch.frame
    assert list(f.columns) == ["close", "volume", "funding_rate", "open_interest"]
    # daily funding = sum of the three 8-hourly rates
    assert f.loc["2024-01-01", "funding_rate"] == pytest.approx(0.0001 + 0.00012 + 0.00008)
    assert f.loc["2024-01-02", "funding_rate"] == pytest.approx(0.0003 + 0.0002 - 0.0001)
    assert f.loc["2024-01-02", "open_interest"] == 3393000000.0
    assert np.isnan(f.loc["2024-01-03", "funding_rate"])
    assert ex.funding_calls[0][0] == "BTC/USDT:USDT"
    assert ex.oi_calls[0][:2] == ("BTC/USDT:USDT", "1d")
    assert "skipped" not in batch.origin


def test_derivative_fields_skipped_cleanly_when_not_offered(load_json, fake_clock):
    spec = _spec(fields=("close", "funding_rate", "open_interest"))
    ex = FakeExchange(load_json("ccxt_binance_btcusdt_1d_pages.json"), has={"fetchOHLCV": True})
    batch = pccxt.fetch_spec(
        spec, pd.Timestamp("2024-01-01"), None, ex, policy=_policy(fake_clock), now=NOW
    )
    assert list(batch.frame.columns) == ["close"]
    assert ex.funding_calls == [] and ex.oi_calls == []
    assert "funding_rate: binance has no fetchFundingRateHistory" in batch.origin
    assert "open_interest: binance has no fetchOpenInterestHistory" in batch.origin


def test_rate_limit_retried_and_bad_symbol_not(load_json, fake_clock):
    pages = load_json("ccxt_binance_btcusdt_1d_pages.json")
    ex = FakeExchange(pages, errors=[ccxt.RateLimitExceeded("binance 429 Too Many Requests")])
    batch = pccxt.fetch_spec(
        _spec(), pd.Timestamp("2024-01-01"), None, ex, policy=_policy(fake_clock), now=NOW
    )
    assert len(batch.frame) == 4
    assert fake_clock.sleeps == [1.0]
    ex = FakeExchange(pages, errors=[ccxt.BadSymbol("binance does not have market symbol BTC/XYZ")])
    with pytest.raises(
        ProviderError,
        match=r"btc_binance: api\.binance\.com answered BadSymbol: binance does not have market symbol BTC/XYZ",
    ):
        pccxt.fetch_spec(_spec(), None, None, ex, policy=_policy(fake_clock), now=NOW)


def test_no_network_is_one_line_naming_the_host(fake_clock):
    err = ccxt.NetworkError(
        "binance GET https://api.binance.com/api/v3/klines ConnectionError: Failed to resolve 'api.binance.com'"
    )
    ex = FakeExchange([], errors=[err] * 4)
    with pytest.raises(
        ProviderUnreachable,
        match=r"^btc_binance: cannot reach api\.binance\.com .*`liqflow import PATH`$",
    ):
        pccxt.fetch_spec(_spec(), None, None, ex, policy=_policy(fake_clock), now=NOW)


def test_transform_ohlcv_rejects_short_rows():
    with pytest.raises(
        DataError, match=r"ccxt OHLCV rows must be \[ms, o, h, l, c, v\], got shape \(1, 3\)"
    ):
        pccxt.transform_ohlcv([[JAN1, 1.0, 2.0]])


def test_make_exchange_and_host():
    ex = pccxt.make_exchange("binance")
    assert ex.enableRateLimit is True
    assert pccxt.host(_spec()) == "api.binance.com"
    with pytest.raises(
        ConfigError, match=r"ccxt exchange must be one of ccxt\.exchanges .*got 'nope'"
    ):
        pccxt.make_exchange("nope")


def test_registry_dispatch(load_json, fake_clock):
    ex = FakeExchange(load_json("ccxt_binance_btcusdt_1d_pages.json"))
    batch = fetch_spec(
        _spec(),
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-02"),
        ex,
        policy=_policy(fake_clock),
    )
    assert batch.frame.index.tolist() == list(pd.date_range("2024-01-01", "2024-01-02"))
    assert get_provider("ccxt").source(_spec()) == "ccxt:binance"


class WindowExchange:
    """An exchange as ccxt drives OKX candles and Bybit funding: ``since`` opens a fixed
    window of ``limit`` rows; nothing exists before ``listed``."""

    def __init__(self, ex_id: str, listed: int, *, created: bool = True, oi_amount: bool = False):
        self.id = ex_id
        self.listed = listed
        self.created = created
        self.oi_amount = oi_amount
        self.has = {
            "fetchOHLCV": True,
            "fetchFundingRateHistory": True,
            "fetchOpenInterestHistory": True,
        }
        self.urls = {"api": {"rest": f"https://api.{ex_id}.com"}}
        self.calls: list[tuple[str, int, int]] = []

    def load_markets(self):
        return {}

    def market(self, symbol):
        return {"symbol": symbol, "created": self.listed if self.created else None}

    def _window(self, kind, since, limit, step):
        self.calls.append((kind, since, limit))
        first = max(since, self.listed)
        first = -(-first // step) * step
        return [t for t in range(first, since + limit * step, step) if t < NOW.value // 1_000_000]

    def fetch_ohlcv(self, symbol, timeframe="1m", since=None, limit=None, params=None):
        return [[t, 1.0, 2.0, 0.5, 100.0, 5.0] for t in self._window("ohlcv", since, limit, DAY)]

    def fetch_funding_rate_history(self, symbol=None, since=None, limit=None, params=None):
        return [
            {"timestamp": t, "fundingRate": 0.0001}
            for t in self._window("funding", since, limit, DAY // 3)
        ]

    def fetch_open_interest_history(
        self, symbol, timeframe="5m", since=None, limit=None, params=None
    ):
        rows = self._window("oi", since, limit, DAY)
        if self.oi_amount:  # bybit linear: ccxt fills openInterestAmount (base) only
            return [
                {"timestamp": t, "openInterestAmount": 2.0, "openInterestValue": None} for t in rows
            ]
        return [{"timestamp": t, "openInterestValue": 300.0} for t in rows]


PERP = ("close", "funding_rate", "open_interest")


def test_okx_full_history_pages_from_the_listing(fake_clock):
    listed = JAN1 - 400 * DAY  # listed 2022-11-27: more than one 100-row window back
    ex = WindowExchange("okx", listed)
    spec = _spec(fields=PERP, options={"exchange": "okx"})
    batch = pccxt.fetch_spec(spec, None, None, ex, policy=_policy(fake_clock), now=NOW)
    frame = batch.frame
    assert frame.index[0] == pd.Timestamp(listed, unit="ms")
    assert frame.index[-1] == pd.Timestamp("2024-01-04") and len(frame) == 404
    assert {c[2] for c in ex.calls} == {100}  # OKX's documented maximum, every call
    assert ex.calls[0] == ("ohlcv", listed - 1, 100)  # starts at the listing, never at 2010
    assert frame["open_interest"].notna().sum() == 404


def test_empty_windows_before_the_listing_do_not_end_the_history(fake_clock):
    """Without a listing date the history starts early; empty windows are stepped over."""
    listed = pd.Timestamp("2019-09-08", tz="UTC").value // 1_000_000
    ex = WindowExchange("bybit", listed, created=False)
    spec = _spec(fields=("close", "funding_rate"), options={"exchange": "bybit"})
    batch = pccxt.fetch_spec(spec, None, None, ex, policy=_policy(fake_clock), now=NOW)
    assert batch.frame.index[0] == pd.Timestamp("2019-09-08")
    assert batch.frame["funding_rate"].loc["2020-01-01"] == pytest.approx(0.0003)
    funding = [c for c in ex.calls if c[0] == "funding"]
    assert funding[0][1] == pd.Timestamp("2013-01-01", tz="UTC").value // 1_000_000 - 1
    assert {c[2] for c in funding} == {200}  # bybit funding maximum


def test_bybit_linear_open_interest_from_the_amount_ccxt_fills(fake_clock):
    ex = WindowExchange("bybit", JAN1 - 10 * DAY, oi_amount=True)
    spec = _spec(fields=PERP, options={"exchange": "bybit"})
    batch = pccxt.fetch_spec(
        spec, pd.Timestamp("2024-01-01"), None, ex, policy=_policy(fake_clock), now=NOW
    )
    # 2 BTC of open interest times the day's close of 100
    assert batch.frame["open_interest"].tolist() == [200.0] * 4
    assert {c[2] for c in ex.calls if c[0] == "oi"} == {200}


def test_limits_within_documented_maxima():
    q = pccxt.build_query(_spec(fields=PERP), None, now=NOW)
    assert q.limits == (1000, 1000, 500) and q.open_interest_days == 30  # binance
    assert pccxt.build_query(_spec(options={"exchange": "okx"}), None, now=NOW).limits == (
        100,
        100,
        100,
    )
    assert pccxt.build_query(
        _spec(options={"exchange": "okx", "limit": 50}), None, now=NOW
    ).limits == (50, 50, 50)
    assert pccxt.build_query(
        _spec(options={"exchange": "bybit", "limit": 5000}), None, now=NOW
    ).limits == (1000, 200, 200)
    with pytest.raises(ConfigError, match=r"ccxt limit must be >= 1, got 0"):
        pccxt.build_query(_spec(options={"limit": 0}), None, now=NOW)


class Refusing(FakeExchange):
    def fetch_ohlcv(self, *args, **kw):
        raise ccxt.ExchangeNotAvailable(
            'binance GET https://api.binance.com/api/v3/klines 451 {"code":0,"msg":"Service unavailable from a restricted location"}'
        )


def test_http_451_falls_back_to_the_next_exchange(load_json, fake_clock):
    bybit = WindowExchange("bybit", JAN1 - 10 * DAY)
    clients = {"binance": Refusing([]), "bybit": bybit}
    batch = pccxt.fetch_spec(
        _spec(), pd.Timestamp("2024-01-01"), None, clients, policy=_policy(fake_clock), now=NOW
    )
    assert batch.source == "ccxt:bybit" and len(batch.frame) == 4
    assert (
        "binance refused this location with HTTP 451; set the series option exchange = 'bybit'"
        in batch.origin
    )
    assert fake_clock.sleeps == []  # a refusal is not retried
    with pytest.raises(
        ProviderError,
        match=r"btc_binance: binance refused requests from this location \(HTTP 451, e\.g\. the US\); set the series option exchange",
    ):
        pccxt.fetch_spec(
            _spec(options={"exchange": "binance"}),
            None,
            None,
            {"binance": Refusing([])},
            policy=_policy(fake_clock),
            now=NOW,
        )


def test_proxy_from_the_environment(monkeypatch):
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv(pccxt.ENV_PROXY, raising=False)
    assert pccxt.make_exchange("bybit").httpsProxy is None
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert pccxt.make_exchange("bybit").httpsProxy == "http://127.0.0.1:3128"
    monkeypatch.setenv(pccxt.ENV_PROXY, "http://127.0.0.1:8888")
    assert pccxt.make_exchange("okx").httpsProxy == "http://127.0.0.1:8888"
