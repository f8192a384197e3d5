"""Stage 4 crypto signals: BTC trend, altcoin basket, Altcoin Season Index, dominance.

Crypto trades every day, so windows here are **calendar days** on a daily index (the
panel's calendar). The altcoin universe on each day is the set of coins that have data
that day: a coin listed later, or delisted, enters or leaves the basket when its prices
do, so today's coin list does not leak survivorship into the past. Stablecoins and
wrapped or liquid-staked tokens are excluded by :func:`liqflow.catalog.is_excluded_coin`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.catalog import is_excluded_coin
from liqflow.signals._result import MISSING, OK, SignalBlock, input_status
from liqflow.signals._windows import (
    align_to,
    as_of_values,
    change_over,
    empty_like,
    flag,
    positive_int,
    prepare,
)

__all__ = [
    "MIN_BASKET_COINS",
    "CryptoConfig",
    "CryptoSignals",
    "alt_basket",
    "alt_universe",
    "altcoin_season_index",
    "beaten_down",
    "btc_dominance",
    "crypto_signals",
]

# Fewest coins for the equal-weight alt basket to count as a basket (one or two coins are
# those coins, not "the alts"). Shared by the signals, the claims table and the report.
MIN_BASKET_COINS = 3


@dataclass(frozen=True)
class CryptoConfig:
    """Windows (calendar days) and thresholds of the crypto signals.

    Attributes
    ----------
    trend_window : int, default 200
        BTC moving average (days).
    rs_window : int, default 30
        Window of the altcoin basket's return relative to BTC.
    basket_min_coins : int, default 3
        Fewest coins priced on a day for the basket's level and relative strength to be
        reported (a "basket" of one coin is that coin; the level keeps compounding
        underneath so it resumes where it was).
    season_window : int, default 90
        Return window of the Altcoin Season Index (blockchaincenter's "season").
    season_min_coins : int, default 5
        Fewest eligible coins for the index to be reported (else unknown).
    alt_season, bitcoin_season : float, default 75 and 25
        Index levels (0-100) at or above which it is altcoin season, at or below which it
        is bitcoin season.
    beaten_drawdown : float, default 0.7
        A coin is beaten down when it is at least this far below its own all-time high
        (0.7 = 70 %).
    beaten_window : int, default 30
        Window of the beaten-down coins' performance relative to BTC.
    dominance_window : int, default 30
        Window of the change in BTC dominance.
    """

    trend_window: int = 200
    rs_window: int = 30
    basket_min_coins: int = MIN_BASKET_COINS
    season_window: int = 90
    season_min_coins: int = 5
    alt_season: float = 75.0
    bitcoin_season: float = 25.0
    beaten_drawdown: float = 0.7
    beaten_window: int = 30
    dominance_window: int = 30

    def __post_init__(self) -> None:
        for name in (
            "trend_window",
            "rs_window",
            "basket_min_coins",
            "season_window",
            "season_min_coins",
            "beaten_window",
            "dominance_window",
        ):
            positive_int(getattr(self, name), f"CryptoConfig.{name}")
        if not 0 <= self.bitcoin_season < self.alt_season <= 100:
            raise ConfigError(
                "CryptoConfig needs 0 <= bitcoin_season < alt_season <= 100, got "
                f"bitcoin_season={self.bitcoin_season!r}, alt_season={self.alt_season!r}"
            )
        if not 0 < self.beaten_drawdown < 1:
            raise ConfigError(
                f"CryptoConfig.beaten_drawdown must be in (0, 1), got {self.beaten_drawdown!r}"
            )


@dataclass(frozen=True)
class CryptoSignals(SignalBlock):
    """Crypto signals, one row per day.

    Columns: ``btc``, ``btc_ma``, ``btc_pct_above_ma``, ``btc_above_ma``,
    ``alt_basket`` (equal-weight index, 100 at start), ``alt_count``, ``alt_vs_btc``
    (basket / BTC, 1 at start), ``alt_rs`` (basket minus BTC return over ``rs_window``),
    ``alts_outperform``, ``season_index`` (0-100), ``season_coins``, ``season``
    (``altcoin``/``bitcoin``/``neutral``), ``alt_season``, ``btc_dominance``,
    ``btc_dominance_chg``, ``dominance_falling``, ``beaten_count``, ``beaten_rs``,
    ``beaten_outperform_share``, ``beaten_outperform``.
    """

    config: CryptoConfig = field(default_factory=CryptoConfig)


def alt_universe(columns: Sequence[str]) -> tuple[str, ...]:
    """The coins of ``columns`` that are neither stablecoins nor wrapped tokens."""
    return tuple(c for c in columns if not is_excluded_coin(c))


def _prices(prices: pd.DataFrame, name: str = "prices") -> pd.DataFrame:
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"{name} must be a DataFrame of coin prices, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex) or not prices.index.is_monotonic_increasing:
        raise DataError(f"{name}: index must be a sorted DatetimeIndex")
    p = prices.astype(np.float64)
    return p.where(p > 0)  # a zero or negative price is not a price


def alt_basket(prices: pd.DataFrame) -> pd.DataFrame:
    """Equal-weight basket of the coins that have data each day.

    Parameters
    ----------
    prices : DataFrame
        One column per coin on a daily index; NaN before listing or after delisting.

    Returns
    -------
    DataFrame
        ``return`` (mean of the day's returns of coins priced that day and the day
        before), ``count`` (coins in that mean), ``priced`` (coins with a price that
        day) and ``index`` (100 on the first day a coin
        is priced, then compounded; NaN before).

    Notes
    -----
    Daily rebalancing to equal weights; equivalent to
    ``prices.pct_change(fill_method=None).mean(axis=1)`` compounded.
    """
    p = _prices(prices)
    rets = p / p.shift(1) - 1.0
    count = rets.notna().sum(axis=1).astype(np.float64)
    ret = rets.mean(axis=1, skipna=True).where(count > 0)
    priced = p.notna().sum(axis=1).astype(np.float64)
    started = (priced > 0).cummax()  # 100 on the first day any coin is priced
    level = 100.0 * (1.0 + ret.fillna(0.0)).cumprod()
    return pd.DataFrame(
        {"return": ret, "count": count, "priced": priced, "index": level.where(started)},
        index=p.index,
    )


def altcoin_season_index(
    prices: pd.DataFrame,
    btc: pd.Series,
    window: int = 90,
    min_coins: int = 5,
) -> pd.DataFrame:
    """Share (0-100) of the altcoin universe that beat BTC over the last ``window`` days.

    Parameters
    ----------
    prices : DataFrame
        Altcoin prices (stablecoins and wrapped tokens already removed, see
        :func:`alt_universe`) on a daily index.
    btc : Series
        BTC price.
    window : int
        Days of the comparison ("season"; blockchaincenter uses 90).
    min_coins : int
        Fewest eligible coins for a value; fewer gives NaN.

    Returns
    -------
    DataFrame
        ``index`` (0-100), ``eligible`` (coins with a price today and ``window`` days
        ago, i.e. at least ``window`` days of history), ``beating``.

    Notes
    -----
    In the sense of blockchaincenter.net's Altcoin Season Index: it is altcoin season when
    75 % of the (top 50) altcoins did better than Bitcoin over the last 90 days, bitcoin
    season when 25 % or fewer did. Here the universe is the supplied coins with data,
    evaluated day by day with the coins that existed then.

    References
    ----------
    .. [1] Blockchaincenter, "Altcoin Season Index",
       https://www.blockchaincenter.net/en/altcoin-season-index/
    """
    positive_int(window, "window")
    positive_int(min_coins, "min_coins")
    p = _prices(prices)
    b = align_to(prepare(btc, "btc"), p.index)
    when = p.index.to_numpy(dtype="datetime64[ns]") - np.timedelta64(window, "D")
    pos = np.searchsorted(p.index.to_numpy(dtype="datetime64[ns]"), when, side="right") - 1
    ok = pos >= 0
    safe = np.maximum(pos, 0)
    now = p.to_numpy()
    then = np.where(ok[:, None], now[safe], np.nan)
    b_now = b.to_numpy(dtype=np.float64)
    b_then = np.where(ok, b_now[safe], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        coin_ret = now / then - 1.0
        btc_ret = b_now / b_then - 1.0
    eligible = ~np.isnan(coin_ret) & ~np.isnan(btc_ret)[:, None]
    beating = eligible & (coin_ret > btc_ret[:, None])
    n_elig = eligible.sum(axis=1).astype(np.float64)
    n_beat = beating.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        idx = np.where(n_elig >= min_coins, 100.0 * n_beat / n_elig, np.nan)
    return pd.DataFrame({"index": idx, "eligible": n_elig, "beating": n_beat}, index=p.index)


def btc_dominance(
    btc_market_cap: pd.Series | None, total_market_cap: pd.Series | None
) -> pd.Series:
    """BTC market cap over total crypto market cap (0-1); NaN where either is unknown.

    Both should come from the same source and snapshot (CoinGecko's 00:00 UTC
    snapshots); mixing a CoinGecko cap with a Yahoo-day series shifts them by one day.
    """
    if btc_market_cap is None or total_market_cap is None:
        raise DataError(
            "btc_dominance needs both btc market cap and total crypto market cap; got "
            f"btc={'a series' if btc_market_cap is not None else None}, "
            f"total={'a series' if total_market_cap is not None else None}"
        )
    b = prepare(btc_market_cap, "btc_market_cap")
    t = align_to(prepare(total_market_cap, "total_market_cap"), b.index)
    dom = (b / t.where(t > 0)).where(b > 0)
    return dom.rename("btc_dominance")


def beaten_down(
    prices: pd.DataFrame,
    btc: pd.Series,
    drawdown: float = 0.7,
    window: int = 30,
) -> pd.DataFrame:
    """Coins far below their all-time high, and how they did against BTC since.

    A coin is *beaten down* on day *d* when its price is at least ``drawdown`` below its
    highest price up to *d*. On day *t* the group is the coins beaten down on
    ``t - window``; their return from then to *t* is compared with BTC's (choosing the
    group at the start of the window avoids selecting coins for having just fallen).

    Returns
    -------
    DataFrame
        ``count`` (coins beaten down today), ``rs`` (mean excess return over BTC of the
        group), ``outperform_share`` (share of the group that beat BTC), ``group``
        (size of the group).
    """
    positive_int(window, "window")
    p = _prices(prices)
    b = align_to(prepare(btc, "btc"), p.index)
    dd = p / p.cummax() - 1.0
    beaten = (dd <= -drawdown) & p.notna()
    days = np.timedelta64(window, "D")
    idx = p.index.to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(idx, idx - days, side="right") - 1
    ok = pos >= 0
    safe = np.maximum(pos, 0)
    was_beaten = np.where(ok[:, None], beaten.to_numpy()[safe], False)
    now = p.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = now / np.where(ok[:, None], now[safe], np.nan) - 1.0
        b_ret = b.to_numpy() / np.where(ok, b.to_numpy()[safe], np.nan) - 1.0
    excess = ret - b_ret[:, None]
    in_group = was_beaten & ~np.isnan(excess)
    group = in_group.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = np.where(group > 0, np.where(in_group, excess, 0.0).sum(axis=1) / group, np.nan)
        share = np.where(group > 0, (in_group & (excess > 0)).sum(axis=1) / group, np.nan)
    return pd.DataFrame(
        {
            "count": beaten.sum(axis=1).astype(np.float64).where(p.notna().any(axis=1)),
            "rs": rs,
            "outperform_share": share,
            "group": group,
        },
        index=p.index,
    )


def crypto_signals(
    btc: pd.Series | None,
    alts: pd.DataFrame | None,
    btc_market_cap: pd.Series | None = None,
    total_market_cap: pd.Series | None = None,
    config: CryptoConfig | None = None,
) -> CryptoSignals:
    """Every stage-4 signal on BTC's daily index.

    Parameters
    ----------
    btc : Series
        BTC close (daily, calendar); its index is the result's (NaN rows: unknown).
    alts : DataFrame or None
        Altcoin closes, one column per coin (excluded coins are dropped here too).
    btc_market_cap, total_market_cap : Series, optional
        For BTC dominance; unknown (NaN, status ``unavailable``) when either is missing.
    config : CryptoConfig, optional

    Returns
    -------
    CryptoSignals
    """
    cfg = config or CryptoConfig()
    if btc is None:
        raise DataError("crypto_signals needs a btc series (its index is the result's), got None")
    b = prepare(btc, "btc")
    index = b.index
    status: dict[str, str] = {"btc": input_status(b)}
    frame = pd.DataFrame(index=index)
    bc = b.dropna()
    ma = bc.rolling(cfg.trend_window, min_periods=cfg.trend_window).mean().reindex(index)
    frame["btc"] = b
    frame["btc_ma"] = ma
    frame["btc_pct_above_ma"] = b / ma - 1.0
    frame["btc_above_ma"] = flag(frame["btc_pct_above_ma"], ">", 0.0)
    btc_rs = change_over(b, cfg.rs_window, relative=True)

    coins = alt_universe(list(alts.columns)) if alts is not None else ()
    if alts is not None and coins:
        a = alts[list(coins)].reindex(index)
        basket = alt_basket(a)
        enough = basket["priced"] >= cfg.basket_min_coins
        # a window is known only when the basket was broad enough at both of its ends
        enough_then = pd.Series(
            as_of_values(enough.astype(np.float64), _lagged(index, cfg.rs_window)), index=index
        ).eq(1.0)
        level = basket["index"]
        frame["alt_basket"] = level.where(enough)
        frame["alt_count"] = basket["count"]
        ratio = level / b
        first = ratio.where(enough).first_valid_index()
        frame["alt_vs_btc"] = (
            (ratio / ratio.loc[first]).where(enough) if first is not None else empty_like(index)
        )
        alt_ret = change_over(level, cfg.rs_window, relative=True)
        frame["alt_rs"] = (alt_ret - btc_rs).where(enough & enough_then)
        asi = altcoin_season_index(a, b, cfg.season_window, cfg.season_min_coins)
        frame["season_index"] = asi["index"]
        frame["season_coins"] = asi["eligible"]
        bd = beaten_down(a, b, cfg.beaten_drawdown, cfg.beaten_window)
        status["alts"] = f"{len(coins)} coins: {', '.join(coins)}"
    else:
        for col in ("alt_basket", "alt_count", "alt_vs_btc", "alt_rs", "season_index"):
            frame[col] = empty_like(index)
        frame["season_coins"] = empty_like(index)
        bd = pd.DataFrame(
            {c: empty_like(index) for c in ("count", "rs", "outperform_share", "group")}
        )
        status["alts"] = MISSING
    frame["alts_outperform"] = flag(frame["alt_rs"], ">", 0.0)
    si = frame["season_index"]
    season = pd.Series(pd.NA, index=index, dtype="string")
    season[(si >= cfg.alt_season).to_numpy()] = "altcoin"
    season[(si <= cfg.bitcoin_season).to_numpy()] = "bitcoin"
    season[((si > cfg.bitcoin_season) & (si < cfg.alt_season)).to_numpy()] = "neutral"
    frame["season"] = season
    frame["alt_season"] = flag(si, ">=", cfg.alt_season)

    if btc_market_cap is not None and total_market_cap is not None:
        dom = btc_dominance(align_to(btc_market_cap, index), align_to(total_market_cap, index))
        status["btc_dominance"] = OK if dom.notna().any() else "unavailable: no overlapping data"
    else:
        dom = empty_like(index)
        gone = [
            n
            for n, s in (("btc market cap", btc_market_cap), ("total market cap", total_market_cap))
            if s is None
        ]
        status["btc_dominance"] = f"unavailable: {' and '.join(gone)} not supplied"
    frame["btc_dominance"] = dom
    frame["btc_dominance_chg"] = change_over(dom, cfg.dominance_window)
    frame["dominance_falling"] = flag(frame["btc_dominance_chg"], "<", 0.0)
    frame["beaten_count"] = bd["count"].to_numpy()
    frame["beaten_group"] = bd["group"].to_numpy()
    frame["beaten_rs"] = bd["rs"].to_numpy()
    frame["beaten_outperform_share"] = bd["outperform_share"].to_numpy()
    frame["beaten_outperform"] = flag(frame["beaten_rs"], ">", 0.0)
    return CryptoSignals(frame, status, cfg)


def _lagged(index: pd.Index, days: int) -> np.ndarray:
    return pd.DatetimeIndex(index).to_numpy(dtype="datetime64[ns]") - np.timedelta64(days, "D")
