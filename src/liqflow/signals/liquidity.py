"""Stage-1 liquidity: net liquidity, Fed bill holdings, TGA drawdown.

Net liquidity is the usual approximation of the dollar liquidity the Fed leaves with the
private sector::

    net_liquidity = fed_assets - tga - rrp        (all in USD millions in the panel)

A rising Fed balance sheet, a Treasury General Account being drawn down and a reverse
repo facility running off all add liquidity. An input that is missing makes the signals
that need it NaN with an ``unknown`` status; nothing is guessed or filled with zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.signals._result import OK, SignalBlock, input_status
from liqflow.signals._windows import (
    align_to,
    as_of_values,
    change_over,
    empty_like,
    positive_int,
    prepare,
)

__all__ = ["LiquidityConfig", "LiquiditySignals", "liquidity_signals", "net_liquidity"]


@dataclass(frozen=True)
class LiquidityConfig:
    """Windows of the liquidity signals.

    Attributes
    ----------
    short_weeks : int, default 4
        Short change window (weeks; measured as ``7 * short_weeks`` calendar days).
    long_weeks : int, default 13
        Long change window (weeks), about one quarter.
    """

    short_weeks: int = 4
    long_weeks: int = 13

    def __post_init__(self) -> None:
        positive_int(self.short_weeks, "LiquidityConfig.short_weeks")
        positive_int(self.long_weeks, "LiquidityConfig.long_weeks")


@dataclass(frozen=True)
class LiquiditySignals(SignalBlock):
    """Liquidity signals, one row per day of the input.

    Columns: ``net_liquidity``, ``net_liquidity_chg_{s}w``, ``net_liquidity_chg_{l}w``,
    ``fed_bills``, ``fed_bills_chg_{s}w``, ``fed_bills_chg_{l}w``, ``tga``,
    ``tga_chg_{s}w`` (negative = drawdown), ``rrp``, ``rrp_chg_{s}w``; USD millions.
    """

    config: LiquidityConfig = field(default_factory=LiquidityConfig)


def net_liquidity(fed_assets: pd.Series, tga: pd.Series, rrp: pd.Series) -> pd.Series:
    """Fed total assets minus the TGA minus overnight reverse repo (same units).

    The three series are aligned on the union of their dates as of each date (a weekly
    value holds until the next one); the result is NaN wherever any input is unknown.

    Parameters
    ----------
    fed_assets, tga, rrp : Series
        WALCL, WTREGEN and RRPONTSYD in the same unit (the panel uses USD millions).

    Returns
    -------
    Series
        ``net_liquidity`` on the union of the input dates.
    """
    parts = {
        "fed_assets": prepare(fed_assets, "fed_assets"),
        "tga": prepare(tga, "tga"),
        "rrp": prepare(rrp, "rrp"),
    }
    index = parts["fed_assets"].index.union(parts["tga"].index).union(parts["rrp"].index)
    when = index.to_numpy(dtype="datetime64[ns]")
    fa, tg, rr = (as_of_values(parts[k].dropna(), when) for k in ("fed_assets", "tga", "rrp"))
    out = pd.Series(fa - tg - rr, index=index)
    return out.rename("net_liquidity")


def liquidity_signals(
    fed_assets: pd.Series | None,
    tga: pd.Series | None,
    rrp: pd.Series | None,
    fed_bills: pd.Series | None = None,
    config: LiquidityConfig | None = None,
    *,
    index: pd.DatetimeIndex | None = None,
) -> LiquiditySignals:
    """Net liquidity and its changes, Fed bill holdings and TGA drawdown.

    Parameters
    ----------
    fed_assets, tga, rrp, fed_bills : Series or None
        Daily (calendar, as-of) series in USD millions, as in the panel. ``None`` or an
        all-NaN series means the input is unknown.
    config : LiquidityConfig, optional
    index : DatetimeIndex, optional
        Rows of the result (default: the index of the first supplied input).

    Returns
    -------
    LiquiditySignals
        Changes are measured over ``7 * weeks`` calendar days (value as of that day).

    Notes
    -----
    Changes use the value *as of* ``t - 7w`` days, so they are defined on daily calendar
    panels as well as on the raw weekly series, and are causal.
    """
    cfg = config or LiquidityConfig()
    inputs = {"fed_assets": fed_assets, "tga": tga, "rrp": rrp, "fed_bills": fed_bills}
    present = {k: prepare(v, k) for k, v in inputs.items() if v is not None and v.notna().any()}
    if index is None:
        if not present:
            raise DataError(
                "liquidity_signals needs at least one of fed_assets, tga, rrp, fed_bills "
                "with data, or an explicit index; got none"
            )
        index = pd.DatetimeIndex(next(iter(present.values())).index)
    status = {k: input_status(v) for k, v in inputs.items()}
    cols = {k: (align_to(present[k], index) if k in present else empty_like(index)) for k in inputs}

    s, lw = cfg.short_weeks, cfg.long_weeks
    frame = pd.DataFrame(index=index)
    if all(k in present for k in ("fed_assets", "tga", "rrp")):
        nl = cols["fed_assets"] - cols["tga"] - cols["rrp"]
        status["net_liquidity"] = OK
    else:
        gone = [k for k in ("fed_assets", "tga", "rrp") if k not in present]
        nl = empty_like(index)
        status["net_liquidity"] = f"unknown: no data for {', '.join(gone)}"
    frame["net_liquidity"] = nl
    frame[f"net_liquidity_chg_{s}w"] = change_over(nl, 7 * s)
    frame[f"net_liquidity_chg_{lw}w"] = change_over(nl, 7 * lw)
    frame["fed_bills"] = cols["fed_bills"]
    frame[f"fed_bills_chg_{s}w"] = change_over(cols["fed_bills"], 7 * s)
    frame[f"fed_bills_chg_{lw}w"] = change_over(cols["fed_bills"], 7 * lw)
    frame["tga"] = cols["tga"]
    frame[f"tga_chg_{s}w"] = change_over(cols["tga"], 7 * s)
    frame["rrp"] = cols["rrp"]
    frame[f"rrp_chg_{s}w"] = change_over(cols["rrp"], 7 * s)
    return LiquiditySignals(frame.astype(np.float64), status, cfg)
