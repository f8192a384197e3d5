"""Live data providers and their registry.

Each provider module follows the same split: ``build_query(spec, start, end)`` (pure),
``extract(query, client)`` (the only network call, client injected) and ``transform``
(pure, tested on recorded payloads), joined by ``fetch_spec(spec, start, end, client)``
which returns a :class:`~liqflow.store.Batch`. :func:`get_provider` looks a provider up
by the catalogue's provider name; :func:`fetch_spec` dispatches on it.

Series whose provider is ``csv`` (and CoinGecko's ``global`` chart) have no live route:
they come from ``liqflow import PATH``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow._lazy import lazy_exports

if TYPE_CHECKING:
    from liqflow.providers._http import (
        DEFAULT_POLICY,
        OFFLINE_HINT,
        ProviderHTTPError,
        ProviderTimeout,
        ProviderUnreachable,
        RetryPolicy,
    )
    from liqflow.providers.registry import LIVE_PROVIDERS, Provider, fetch_spec, get_provider

__all__ = [
    "DEFAULT_POLICY",
    "LIVE_PROVIDERS",
    "OFFLINE_HINT",
    "Provider",
    "ProviderHTTPError",
    "ProviderTimeout",
    "ProviderUnreachable",
    "RetryPolicy",
    "fetch_spec",
    "get_provider",
]

_SOURCES = {
    "DEFAULT_POLICY": "_http",
    "OFFLINE_HINT": "_http",
    "ProviderHTTPError": "_http",
    "ProviderTimeout": "_http",
    "ProviderUnreachable": "_http",
    "RetryPolicy": "_http",
    "LIVE_PROVIDERS": "registry",
    "Provider": "registry",
    "fetch_spec": "registry",
    "get_provider": "registry",
}

__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
