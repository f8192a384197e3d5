"""The catalogue: every series the chain uses, as data.

Each :class:`SeriesSpec` says where a series comes from (provider and symbol), what
fields it has, its unit and frequency, and its ``release_lag``: how long after its
observation date a value becomes public. ``align.py`` uses the lag to build a panel
that a decision taken at the *end* of day *t* could have seen.

Decision time. liqflow timestamps a decision at the end of calendar day *t*: after the
US equity close (4 pm ET, 21:00 UTC) and the Yahoo crypto daily close (23:59:59 UTC).
A value observed on date *d* with lag *L* is usable from the end of day ``d + L``.

Units in the panel. Dollar amounts of the liquidity block are in **USD millions**:
WALCL, WSHOBL, WTREGEN and WDTGAL are published in millions; RRPONTSYD is published in
billions and is multiplied by 1000 (``scale``). Spreads and rates are in percent.

A user TOML file (see :func:`load_catalog`) can add or replace series and define other
chains without code::

    [series.qqq]
    provider = "yahoo"
    symbol = "QQQ"
    fields = ["open", "high", "low", "close", "adj_close", "volume"]
    unit = "USD"
    frequency = "D"
    release_lag = "0D"
    group = "large_caps"

    [chains.tech]
    stages = [["hy_spread"], ["qqq"], ["small_caps"], ["btc"]]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.tseries.offsets import BaseOffset

from liqflow._errors import CatalogError, ConfigError
from liqflow.config import read_toml
from liqflow.universe import STABLECOINS as _STABLECOINS
from liqflow.universe import is_excluded_symbol

__all__ = [
    "FREQUENCIES",
    "FUNDS",
    "GROUPS",
    "IMPORT_ONLY",
    "PROVIDERS",
    "REVISED",
    "SEGMENTS",
    "STABLECOINS",
    "Catalog",
    "Chain",
    "SeriesSpec",
    "default_catalog",
    "is_excluded_coin",
    "load_catalog",
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


# Release lags (decision at the end of day t, see the module docstring):
_H41 = "1D"  # H.4.1 (Wednesday levels, WALCL/WSHOBL/WTREGEN/WDTGAL): Thursday 4:30 pm ET
_DTS = "1B"  # Daily Treasury Statement: next business day, 4 pm ET
_RRP = "0D"  # ON RRP operation results: same day, ~1:15 pm ET
_ICE = "1B"  # ICE BofA OAS on FRED: next (business) day
_CLOSE = "0D"  # equity (4 pm ET) and crypto (23:59 UTC) closes: same day
_H15 = "1B"  # H.15 / Moody's yields and spreads on FRED: next business day
_NFCI = "5D"  # Chicago Fed NFCI: Friday-dated, released the following Wednesday 8:30 am ET
_H10 = "7D"  # H.10 broad dollar index: released Mondays for the previous week
_M2 = "56D"  # H.6 money stock: month-start dated, released ~4th Tuesday of the next month
# Freddie Mac PMMS (MORTGAGE30US): the rate "for the week ending Thursday d" is released on
# Thursday d itself (about noon ET), and FRED dates it d: public by the end of day d.
_PMMS = "0D"
# Farside publishes each day's spot-ETF flows the same US evening, sometimes late (the last
# funds after midnight UTC): one calendar day is the safe lag.
_FARSIDE = "1D"
# CFTC Traders in Financial Futures: positions as of Tuesday, released Friday 3:30 pm ET.
_COT = "3D"
# Exchange funding: each 8-hour rate is settled at 00/08/16 UTC of its day.
_FUNDING = "0D"


def _fred(
    sid: str, symbol: str, unit: str, freq: str, lag: str, group: str, desc: str, **kw: Any
) -> SeriesSpec:
    return SeriesSpec(sid, "fred", symbol, ("value",), unit, freq, lag, group, desc, **kw)


def _yahoo(sid: str, symbol: str, group: str, desc: str, **kw: Any) -> SeriesSpec:
    kw.setdefault("fields", OHLCV)
    kw.setdefault("prefer", ("yahoo",))
    return SeriesSpec(
        sid,
        "yahoo",
        symbol,
        unit=kw.pop("unit", "USD"),
        frequency="D",
        release_lag=_CLOSE,
        group=group,
        description=desc,
        **kw,
    )


def _coin(
    ticker: str,
    *,
    aliases: tuple[str, ...] = (),
    group: str = "alt",
    prefer: tuple[str, ...] = ("yahoo", "coingecko"),
) -> SeriesSpec:
    ticker_l = ticker.lower()
    return _yahoo(
        ticker_l,
        f"{ticker}-USD",
        group,
        f"{ticker} in USD (Yahoo daily close, UTC days)",
        prefer=prefer,
        aliases=(f"{ticker_l}-usd", f"{ticker_l}_daily", f"{ticker_l}-usd-max", *aliases),
    )


#: Sources of a fund's prices, preferred first. Yahoo adjusts a fund's history for
#: dividends back from the day of the download, so two exports are two adjustment bases
#: and are kept apart (see :mod:`liqflow.providers.csv`): ``yahoo_adj2026`` is the
#: export of 2026-08-21 (it reaches furthest), ``yahoo`` the older exports and live fetches.
_FUND_SOURCES = ("yahoo_adj2026", "yahoo")
#: Series whose whole history is re-estimated at every release (the Chicago Fed's NFCI and
#: ANFCI are re-fitted each week): two copies of different dates are two vintages.
REVISED = ("nfci", "anfci")
#: Funds: series whose Yahoo prices are dividend-adjusted (index levels and coins are not).
FUNDS = ("hyg", "spy", "qqq", "small_caps_volume", *SEGMENTS)

_ALTS = (
    "ETH",
    "XRP",
    "BNB",
    "SOL",
    "ADA",
    "DOGE",
    "TRX",
    "LINK",
    "DOT",
    "AVAX",
    "LTC",
    "BCH",
    "NEAR",
)

_BUILTIN: tuple[SeriesSpec, ...] = (
    # stage 1: central-bank liquidity (USD millions in the panel)
    _fred(
        "fed_assets",
        "WALCL",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Fed total assets (Wednesday level)",
    ),
    _fred(
        "fed_bills",
        "WSHOBL",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Fed holdings of Treasury bills (Wednesday level)",
    ),
    _fred(
        "tga",
        "WTREGEN",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Treasury General Account (week average, H.4.1)",
    ),
    _fred(
        "tga_wed",
        "WDTGAL",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Treasury General Account (Wednesday level, H.4.1)",
    ),
    _fred(
        "rrp",
        "RRPONTSYD",
        "USD millions",
        "D",
        _RRP,
        "liquidity",
        "Overnight reverse repo, Treasury securities sold",
        scale=1000.0,
    ),
    # stage 1: fiscal (Daily Treasury Statement, U.S. Treasury Fiscal Data API; USD millions)
    SeriesSpec(
        "tga_daily",
        "treasury",
        "operating_cash_balance",
        ("value",),
        "USD millions",
        "D",
        _DTS,
        "liquidity",
        "Treasury General Account closing balance (DTS Table I, daily)",
        prefer=("treasury",),
        aliases=("tga_close",),
    ),
    SeriesSpec(
        "dts_deposits",
        "treasury",
        "deposits_withdrawals_operating_cash:deposits",
        ("value",),
        "USD millions",
        "D",
        _DTS,
        "liquidity",
        "Total deposits into the TGA (DTS Table II, daily)",
        prefer=("treasury",),
        aliases=("deposits",),
    ),
    SeriesSpec(
        "dts_withdrawals",
        "treasury",
        "deposits_withdrawals_operating_cash:withdrawals",
        ("value",),
        "USD millions",
        "D",
        _DTS,
        "liquidity",
        "Total withdrawals from the TGA (DTS Table II, daily)",
        prefer=("treasury",),
        aliases=("withdrawals",),
    ),
    SeriesSpec(
        "tax_refunds",
        "treasury",
        "deposits_withdrawals_operating_cash:individual_tax_refunds",
        ("value",),
        "USD millions",
        "D",
        _DTS,
        "liquidity",
        "Individual income tax refunds paid (DTS Table II withdrawals, daily)",
        prefer=("treasury",),
    ),
    # stage 1: Fed holdings (H.4.1, Wednesday levels, USD millions)
    _fred(
        "fed_mbs",
        "WSHOMCB",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Fed holdings of mortgage-backed securities (Wednesday level)",
    ),
    _fred(
        "fed_treasuries",
        "TREAST",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Fed holdings of Treasury securities (Wednesday level)",
    ),
    _fred(
        "reserves",
        "WRESBAL",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Reserve balances with Federal Reserve Banks (week average)",
    ),
    _fred(
        "fed_remittances",
        "RESPPLLOPNWW",
        "USD millions",
        "W",
        _H41,
        "liquidity",
        "Fed earnings remittances due to the Treasury (Wednesday level; negative = deferred asset)",
    ),
    _fred(
        "mortgage_rate",
        "MORTGAGE30US",
        "percent",
        "W",
        _PMMS,
        "liquidity",
        "30-year fixed mortgage rate (Freddie Mac PMMS, Thursday)",
    ),
    # stage 1: credit (percent)
    _fred(
        "hy_spread",
        "BAMLH0A0HYM2",
        "percent",
        "D",
        _ICE,
        "credit",
        "ICE BofA US High Yield OAS",
        aliases=("hy_oas",),
    ),
    _fred(
        "ig_spread",
        "BAMLC0A0CM",
        "percent",
        "D",
        _ICE,
        "credit",
        "ICE BofA US Corporate (IG) OAS",
        aliases=("ig_oas",),
    ),
    _fred(
        "baa_spread",
        "BAA10Y",
        "percent",
        "D",
        _H15,
        "credit",
        "Moody's Baa yield minus 10-year Treasury (long-history fallback for the OAS)",
    ),
    _yahoo(
        "hyg",
        "HYG",
        "credit",
        "iShares iBoxx High Yield ETF (dividend-adjusted)",
        aliases=("hyg_daily",),
        prefer=_FUND_SOURCES,
    ),
    # stage 2: large caps
    _yahoo(
        "large_caps",
        "^GSPC",
        "large_caps",
        "S&P 500 index",
        aliases=("gspc_daily", "gspc", "spx"),
        prefer=("yahoo", "ibkr"),
    ),
    _yahoo(
        "spy", "SPY", "large_caps", "SPDR S&P 500 ETF", aliases=("spy_daily",), prefer=_FUND_SOURCES
    ),
    _yahoo(
        "qqq",
        "QQQ",
        "large_caps",
        "Invesco QQQ (Nasdaq-100) ETF",
        aliases=("qqq_daily",),
        prefer=_FUND_SOURCES,
    ),
    # stage 3: small caps. ^RUT volume on Yahoo is really S&P 500 volume, so volume comes from IWM.
    _yahoo(
        "small_caps",
        "^RUT",
        "small_caps",
        "Russell 2000 index (its Yahoo volume is not Russell volume)",
        aliases=("rut_daily", "rut"),
        prefer=("yahoo", "ibkr"),
        # IBKR's RUT bars agree with Yahoo's ^RUT to 0.003 % (median) and run further
        extend=("ibkr",),
    ),
    _yahoo(
        "small_caps_volume",
        "IWM",
        "small_caps",
        "iShares Russell 2000 ETF: share volume (and adjusted close)",
        fields=("volume", "open", "high", "low", "close", "adj_close"),
        unit="shares",
        aliases=("iwm_daily", "iwm"),
        prefer=_FUND_SOURCES,
    ),
    _yahoo(
        "small_caps_futures",
        "RTY=F",
        "small_caps",
        "E-mini Russell 2000 continuous futures",
        aliases=("rty_futures_daily",),
    ),
    # stage 3 breadth: small-cap segments the seed names (regional banks, industrials, biotech)
    _yahoo("seg_regional_banks", "KRE", "segment", "SPDR S&P Regional Banking ETF"),
    _yahoo("seg_industrials", "PSCI", "segment", "Invesco S&P SmallCap Industrials ETF"),
    _yahoo("seg_biotech", "XBI", "segment", "SPDR S&P Biotech ETF (equal weight)"),
    # stage 4: crypto
    _coin("BTC", group="crypto", aliases=("btc_daily",)),
    *(_coin(t, aliases=(f"{t.lower()}_daily",) if t == "ETH" else ()) for t in _ALTS),
    # Yahoo lists these two under numbered symbols (TON-USD / SUI-USD are other coins)
    replace(_coin("TON"), symbol="TON11419-USD"),
    replace(_coin("SUI"), symbol="SUI20947-USD"),
    SeriesSpec(
        "total_crypto_mcap",
        "coingecko",
        "global",
        ("market_cap", "volume"),
        "USD",
        "D",
        _CLOSE,
        "crypto",
        "Total crypto market capitalisation (CoinGecko global chart)",
        prefer=("coingecko",),
        aliases=("total_crypto_market_cap",),
    ),
    SeriesSpec(
        "usdt_mcap",
        "coingecko",
        "tether",
        ("market_cap",),
        "USD",
        "D",
        _CLOSE,
        "crypto",
        "Tether (USDT) market capitalisation",
        prefer=("coingecko",),
        aliases=("usdt_market_cap",),
    ),
    SeriesSpec(
        "fear_greed",
        "csv",
        "fear_greed",
        ("value",),
        "index 0-100",
        "D",
        _CLOSE,
        "crypto",
        "alternative.me Crypto Fear & Greed index",
        prefer=("csv",),
        aliases=("fear_greed_index",),
    ),
    # stage 4: market structure (spot-ETF flows, leverage)
    SeriesSpec(
        "etf_flows",
        "csv",
        "farside_btc",
        ("value",),
        "USD millions",
        "D",
        _FARSIDE,
        "crypto",
        "Spot bitcoin ETF net flows, all US funds (Farside Investors; import only)",
        prefer=("farside", "farside_funds"),
    ),
    SeriesSpec(
        "btc_funding",
        "ccxt",
        "BTC/USDT",
        FUNDING,
        "fraction per UTC day",
        "D",
        _FUNDING,
        "crypto",
        "BTCUSDT perpetual: funding paid per UTC day (sum of 8h rates) and open interest",
        prefer=("ccxt:binance",),
        aliases=("btcusdt",),
        options={"perp_symbol": "BTC/USDT:USDT"},
    ),
    SeriesSpec(
        "eth_funding",
        "ccxt",
        "ETH/USDT",
        FUNDING,
        "fraction per UTC day",
        "D",
        _FUNDING,
        "crypto",
        "ETHUSDT perpetual: funding paid per UTC day (sum of 8h rates) and open interest",
        prefer=("ccxt:binance",),
        aliases=("ethusdt",),
        options={"perp_symbol": "ETH/USDT:USDT"},
    ),
    SeriesSpec(
        "cftc_btc",
        "cftc",
        "133741",
        COT_TFF,
        "contracts",
        "W",
        _COT,
        "crypto",
        "CME Bitcoin futures (5 BTC), CFTC Traders in Financial Futures positions (Tuesday)",
        prefer=("cftc",),
    ),
    # context
    _fred("vix", "VIXCLS", "index", "D", _H15, "macro", "CBOE VIX close"),
    _fred(
        "nfci",
        "NFCI",
        "index",
        "W",
        _NFCI,
        "macro",
        "Chicago Fed National Financial Conditions Index",
    ),
    _fred("anfci", "ANFCI", "index", "W", _NFCI, "macro", "Chicago Fed Adjusted NFCI"),
    _fred("dollar", "DTWEXBGS", "index", "D", _H10, "macro", "Nominal broad US dollar index"),
    _fred("m2", "M2SL", "USD billions", "M", _M2, "macro", "M2 money stock (SA)"),
    _fred("ust10y", "DGS10", "percent", "D", _H15, "macro", "10-year Treasury constant maturity"),
    _fred("ust2y", "DGS2", "percent", "D", _H15, "macro", "2-year Treasury constant maturity"),
)

_DEFAULT_CHAIN = Chain(
    "default",
    (
        ("fed_assets", "fed_bills", "tga", "rrp", "hy_spread", "ig_spread", "baa_spread"),
        ("large_caps",),
        ("small_caps", "small_caps_volume"),
        ("btc", *(t.lower() for t in _ALTS), "ton", "sui"),
    ),
)


class Catalog(Mapping[str, SeriesSpec]):
    """An immutable mapping ``id -> SeriesSpec`` plus named chains."""

    def __init__(self, specs: Iterable[SeriesSpec], chains: Iterable[Chain] = ()) -> None:
        self._specs: dict[str, SeriesSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec
        self._chains = {c.name: c for c in chains}
        for chain in self._chains.values():
            for sid in (s for stage in chain.stages for s in stage):
                if sid not in self._specs:
                    raise ConfigError(f"chain {chain.name!r} names unknown series {sid!r}")

    def __getitem__(self, sid: str) -> SeriesSpec:
        try:
            return self._specs[sid]
        except KeyError:
            raise CatalogError(
                f"unknown series {sid!r}; known series: {', '.join(sorted(self._specs))}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def chains(self) -> Mapping[str, Chain]:
        return dict(self._chains)

    def chain(self, name: str = "default") -> Chain:
        if name not in self._chains:
            raise CatalogError(
                f"unknown chain {name!r}; known chains: {', '.join(sorted(self._chains))}"
            )
        return self._chains[name]

    def group(self, group: str) -> tuple[str, ...]:
        """Ids of the series in ``group`` (in catalogue order)."""
        if group not in GROUPS:
            raise CatalogError(f"group must be one of {GROUPS}, got {group!r}")
        return tuple(s.id for s in self._specs.values() if s.group == group)

    def altcoins(self) -> tuple[str, ...]:
        """The altcoin universe: group ``alt`` minus stablecoins and wrapped tokens."""
        return tuple(s for s in self.group("alt") if not is_excluded_coin(self._specs[s].symbol))

    def match_file(self, stem: str) -> SeriesSpec | None:
        """The series whose id, symbol or alias equals the file stem (case-insensitive)."""
        key = stem.lower()
        for spec in self._specs.values():
            if key in spec.match_names():
                return spec
        return None

    def merged(self, specs: Iterable[SeriesSpec], chains: Iterable[Chain] = ()) -> Catalog:
        """A new catalogue where ``specs`` and ``chains`` add to or replace these."""
        return Catalog([*self._specs.values(), *specs], [*self._chains.values(), *chains])


def default_catalog() -> Catalog:
    """The built-in chain: Fed liquidity, credit, S&P 500, Russell 2000, BTC and altcoins."""
    return Catalog(_BUILTIN, [_DEFAULT_CHAIN])


_SPEC_KEYS = {f.name for f in fields(SeriesSpec)} - {"id"}


def _spec_from_toml(
    sid: str, table: Mapping[str, Any], base: SeriesSpec | None, path: Path
) -> SeriesSpec:
    unknown = set(table) - _SPEC_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: [series.{sid}] has unknown keys {sorted(unknown)}; accepted: {sorted(_SPEC_KEYS)}"
        )
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    if base is not None:
        return replace(base, **values)
    missing = {"provider", "symbol"} - set(values)
    if missing:
        raise ConfigError(f"{path}: new series [series.{sid}] needs keys {sorted(missing)}")
    return SeriesSpec(id=sid, **values)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The built-in catalogue, extended or overridden by a user TOML file.

    Parameters
    ----------
    path : path, optional
        TOML with ``[series.<id>]`` tables (keys of :class:`SeriesSpec`; a table for an
        existing id replaces only the keys it gives) and ``[chains.<name>]`` tables with
        ``stages = [[ids...], ...]``.
    """
    base = default_catalog()
    if path is None:
        return base
    p = Path(path)
    doc = read_toml(p, "catalogue")
    extra = set(doc) - {"series", "chains"}
    if extra:
        raise ConfigError(
            f"{p}: unknown top-level tables {sorted(extra)}; accepted: ['chains', 'series']"
        )
    specs = [
        _spec_from_toml(sid, table, base.get(sid), p)
        for sid, table in doc.get("series", {}).items()
    ]
    chains = []
    for name, table in doc.get("chains", {}).items():
        stages = table.get("stages")
        if not isinstance(stages, list) or not all(isinstance(s, list) for s in stages):
            raise ConfigError(f"{p}: [chains.{name}] needs stages = [[ids...], ...]")
        chains.append(Chain(name, tuple(tuple(s) for s in stages)))
    return base.merged(specs, chains)
