"""Catalogue entries: :class:`SeriesSpec` (one series) and :class:`Chain` (stages of ids).

The vocabulary of the catalogue (providers, frequencies, chain groups, field sets) lives
here too; :mod:`liqflow.catalog` re-exports all of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pandas.tseries.offsets import BaseOffset

from liqflow._errors import ConfigError
from liqflow.universe import STABLECOINS as _STABLECOINS
from liqflow.universe import is_excluded_symbol

__all__ = [
    "COINGECKO",
    "COT_TFF",
    "FREQUENCIES",
    "FUNDING",
    "GROUPS",
    "IMPORT_ONLY",
    "OHLCV",
    "PROVIDERS",
    "SEGMENTS",
    "STABLECOINS",
    "Chain",
    "SeriesSpec",
    "is_excluded_coin",
]

PROVIDERS = ("fred", "yahoo", "ccxt", "coingecko", "csv", "treasury", "cftc")
#: Providers with no live source: their series come from ``liqflow import`` only.
IMPORT_ONLY = ("csv",)
FREQUENCIES = ("D", "W", "M")
GROUPS = ("liquidity", "credit", "large_caps", "small_caps", "segment", "crypto", "alt", "macro")
#: Small-cap segment series whose highs measure the breadth of a Russell 2000 breakout.
SEGMENTS = ("seg_regional_banks", "seg_industrials", "seg_biotech")
OHLCV = ("close", "open", "high", "low", "adj_close", "volume")
COINGECKO = ("close", "market_cap", "volume")
FUNDING = ("funding_rate", "open_interest")
#: CFTC TFF fields: leveraged funds (hedge funds, CTAs), asset managers and dealers.
COT_TFF = (
    "lev_net",
    "lev_long",
    "lev_short",
    "am_long",
    "am_short",
    "dealer_long",
    "dealer_short",
    "open_interest",
)

# Stablecoins and wrapped/staked tokens track another asset; they are excluded from the
# altcoin universe by rule, whatever list a user supplies. The maintained lists live in
# liqflow.universe (with the price tests that catch a coin missing from them).
STABLECOINS = _STABLECOINS


def is_excluded_coin(symbol: str) -> bool:
    """True for stablecoins and wrapped or liquid-staked tokens (``USDT-USD``, ``WBTC``...);
    :func:`liqflow.universe.is_excluded_symbol`."""
    return is_excluded_symbol(symbol)


def _check_lag(lag: str, sid: str) -> BaseOffset:
    match = re.fullmatch(r"(\d+)([DB])", lag)
    if not match:
        raise ConfigError(
            f"series {sid!r}: release_lag must look like '0D', '1D' (calendar days) or "
            f"'1B' (business days), got {lag!r}"
        )
    n = int(match.group(1))
    return pd.offsets.BDay(n) if match.group(2) == "B" else pd.DateOffset(days=n)


@dataclass(frozen=True)
class SeriesSpec:
    """One series of the catalogue.

    Attributes
    ----------
    id : str
        Name used everywhere in liqflow (``small_caps``, ``fed_assets``).
    provider : str
        Default live provider, one of :data:`PROVIDERS`.
    symbol : str
        The provider's symbol (``^RUT``, ``WALCL``, ``BTC-USD``, ``BTC/USDT``).
    fields : tuple of str
        Stored fields; the first is the primary field used as the panel column.
    unit, frequency : str
        Unit after ``scale`` is applied; ``D``, ``W`` or ``M``.
    release_lag : str
        ``"<n>D"`` calendar days or ``"<n>B"`` business days after the observation date.
    group : str
        Link of the chain, one of :data:`GROUPS`.
    scale : float
        Multiplier applied in the panel to normalise units (RRPONTSYD: 1000, bn -> mn).
    prefer : tuple of str
        Sources the panel reads, in order of preference; the first with data wins.
    extend : tuple of str
        Sources that extend the primary field *after* the last observation of the chosen
        source (never before it, never mixed on a date): only for sources that quote the
        same level (an index from two vendors), never for two adjustment bases.
    aliases : tuple of str
        File stems that ``liqflow import`` matches to this series (case-insensitive).
    options : mapping
        Provider parameters (``exchange = "binance"`` for ccxt).
    """

    id: str
    provider: str
    symbol: str
    fields: tuple[str, ...] = ("value",)
    unit: str = ""
    frequency: str = "D"
    release_lag: str = "0D"
    group: str = "macro"
    description: str = ""
    scale: float = 1.0
    prefer: tuple[str, ...] = ()
    extend: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.id):
            raise ConfigError(
                f"series id must be lower-case letters, digits and '_', starting with a letter; got {self.id!r}"
            )
        if self.provider not in PROVIDERS:
            raise ConfigError(
                f"series {self.id!r}: provider must be one of {PROVIDERS}, got {self.provider!r}"
            )
        if self.frequency not in FREQUENCIES:
            raise ConfigError(
                f"series {self.id!r}: frequency must be one of {FREQUENCIES}, got {self.frequency!r}"
            )
        if self.group not in GROUPS:
            raise ConfigError(
                f"series {self.id!r}: group must be one of {GROUPS}, got {self.group!r}"
            )
        if not self.fields:
            raise ConfigError(f"series {self.id!r}: fields must not be empty")
        _check_lag(self.release_lag, self.id)

    @property
    def primary_field(self) -> str:
        """The field the panel shows under the series id."""
        return self.fields[0]

    @property
    def lag_offset(self) -> BaseOffset:
        """``release_lag`` as a pandas offset."""
        return _check_lag(self.release_lag, self.id)

    @property
    def sources(self) -> tuple[str, ...]:
        """Sources the panel may read, preferred first (defaults to the provider)."""
        return self.prefer or (self.provider,)

    def match_names(self) -> tuple[str, ...]:
        """Lower-case file stems this series answers to on import."""
        names = {self.id, self.symbol, self.symbol.lstrip("^"), *self.aliases}
        return tuple(sorted(n.lower() for n in names))


@dataclass(frozen=True)
class Chain:
    """A transmission chain: stages in order, each a tuple of series ids."""

    name: str
    stages: tuple[tuple[str, ...], ...]
