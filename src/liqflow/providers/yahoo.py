"""Yahoo Finance daily bars through yfinance.

The request is ``yfinance.Ticker(symbol).history(start=..., end=..., interval="1d",
auto_adjust=True, actions=False)`` (``period="max"`` for the full history), which calls
Yahoo's chart endpoint ``GET https://query2.finance.yahoo.com/v8/finance/chart/{symbol}``
(``period1``/``period2`` in epoch seconds, ``interval=1d``) after yfinance's own
cookie/crumb sequence. yfinance 1.0 or later is required (``yf.config``).

Adjustment basis. ``auto_adjust=True`` returns open, high, low and close adjusted for
dividends and splits, the basis of the imported Yahoo files (``yfinance.download``'s and
``Ticker.history``'s default), so a fetched ETF close continues the imported one; there is
then no separate ``Adj Close`` (``adj_close`` is not fetched). Indices and coins pay no
dividends: their closes are the same either way. A dividend re-bases the whole adjusted
history; :func:`liqflow.fetch.fetch` detects it on the overlap and fetches the series
again in full.

yfinance on pandas 3 emits deprecation warnings from its own code on every call; they are
silenced around the call only (``warnings.catch_warnings``), never globally.

Dates. Equity bars carry the exchange's date (America/New_York for US listings); crypto
bars are UTC calendar days. Both become plain tz-naive dates: the bar's timestamp is
taken in the exchange time zone and its date kept.

:func:`transform` accepts either the yfinance frame or the raw chart JSON
(``chart.result[0]``: ``timestamp``, ``indicators.quote[0].{open,high,low,close,volume}``,
``indicators.adjclose[0].adjclose``, ``meta.exchangeTimezoneName``/``gmtoffset``), so it
can be tested on a recorded payload.

Yahoo throttles heavy use; yfinance raises ``yfinance.exceptions.YFRateLimitError``,
which is retried with backoff (:mod:`liqflow.providers._http`).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.catalog import SeriesSpec
from liqflow.providers._http import (
    DEFAULT_POLICY,
    Failure,
    RetryPolicy,
    brief,
    call_with_retry,
    spec_batch,
)
from liqflow.store import Batch

__all__ = [
    "CHART_URL",
    "HOST",
    "SOURCE",
    "YahooQuery",
    "build_query",
    "classify_yahoo",
    "extract",
    "fetch_spec",
    "host",
    "transform",
]

SOURCE = "yahoo"
HOST = "query2.finance.yahoo.com"
CHART_URL = f"https://{HOST}/v8/finance/chart/{{symbol}}"
_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_ORDER = ("open", "high", "low", "close", "adj_close", "volume")

TickerFactory = Callable[[str], Any]


@dataclass(frozen=True)
class YahooQuery:
    """One yfinance history request; ``start``/``end`` inclusive dates, None = open."""

    symbol: str
    start: dt.date | None = None
    end: dt.date | None = None
    interval: str = "1d"

    def history_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Ticker.history`` (yfinance's ``end`` is exclusive)."""
        kw: dict[str, Any] = {"interval": self.interval, "auto_adjust": True, "actions": False}
        if self.start is None and self.end is None:
            kw["period"] = "max"
            return kw
        kw["start"] = (self.start or dt.date(1900, 1, 1)).isoformat()
        if self.end is not None:
            kw["end"] = (self.end + dt.timedelta(days=1)).isoformat()
        return kw


def host(spec: SeriesSpec | None = None) -> str:
    """Yahoo's chart host."""
    return HOST


def build_query(
    spec: SeriesSpec, start: pd.Timestamp | None, end: pd.Timestamp | None = None
) -> YahooQuery:
    """The daily-bar request of ``spec`` between ``start`` and ``end``."""
    return YahooQuery(
        spec.symbol,
        None if start is None else pd.Timestamp(start).date(),
        None if end is None else pd.Timestamp(end).date(),
    )


