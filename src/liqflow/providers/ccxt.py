"""Crypto exchanges through ccxt: daily OHLCV, funding rates and open interest.

Series options (catalogue ``options``): ``exchange`` (a ccxt id, default ``"binance"``),
``perp_symbol`` (the perpetual swap for funding and open interest, default
``"<BASE>/<QUOTE>:<QUOTE>"``), ``since`` (first date of a full-history request, default
2010-01-01) and ``open_interest_days`` (how far back the exchange keeps open-interest
history, default 30 as on Binance).

Calls (ccxt unified API, https://docs.ccxt.com/):

* ``exchange.fetch_ohlcv(symbol, "1d", since, limit)`` -> ``[[ms, open, high, low, close,
  volume], ...]``, paged: ``since`` moves to one millisecond past the last candle until a
  page is empty, makes no progress or reaches now. Candle timestamps are the UTC open of
  the day, so the date is the UTC date; the current, unfinished day is dropped.
* ``exchange.fetch_funding_rate_history(perp, since, limit)`` (dicts with ``timestamp``,
  ``fundingRate``) where ``exchange.has["fetchFundingRateHistory"]``: stored as
  ``funding_rate``, the **sum** of the day's funding rates (the fraction of notional a
  long pays per UTC day; Binance funds every 8 hours).
* ``exchange.fetch_open_interest_history(perp, "1d", since, limit)`` (dicts with
  ``timestamp``, ``openInterestValue``) where ``exchange.has["fetchOpenInterestHistory"]``:
  stored as ``open_interest`` in quote currency.

A field the exchange does not offer is skipped and said so in the batch origin; the
throttle between calls is ccxt's own (``enableRateLimit``, spacing calls by
``exchange.rateLimit`` milliseconds).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
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
    "DAY_MS",
    "DEFAULT_EXCHANGE",
    "CcxtPayload",
    "CcxtQuery",
    "build_query",
    "classify_ccxt",
    "extract",
    "fetch_spec",
    "host",
    "make_exchange",
    "paginate",
    "source",
    "transform",
    "transform_funding",
    "transform_ohlcv",
    "transform_open_interest",
]

DEFAULT_EXCHANGE = "binance"
DAY_MS = 86_400_000
_OHLCV = ("open", "high", "low", "close", "volume")
_OFFLINE_MARKERS = (
    "ConnectionError",
    "Failed to resolve",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Connection refused",
    "NameResolutionError",
    "Max retries exceeded",
)


def _ms(ts: pd.Timestamp | dt.date | str) -> int:
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    return int(t.value // 1_000_000)


@dataclass(frozen=True)
class CcxtQuery:
    """What to ask one exchange: OHLCV of ``symbol`` and optional derivatives of ``perp_symbol``.

    Times are epoch milliseconds (UTC): ``since`` inclusive, ``until`` the moment of the
    request (candles of a day that has not ended by then are dropped).
    """

    exchange: str
    symbol: str
    since: int
    until: int
    perp_symbol: str
    funding: bool = False
    open_interest: bool = False
    open_interest_since: int = 0
    timeframe: str = "1d"
    limit: int = 1000


@dataclass(frozen=True)
class CcxtPayload:
    """Raw rows as the exchange returned them, plus fields skipped and why."""

    ohlcv: list[list[float]]
    funding: list[dict[str, Any]] | None = None
    open_interest: list[dict[str, Any]] | None = None
    skipped: tuple[str, ...] = ()


def source(spec: SeriesSpec) -> str:
    """Store source of ``spec``: ``"ccxt:<exchange>"``."""
    return f"ccxt:{spec.options.get('exchange', DEFAULT_EXCHANGE)}"


def _perp(symbol: str) -> str:
    if ":" in symbol:
        return symbol
    if "/" not in symbol:
        raise ConfigError(f"ccxt symbol must look like 'BTC/USDT', got {symbol!r}")
    return f"{symbol}:{symbol.split('/')[1]}"


def build_query(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    *,
    now: pd.Timestamp | None = None,
) -> CcxtQuery:
    """The request of ``spec`` from ``start`` (None: ``options["since"]``) to ``end`` or now."""
    opts = spec.options
    stop = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    until = _ms(stop)
    if end is not None:
        until = min(until, _ms(pd.Timestamp(end) + pd.Timedelta(days=1)))
    since = _ms(start) if start is not None else _ms(str(opts.get("since", "2010-01-01")))
    oi_days = int(opts.get("open_interest_days", 30))
    return CcxtQuery(
        exchange=str(opts.get("exchange", DEFAULT_EXCHANGE)),
        symbol=spec.symbol,
        since=since,
        until=until,
        perp_symbol=str(opts.get("perp_symbol") or _perp(spec.symbol)),
        funding="funding_rate" in spec.fields,
        open_interest="open_interest" in spec.fields,
        open_interest_since=max(since, until - oi_days * DAY_MS),
        limit=int(opts.get("limit", 1000)),
    )


def make_exchange(exchange_id: str, policy: RetryPolicy = DEFAULT_POLICY) -> Any:
    """A ccxt exchange with ccxt's own rate limiter on (no network until a call)."""
    import ccxt

    cls = getattr(ccxt, exchange_id, None)
    if exchange_id not in ccxt.exchanges or cls is None:
        raise ConfigError(
            f"ccxt exchange must be one of ccxt.exchanges (e.g. 'binance', 'kraken'), got {exchange_id!r}"
        )
    return cls({"enableRateLimit": True, "timeout": int(policy.timeout * 1000)})


