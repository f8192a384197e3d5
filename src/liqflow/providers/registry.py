"""The registry of live providers: which module fetches each provider of the catalogue,
the host it talks to and the store source it writes (:func:`get_provider`,
:func:`fetch_spec`). Importing it imports every provider module (and ``httpx``);
:mod:`liqflow.providers` re-exports these names lazily, so a reader of the store that
imports one provider module (the universe files) does not pay for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from liqflow._errors import ConfigError, ProviderError
from liqflow.catalog import PROVIDERS, SeriesSpec
from liqflow.providers import ccxt as _ccxt
from liqflow.providers import cftc as _cftc
from liqflow.providers import coingecko as _coingecko
from liqflow.providers import fred as _fred
from liqflow.providers import treasury as _treasury
from liqflow.providers import yahoo as _yahoo
from liqflow.providers._http import DEFAULT_POLICY, OFFLINE_HINT, RetryPolicy
from liqflow.store import Batch

__all__ = ["LIVE_PROVIDERS", "Provider", "fetch_spec", "get_provider"]

FetchFn = Callable[..., Batch]


def _always_live(spec: SeriesSpec) -> str | None:
    return None


def _same_source(name: str) -> Callable[[SeriesSpec], str]:
    return lambda spec: name


@dataclass(frozen=True)
class Provider:
    """A provider of the catalogue: how to fetch, which host it talks to, its store source."""

    name: str
    fetch: FetchFn | None
    host: Callable[[SeriesSpec], str]
    source: Callable[[SeriesSpec], str]
    no_live_reason: Callable[[SeriesSpec], str | None] = _always_live

    def live_reason(self, spec: SeriesSpec) -> str | None:
        """None when ``spec`` can be fetched live, else why not."""
        if self.fetch is None:
            return f"provider {self.name!r} has no live route"
        return self.no_live_reason(spec)


_REGISTRY: dict[str, Provider] = {
    "fred": Provider("fred", _fred.fetch_spec, _fred.host, _same_source(_fred.SOURCE)),
    "yahoo": Provider("yahoo", _yahoo.fetch_spec, _yahoo.host, _same_source(_yahoo.SOURCE)),
    "ccxt": Provider("ccxt", _ccxt.fetch_spec, _ccxt.host, _ccxt.source),
    "coingecko": Provider(
        "coingecko",
        _coingecko.fetch_spec,
        _coingecko.host,
        _same_source(_coingecko.SOURCE),
        _coingecko.live_route,
    ),
    "treasury": Provider(
        "treasury", _treasury.fetch_spec, _treasury.host, _same_source(_treasury.SOURCE)
    ),
    "cftc": Provider("cftc", _cftc.fetch_spec, _cftc.host, _same_source(_cftc.SOURCE)),
    "csv": Provider("csv", None, lambda spec: "local files", _same_source("csv")),
}
LIVE_PROVIDERS = tuple(sorted(n for n, p in _REGISTRY.items() if p.fetch is not None))


def get_provider(name: str) -> Provider:
    """The registered provider called ``name`` (one of :data:`liqflow.catalog.PROVIDERS`)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"provider must be one of {PROVIDERS}, got {name!r}") from None


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: Any = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Batch:
    """Fetch ``spec`` from its provider between ``start`` and ``end`` (None: open).

    ``client`` is the provider's client: an ``httpx.Client`` for FRED, CoinGecko, Fiscal
    Data (``treasury``) and CFTC, a
    ticker factory (``yfinance.Ticker``) for Yahoo, a ccxt exchange for ccxt; None builds
    the default one.

    Raises
    ------
    ProviderError
        The series has no live route (``csv``), or the provider failed after retries.
    """
    provider = get_provider(spec.provider)
    reason = provider.live_reason(spec)
    if reason is not None or provider.fetch is None:
        raise ProviderError(f"{spec.id}: no live route ({reason}); {OFFLINE_HINT}")
    return provider.fetch(spec, start, end, client, policy=policy)