def classify_yahoo(exc: BaseException) -> Failure | None:
    """Rate limits, timeouts and connection errors are retried; Yahoo's data errors are not."""
    from yfinance import exceptions as yfe

    if isinstance(exc, yfe.YFRateLimitError):
        return Failure("rate limited (YFRateLimitError: Too Many Requests)", retryable=True)
    if isinstance(exc, yfe.YFException):
        return Failure(f"{type(exc).__name__}: {brief(exc)}", retryable=False)
    if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
        # an HTML error page or a cut answer where yfinance expected JSON
        return Failure(f"something that is not JSON ({brief(exc, 80)})", retryable=False)
    if isinstance(exc, OSError):  # curl_cffi / requests errors derive from OSError
        name = type(exc).__name__
        if isinstance(exc, TimeoutError) or "Timeout" in name:
            return Failure(f"timed out ({name})", retryable=True, timeout=True)
        if isinstance(exc, ConnectionError) or name in ("ConnectionError", "DNSError"):
            return Failure(f"connection failed: {name}: {brief(exc)}", retryable=True, offline=True)
        return Failure(f"network error: {name}: {brief(exc)}", retryable=True)
    return None


@contextmanager
def _yfinance_raises() -> Iterator[None]:
    """Make yfinance raise its errors instead of logging them and returning an empty frame.

    Its log warnings (e.g. "continuing without crumb") and its deprecation warnings are
    muted meanwhile: the error that matters reaches the caller as an exception.
    """
    import yfinance as yf

    cfg = yf.config.debug
    before = cfg.hide_exceptions
    log = logging.getLogger("yfinance")
    level = log.level
    cfg.hide_exceptions = False
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # yfinance's own pandas deprecations (pandas 3), not the caller's
            for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
                warnings.filterwarnings("ignore", category=category, module=r"yfinance(\.|$)")
            yield
    finally:
        cfg.hide_exceptions = before
        log.setLevel(level)


