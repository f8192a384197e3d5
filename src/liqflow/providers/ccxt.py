"""Crypto exchanges through ccxt: daily OHLCV, funding rates and open interest.

Series options (catalogue ``options``): ``exchange`` (a ccxt id, default ``"binance"``),
``fallback`` (exchanges to try, in order, when the exchange refuses the user's location
with HTTP 451; default ``["bybit", "okx"]`` for the default exchange, none for an
exchange chosen explicitly), ``perp_symbol`` (the perpetual swap for funding and open
interest, default ``"<BASE>/<QUOTE>:<QUOTE>"``), ``since`` (first date of a full-history
request; default: the market's listing, ccxt's ``market["created"]``), ``limit`` (rows
per call, at most the exchange's documented maximum, :data:`LIMITS`) and
``open_interest_days`` (how far back the exchange keeps open-interest history: 30 days
on Binance, :data:`OPEN_INTEREST_DAYS`).

Calls (ccxt unified API, https://docs.ccxt.com/):

* ``exchange.fetch_ohlcv(symbol, "1d", since, limit)`` -> ``[[ms, open, high, low, close,
  volume], ...]``. Candle timestamps are the UTC open of the day, so the date is the UTC
  date; the current, unfinished day is dropped.
* ``exchange.fetch_funding_rate_history(perp, since, limit)`` (dicts with ``timestamp``,
  ``fundingRate``) where ``exchange.has["fetchFundingRateHistory"]``: stored as
  ``funding_rate``, the **sum** of the day's funding rates (the fraction of notional a
  long pays per UTC day; Binance, Bybit and OKX fund every 8 hours).
* ``exchange.fetch_open_interest_history(perp, "1d", since, limit)`` where
  ``exchange.has["fetchOpenInterestHistory"]``: stored as ``open_interest`` in quote
  currency: ccxt's ``openInterestValue`` where the exchange gives it (Binance, OKX); Bybit
  linear swaps give only ``openInterestAmount`` (base currency, ccxt's bybit
  ``parse_open_interest``), which is multiplied by the day's close of ``symbol``.

Paging. Each call asks for one window of at most ``limit`` rows from ``since``; ccxt turns
``since`` into a fixed window on several exchanges (OKX candles ``before``/``after``,
Bybit funding ``startTime``/``endTime``), so a window before the market's listing comes
back empty. A full history therefore starts at the listing (``market["created"]``), and
an empty page moves the cursor one window on instead of ending the history; otherwise the
cursor moves to one millisecond past the last row, until it reaches the end.

Location and proxies. Binance answers HTTP 451 to users in restricted locations (the
US): the fallback exchanges are then tried in order and the result says which one served
the data (set the series option ``exchange`` to it). ccxt ignores ``HTTPS_PROXY``:
liqflow passes ``$LIQFLOW_CCXT_PROXY``, else ``$HTTPS_PROXY``/``$https_proxy``, to ccxt's
``httpsProxy`` setting.

A field the exchange does not offer is skipped and said so in the batch origin; the
throttle between calls is ccxt's own (``enableRateLimit``, spacing calls by
``exchange.rateLimit`` milliseconds).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError, ProviderError
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
    "DEFAULT_FALLBACK",
    "ENV_PROXY",
    "LIMITS",
    "OPEN_INTEREST_DAYS",
    "CcxtPayload",
    "CcxtQuery",
    "build_query",
    "classify_ccxt",
    "extract",
    "fetch_spec",
    "host",
    "make_exchange",
    "paginate",
    "proxy",
    "source",
    "transform",
    "transform_funding",
    "transform_ohlcv",
    "transform_open_interest",
]

DEFAULT_EXCHANGE = "binance"
DEFAULT_FALLBACK = ("bybit", "okx")
DAY_MS = 86_400_000
FUNDING_MS = 8 * 3_600_000  # funding interval of the major USDT perpetuals
#: Documented maximum ``limit`` per call: (OHLCV, funding history, open-interest history).
LIMITS: Mapping[str, tuple[int, int, int]] = {
    "binance": (1000, 1000, 500),
    "bybit": (1000, 200, 200),
    "okx": (100, 100, 100),
}
DEFAULT_LIMITS = (100, 100, 100)  # exchanges whose maxima liqflow does not know
#: Days of daily open-interest history the exchange keeps (others: since the listing).
OPEN_INTEREST_DAYS: Mapping[str, int] = {"binance": 30}
ENV_PROXY = "LIQFLOW_CCXT_PROXY"
_EARLIEST = "2013-01-01"  # full-history start when the market has no listing date
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

    Times are epoch milliseconds (UTC): ``since`` inclusive (None: from the market's
    listing), ``until`` the moment of the request (candles of a day that has not ended by
    then are dropped). ``limits`` are rows per call for OHLCV, funding and open interest.
    """

    exchange: str
    symbol: str
    since: int | None
    until: int
    perp_symbol: str
    funding: bool = False
    open_interest: bool = False
    open_interest_days: int | None = None
    timeframe: str = "1d"
    limits: tuple[int, int, int] = DEFAULT_LIMITS
    fallback: tuple[str, ...] = ()


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
    exchange: str | None = None,
) -> CcxtQuery:
    """The request of ``spec`` from ``start`` (None: ``options["since"]`` or the listing).

    ``exchange`` replaces the series' exchange (a fallback); ``limit`` is capped at the
    exchange's documented maxima.
    """
    opts = spec.options
    stop = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    until = _ms(stop)
    if end is not None:
        until = min(until, _ms(pd.Timestamp(end) + pd.Timedelta(days=1)))
    since = _ms(start) if start is not None else None
    if since is None and opts.get("since") is not None:
        since = _ms(str(opts["since"]))
    ex_id = exchange or str(opts.get("exchange", DEFAULT_EXCHANGE))
    maxima = LIMITS.get(ex_id, DEFAULT_LIMITS)
    if "limit" in opts:
        wanted = int(opts["limit"])
        if wanted < 1:
            raise ConfigError(f"series {spec.id!r}: ccxt limit must be >= 1, got {wanted!r}")
        maxima = (min(wanted, maxima[0]), min(wanted, maxima[1]), min(wanted, maxima[2]))
    days = opts.get("open_interest_days", OPEN_INTEREST_DAYS.get(ex_id))
    return CcxtQuery(
        exchange=ex_id,
        symbol=spec.symbol,
        since=since,
        until=until,
        perp_symbol=str(opts.get("perp_symbol") or _perp(spec.symbol)),
        funding="funding_rate" in spec.fields,
        open_interest="open_interest" in spec.fields,
        open_interest_days=None if days is None else int(days),
        limits=maxima,
        fallback=_fallback(spec),
    )


