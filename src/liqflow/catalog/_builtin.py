"""The built-in catalogue: every series of the default chain, with its release lag.

Release lags assume a decision taken at the end of calendar day *t* (see
:mod:`liqflow.catalog`); each constant below says which publication it models.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from liqflow.catalog._spec import COT_TFF, FUNDING, OHLCV, SEGMENTS, Chain, SeriesSpec

__all__ = ["BUILTIN", "DEFAULT_CHAIN", "FUNDS", "REVISED"]

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


#: Public names of the two tables above.
BUILTIN = _BUILTIN
DEFAULT_CHAIN = _DEFAULT_CHAIN
