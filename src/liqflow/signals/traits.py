"""Supercycle traits: correction absorption, rotation, high-beta recovery, leverage.

These describe *how* the crypto leg behaves rather than whether it has started:

* **correction absorption**: how deep the drawdowns are, how long recoveries take and
  how often sell-off cascades happen in a trailing window compared with the history up
  to that day (a market that absorbs corrections has fewer cascades than usual);
* **rotation**: cross-sectional dispersion of altcoin returns and how often the
  leading coin changes;
* **high-beta recovery**: altcoins' beta to BTC and whether the high-beta half beats the
  low-beta half;
* **leverage**: funding rates and open interest when the store has them (``<coin>.funding_rate``,
  ``<coin>.open_interest`` panel columns), otherwise unknown.

Windows count rows of a daily (calendar) index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError
from liqflow.signals._basket_kernels import first_active
from liqflow.signals._result import MISSING, OK, SignalBlock
from liqflow.signals._windows import align_to, empty_like, flag, positive_int, prepare
from liqflow.signals.crypto import MIN_BASKET_COINS, alt_basket, alt_universe

__all__ = [
    "TraitsConfig",
    "TraitsSignals",
    "correction_absorption",
    "high_beta",
    "leverage",
    "rotation",
    "traits_signals",
]


@dataclass(frozen=True)
class TraitsConfig:
    """Windows (days) and thresholds of the supercycle traits.

    Attributes
    ----------
    cascade_run : int, default 4
        A cascade is ``cascade_run`` down days in a row ...
    cascade_drop, cascade_days : float, int, default 0.15 and 7
        ... or a fall of ``cascade_drop`` from the highest close of the last
        ``cascade_days`` days. Each episode counts once, on its first day.
    trailing_days : int, default 365
        Trailing window compared with the history up to each day.
    dispersion_window : int, default 30
        Smoothing of the daily cross-sectional dispersion.
    leader_window : int, default 30
        The leader is the coin with the best return over this window.
    leadership_window : int, default 90
        Window in which leadership changes are counted.
    beta_window : int, default 90
        Rolling window of each coin's beta to BTC (needs 80 % of the days).
    beta_lead_window : int, default 30
        High-beta versus low-beta return window (betas taken at its start).
    funding_window, oi_window : int, default 7 and 30
        Mean funding-rate window and open-interest change window.
    min_coins : int, default 3
        Fewest altcoins for a basket trait (the basket's drawdowns and cascades,
        dispersion, leader, betas) to be known on a day
        (:data:`liqflow.signals.crypto.MIN_BASKET_COINS`); with fewer it is NaN, not
        a value describing one or two coins.
    """

    cascade_run: int = 4
    cascade_drop: float = 0.15
    cascade_days: int = 7
    trailing_days: int = 365
    dispersion_window: int = 30
    leader_window: int = 30
    leadership_window: int = 90
    beta_window: int = 90
    beta_lead_window: int = 30
    funding_window: int = 7
    oi_window: int = 30
    min_coins: int = MIN_BASKET_COINS

    def __post_init__(self) -> None:
        for name in (
            "cascade_run",
            "cascade_days",
            "trailing_days",
            "dispersion_window",
            "leader_window",
            "leadership_window",
            "beta_window",
            "beta_lead_window",
            "funding_window",
            "oi_window",
            "min_coins",
        ):
            positive_int(getattr(self, name), f"TraitsConfig.{name}")
        if not 0 < self.cascade_drop < 1:
            raise ConfigError(
                f"TraitsConfig.cascade_drop must be in (0, 1), got {self.cascade_drop!r}"
            )


@dataclass(frozen=True)
class TraitsSignals(SignalBlock):
    """Traits, one row per day (see the module docstring and each function for columns)."""

    config: TraitsConfig = field(default_factory=TraitsConfig)


def correction_absorption(price: pd.Series, config: TraitsConfig | None = None) -> pd.DataFrame:
    """Drawdowns, recoveries and sell-off cascades of one price series.

    Returns
    -------
    DataFrame
        ``drawdown`` (from the running high, <= 0), ``days_since_high``,
        ``recovery_days`` (on the day a new high ends a drawdown: days since the previous
        high; NaN otherwise), ``max_drawdown_trailing`` (deepest drawdown in the trailing
        window), ``cascade`` (1 on the first day of a cascade episode),
        ``cascades_trailing`` (episodes in the trailing window), ``cascade_rate_hist``
        (episodes per trailing-window length over the history up to the day),
        ``cascade_ratio`` (trailing / historical rate; < 1: fewer cascades than usual).
        Every column is NaN on a day without a price (before the first, in a gap, after
        the last): the trait of a series that is not there is unknown.
    """
    cfg = config or TraitsConfig()
    p = prepare(price, "price")
    vals = p.to_numpy()
    n = len(vals)
    known = ~np.isnan(vals)
    filled = np.where(known, vals, -np.inf)
    high = np.maximum.accumulate(filled) if n else filled
    with np.errstate(invalid="ignore"):
        dd = np.where(known & np.isfinite(high), vals / high - 1.0, np.nan)
    idx = np.arange(n)
    at_high = known & (filled >= high)
    last_high = np.maximum.accumulate(np.where(at_high, idx, -1)) if n else idx
    since = np.where(last_high >= 0, idx - last_high, -1).astype(np.float64)
    since[(since < 0) | ~known] = np.nan  # no count on a day without a price
    prev_since = np.concatenate([[np.nan], since[:-1]])
    # a new high after at least one day below the old one ends a drawdown
    recovery = np.where(at_high & (prev_since >= 1), prev_since + 1, np.nan)

    dd_s = pd.Series(dd, index=p.index)
    t = cfg.trailing_days
    down = pd.Series(vals, index=p.index).diff() < 0
    run = down.groupby((~down).cumsum()).cumsum().to_numpy()
    top = pd.Series(vals, index=p.index).rolling(cfg.cascade_days + 1, min_periods=1).max()
    drop = (pd.Series(vals, index=p.index) / top - 1.0).to_numpy()
    with np.errstate(invalid="ignore"):
        episode = (run >= cfg.cascade_run) | (drop <= -cfg.cascade_drop)
    start = episode & ~np.concatenate([[False], episode[:-1]])
    casc = pd.Series(start.astype(np.float64), index=p.index).where(known | start)
    trailing = casc.rolling(t, min_periods=t).sum()
    days_seen = pd.Series(known.astype(np.float64), index=p.index).cumsum()
    rate_hist = casc.fillna(0.0).cumsum() / days_seen.where(days_seen >= t) * t
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = trailing / rate_hist.where(rate_hist > 0)
    return pd.DataFrame(
        {
            "drawdown": dd_s,
            "days_since_high": since,
            "recovery_days": recovery,
            "max_drawdown_trailing": dd_s.rolling(t, min_periods=1).min().where(known),
            "cascade": casc,
            "cascades_trailing": trailing,
            "cascade_rate_hist": rate_hist.where(known),
            "cascade_ratio": ratio,
        },
        index=p.index,
    )


def rotation(prices: pd.DataFrame, config: TraitsConfig | None = None) -> pd.DataFrame:
    """Dispersion and leadership changes inside the altcoin basket.

    Returns
    -------
    DataFrame
        ``dispersion`` (cross-sectional standard deviation of daily returns, at least
        ``min_coins`` coins, averaged over ``dispersion_window`` days; NaN on a day
        without ``min_coins`` coins), ``leader`` (coin
        with the best ``leader_window`` return that day among at least ``min_coins``
        coins with one, a string; NA otherwise), ``leader_changes`` (days in the last
        ``leadership_window`` on which the leader differed from the day before; NaN
        unless the leader was known on every day of the window and the day before it).
    """
    cfg = config or TraitsConfig()
    p = prices.astype(np.float64)
    p = p.where(p > 0)
    rets = p / p.shift(1) - 1.0
    count = rets.notna().sum(axis=1)
    disp = rets.std(axis=1, ddof=1).where(count >= cfg.min_coins)
    disp_avg = disp.rolling(cfg.dispersion_window, min_periods=max(1, cfg.dispersion_window // 2))
    perf = p / p.shift(cfg.leader_window) - 1.0
    has = perf.notna().sum(axis=1) >= cfg.min_coins
    leader = pd.Series(pd.NA, index=p.index, dtype="string")
    if has.any():
        best = perf[has].fillna(-np.inf).idxmax(axis=1)
        leader[has.to_numpy()] = best.astype("string").to_numpy()
    prev = leader.shift(1)
    # unknown (NaN) unless the leader is known on both days: a count of 0 would claim
    # "no rotation" on days when there was no basket to rotate in
    known = (leader.notna() & prev.notna()).to_numpy()
    differs = (leader != prev).fillna(False).to_numpy(dtype=bool)
    changed = pd.Series(np.where(known, differs.astype(np.float64), np.nan), index=p.index)
    changes = changed.rolling(cfg.leadership_window, min_periods=cfg.leadership_window).sum()
    return pd.DataFrame(
        {
            "dispersion": disp_avg.mean().where(disp.notna()),
            "leader": leader,
            "leader_changes": changes,
        },
        index=p.index,
    )


def _window_sums(v: np.ndarray, window: int) -> np.ndarray:
    """Sum of each column over the last ``window`` rows (fewer at the start), NaN as 0."""
    c = np.cumsum(np.where(np.isfinite(v), v, 0.0), axis=0)
    out = c.copy()
    out[window:] -= c[:-window]
    return out


def _rolling_betas(rets: pd.DataFrame, btc_ret: pd.Series, window: int) -> pd.DataFrame:
    """Rolling OLS slope of each column on ``btc_ret`` over ``window`` days, on the days
    both have a return (at least 80 % of the window), all coins at once from window sums.

    Equivalent to, per column ``x``, ``x.rolling(window, min_periods=m).cov(y) /
    y.rolling(window, min_periods=m).var()`` with ``y = btc_ret + 0 * x`` (BTC's variance on
    the coin's days) and ``m = max(2, int(0.8 * window))``, to rounding (tested against it).
    """
    minp = max(2, int(0.8 * window))
    b = btc_ret.to_numpy(dtype=np.float64)
    x = rets.to_numpy(dtype=np.float64)
    both = np.isfinite(x) & np.isfinite(b)[:, None]
    x = np.where(both, x, 0.0)
    y = np.where(both, b[:, None], 0.0)
    n = _window_sums(both.astype(np.float64), window)
    sx, sy = _window_sums(x, window), _window_sums(y, window)
    sxy, syy = _window_sums(x * y, window), _window_sums(y * y, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * sy / n) / (n - 1.0)
        var = (syy - sy * sy / n) / (n - 1.0)
        beta = cov / np.where(var > 0, var, np.nan)
    beta[n < minp] = np.nan
    return pd.DataFrame(beta, index=rets.index, columns=rets.columns)


def high_beta(
    prices: pd.DataFrame, btc: pd.Series, config: TraitsConfig | None = None
) -> pd.DataFrame:
    """Altcoins' beta to BTC and whether high-beta coins lead.

    Each coin's beta is the rolling OLS slope of its daily return on BTC's over
    ``beta_window`` days (pairwise-complete days, at least 80 % of the window; NaN on a
    day the coin has no price). On day
    *t* the coins are split at the median beta *as of* ``t - beta_lead_window``; the
    spread is the mean return of the high-beta half minus the low-beta half since then.

    Returns
    -------
    DataFrame
        ``mean_beta`` (cross-sectional mean), ``high_beta_spread``, ``high_beta_leads``
        (1 when the spread is positive); NaN on days with fewer than ``min_coins`` coins
        with a beta (``mean_beta``) or with a beta then and a return since
        (the spread).
    """
    cfg = config or TraitsConfig()
    p = prices.astype(np.float64)
    p = p.where(p > 0)
    b = align_to(prepare(btc, "btc"), p.index)
    rets = p / p.shift(1) - 1.0
    br = b / b.shift(1) - 1.0
    beta = _rolling_betas(rets, br, cfg.beta_window).where(p.notna())  # priced that day
    lw = cfg.beta_lead_window
    beta_then = beta.shift(lw)
    ret = p / p.shift(lw) - 1.0
    ok = beta_then.notna() & ret.notna()
    med = beta_then.where(ok).median(axis=1)
    hi = ok & beta_then.ge(med, axis=0)
    lo = ok & beta_then.lt(med, axis=0)
    spread = ret.where(hi).mean(axis=1) - ret.where(lo).mean(axis=1)
    spread = spread.where(
        (hi.sum(axis=1) > 0) & (lo.sum(axis=1) > 0) & (ok.sum(axis=1) >= cfg.min_coins)
    )
    return pd.DataFrame(
        {
            "mean_beta": beta.mean(axis=1).where(beta.notna().sum(axis=1) >= cfg.min_coins),
            "high_beta_spread": spread,
            "high_beta_leads": flag(spread, ">", 0.0),
        },
        index=p.index,
    )


def leverage(
    funding: pd.DataFrame | None,
    open_interest: pd.DataFrame | None,
    index: pd.Index,
    config: TraitsConfig | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Mean funding rate and open-interest change, or unknown without the data.

    Parameters
    ----------
    funding, open_interest : DataFrame or None
        One column per instrument (``btc.funding_rate`` ...); None when the store has none.
    index : DatetimeIndex
        Rows of the result.

    Returns
    -------
    (DataFrame, dict)
        ``funding_rate`` (cross-instrument mean, averaged over ``funding_window`` days)
        and ``oi_change`` (relative change of total open interest over ``oi_window``
        days); the status of each.
    """
    cfg = config or TraitsConfig()
    out = pd.DataFrame(index=index)
    status = {}
    if funding is not None and funding.notna().any().any():
        f = funding.astype(np.float64).reindex(index).mean(axis=1)
        out["funding_rate"] = f.rolling(cfg.funding_window, min_periods=1).mean().where(f.notna())
        status["funding_rate"] = OK
    else:
        out["funding_rate"] = empty_like(index)
        status["funding_rate"] = MISSING
    if open_interest is not None and open_interest.notna().any().any():
        oi = open_interest.astype(np.float64).reindex(index)
        total = oi.sum(axis=1, min_count=oi.shape[1])
        out["oi_change"] = total / total.shift(cfg.oi_window) - 1.0
        status["open_interest"] = OK
    else:
        out["oi_change"] = empty_like(index)
        status["open_interest"] = MISSING
    return out, status


def _alt_traits(a: pd.DataFrame, btc: pd.Series, cfg: TraitsConfig) -> pd.DataFrame:
    """The basket's correction absorption (``alt_`` columns), the rotation and the
    high-beta columns of the coins ``a`` (on ``btc``'s index).

    Computed from the day before the first coin price (:func:`first_active`) on: every
    trait is unknown (NaN) on the days before, and each window then holds only unknown
    days, so the values from that day on are those of the whole calendar (tested); on a
    panel from 1927 and coins from 2013 that is a seventh of the rows.
    """
    start = first_active(pd.DatetimeIndex(a.index), a, None)
    a_on, b_on = a.iloc[start:], btc.iloc[start:]
    basket = alt_basket(a_on)
    # the basket's level while it holds min_coins coins (else it is one or two coins)
    level = basket["index"].where(basket["priced"] >= cfg.min_coins)
    parts = [
        correction_absorption(level, cfg).add_prefix("alt_"),
        rotation(a_on, cfg),
        high_beta(a_on, b_on, cfg),
    ]
    return pd.concat(parts, axis=1).reindex(a.index)


def traits_signals(
    btc: pd.Series,
    alts: pd.DataFrame | None,
    funding: pd.DataFrame | None = None,
    open_interest: pd.DataFrame | None = None,
    config: TraitsConfig | None = None,
) -> TraitsSignals:
    """Every supercycle trait on BTC's daily index.

    Columns: ``btc_`` + the :func:`correction_absorption` columns, ``alt_`` + those of
    the equal-weight basket, the :func:`rotation` and :func:`high_beta` columns, and the
    :func:`leverage` columns.
    """
    cfg = config or TraitsConfig()
    b = prepare(btc, "btc")
    index = b.index
    parts = [correction_absorption(b, cfg).add_prefix("btc_")]
    status: dict[str, str] = {"btc": OK}
    coins = alt_universe(list(alts.columns)) if alts is not None else ()
    if alts is not None and coins:
        parts.append(_alt_traits(alts[list(coins)].reindex(index), b, cfg))
        status["alts"] = OK
    else:
        status["alts"] = MISSING
        cols = [f"alt_{c}" for c in correction_absorption(b.iloc[:0], cfg).columns]
        cols += ["dispersion", "leader_changes", "mean_beta", "high_beta_spread", "high_beta_leads"]
        blank = pd.DataFrame({c: empty_like(index) for c in cols}, index=index)
        blank["leader"] = pd.Series(pd.NA, index=index, dtype="string")
        parts.append(blank)
    lev, lev_status = leverage(funding, open_interest, index, cfg)
    parts.append(lev)
    status.update(lev_status)
    return TraitsSignals(pd.concat(parts, axis=1), status, cfg)