def _fallback(spec: SeriesSpec) -> tuple[str, ...]:
    opts = spec.options
    if "fallback" in opts:
        raw = opts["fallback"]
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            raise ConfigError(
                f"series {spec.id!r}: ccxt fallback must be a list of exchange ids, got {raw!r}"
            )
        return tuple(str(x) for x in raw)
    return DEFAULT_FALLBACK if "exchange" not in opts else ()


def proxy() -> str | None:
    """The proxy URL ccxt is given: ``$LIQFLOW_CCXT_PROXY``, else ``$HTTPS_PROXY``."""
    for name in (ENV_PROXY, "HTTPS_PROXY", "https_proxy"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def make_exchange(exchange_id: str, policy: RetryPolicy = DEFAULT_POLICY) -> Any:
    """A ccxt exchange with ccxt's rate limiter on and the proxy of :func:`proxy` (no network yet)."""
    import ccxt

    cls = getattr(ccxt, exchange_id, None)
    if exchange_id not in ccxt.exchanges or cls is None:
        raise ConfigError(
            f"ccxt exchange must be one of ccxt.exchanges (e.g. 'binance', 'kraken'), got {exchange_id!r}"
        )
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": int(policy.timeout * 1000)}
    url = proxy()
    if url is not None:
        config["httpsProxy"] = url
    return cls(config)


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
    if location_refused(exc):
        return None  # not retried here: fetch_spec tries the fallback exchanges
    if isinstance(exc, ccxt.RequestTimeout):
        return Failure(f"timed out ({name})", retryable=True, timeout=True)
    if isinstance(exc, ccxt.DDoSProtection):  # includes RateLimitExceeded
        return Failure(f"rate limited ({name}: {brief(exc, 120)})", retryable=True)
    if isinstance(exc, ccxt.NetworkError):
        text = str(exc)
        # ccxt raises the base NetworkError itself when no connection was made at all
        # (refused, no route, a dead proxy); its subclasses are answers from the exchange
        offline = type(exc) is ccxt.NetworkError or any(m in text for m in _OFFLINE_MARKERS)
        return Failure(f"{name}: {brief(text)}", retryable=True, offline=offline)
    if isinstance(exc, ccxt.BaseError):
        return Failure(f"{name}: {brief(exc, 200)}", retryable=False)
    return None


def location_refused(exc: BaseException) -> bool:
    """True for an exchange's HTTP 451 (it serves no user in this location, e.g. the US)."""
    import ccxt

    return isinstance(exc, ccxt.ExchangeNotAvailable) and bool(re.search(r"\b451\b", str(exc)))


def paginate(
    fetch_page: Callable[[int], Sequence[Any]],
    since: int,
    until: int,
    timestamp: Callable[[Any], int],
    window: int | None = None,
) -> list[Any]:
    """Collect pages ``fetch_page(since)`` forward in time until ``until``.

    The first page is asked from ``since - 1``. After a page the cursor moves to one
    millisecond past its last row; after an empty page
    it moves on by ``window`` milliseconds (the span one page covers: a window before the
    market's listing, or a gap, is empty but is not the end), or paging stops when
    ``window`` is None. Paging also stops on a page that does not move past ``since`` (no
    progress) and once ``until`` is reached. Rows outside ``[since, until)`` are dropped,
    duplicates keep the last copy, and the result is sorted by time.
    """
    rows: dict[int, Any] = {}
    # one millisecond early: a window of `limit` steps from a row's own timestamp holds
    # limit + 1 rows when both ends are inclusive (Bybit), and the exchange drops one
    cursor = since - 1
    while cursor < until:
        page = list(fetch_page(cursor))
        if not page:
            if window is None:
                break
            cursor += window
            continue
        last = max(timestamp(r) for r in page)
        for r in page:
            t = timestamp(r)
            if since <= t < until:
                rows[t] = r
        if last < cursor:
            break
        cursor = last + 1
    return [rows[t] for t in sorted(rows)]


def _listing(exchange: Any, symbol: str) -> int | None:
    """The market's listing time (ccxt ``market["created"]``, epoch ms), if ccxt knows it."""
    market_of = getattr(exchange, "market", None)
    if not callable(market_of) or not hasattr(exchange, "load_markets"):
        return None
    exchange.load_markets()
    created = (market_of(symbol) or {}).get("created")
    return int(created) if created else None


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

    def first(symbol: str) -> int:
        if query.since is not None:
            return query.since
        listed = call(lambda: _listing(exchange, symbol))
        return listed if listed is not None else _ms(_EARLIEST)

    n_ohlcv, n_funding, n_oi = query.limits
    ohlcv = paginate(
        lambda s: call(lambda: exchange.fetch_ohlcv(query.symbol, query.timeframe, s, n_ohlcv)),
        first(query.symbol),
        query.until,
        lambda r: int(r[0]),
        n_ohlcv * DAY_MS,
    )
    has = getattr(exchange, "has", {}) or {}
    skipped: list[str] = []
    funding = oi = None
    if query.funding:
        if has.get("fetchFundingRateHistory"):
            funding = paginate(
                lambda s: call(
                    lambda: exchange.fetch_funding_rate_history(query.perp_symbol, s, n_funding)
                ),
                first(query.perp_symbol),
                query.until,
                lambda r: int(r["timestamp"]),
                n_funding * FUNDING_MS,
            )
        else:
            skipped.append(f"funding_rate: {query.exchange} has no fetchFundingRateHistory")
    if query.open_interest:
        if has.get("fetchOpenInterestHistory"):
            since = first(query.perp_symbol)
            if query.open_interest_days is not None:
                since = max(since, query.until - query.open_interest_days * DAY_MS)
            oi = paginate(
                lambda s: call(
                    lambda: exchange.fetch_open_interest_history(
                        query.perp_symbol, query.timeframe, s, n_oi
                    )
                ),
                since,
                query.until,
                lambda r: int(r["timestamp"]),
                n_oi * DAY_MS,
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
    rows: Sequence[dict[str, Any]],
    *,
    until: int | None = None,
    close: pd.Series | None = None,
) -> pd.Series:
    """Daily ``open_interest`` in quote currency, the last value of each UTC day.

    ccxt's ``openInterestValue`` where set; else ``openInterestAmount`` (base currency:
    Bybit linear swaps) times that day's ``close`` (NaN without one).
    """
    value = _daily(rows, "openInterestValue", "last", until, "open_interest")
    amount = _daily(rows, "openInterestAmount", "last", until, "open_interest")
    if close is None:
        close = pd.Series(dtype=np.float64)
    converted = (amount * close.reindex(amount.index)).dropna()
    out = value.combine_first(converted).astype(np.float64)
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out.rename("open_interest")


def transform(payload: CcxtPayload, *, until: int | None = None) -> pd.DataFrame:
    """One frame with OHLCV plus ``funding_rate``/``open_interest`` where fetched."""
    out = transform_ohlcv(payload.ohlcv, until=until)
    extra = []
    if payload.funding:
        extra.append(transform_funding(payload.funding, until=until))
    if payload.open_interest:
        close = out["close"] if "close" in out.columns else None
        extra.append(transform_open_interest(payload.open_interest, until=until, close=close))
    if extra:
        out = out.join(pd.concat(extra, axis=1), how="outer")
        out.index.name = "date"
    return out.astype(np.float64)


def _exchange(clients: Any, ex_id: str, primary: str, policy: RetryPolicy) -> Any:
    """The exchange ``ex_id`` from ``clients`` (an exchange, a mapping of them, or None)."""
    if isinstance(clients, Mapping):
        if ex_id not in clients:
            made = make_exchange(ex_id, policy)
            if isinstance(clients, MutableMapping):
                clients[ex_id] = made
            return made
        return clients[ex_id]
    if clients is not None and ex_id == primary:
        return clients
    return make_exchange(ex_id, policy)


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: Any = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: pd.Timestamp | None = None,
) -> Batch:
    """Fetch ``spec`` from its exchange as a :class:`Batch` with source ``ccxt:<exchange>``.

    ``client`` is the series' exchange, or a mapping ``exchange id -> exchange`` (missing
    ones are built and added). When the exchange answers HTTP 451, the ``fallback``
    exchanges are tried in order; the batch's source names the one that answered.

    Raises
    ------
    ProviderError
        Every exchange refused the location (the message names them and the option to
        set), or the exchange failed after retries.
    """
    primary = build_query(spec, start, end, now=now)
    refused: list[str] = []
    for ex_id in (primary.exchange, *primary.fallback):
        query = (
            primary
            if ex_id == primary.exchange
            else build_query(spec, start, end, now=now, exchange=ex_id)
        )
        exchange = _exchange(client, ex_id, primary.exchange, policy)
        try:
            payload = extract(query, exchange, series=spec.id, policy=policy)
        except Exception as exc:
            if not location_refused(exc):
                raise
            refused.append(ex_id)
            continue
        frame = transform(payload, until=query.until)
        keep = [f for f in spec.fields if f in frame.columns]
        origin = f"ccxt {query.exchange} {query.symbol} 1d"
        if refused:
            origin += (
                f" ({', '.join(refused)} refused this location with HTTP 451; set the series "
                f"option exchange = {ex_id!r})"
            )
        if payload.skipped:
            origin += " (skipped " + "; ".join(payload.skipped) + ")"
        return spec_batch(spec, f"ccxt:{ex_id}", frame[keep], origin=origin)
    raise ProviderError(
        f"{spec.id}: {', '.join(refused)} refused requests from this location (HTTP 451, "
        f"e.g. the US); set the series option exchange to one that serves it (e.g. "
        f"'kraken' or 'coinbase'), or its option fallback to a list of them"
    )
