"""CoinGecko coin market charts (price, market cap, volume).

``GET https://api.coingecko.com/api/v3/coins/{id}/market_chart?vs_currency=usd&days=N
&interval=daily`` returns ``{"prices": [[ms, v], ...], "market_caps": [...],
"total_volumes": [...]}`` with one point per day at 00:00 UTC plus a last point at the
time of the request (docs: https://docs.coingecko.com/reference/coins-id-market-chart).

Keys (https://docs.coingecko.com/reference/authentication), read from the environment:

* none: the public API, rate limited hardest;
* ``$COINGECKO_API_KEY``, a Demo key: same host, header ``x-cg-demo-api-key``;
* ``$COINGECKO_PRO_API_KEY``, a paid key: host ``pro-api.coingecko.com``, header
  ``x-cg-pro-api-key``, the full history (``days=max``).

Keyless and Demo requests serve at most the past 365 days, so a full history has to come
from ``liqflow import`` of a CoinGecko "max" CSV; ``liqflow fetch`` then keeps it current.
A store whose last date is older than that is left with a gap, which the fetch reports
(:func:`liqflow.fetch.fetch`, the result's ``note``). A 429 keeps CoinGecko's own
``error_message`` in the error.

Dates. A 00:00 UTC snapshot taken on day D is stored under D, as ``liqflow import`` does
for CoinGecko CSV exports: since about 2018 it equals Yahoo's close of D-1, so keeping D
can delay a value by one day but never shows it early (before 2018 CoinGecko's stamp D
lined up with the close of D, and shifting it back would look ahead). The intraday last
point is dropped.

The catalogue's ``global`` symbol (total crypto market cap) needs CoinGecko's paid
``/global/market_cap_chart`` endpoint and has no live route here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd

from liqflow._errors import DataError, ProviderError
from liqflow.catalog import SeriesSpec
from liqflow.providers._http import (
    DEFAULT_POLICY,
    OFFLINE_HINT,
    RetryPolicy,
    borrow_client,
    get,
    spec_batch,
)
from liqflow.store import Batch

__all__ = [
    "API_URL",
    "ENV_DEMO_KEY",
    "ENV_PRO_KEY",
    "HOST",
    "MAX_DAYS",
    "NO_LIVE_SYMBOLS",
    "PRO_HOST",
    "SOURCE",
    "CoinGeckoQuery",
    "api_key",
    "build_query",
    "extract",
    "fetch_spec",
    "host",
    "live_route",
    "transform",
]

SOURCE = "coingecko"
HOST = "api.coingecko.com"
PRO_HOST = "pro-api.coingecko.com"
API_URL = f"https://{HOST}/api/v3/coins/{{id}}/market_chart"
MAX_DAYS = 365  # history the keyless and Demo APIs serve
ENV_DEMO_KEY = "COINGECKO_API_KEY"
ENV_PRO_KEY = "COINGECKO_PRO_API_KEY"
NO_LIVE_SYMBOLS = frozenset({"global"})
_KEYS = {"prices": "close", "market_caps": "market_cap", "total_volumes": "volume"}
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class CoinGeckoQuery:
    """One market-chart request: coin id, quote currency, days back from now (None: max).

    ``key`` is ``(header, value)`` of a Demo or Pro key, or None (keyless).
    """

    coin_id: str
    days: int | None
    vs_currency: str = "usd"
    key: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def pro(self) -> bool:
        return self.key is not None and self.key[0] == "x-cg-pro-api-key"

    @property
    def url(self) -> str:
        url = API_URL.format(id=self.coin_id)
        return url.replace(HOST, PRO_HOST, 1) if self.pro else url

    def params(self) -> dict[str, str]:
        days = "max" if self.days is None else str(self.days)
        return {"vs_currency": self.vs_currency, "days": days, "interval": "daily"}

    def headers(self) -> dict[str, str]:
        return {} if self.key is None else {self.key[0]: self.key[1]}


def api_key() -> tuple[str, str] | None:
    """``(header, key)`` from ``$COINGECKO_PRO_API_KEY`` or ``$COINGECKO_API_KEY``, else None."""
    pro = os.environ.get(ENV_PRO_KEY, "").strip()
    if pro:
        return ("x-cg-pro-api-key", pro)
    demo = os.environ.get(ENV_DEMO_KEY, "").strip()
    return ("x-cg-demo-api-key", demo) if demo else None


def host(spec: SeriesSpec | None = None) -> str:
    """CoinGecko's API host (the Pro host with a Pro key)."""
    key = api_key()
    return PRO_HOST if key is not None and key[0] == "x-cg-pro-api-key" else HOST


