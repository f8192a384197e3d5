"""Stage-4 market structure: spot-ETF flows against new supply, and crypto leverage.

Spot ETFs. Net flows (US$ millions, Farside) over the last 5 and 20 days, in USD and in
BTC (each day's flow divided by that day's BTC close), and as a multiple of the bitcoin
mined over the same days: ``144`` blocks a day times the block subsidy
(:func:`block_subsidy`: 6.25 BTC until the halving of 2024-04-20, 3.125 from then). A
multiple above 1 means the funds bought more than the miners produced.

Leverage. ``funding`` is the mean over ``funding_days`` days of the perpetuals' daily
funding (``<coin>_funding``: the sum of the day's 8-hour rates, a fraction of notional)
and ``funding_pct`` its percentile among the trailing ``percentile_days`` days (only the
past: a point-in-time rank); ``oi_chg`` the relative change of the perpetual's open
interest; ``cme_lev_net`` the CFTC leveraged funds' net position in CME Bitcoin futures
(contracts, negative = net short: mostly the cash-and-carry basis trade) and its change,
with the CME open interest's relative change (``cme_oi_chg``).

Flows in the panel are summed over the days on which the as-of value changed (see
:func:`liqflow.signals.fiscal.new_observations`). A missing or stale input gives NaN
(unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.signals._result import SignalBlock, input_status
from liqflow.signals._windows import (
    align_to,
    change_over,
    empty_like,
    percentile_rank,
    positive_int,
    prepare,
)
from liqflow.signals.fiscal import new_observations, window_sum

__all__ = [
    "BLOCKS_PER_DAY",
    "FUNDING_BAND",
    "HALVINGS",
    "MarketStructureConfig",
    "MarketStructureSignals",
    "block_subsidy",
    "market_structure_signals",
    "mined_btc",
]

#: Trailing quantiles of the funding level shown as its band (columns of the signals).
FUNDING_BAND = {"funding_q10": 0.1, "funding_median": 0.5, "funding_q90": 0.9}
#: Blocks per day at the ten-minute target.
BLOCKS_PER_DAY = 144
#: Halving days (UTC) and the subsidy (BTC per block) from each of them.
HALVINGS: tuple[tuple[pd.Timestamp, float], ...] = (
    (pd.Timestamp("2009-01-03"), 50.0),
    (pd.Timestamp("2012-11-28"), 25.0),
    (pd.Timestamp("2016-07-09"), 12.5),
    (pd.Timestamp("2020-05-11"), 6.25),
    (pd.Timestamp("2024-04-20"), 3.125),
)


def block_subsidy(dates: pd.DatetimeIndex) -> np.ndarray:
    """Block subsidy (BTC) in force on each date (the halving day counts as halved)."""
    starts = np.array([d.to_datetime64() for d, _ in HALVINGS])
    pos = np.searchsorted(starts, dates.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    rates = np.array([r for _, r in HALVINGS])
    return np.where(pos >= 0, rates[np.maximum(pos, 0)], 0.0)


def mined_btc(index: pd.DatetimeIndex, days: int) -> pd.Series:
    """BTC mined over the ``days`` calendar days ending on each date (144 blocks a day)."""
    cal = pd.date_range(index[0] - pd.Timedelta(days=days), index[-1], freq="D")
    daily = pd.Series(BLOCKS_PER_DAY * block_subsidy(cal), index=cal)
    return daily.rolling(days).sum().reindex(index)


@dataclass(frozen=True)
class MarketStructureConfig:
    """Windows of the ETF and leverage signals.

    Attributes
    ----------
    short_days, long_days : int, default 5 and 20
        ETF flow windows (calendar days).
    funding_days : int, default 7
        Mean window of the daily funding.
    percentile_days : int, default 365
        Trailing history the funding level is ranked in.
    min_history : int, default 180
        Fewest trailing days for a percentile.
    oi_days : int, default 30
        Open-interest change window (days).
    cot_weeks : int, default 4
        Change window of the CFTC positions (weeks).
    """

    short_days: int = 5
    long_days: int = 20
    funding_days: int = 7
    percentile_days: int = 365
    min_history: int = 180
    oi_days: int = 30
    cot_weeks: int = 4

    def __post_init__(self) -> None:
        for name in (
            "short_days",
            "long_days",
            "funding_days",
            "percentile_days",
            "min_history",
            "oi_days",
            "cot_weeks",
        ):
            positive_int(getattr(self, name), f"MarketStructureConfig.{name}")
        if self.min_history > self.percentile_days:
            raise ConfigError(
                "MarketStructureConfig.min_history must not exceed percentile_days "
                f"({self.percentile_days}), got {self.min_history}"
            )


@dataclass(frozen=True)
class MarketStructureSignals(SignalBlock):
    """ETF and leverage signals, one row per day.

    Columns: ``etf_flow_{n}d`` (US$ m), ``etf_flow_{n}d_btc``, ``etf_supply_multiple_{n}d``
    for the short and long windows; ``funding``, ``funding_pct`` and the trailing band
    ``funding_q10``, ``funding_median``, ``funding_q90`` (:data:`FUNDING_BAND`, over the
    same trailing days as the percentile); ``oi_chg``, ``cme_lev_net``,
    ``cme_lev_net_chg``, ``cme_oi_chg``.
    """

    config: MarketStructureConfig = field(default_factory=MarketStructureConfig)


def _etf(
    flows: pd.Series | None,
    btc: pd.Series | None,
    index: pd.DatetimeIndex,
    cfg: MarketStructureConfig,
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    obs = (
        new_observations(align_to(flows, index))
        if flows is not None
        else pd.Series(dtype=np.float64)
    )
    price = align_to(btc, index) if btc is not None else empty_like(index)
    in_btc = obs * 1e6 / price.reindex(obs.index)
    for n in (cfg.short_days, cfg.long_days):
        out[f"etf_flow_{n}d"] = window_sum(obs, index, n)
        btc_sum = window_sum(in_btc.dropna(), index, n)
        # a day whose price is unknown makes the BTC figure unknown, not smaller
        complete = window_sum(in_btc.isna().astype(np.float64), index, n).fillna(0) == 0
        out[f"etf_flow_{n}d_btc"] = btc_sum.where(complete & out[f"etf_flow_{n}d"].notna())
        out[f"etf_supply_multiple_{n}d"] = out[f"etf_flow_{n}d_btc"] / mined_btc(index, n)
    return out


def _leverage(
    funding: pd.DataFrame | None,
    open_interest: pd.DataFrame | None,
    index: pd.DatetimeIndex,
    cfg: MarketStructureConfig,
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    if funding is not None and funding.notna().any().any():
        daily = funding.astype(np.float64).reindex(index).mean(axis=1)
        level = daily.rolling(cfg.funding_days, min_periods=cfg.funding_days).mean()
        out["funding"] = level
        ranked = percentile_rank(level, cfg.percentile_days, cfg.min_history)
        out["funding_pct"] = ranked.where(level.notna())
        trail = level.dropna().rolling(cfg.percentile_days, min_periods=cfg.min_history)
        for name, q in FUNDING_BAND.items():  # the trailing band the percentile ranks in
            out[name] = trail.quantile(q).reindex(index).where(level.notna())
    else:
        out["funding"] = out["funding_pct"] = empty_like(index)
        for name in FUNDING_BAND:
            out[name] = empty_like(index)
    if open_interest is not None and open_interest.notna().any().any():
        oi = open_interest.astype(np.float64).reindex(index).sum(axis=1, min_count=1)
        out["oi_chg"] = change_over(oi, cfg.oi_days, relative=True)
    else:
        out["oi_chg"] = empty_like(index)
    return out


def market_structure_signals(
    etf_flows: pd.Series | None,
    btc: pd.Series | None = None,
    funding: pd.DataFrame | None = None,
    open_interest: pd.DataFrame | None = None,
    cme_lev_net: pd.Series | None = None,
    cme_open_interest: pd.Series | None = None,
    config: MarketStructureConfig | None = None,
    *,
    index: pd.DatetimeIndex | None = None,
) -> MarketStructureSignals:
    """Spot-ETF flows against mined supply, funding, open interest and CME positioning.

    Parameters
    ----------
    etf_flows : Series or None
        Calendar-day (as-of) net ETF flow in US$ millions (panel column ``etf_flows``).
    btc : Series or None
        BTC close in USD on the same days.
    funding, open_interest : DataFrame or None
        One column per perpetual (``btc_funding``, ``eth_funding``; ``*.open_interest``).
    cme_lev_net, cme_open_interest : Series or None
        CFTC leveraged funds' net position and open interest (contracts).
    config : MarketStructureConfig, optional
    index : DatetimeIndex, optional
        Rows of the result (default: the first supplied input's index).

    Returns
    -------
    MarketStructureSignals

    Notes
    -----
    Causal throughout: sums and means over trailing windows, the funding percentile
    among trailing days only, changes against the value as of ``t - window``.
    """
    cfg = config or MarketStructureConfig()
    series = {
        "etf_flows": etf_flows,
        "btc": btc,
        "cme_lev_net": cme_lev_net,
        "cme_open_interest": cme_open_interest,
    }
    present = {k: prepare(v, k) for k, v in series.items() if v is not None and v.notna().any()}
    frames = {"funding": funding, "open_interest": open_interest}
    if index is None:
        candidates: list[pd.Index] = [v.index for v in present.values()]
        candidates += [f.index for f in frames.values() if f is not None]
        if not candidates:
            raise DataError(
                "market_structure_signals needs one of etf_flows, btc, funding, open_interest, "
                "cme_lev_net, cme_open_interest, or an explicit index; got none"
            )
        index = pd.DatetimeIndex(candidates[0])
    status = {k: input_status(v) for k, v in {**series, **frames}.items()}
    flows_ok = present.get("etf_flows")
    cols = _etf(flows_ok, present.get("btc"), index, cfg)
    cols.update(_leverage(funding, open_interest, index, cfg))
    lev = align_to(present["cme_lev_net"], index) if "cme_lev_net" in present else empty_like(index)
    cols["cme_lev_net"] = lev
    cols["cme_lev_net_chg"] = change_over(lev, 7 * cfg.cot_weeks)
    coi = (
        align_to(present["cme_open_interest"], index)
        if "cme_open_interest" in present
        else empty_like(index)
    )
    cols["cme_oi_chg"] = change_over(coi, 7 * cfg.cot_weeks, relative=True)
    frame = pd.DataFrame(cols, index=index).astype(np.float64)
    return MarketStructureSignals(frame, status, cfg)
