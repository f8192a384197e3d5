"""THE altcoin basket, the Altcoin Season Index and beaten-down alts, on one universe.

Every alt figure of liqflow (signals, claims, backtest, report) comes from here, on the
point-in-time universe of :mod:`liqflow.universe` when a membership schedule is given, or
on a fixed list of coins (today's catalogue) otherwise.

The basket. At each rebalance (a date on which the membership in force changes, at the
close of that day: a snapshot is public at the end of its date) the members that have a
price that day are bought, in equal weights or in proportion to their market cap in the
snapshot, and held until the next rebalance (weights drift with prices). A coin that leaves
the universe leaves at the next rebalance, with its return until then. A held coin whose
prices stop is **held at its last price and flagged** (``stale``), never silently dropped;
that is the only carrying forward of a price, and it shows in the coverage.

Coverage. On each day, the share of the members (by count, and by snapshot market cap)
that have a real price that day. The figure of a weighting is **unknown** (NaN, with
``known`` False) when the coverage that matters to it (count for equal weight, market cap
for market-cap weight) is below ``min_coverage`` (:data:`MIN_COVERAGE`), or fewer than
``min_coins`` coins are held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow._memo import cached_property
from liqflow.signals._basket_kernels import (
    WEIGHTINGS,
    _bought,
    _check,
    _coverage,
    _period_returns,
    _prices,
    _top_members,
    back_filled,
    first_active,
    list_schedule,
    members_by_day,
)
from liqflow.signals._beaten_kernel import beaten_rows

__all__ = [
    "MIN_BASKET_COINS",
    "MIN_COVERAGE",
    "SEASON_TOP",
    "WEIGHTINGS",
    "AltBasket",
    "CoinPanel",
    "alt_basket",
    "alt_basket_on",
    "altcoin_season_index",
    "beaten_down",
    "list_schedule",
    "members_by_day",
]

#: Fewest coins held for a basket figure (one or two coins are those coins, not "the alts").
MIN_BASKET_COINS = 3
#: Coverage below which an alt figure is unknown (share of members with a price that day).
MIN_COVERAGE = 0.6
#: Top altcoins of the Altcoin Season Index (blockchaincenter: the top 50).
SEASON_TOP = 50


@dataclass(frozen=True)
class AltBasket:
    """The alt basket, one row per day.

    Columns: ``return`` (NaN when unknown), ``index`` (100 at the first rebalance,
    compounded; NaN when unknown), ``index_raw`` (the same without the mask),
    ``members`` (coins in the universe in force), ``held``, ``count`` (held coins with a
    price that day), ``priced`` (members with a price that day), ``stale`` (held coins
    without a price, held at their last price), ``coverage`` (priced / members),
    ``coverage_mcap`` (market-cap share priced), ``known``.
    """

    frame: pd.DataFrame
    weighting: str
    min_coverage: float
    min_coins: int
    stale: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> str:
        f = self.frame
        known = f["known"].astype(bool)
        if not known.any():
            return f"{self.weighting}-weight alt basket: unknown on every day (coverage)"
        last = f.index[known][-1]
        return (
            f"{self.weighting}-weight alt basket {f.loc[last, 'index']:.1f} on {last:%Y-%m-%d} "
            f"({int(f.loc[last, 'count'])} of {int(f.loc[last, 'members'])} members priced, "
            f"coverage {f.loc[last, 'coverage']:.0%} by count, "
            f"{f.loc[last, 'coverage_mcap']:.0%} by market cap); known on {int(known.sum())} "
            f"of {len(f)} days; {len(self.stale)} coin-days held at a last price"
        )


@dataclass(frozen=True, eq=False)
class CoinPanel:
    """Coin closes and a membership schedule, checked and aligned once.

    Every alt figure (:meth:`basket` in either weighting, :meth:`season_index`,
    :meth:`beaten_down`) reads the same prices, schedule and rebalance days; building them
    once lets a caller that needs several figures skip the repeated alignment (the
    module-level functions each build their own).

    Attributes
    ----------
    prices : DataFrame
        Daily closes (a zero or negative price is NaN), the schedule's coins first, from
        the day before the first price or rebalance (:func:`first_active`): every figure
        is the same on all the days before it, and is returned on the whole ``index``.
    schedule : DataFrame
        Rebalance dates x the same coins, market cap of each member (NaN: not a member).
    index : DatetimeIndex
        The days of the prices given, those of every result.
    """

    prices: pd.DataFrame
    schedule: pd.DataFrame
    index: pd.DatetimeIndex

    @classmethod
    def of(cls, prices: pd.DataFrame, schedule: pd.DataFrame | None = None) -> CoinPanel:
        """Check and align ``prices`` and ``schedule`` (default :func:`list_schedule`)."""
        p = _prices(prices)
        sched = list_schedule(p) if schedule is None else schedule
        if not isinstance(sched.index, pd.DatetimeIndex):
            raise DataError("schedule: index must be a DatetimeIndex of rebalance dates")
        coins = list(dict.fromkeys([*sched.columns, *p.columns]))
        index = pd.DatetimeIndex(p.index)
        start = first_active(index, p, sched)
        return cls(
            p.iloc[start:].reindex(columns=coins),
            sched.reindex(columns=coins).astype(np.float64),
            index,
        )

    @cached_property
    def calendar(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.prices.index)

    @cached_property
    def px(self) -> np.ndarray:
        return self.prices.to_numpy()

    @cached_property
    def members(self) -> np.ndarray:
        return self.schedule.notna().to_numpy()

    @cached_property
    def caps(self) -> np.ndarray:
        return np.nan_to_num(self.schedule.to_numpy(), nan=0.0)

    @cached_property
    def rebalances(self) -> tuple[np.ndarray, np.ndarray]:
        """(schedule rows, calendar positions) of the rebalances; several schedule rows on
        one calendar day: the last one decides."""
        T = self.px.shape[0]
        starts = np.searchsorted(
            self.calendar.to_numpy(), self.schedule.index.to_numpy(dtype="datetime64[ns]")
        )
        keep = starts < T
        rows, starts = np.flatnonzero(keep), starts[keep]
        last_of_day = np.r_[starts[1:] != starts[:-1], True]
        return rows[last_of_day], starts[last_of_day]

    @cached_property
    def coverage(self) -> dict[str, np.ndarray]:
        """:func:`_coverage` for the membership held during each day."""
        rows, _ = self.rebalances
        in_force = members_by_day(self.schedule.iloc[rows], self.calendar - pd.Timedelta(days=1))
        return _coverage(self.px, self.members, self.caps, in_force, rows)

    @cached_property
    def periods(self) -> tuple[tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray], ...]:
        """Each rebalance period with a day after it, bought and held (:func:`_bought`):
        ``(schedule row, first day, last day, coins held, their relative prices, stale
        matrix)``; the same for every weighting."""
        out = []
        T = self.px.shape[0]
        rows, starts = self.rebalances
        for k, (row, lo) in enumerate(zip(rows, starts, strict=True)):
            hi = int(starts[k + 1]) if k + 1 < len(starts) else T - 1
            if hi > lo:
                held, relative, stale = _bought(self.px, int(lo), hi, self.members[row])
                out.append((int(row), int(lo), hi, held, relative, stale))
        return tuple(out)

    @cached_property
    def held(self) -> dict[str, Any]:
        """Per day: coins held, held coins priced (``count``), held at their last price
        (``stale``), and which (``stale_rows``: a frame of date and coin id)."""
        T = self.px.shape[0]
        held_n, stale_n, count = np.zeros(T), np.zeros(T), np.zeros(T)
        days: list[np.ndarray] = []
        coins: list[np.ndarray] = []
        names = np.asarray(self.prices.columns, dtype=object)
        cal = self.calendar.to_numpy(dtype="datetime64[ns]")
        for _, lo, hi, held, _, stale in self.periods:
            n_held, st = held.sum(), stale.sum(axis=1).astype(float)
            held_n[lo + 1 : hi + 1] = n_held
            stale_n[lo + 1 : hi + 1] = st
            count[lo + 1 : hi + 1] = n_held - st
            if stale.size and stale.any():
                d, c = np.nonzero(stale)
                days.append(cal[lo + 1 + d])
                coins.append(names[held][c])
        if days:
            rows = pd.DataFrame({"date": np.concatenate(days), "coin_id": np.concatenate(coins)})
        else:
            rows = pd.DataFrame([], columns=["date", "coin_id"])
        return {"held": held_n, "stale": stale_n, "count": count, "stale_rows": rows}

    def basket(
        self,
        weighting: str = "equal",
        min_coverage: float = MIN_COVERAGE,
        min_coins: int = MIN_BASKET_COINS,
    ) -> AltBasket:
        """The alt basket (:func:`alt_basket`)."""
        _check(weighting, min_coverage, min_coins)
        held = _holdings(self, weighting)
        cov = self.coverage
        share = (cov["coverage"] if weighting == "equal" else cov["coverage_mcap"]).copy()
        _first_rebalance(self, weighting, held["count"], share)
        T = len(self.calendar)
        starts = self.rebalances[1]
        ret = held["return"]
        start = int(starts[0]) if len(starts) else -1
        known = (share >= min_coverage) & (held["count"] >= min_coins)
        known &= np.isfinite(ret) | (np.arange(T) == start)
        started = np.arange(T) >= (start if len(starts) else T)
        raw = 100.0 * np.cumprod(1.0 + np.where(np.isfinite(ret), ret, 0.0))
        raw = np.where(started, raw, np.nan)
        frame = pd.DataFrame(
            {
                "return": np.where(known, ret, np.nan),
                "index": np.where(known, raw, np.nan),
                "index_raw": raw,
                "members": cov["members"],
                "held": held["held"],
                "count": held["count"],
                "priced": cov["priced"],
                "stale": held["stale"],
                "coverage": share if weighting == "equal" else cov["coverage"],
                "coverage_mcap": cov["coverage_mcap"],
                "known": known,
            },
            index=self.calendar,
        )
        stale_df = held["stale_rows"]
        frame = back_filled(frame, self.index)
        return AltBasket(frame, weighting, float(min_coverage), int(min_coins), stale_df)

    def season_index(
        self,
        btc: pd.Series,
        *,
        window: int = 90,
        top: int | None = SEASON_TOP,
        min_coins: int = 5,
        min_coverage: float = MIN_COVERAGE,
    ) -> pd.DataFrame:
        """The Altcoin Season Index (:func:`altcoin_season_index`)."""
        from liqflow.signals._windows import align_to, positive_int, prepare

        positive_int(window, "window")
        positive_int(min_coins, "min_coins")
        cal = self.calendar
        b = align_to(prepare(btc, "btc"), cal).to_numpy(dtype=np.float64)
        now = self.px
        days = cal.to_numpy(dtype="datetime64[ns]")
        back = days - np.timedelta64(window, "D")
        pos = np.searchsorted(days, back, side="left")
        safe = np.minimum(pos, len(days) - 1)
        exact = (pos < len(days)) & (days[safe] == back)
        coin_ret = now[safe]  # the price ``window`` days before, then the return since
        coin_ret[~exact] = np.nan
        b_then = np.where(exact, b[safe], np.nan)
        in_force = members_by_day(self.schedule, cal)
        mem = _top_members(self.schedule, top)[np.maximum(in_force, 0)]
        mem[in_force < 0] = False  # before the first schedule row: no member
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(now, coin_ret, out=coin_ret)
            coin_ret -= 1.0
            btc_ret = b / b_then - 1.0
        eligible = np.isfinite(coin_ret)
        eligible &= mem
        eligible &= np.isfinite(btc_ret)[:, None]
        beating = coin_ret > btc_ret[:, None]
        beating &= eligible
        n_mem = mem.sum(axis=1).astype(float)
        n_el = eligible.sum(axis=1).astype(float)
        n_beat = beating.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = np.where(n_mem > 0, n_el / n_mem, np.nan)
            enough = (n_el >= min_coins) & (cov >= min_coverage)
            idx = np.where(enough, 100.0 * n_beat / n_el, np.nan)
        frame = pd.DataFrame(
            {"index": idx, "eligible": n_el, "beating": n_beat, "members": n_mem, "coverage": cov},
            index=cal,
        )
        return back_filled(frame, self.index)

    def beaten_down(
        self, btc: pd.Series, *, drawdown: float = 0.7, window: int = 30
    ) -> pd.DataFrame:
        """Beaten-down members against BTC (:func:`beaten_down`)."""
        from liqflow.signals._windows import align_to, positive_int, prepare

        positive_int(window, "window")
        cal = self.calendar
        b = align_to(prepare(btc, "btc"), cal).to_numpy(dtype=np.float64)
        in_force = members_by_day(self.schedule, cal)
        days = cal.to_numpy(dtype="datetime64[ns]")
        pos = np.searchsorted(days, days - np.timedelta64(window, "D"), side="right") - 1
        ok = pos >= 0  # a day ``window`` days before
        beaten, group, outperform, stale, any_price, excess = beaten_rows(
            self.px, self.members, in_force, np.maximum(pos, 0), ok, b, float(drawdown)
        )
        n = group.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rs = np.where(n > 0, excess.sum(axis=1) / n, np.nan)
            share = np.where(n > 0, outperform / n, np.nan)
        frame = pd.DataFrame(
            {
                "count": np.where(any_price, beaten, np.nan).astype(float),
                "rs": rs,
                "outperform_share": share,
                "group": n,
                "stale": stale.astype(float),
            },
            index=cal,
        )
        return back_filled(frame, self.index)


def _holdings(coins: CoinPanel, weighting: str) -> dict[str, Any]:
    """Each rebalance period bought and held (:meth:`CoinPanel.periods`): daily returns in
    ``weighting``'s weights, coins held, held coins priced (``count``), held at a last
    price (``stale``, and which)."""
    T = coins.px.shape[0]
    ret = np.full(T, np.nan)
    for row, lo, hi, held, relative, _ in coins.periods:
        ret[lo + 1 : hi + 1] = _period_returns(held, relative, coins.caps[row], weighting)
    return {"return": ret, **coins.held, "count": coins.held["count"].copy()}


def _first_rebalance(
    coins: CoinPanel, weighting: str, count: np.ndarray, share: np.ndarray
) -> None:
    """On the first rebalance day the level (100) is known and there is no return: its
    count and coverage are those of the coins bought (``count`` and ``share`` updated)."""
    rows, starts = coins.rebalances
    if not len(starts):
        return
    lo0, row0 = int(starts[0]), int(rows[0])
    members, caps = coins.members[row0], coins.caps[row0]
    bought = members & np.isfinite(coins.px[lo0])
    cap0 = caps[members].sum()
    if weighting == "equal":
        share[lo0] = bought.sum() / max(int(members.sum()), 1)
    else:
        share[lo0] = caps[bought].sum() / cap0 if cap0 > 0 else np.nan
    count[lo0] = float(bought.sum())


def alt_basket(
    prices: pd.DataFrame,
    schedule: pd.DataFrame | None = None,
    *,
    weighting: str = "equal",
    min_coverage: float = MIN_COVERAGE,
    min_coins: int = MIN_BASKET_COINS,
) -> AltBasket:
    """The alt basket on ``prices`` for the membership ``schedule``.

    Parameters
    ----------
    prices : DataFrame
        Daily closes, one column per coin id (NaN: no price that day).
    schedule : DataFrame, optional
        :func:`liqflow.universe.membership_schedule`: rebalance dates x coin ids, market
        cap of each member (NaN: not a member). Default: the columns of ``prices``, each
        from its first price (:func:`list_schedule`; today's list of coins).
    weighting : {"equal", "market_cap"}
    min_coverage : float
        Coverage below which the day is unknown (count share for equal weight, market-cap
        share for market-cap weight).
    min_coins : int
        Fewest coins held with a price for a known day.

    Returns
    -------
    AltBasket

    Notes
    -----
    With a rebalance every day and every coin priced every day, the equal-weight return
    equals ``prices.pct_change().mean(axis=1)`` (tested).
    """
    return CoinPanel.of(prices, schedule).basket(weighting, min_coverage, min_coins)


def alt_basket_on(
    index: pd.Index,
    prices: pd.DataFrame,
    schedule: pd.DataFrame | None = None,
    *,
    weighting: str = "equal",
    min_coverage: float = MIN_COVERAGE,
    min_coins: int = MIN_BASKET_COINS,
) -> pd.DataFrame:
    """:func:`alt_basket`'s frame for ``prices`` reindexed onto ``index``, without
    building that reindexed table over the days before any coin is priced.

    Equivalent to ``alt_basket(prices.reindex(index), schedule, ...).frame`` (tested): the
    prices are reindexed from the day before the first price or rebalance
    (:func:`first_active`) only, and the earlier days of the result are copies of its
    first row, as :func:`alt_basket` returns them. On a calendar from 1927 and coins from
    2013 that is a seventh of the table.
    """
    idx = pd.DatetimeIndex(index)
    start = _first_priced(idx, prices, schedule)
    frame = alt_basket(
        prices.reindex(idx[start:]),
        schedule,
        weighting=weighting,
        min_coverage=min_coverage,
        min_coins=min_coins,
    ).frame
    return back_filled(frame, idx)


def _first_priced(
    index: pd.DatetimeIndex, prices: pd.DataFrame, schedule: pd.DataFrame | None
) -> int:
    """:func:`first_active` of ``prices.reindex(index)`` (only priced days on ``index``
    count), from the rows of ``prices`` that fall on ``index``."""
    with np.errstate(invalid="ignore"):
        priced = np.asarray((prices.to_numpy(dtype=np.float64) > 0).any(axis=1), dtype=bool)
    rows = prices.index[priced]
    on = rows[rows.isin(index)] if len(rows) else rows
    firsts = [pd.Timestamp(on[0])] if len(on) else []
    if schedule is not None and len(schedule.index):
        firsts.append(pd.Timestamp(schedule.index[0]))
    if not firsts:
        return 0
    return max(int(index.searchsorted(min(firsts), side="left")) - 1, 0)


def altcoin_season_index(
    prices: pd.DataFrame,
    btc: pd.Series,
    schedule: pd.DataFrame | None = None,
    *,
    window: int = 90,
    top: int | None = SEASON_TOP,
    min_coins: int = 5,
    min_coverage: float = MIN_COVERAGE,
) -> pd.DataFrame:
    """Share (0-100) of the top altcoins as of each day that beat BTC over ``window`` days.

    Parameters
    ----------
    prices : DataFrame
        Daily closes per coin id.
    btc : Series
        BTC close.
    schedule : DataFrame, optional
        Membership schedule (default: the columns of ``prices`` from their first price).
    window : int
        Days of the comparison (blockchaincenter: 90).
    top : int or None
        Largest members by market cap taken (blockchaincenter: 50); None for all.
    min_coins, min_coverage : int, float
        Fewest eligible coins, and least share of the top members eligible, for a value.

    Returns
    -------
    DataFrame
        ``index`` (0-100, NaN when unknown), ``eligible`` (members priced today and
        ``window`` days ago), ``beating``, ``members``, ``coverage`` (eligible / members).

    Notes
    -----
    blockchaincenter.net: altcoin season when 75 % of the top 50 altcoins (no stablecoins
    or wrapped tokens) beat Bitcoin over the last 90 days, bitcoin season at 25 % or less.
    Here the top list is the point-in-time one on each day (blockchaincenter uses today's
    list for its history); coins without a price today or ``window`` days ago are not
    eligible and lower the coverage.

    References
    ----------
    .. [1] Blockchaincenter, "Altcoin Season Index",
       https://www.blockchaincenter.net/en/altcoin-season-index/
    """
    return CoinPanel.of(prices, schedule).season_index(
        btc, window=window, top=top, min_coins=min_coins, min_coverage=min_coverage
    )


def beaten_down(
    prices: pd.DataFrame,
    btc: pd.Series,
    schedule: pd.DataFrame | None = None,
    *,
    drawdown: float = 0.7,
    window: int = 30,
) -> pd.DataFrame:
    """Members far below their all-time high, and how they did against BTC since.

    On day *t* the group is the coins that were members and at least ``drawdown`` below
    their highest price up to ``t - window``; their return from then to *t* is compared
    with BTC's. A group coin without a price on *t* is held at its last price and counted
    in ``stale``.

    Returns
    -------
    DataFrame
        ``count`` (members beaten down today), ``rs`` (mean excess return over BTC of the
        group), ``outperform_share``, ``group``, ``stale``.
    """
    return CoinPanel.of(prices, schedule).beaten_down(btc, drawdown=drawdown, window=window)