def extract(
    query: YahooQuery,
    client: TickerFactory | None = None,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """The yfinance history frame of ``query`` (``client`` builds a ticker; default ``yf.Ticker``).

    An incremental request that finds no bars (``YFPricesMissingError`` with a start date)
    returns an empty frame; for a full-history request it is an error.
    """
    from yfinance import exceptions as yfe

    if client is None:
        import yfinance as yf

        client = yf.Ticker
    factory = client
    kwargs = query.history_kwargs() | {"timeout": policy.timeout}

    def once() -> pd.DataFrame:
        try:
            with _yfinance_raises():
                frame = factory(query.symbol).history(**kwargs)
        except yfe.YFPricesMissingError:
            if query.start is None:
                raise
            return pd.DataFrame()
        if not isinstance(frame, pd.DataFrame):
            raise DataError(
                f"yfinance history of {query.symbol!r} returned {type(frame).__name__}, expected a DataFrame"
            )
        return frame

    return call_with_retry(
        once, series=series or query.symbol, host=HOST, classify=classify_yahoo, policy=policy
    )


def _from_frame(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.columns, pd.MultiIndex):  # yf.download: (field, ticker)
        tickers = frame.columns.get_level_values(-1).unique()
        if len(tickers) != 1:
            raise DataError(f"yfinance frame holds several tickers {list(tickers)}; expected one")
        frame = frame.droplevel(-1, axis=1)
    if frame.empty:
        return _empty()
    idx = pd.DatetimeIndex(frame.index)
    if idx.tz is not None:  # already in the exchange time zone: keep its calendar date
        idx = idx.tz_localize(None)
    out = pd.DataFrame(
        {
            new: pd.to_numeric(frame[old], errors="coerce").to_numpy(dtype=np.float64)
            for old, new in _COLUMNS.items()
            if old in frame.columns
        },
        index=idx.normalize().astype("datetime64[ns]").rename("date"),
    )
    if "close" not in out.columns:
        raise DataError(f"yfinance frame has no Close column; columns: {list(frame.columns)}")
    return _finish(out)


def _from_chart(payload: Mapping[str, Any]) -> pd.DataFrame:
    chart = payload.get("chart")
    if not isinstance(chart, Mapping):
        raise DataError(f"Yahoo chart JSON needs a 'chart' object, got keys {sorted(payload)[:10]}")
    if chart.get("error"):
        err = chart["error"]
        desc = err.get("description", err) if isinstance(err, Mapping) else err
        raise DataError(f"Yahoo chart answered an error: {desc}")
    results = chart.get("result") or []
    if not results:
        raise DataError("Yahoo chart JSON has no result")
    res = results[0]
    meta = res.get("meta", {})
    stamps = res.get("timestamp") or []
    if not stamps:
        return _empty()
    utc = pd.to_datetime(np.asarray(stamps, dtype=np.int64), unit="s", utc=True)
    tz_name = meta.get("exchangeTimezoneName")
    if tz_name:
        local = pd.DatetimeIndex(utc).tz_convert(tz_name).tz_localize(None)
    else:  # fixed offset in seconds (ignores DST, good enough to find the date of a bar)
        local = pd.DatetimeIndex(utc).tz_localize(None) + pd.Timedelta(
            seconds=int(meta.get("gmtoffset", 0))
        )
    quote = (res.get("indicators", {}).get("quote") or [{}])[0]
    cols: dict[str, np.ndarray] = {}
    for name in ("open", "high", "low", "close", "volume"):
        if name in quote:
            cols[name] = _floats(quote[name], len(stamps), name)
    adj = res.get("indicators", {}).get("adjclose")
    if adj and "adjclose" in adj[0]:
        cols["adj_close"] = _floats(adj[0]["adjclose"], len(stamps), "adjclose")
    if "close" not in cols:
        raise DataError("Yahoo chart JSON has no indicators.quote[0].close")
    out = pd.DataFrame(cols, index=local.normalize().astype("datetime64[ns]").rename("date"))
    return _finish(out)


def _floats(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if len(arr) != n:
        raise DataError(f"Yahoo chart JSON: {name} has {len(arr)} values for {n} timestamps")
    return arr


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: np.array([], dtype=np.float64) for c in _ORDER},
        index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="date"),
    )


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    out = out[[c for c in _ORDER if c in out.columns]]
    prices = [c for c in ("open", "high", "low", "close", "adj_close") if c in out.columns]
    out = out[out[prices].notna().any(axis=1)]
    return out[~out.index.duplicated(keep="last")].sort_index()


def transform(payload: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """Daily bars ``open, high, low, close, adj_close, volume`` indexed by plain dates.

    Accepts a yfinance history frame (``Open, High, Low, Close, Adj Close, Volume``,
    tz-aware index in the exchange time zone) or a Yahoo chart JSON document. Rows
    without any price are dropped; a repeated date keeps its last bar.
    """
    if isinstance(payload, pd.DataFrame):
        return _from_frame(payload)
    if isinstance(payload, Mapping):
        return _from_chart(payload)
    raise DataError(
        f"Yahoo payload must be a yfinance DataFrame or chart JSON, got {type(payload).__name__}"
    )


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: TickerFactory | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: pd.Timestamp | None = None,
) -> Batch:
    """Fetch the daily bars of ``spec`` (the fields it lists) as a :class:`Batch`.

    Bars dated on or after the current UTC day are dropped: during the session they are
    not closes yet (a crypto bar closes at 24:00 UTC, a US equity bar at 21:00 UTC).
    An equity close fetched after 21:00 UTC is thus taken on the next fetch, whose
    overlap asks for it again.
    """
    query = build_query(spec, start, end)
    frame = transform(extract(query, client, series=spec.id, policy=policy))
    today = (pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)).tz_localize(None)
    frame = frame[frame.index < today.normalize()]
    keep = [f for f in spec.fields if f in frame.columns]
    return spec_batch(
        spec, SOURCE, frame[keep], origin=f"yfinance {CHART_URL.format(symbol=spec.symbol)}"
    )