def host(spec: SeriesSpec) -> str:
    """The API host of the series' exchange (read from ccxt's ``urls['api']``)."""
    ex_id = str(spec.options.get("exchange", DEFAULT_EXCHANGE))
    try:
        return _host_of(make_exchange(ex_id), ex_id)
    except ConfigError:
        return ex_id


def classify_ccxt(exc: BaseException) -> Failure | None:
    """ccxt network errors (rate limits, timeouts, unavailability) retried; exchange errors not."""
    import ccxt

    name = type(exc).__name__
    if isinstance(exc, ccxt.RequestTimeout):
        return Failure(f"timed out ({name})", retryable=True, timeout=True)
    if isinstance(exc, ccxt.DDoSProtection):  # includes RateLimitExceeded
        return Failure(f"rate limited ({name}: {brief(exc, 120)})", retryable=True)
    if isinstance(exc, ccxt.NetworkError):
        text = str(exc)
        offline = any(m in text for m in _OFFLINE_MARKERS)
        return Failure(f"{name}: {brief(text)}", retryable=True, offline=offline)
    if isinstance(exc, ccxt.BaseError):
        return Failure(f"{name}: {brief(exc, 200)}", retryable=False)
    return None


def paginate(
    fetch_page: Callable[[int], Sequence[Any]],
    since: int,
    until: int,
    timestamp: Callable[[Any], int],
) -> list[Any]:
    """Collect pages ``fetch_page(since)`` forward in time until ``until``.

    After each page ``since`` moves to one millisecond past its last row. Stops on an
    empty page, a page that does not move past ``since`` (no progress), or once the last
    row reaches ``until``. Rows outside ``[since, until)`` are dropped, duplicates keep the
    last copy, and the result is sorted by time.
    """
    rows: dict[int, Any] = {}
    cursor = since
    while cursor < until:
        page = list(fetch_page(cursor))
        if not page:
            break
        last = max(timestamp(r) for r in page)
        for r in page:
            t = timestamp(r)
            if since <= t < until:
                rows[t] = r
        if last < cursor:
            break
        cursor = last + 1
    return [rows[t] for t in sorted(rows)]