def live_route(spec: SeriesSpec) -> str | None:
    """None if ``spec`` can be fetched live, else the reason it cannot."""
    if spec.symbol in NO_LIVE_SYMBOLS:
        return f"CoinGecko symbol {spec.symbol!r} needs the paid /global/market_cap_chart endpoint"
    return None


def build_query(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    *,
    now: pd.Timestamp | None = None,
    key: tuple[str, str] | None = None,
) -> CoinGeckoQuery:
    """Days back from ``now`` that cover ``start`` (one extra day of margin).

    At most 365 without a Pro key; with one, the full history (``max``) when ``start`` is
    None and no cap otherwise.
    """
    today = (pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)).tz_localize(None)
    pro = key is not None and key[0] == "x-cg-pro-api-key"
    days: int | None
    if start is None:
        days = None if pro else MAX_DAYS
    else:
        span = (today - pd.Timestamp(start)) / pd.Timedelta(days=1)
        days = max(1, math.ceil(span) + 1)
        if not pro:
            days = min(MAX_DAYS, days)
    vs = str(spec.options.get("vs_currency", "usd"))
    return CoinGeckoQuery(spec.symbol, days, vs, key)


def extract(
    query: CoinGeckoQuery,
    client: httpx.Client,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """The market-chart JSON document."""
    resp = get(
        client,
        query.url,
        query.params(),
        series=series or query.coin_id,
        policy=policy,
        headers=query.headers(),
    )
    try:
        doc = resp.json()
    except ValueError:
        raise DataError(
            f"{series or query.coin_id}: CoinGecko answered with something that is not JSON: "
            f"{resp.text[:120]!r}"
        ) from None
    if not isinstance(doc, dict):
        raise DataError(f"CoinGecko market chart is a {type(doc).__name__}, expected an object")
    return doc


def _column(points: Sequence[Sequence[float]], name: str) -> pd.Series:
    arr = np.array(
        [[np.nan if v is None else v for v in p[:2]] for p in points], dtype=np.float64
    ).reshape(-1, 2)
    ms = arr[:, 0].astype(np.int64)
    at_midnight = ms % _DAY_MS == 0  # drops the intraday "now" point
    stamps = pd.to_datetime(ms[at_midnight], unit="ms")
    idx = pd.DatetimeIndex(stamps.astype("datetime64[ns]"), name="date")
    s = pd.Series(arr[at_midnight, 1], index=idx, name=name)
    return s[~s.index.duplicated(keep="last")]


def transform(payload: Mapping[str, Any]) -> pd.DataFrame:
    """Daily ``close, market_cap, volume``; the 00:00 UTC snapshot of day D is dated D."""
    missing = [k for k in _KEYS if k not in payload]
    if len(missing) == len(_KEYS):
        raise DataError(
            f"CoinGecko market chart needs keys {sorted(_KEYS)}, got {sorted(payload)[:10]}"
        )
    cols = [_column(payload[k], v) for k, v in _KEYS.items() if k in payload]
    out = pd.concat(cols, axis=1).sort_index().astype(np.float64)
    out.index.name = "date"
    return out.dropna(how="all")


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: httpx.Client | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: pd.Timestamp | None = None,
) -> Batch:
    """Fetch the market chart of ``spec`` (at most the past 365 days) as a :class:`Batch`."""
    reason = live_route(spec)
    if reason is not None:
        raise ProviderError(f"{spec.id}: no live route ({reason}); {OFFLINE_HINT}")
    query = build_query(spec, start, end, now=now, key=api_key())
    with borrow_client(client) as http:
        payload = extract(query, http, series=spec.id, policy=policy)
    frame = transform(payload)
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame.index <= pd.Timestamp(end)]
    keep = [f for f in spec.fields if f in frame.columns]
    return spec_batch(
        spec,
        SOURCE,
        frame[keep],
        origin=f"{query.url}?days={query.params()['days']} (00:00 UTC snapshot of D stored as D)",
    )
