"""Yahoo provider: the yfinance frame and the chart JSON wire format, retries on rate limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

from liqflow._errors import DataError, ProviderError
from liqflow.catalog import default_catalog
from liqflow.providers import yahoo
from liqflow.providers._http import ProviderUnreachable, RetryPolicy

CAT = default_catalog()
FIXTURES = Path(__file__).parent / "fixtures"


def _policy(clock, **kw) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, rand=lambda: 0.0, **kw)


def _yf_frame() -> pd.DataFrame:
    """fixtures/yfinance_spy_history.csv in the shape Ticker.history(auto_adjust=False) returns."""
    raw = pd.read_csv(FIXTURES / "yfinance_spy_history.csv")
    idx = pd.DatetimeIndex(pd.to_datetime(raw.pop("Date"), utc=True)).tz_convert("America/New_York")
    raw.index = idx.rename("Date")
    return raw


class FakeTicker:
    """Stands in for yfinance.Ticker: plays ``outcomes`` (frames or exceptions) in order."""

    def __init__(self, outcomes: list) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, symbol: str) -> FakeTicker:
        self.symbol = symbol
        return self

    def history(self, **kwargs):
        self.calls.append((self.symbol, kwargs))
        item = self.outcomes[min(len(self.calls), len(self.outcomes)) - 1]
        if isinstance(item, BaseException):
            raise item
        return item


def test_build_query_kwargs():
    spec = CAT["small_caps"]
    q = yahoo.build_query(spec, pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05"))
    assert q.symbol == "^RUT"
    assert q.history_kwargs() == {
        "interval": "1d",
        "auto_adjust": True,
        "actions": False,
        "start": "2024-01-02",
        "end": "2024-01-06",  # yfinance's end is exclusive
    }
    full = yahoo.build_query(spec, None).history_kwargs()
    assert full == {"interval": "1d", "auto_adjust": True, "actions": False, "period": "max"}
    assert "end" not in yahoo.build_query(spec, pd.Timestamp("2024-01-02")).history_kwargs()


def test_transform_yfinance_frame_keeps_raw_and_adjusted_close():
    out = yahoo.transform(_yf_frame())
    assert list(out.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert out.index.name == "date" and out.index.tz is None
    # exchange dates, not the UTC instant (00:00 New York = 05:00 UTC, same date here)
    assert out.index.tolist() == list(
        pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    )
    assert out.loc["2024-01-02", "close"] == 472.65
    assert out.loc["2024-01-02", "adj_close"] == pytest.approx(463.892974853516)
    assert (out.dtypes == np.float64).all()


def test_transform_chart_json_crypto_utc_days(load_json):
    out = yahoo.transform(load_json("yahoo_chart_btc.json"))
    assert out.index.tolist() == list(pd.date_range("2024-01-01", "2024-01-05"))
    assert out.loc["2024-01-03", "close"] == 42848.17578125  # Yahoo BTC-USD close (shared data)
    assert out.loc["2024-01-01", "volume"] == 18426978443.0
    assert list(out.columns) == ["open", "high", "low", "close", "adj_close", "volume"]


def test_transform_chart_json_equity_exchange_dates(load_json):
    """^RUT bars stamped 14:30 UTC (09:30 New York) keep the exchange date; null -> NaN."""
    payload = load_json("yahoo_chart_rut.json")
    out = yahoo.transform(payload)
    assert out.index.tolist() == list(
        pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    )
    assert out.loc["2024-01-02", "close"] == pytest.approx(2012.800048828125)
    assert np.isnan(out.loc["2024-01-05", "open"])
    # the gmtoffset fallback (no time-zone name) finds the same dates
    meta = payload["chart"]["result"][0]["meta"]
    del meta["exchangeTimezoneName"]
    assert yahoo.transform(payload).index.equals(out.index)


def test_transform_chart_late_utc_stamp_is_previous_exchange_day(load_json):
    """A bar stamped 02:00 UTC belongs to the previous New York date."""
    payload = load_json("yahoo_chart_rut.json")
    payload["chart"]["result"][0]["timestamp"] = [1704247200, 1704292200, 1704378600, 1704465000]
    out = yahoo.transform(payload)
    assert out.index[0] == pd.Timestamp("2024-01-02")


def test_transform_chart_errors(load_json):
    with pytest.raises(
        DataError, match="Yahoo chart answered an error: No data found, symbol may be delisted"
    ):
        yahoo.transform(
            {
                "chart": {
                    "result": None,
                    "error": {
                        "code": "Not Found",
                        "description": "No data found, symbol may be delisted",
                    },
                }
            }
        )
    payload = load_json("yahoo_chart_btc.json")
    payload["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    with pytest.raises(DataError, match="Yahoo chart JSON: close has 4 values for 5 timestamps"):
        yahoo.transform(payload)
    with pytest.raises(
        DataError, match="Yahoo payload must be a yfinance DataFrame or chart JSON, got list"
    ):
        yahoo.transform([1, 2])


def test_fetch_spec_selects_catalogue_fields(fake_clock):
    spec = CAT["small_caps_volume"]  # IWM, volume first
    fake = FakeTicker([_yf_frame()])
    batch = yahoo.fetch_spec(
        spec, pd.Timestamp("2024-01-02"), None, fake, policy=_policy(fake_clock)
    )
    assert batch.source == "yahoo"
    assert list(batch.frame.columns) == list(spec.fields)
    assert fake.calls[0][0] == "IWM"
    assert fake.calls[0][1]["auto_adjust"] is True and fake.calls[0][1]["start"] == "2024-01-02"


def test_rate_limit_is_retried_then_succeeds(fake_clock):
    fake = FakeTicker([YFRateLimitError(), YFRateLimitError(), _yf_frame()])
    batch = yahoo.fetch_spec(CAT["spy"], None, None, fake, policy=_policy(fake_clock))
    assert len(batch.frame) == 4
    assert fake_clock.sleeps == [1.0, 2.0]


def test_rate_limit_until_giving_up(fake_clock):
    fake = FakeTicker([YFRateLimitError()])
    with pytest.raises(
        ProviderError,
        match=r"spy: could not fetch from query2\.finance\.yahoo\.com after 4 attempts: rate limited .*`liqflow import PATH`",
    ):
        yahoo.fetch_spec(CAT["spy"], None, None, fake, policy=_policy(fake_clock))
    assert len(fake.calls) == 4


def test_missing_symbol_fails_at_once(fake_clock):
    fake = FakeTicker([YFTzMissingError("NOPE")])
    with pytest.raises(
        ProviderError,
        match=r"spy: query2\.finance\.yahoo\.com answered YFTzMissingError: \$NOPE: possibly delisted; no timezone found",
    ):
        yahoo.fetch_spec(CAT["spy"], None, None, fake, policy=_policy(fake_clock))
    assert len(fake.calls) == 1


def test_no_prices_in_an_incremental_range_is_empty(fake_clock):
    err = YFPricesMissingError("SPY", "(1d 2024-01-06 -> 2024-01-07)")
    batch = yahoo.fetch_spec(
        CAT["spy"], pd.Timestamp("2024-01-06"), None, FakeTicker([err]), policy=_policy(fake_clock)
    )
    assert batch.frame.empty
    with pytest.raises(ProviderError, match="YFPricesMissingError"):
        yahoo.fetch_spec(CAT["spy"], None, None, FakeTicker([err]), policy=_policy(fake_clock))


def test_connection_error_names_the_host(fake_clock):
    from curl_cffi.requests.exceptions import DNSError

    fake = FakeTicker([DNSError("Could not resolve host: query2.finance.yahoo.com")])
    with pytest.raises(
        ProviderUnreachable,
        match=r"^spy: cannot reach query2\.finance\.yahoo\.com \(connection failed: DNSError",
    ):
        yahoo.fetch_spec(CAT["spy"], None, None, fake, policy=_policy(fake_clock, attempts=2))


def test_yfinance_error_switch_is_restored():
    import yfinance as yf

    before = yf.config.debug.hide_exceptions
    with pytest.raises(RuntimeError), yahoo._yfinance_raises():
        assert yf.config.debug.hide_exceptions is False
        raise RuntimeError
    assert yf.config.debug.hide_exceptions == before


def test_bars_of_the_current_utc_day_are_not_closes_yet(fake_clock):
    frame = _yf_frame()
    last = yahoo.transform(frame).index[-1]
    during = yahoo.fetch_spec(
        CAT["spy"],
        None,
        None,
        FakeTicker([frame]),
        policy=_policy(fake_clock),
        now=last + pd.Timedelta(hours=15),  # 15:00 UTC on the last bar's day: session open
    )
    assert during.frame.index[-1] < last
    after = yahoo.fetch_spec(
        CAT["spy"],
        None,
        None,
        FakeTicker([frame]),
        policy=_policy(fake_clock),
        now=last + pd.Timedelta(days=1, hours=1),
    )
    assert after.frame.index[-1] == last