def extract(
    query: CcxtQuery,
    client: Any = None,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> CcxtPayload:
    """Run the paged calls on ``client`` (a ccxt exchange; default built from ``query.exchange``)."""
    exchange = client if client is not None else make_exchange(query.exchange, policy)
    name = series or query.symbol
    where = _host_of(exchange, query.exchange)

    def call(fn: Callable[[], Any]) -> Any:
        return call_with_retry(fn, series=name, host=where, classify=classify_ccxt, policy=policy)

    ohlcv = paginate(
        lambda s: call(lambda: exchange.fetch_ohlcv(query.symbol, query.timeframe, s, query.limit)),
        query.since,
        query.until,
        lambda r: int(r[0]),
    )
    has = getattr(exchange, "has", {}) or {}
    skipped: list[str] = []
    funding = oi = None
    if query.funding:
        if has.get("fetchFundingRateHistory"):
            funding = paginate(
                lambda s: call(
                    lambda: exchange.fetch_funding_rate_history(query.perp_symbol, s, query.limit)
                ),
                query.since,
                query.until,
                lambda r: int(r["timestamp"]),
            )
        else:
            skipped.append(f"funding_rate: {query.exchange} has no fetchFundingRateHistory")
    if query.open_interest:
        if has.get("fetchOpenInterestHistory"):
            oi = paginate(
                lambda s: call(
                    lambda: exchange.fetch_open_interest_history(
                        query.perp_symbol, query.timeframe, s, query.limit
                    )
                ),
                query.open_interest_since,
                query.until,
                lambda r: int(r["timestamp"]),
            )
        else:
            skipped.append(f"open_interest: {query.exchange} has no fetchOpenInterestHistory")
    return CcxtPayload(ohlcv, funding, oi, tuple(skipped))


def _host_of(exchange: Any, fallback: str) -> str:
    api = getattr(exchange, "urls", {}).get("api") if hasattr(exchange, "urls") else None
    stack = [api]
    while stack:
        item = stack.pop(0)
        if isinstance(item, str):
            return urlsplit(item).hostname or fallback
        if isinstance(item, dict):
            stack.extend(item.values())
    return fallback


def _complete_days(index: pd.DatetimeIndex, until: int | None) -> np.ndarray:
    if until is None:
        return np.ones(len(index), dtype=bool)
    ends = (index.asi8 // 1_000_000) + DAY_MS  # ms at which each UTC day ends
    return np.asarray(ends <= until)


def _utc_dates(ms: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(
        pd.to_datetime(ms, unit="ms").normalize().astype("datetime64[ns]"), name="date"
    )


def transform_ohlcv(rows: Sequence[Sequence[float]], *, until: int | None = None) -> pd.DataFrame:
    """Daily ``open, high, low, close, volume`` from ccxt OHLCV rows ``[ms, o, h, l, c, v]``.

    The date is the UTC date of the candle's open; days not finished by ``until``
    (epoch ms) are dropped.
    """
    if not rows:
        return pd.DataFrame(
            {c: np.array([], dtype=np.float64) for c in _OHLCV},
            index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="date"),
        )
    arr = np.array([[np.nan if v is None else v for v in r[:6]] for r in rows], dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise DataError(f"ccxt OHLCV rows must be [ms, o, h, l, c, v], got shape {arr.shape}")
    idx = _utc_dates(arr[:, 0].astype(np.int64))
    out = pd.DataFrame(arr[:, 1:], index=idx, columns=list(_OHLCV))
    out = out[_complete_days(idx, until)]
    return out[~out.index.duplicated(keep="last")].sort_index()


def _daily(
    rows: Sequence[dict[str, Any]], key: str, how: str, until: int | None, name: str
) -> pd.Series:
    stamps = np.array([int(r["timestamp"]) for r in rows], dtype=np.int64)
    values = np.array(
        [np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=np.float64
    )
    s = pd.Series(values, index=_utc_dates(stamps), name=name).dropna()
    daily = s.groupby(level="date").sum() if how == "sum" else s.groupby(level="date").last()
    daily = daily.astype(np.float64)
    idx = pd.DatetimeIndex(daily.index, name="date")
    return daily[_complete_days(idx, until)]


def transform_funding(rows: Sequence[dict[str, Any]], *, until: int | None = None) -> pd.Series:
    """Daily ``funding_rate``: the sum of the funding rates paid within each UTC day."""
    return _daily(rows, "fundingRate", "sum", until, "funding_rate")


def transform_open_interest(
    rows: Sequence[dict[str, Any]], *, until: int | None = None
) -> pd.Series:
    """Daily ``open_interest`` (``openInterestValue``, quote currency), last value of each UTC day."""
    return _daily(rows, "openInterestValue", "last", until, "open_interest")


def transform(payload: CcxtPayload, *, until: int | None = None) -> pd.DataFrame:
    """One frame with OHLCV plus ``funding_rate``/``open_interest`` where fetched."""
    out = transform_ohlcv(payload.ohlcv, until=until)
    extra = []
    if payload.funding:
        extra.append(transform_funding(payload.funding, until=until))
    if payload.open_interest:
        extra.append(transform_open_interest(payload.open_interest, until=until))
    if extra:
        out = out.join(pd.concat(extra, axis=1), how="outer")
        out.index.name = "date"
    return out.astype(np.float64)


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: Any = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: pd.Timestamp | None = None,
) -> Batch:
    """Fetch ``spec`` from its exchange as a :class:`Batch` with source ``ccxt:<exchange>``."""
    query = build_query(spec, start, end, now=now)
    payload = extract(query, client, series=spec.id, policy=policy)
    frame = transform(payload, until=query.until)
    keep = [f for f in spec.fields if f in frame.columns]
    origin = f"ccxt {query.exchange} {query.symbol} 1d"
    if payload.skipped:
        origin += " (skipped " + "; ".join(payload.skipped) + ")"
    return spec_batch(spec, source(spec), frame[keep], origin=origin)
