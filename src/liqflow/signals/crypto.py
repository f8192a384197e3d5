"""Stage 4 crypto signals: BTC trend, altcoin basket, Altcoin Season Index, dominance.

Crypto trades every day, so windows here are **calendar days** on a daily index (the
panel's calendar). The alt figures come from :mod:`liqflow.signals.baskets`, the one
definition shared with the claims and the backtest. Given an :class:`AltUniverse` (the
point-in-time top N of :mod:`liqflow.universe`, dead coins included) they are free of
survivorship bias; given only the catalogue's coins (today's list) they are not: coins
that were large and then died are missing, which biases past alt returns upwards
(:func:`liqflow.signals.survivorship.survivorship_bias` measures by how much). Stablecoins and
wrapped or liquid-staked tokens are excluded by :func:`liqflow.catalog.is_excluded_coin`
and, in a universe, by :func:`liqflow.universe.excluded_mask`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.catalog import is_excluded_coin
from liqflow.signals import baskets
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
    "AltUniverse",
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
MIN_BASKET_COINS = baskets.MIN_BASKET_COINS


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


def alt_basket(prices: pd.DataFrame, schedule: pd.DataFrame | None = None) -> pd.DataFrame:
    """The equal-weight alt basket's frame (:func:`liqflow.signals.baskets.alt_basket`).

    Parameters
    ----------
    prices : DataFrame
        One column per coin on a daily index; NaN before listing or after delisting.
    schedule : DataFrame, optional
        Point-in-time membership (default: the columns, each from its first price).

    Returns
    -------
    DataFrame
        ``return``, ``index`` (100 at the first rebalance; NaN when unknown), ``count``
        (held coins priced that day), ``priced`` (members priced that day), ``members``,
        ``stale``, ``coverage``, ``coverage_mcap``, ``known`` (see
        :class:`~liqflow.signals.baskets.AltBasket`); a day with one coin held is known
        here (callers apply their own fewest coins, as ``count`` allows).
    """
    return baskets.alt_basket(prices, schedule, min_coins=1).frame  # callers set their minimum


def altcoin_season_index(
    prices: pd.DataFrame,
    btc: pd.Series,
    window: int = 90,
    min_coins: int = 5,
    schedule: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Share (0-100) of the altcoins that beat BTC over the last ``window`` days.

    :func:`liqflow.signals.baskets.altcoin_season_index` on ``prices``: the top
    :data:`~liqflow.signals.baskets.SEASON_TOP` members of ``schedule`` as of each day, or
    every column of ``prices`` from its first price when no schedule is given.

    Returns
    -------
    DataFrame
        ``index`` (0-100), ``eligible``, ``beating``, ``members``, ``coverage``.

    References
    ----------
    .. [1] Blockchaincenter, "Altcoin Season Index",
       https://www.blockchaincenter.net/en/altcoin-season-index/
    """
    positive_int(window, "window")
    positive_int(min_coins, "min_coins")
    top = baskets.SEASON_TOP if schedule is not None else None
    return baskets.altcoin_season_index(
        _prices(prices), btc, schedule, window=window, top=top, min_coins=min_coins
    )


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
    schedule: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Coins far below their all-time high, and how they did against BTC since
    (:func:`liqflow.signals.baskets.beaten_down`; the group is chosen at the start of the
    window, among the members then).

    Returns
    -------
    DataFrame
        ``count``, ``rs``, ``outperform_share``, ``group``, ``stale``.
    """
    return baskets.beaten_down(_prices(prices), btc, schedule, drawdown=drawdown, window=window)


def crypto_signals(
    btc: pd.Series | None,
    alts: pd.DataFrame | None,
    btc_market_cap: pd.Series | None = None,
    total_market_cap: pd.Series | None = None,
    config: CryptoConfig | None = None,
    universe: AltUniverse | None = None,
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
    universe : AltUniverse, optional
        Point-in-time universe (coin closes by coin id and the membership schedule of
        :func:`liqflow.universe.membership_schedule`): the basket, the season index and
        the beaten-down alts then run on it instead of ``alts`` (today's list).

    Returns
    -------
    CryptoSignals
        Every alt figure comes with its coverage (``alt_coverage``, ``alt_coverage_mcap``,
        ``alt_members``, ``alt_stale``, ``season_coverage``) and is NaN when the coverage
        is below :data:`liqflow.signals.baskets.MIN_COVERAGE`.
    """
    cfg = config or CryptoConfig()
    if btc is None:
        raise DataError("crypto_signals needs a btc series (its index is the result's), got None")
    b = prepare(btc, "btc")
    index = b.index
    status: dict[str, str] = {"btc": input_status(b)}
    cols: dict[str, pd.Series] = {}  # framed once, in this order
    bc = b.dropna()
    ma = bc.rolling(cfg.trend_window, min_periods=cfg.trend_window).mean().reindex(index)
    cols["btc"] = b
    cols["btc_ma"] = ma
    cols["btc_pct_above_ma"] = b / ma - 1.0
    cols["btc_above_ma"] = flag(cols["btc_pct_above_ma"], ">", 0.0)
    btc_rs = change_over(b, cfg.rs_window, relative=True)

    _alt_block(cols, pd.DatetimeIndex(index), status, b, btc_rs, alts, universe, cfg)
    cols["alts_outperform"] = flag(cols["alt_rs"], ">", 0.0)
    si = cols["season_index"]
    season = pd.Series(pd.NA, index=index, dtype="string")
    season[(si >= cfg.alt_season).to_numpy()] = "altcoin"
    season[(si <= cfg.bitcoin_season).to_numpy()] = "bitcoin"
    season[((si > cfg.bitcoin_season) & (si < cfg.alt_season)).to_numpy()] = "neutral"
    cols["season"] = season
    cols["alt_season"] = flag(si, ">=", cfg.alt_season)

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
    cols["btc_dominance"] = dom
    cols["btc_dominance_chg"] = change_over(dom, cfg.dominance_window)
    cols["dominance_falling"] = flag(cols["btc_dominance_chg"], "<", 0.0)
    cols["beaten_outperform"] = flag(cols["beaten_rs"], ">", 0.0)
    frame = pd.DataFrame(cols, index=index)
    return CryptoSignals(frame, status, cfg)


#: Coin closes from the first active day, schedule, status label, position of that day.
_AltInputs = tuple[pd.DataFrame | None, pd.DataFrame | None, str, int]


@dataclass(frozen=True)
class AltUniverse:
    """Coin closes (columns = coin ids, daily) and the point-in-time membership schedule."""

    close: pd.DataFrame
    schedule: pd.DataFrame
    label: str = "point-in-time universe"
    _baskets: dict[tuple[object, ...], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _panels: dict[bytes, tuple[baskets.CoinPanel, _AltInputs]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _baskets_lock: threading.RLock = field(
        default_factory=threading.RLock, init=False, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, object]:
        return {"close": self.close, "schedule": self.schedule, "label": self.label}

    def __setstate__(self, state: dict[str, object]) -> None:  # a copy: its own memo
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_baskets", {})
        object.__setattr__(self, "_panels", {})
        object.__setattr__(self, "_baskets_lock", threading.RLock())

    def coin_panel(self, index: pd.DatetimeIndex) -> baskets.CoinPanel:
        """The coins of this universe (closes without bitcoin) and its schedule aligned on
        ``index`` from the first active day on (:meth:`~liqflow.signals.baskets.CoinPanel.of`),
        once per ``index``: the baskets in either weighting, the season index and the
        beaten-down alts of the signals then share its alignment, coverage and holding
        periods."""
        return self._aligned(pd.DatetimeIndex(index))[0]

    def _aligned(self, idx: pd.DatetimeIndex) -> tuple[baskets.CoinPanel, _AltInputs]:
        """:meth:`coin_panel` and the :func:`_alt_inputs` it was built from, once per index."""
        key = hashlib.blake2b(idx.asi8.tobytes(), digest_size=16).digest()
        with self._baskets_lock:
            found = self._panels.get(key)
            if found is None:
                inputs = _alt_inputs(idx, None, self)
                a, schedule = inputs[0], inputs[1]  # a universe: never None
                found = (baskets.CoinPanel.of(cast(pd.DataFrame, a), schedule), inputs)
                self._panels[key] = found
        return found

    def basket_frame(self, index: pd.DatetimeIndex, min_coins: int) -> pd.DataFrame:
        """The equal-weight alt basket of this universe on ``index``: the frame of
        :meth:`liqflow.signals.baskets.CoinPanel.basket` (``min_coins`` coins held with a
        price, the default coverage), on the whole of ``index``.

        Equal to ``alt_basket_on(index, close without bitcoin, schedule,
        min_coins=min_coins).frame`` (tested). Computed once per ``(index, min_coins)``:
        the signals, the claims and the backtest read the same basket (pandas'
        copy-on-write keeps the one frame unchanged by its readers), whichever thread
        asks first. An ``index`` that is the start of one already computed (a backtest
        ending before the report's last day) is served by the first rows of that basket:
        a day's row depends on no later day (the basket is point in time; tested).
        """
        idx = pd.DatetimeIndex(index)
        key = (len(idx), hashlib.blake2b(idx.asi8.tobytes(), digest_size=16).digest(), min_coins)
        with self._baskets_lock:  # a second thread asking meanwhile waits for this one
            frame = self._baskets.get(key)
            if frame is None:
                frame = self._basket_prefix(idx, min_coins)
            if frame is None:
                coins = self.coin_panel(idx)
                frame = baskets.back_filled(coins.basket(min_coins=min_coins).frame, idx)
            self._baskets[key] = frame
        return frame

    def _basket_prefix(self, idx: pd.DatetimeIndex, min_coins: int) -> pd.DataFrame | None:
        """The first ``len(idx)`` rows of a computed basket whose calendar starts with
        ``idx``, or None."""
        n = len(idx)
        for key, frame in self._baskets.items():
            length, coins = cast(int, key[0]), key[2]
            if coins == min_coins and length > n > 0 and frame.index[:n].equals(idx):
                return frame.iloc[:n].set_axis(idx)
        return None


_ALT_COLUMNS = (
    "alt_basket", "alt_basket_mcap", "alt_count", "alt_members", "alt_stale", "alt_coverage",
    "alt_coverage_mcap", "alt_vs_btc", "alt_rs", "season_index", "season_coins",
    "season_coverage",
)  # fmt: skip


def _alt_inputs(
    index: pd.DatetimeIndex,
    alts: pd.DataFrame | None,
    universe: AltUniverse | None,
) -> _AltInputs:
    """The coin closes from the first active day on (:func:`liqflow.signals.baskets.first_active`), the schedule,
    the status label and the position of that day in ``index``."""
    if universe is not None:
        close = universe.close.drop(columns=["bitcoin"], errors="ignore")
        start = baskets.first_active(index, close, universe.schedule)
        a = close.reindex(index[start:])
        label = (
            f"{universe.label}: {a.shape[1]} coins priced, "
            f"{universe.schedule.shape[1]} ever members"
        )
        return a, universe.schedule, label, start
    coins = alt_universe(list(alts.columns)) if alts is not None else ()
    if alts is None or not coins:
        return None, None, "", 0
    chosen = alts[list(coins)]
    start = baskets.first_active(index, chosen, None)
    a = chosen.reindex(index[start:])
    return a, None, f"today's list, {len(coins)} coins: {', '.join(coins)}", start


def _alt_block(
    cols: dict[str, pd.Series],
    index: pd.DatetimeIndex,
    status: dict[str, str],
    b: pd.Series,
    btc_rs: pd.Series,
    alts: pd.DataFrame | None,
    universe: AltUniverse | None,
    cfg: CryptoConfig,
) -> None:
    """Add the alt columns, each on ``index``, to ``cols`` (the crypto block's columns,
    framed once by the caller).

    The baskets, the season index and the beaten-down alts run from the day before the
    first coin price or rebalance (:func:`liqflow.signals.baskets.first_active`): on a panel from 1927 that is a
    seventh of the days, with the same values.
    """
    aligned = universe._aligned(index) if universe is not None else None
    a, schedule, label, start = (
        aligned[1] if aligned is not None else _alt_inputs(index, alts, universe)
    )
    if a is None or a.shape[1] == 0:
        for col in _ALT_COLUMNS:
            cols[col] = empty_like(index)
        for col in ("count", "group", "rs", "outperform_share", "stale"):
            cols[f"beaten_{col}"] = empty_like(index)
        status["alts"] = MISSING
        return
    b_active = b.iloc[start:]
    # aligned once for every alt figure
    coins = aligned[0] if aligned is not None else baskets.CoinPanel.of(a, schedule)
    eq = (
        universe.basket_frame(index, cfg.basket_min_coins)
        if universe is not None
        else baskets.back_filled(coins.basket(min_coins=cfg.basket_min_coins).frame, index)
    )
    mc = (
        baskets.back_filled(coins.basket("market_cap", min_coins=cfg.basket_min_coins).frame, index)
        if schedule is not None
        else None
    )
    enough = eq["known"].astype(bool)
    enough_then = pd.Series(
        as_of_values(enough.astype(np.float64), _lagged(index, cfg.rs_window)), index=index
    ).eq(1.0)
    level = eq["index"]
    cols["alt_basket"] = level
    cols["alt_basket_mcap"] = mc["index"] if mc is not None else empty_like(index)
    cols["alt_count"] = eq["count"]
    cols["alt_members"] = eq["members"]
    cols["alt_stale"] = eq["stale"]
    cols["alt_coverage"] = eq["coverage"]
    cols["alt_coverage_mcap"] = eq["coverage_mcap"]
    ratio = eq["index_raw"] / b
    first = ratio.where(enough).first_valid_index()
    cols["alt_vs_btc"] = (
        (ratio / ratio.loc[first]).where(enough) if first is not None else empty_like(index)
    )
    alt_ret = change_over(eq["index_raw"], cfg.rs_window, relative=True)
    cols["alt_rs"] = (alt_ret - btc_rs).where(enough & enough_then)
    top = baskets.SEASON_TOP if schedule is not None else None
    asi = coins.season_index(
        b_active, window=cfg.season_window, top=top, min_coins=cfg.season_min_coins
    )
    asi = baskets.back_filled(asi, index)
    cols["season_index"] = asi["index"]
    cols["season_coins"] = asi["eligible"]
    cols["season_coverage"] = asi["coverage"]
    bd = coins.beaten_down(b_active, drawdown=cfg.beaten_drawdown, window=cfg.beaten_window)
    bd = baskets.back_filled(bd, index)
    for col in ("count", "group", "rs", "outperform_share", "stale"):
        cols[f"beaten_{col}"] = bd[col]
    status["alts"] = label + _coverage_note(eq)


def _coverage_note(eq: pd.DataFrame) -> str:
    """The coverage of the last day with members, as a sentence for the status."""
    has = eq["members"] > 0
    if not has.any():
        return "; no members on any day"
    last = eq.index[has.to_numpy()][-1]
    row = eq.loc[last]
    cap = row["coverage_mcap"]
    cap_txt = f", {cap:.0%} of their market cap" if np.isfinite(cap) else ""
    state = "known" if bool(row["known"]) else "unknown"
    return (
        f"; coverage on {last:%Y-%m-%d}: {int(row['priced'])} of {int(row['members'])} members "
        f"priced ({row['coverage']:.0%}{cap_txt}); alt figures need "
        f"{baskets.MIN_COVERAGE:.0%}: {state}"
    )


def _lagged(index: pd.Index, days: int) -> np.ndarray:
    return pd.DatetimeIndex(index).to_numpy(dtype="datetime64[ns]") - np.timedelta64(days, "D")
