"""Stage-1 fiscal channel: daily net liquidity, Treasury cash, tax refunds, MBS, mortgages.

The Treasury moves liquidity day by day: spending draws its account at the Fed (the TGA)
down and adds reserves; tax receipts and debt issuance refill it. Fiscal easing also
reaches households through larger tax refunds and, via the Fed's MBS holdings, through
mortgage rates.

Daily net liquidity. ``net_liquidity_daily = fed_assets - tga_daily - rrp`` uses the
Daily Treasury Statement's TGA closing balance (a level) beside the weekly
``net_liquidity = fed_assets - tga - rrp`` of :mod:`liqflow.signals.liquidity`, whose TGA
is FRED's WTREGEN: the H.4.1 **week average**. The two are related exactly:

* WTREGEN for the week ending Wednesday *d* equals the mean of the DTS closing balances
  over the seven calendar days Thursday..*d* (a weekend or holiday carries the previous
  business day's close) to within the H.4.1 rounding of USD 1 million
  (:func:`tga_week_average`; checked on every week 2016-2026 of the shared data). So the
  weekly net liquidity equals ``fed_assets - tga_week_average(tga_daily) - rrp`` on
  every Wednesday, within USD 1 million.
* With the TGA as a level, ``net_liquidity_daily`` follows the Wednesday-level
  definition ``WALCL - WDTGAL - RRPONTSYD`` (H.4.1 Wednesday level of the TGA); on a
  Wednesday it differs from the weekly series by exactly ``WTREGEN - tga_daily``.

Flows in the panel. The panel carries each value forward as of each day, so a daily flow
(refunds) is summed over the days on which it *changed* (a new observation); two
consecutive identical non-zero figures would count once (a repeated zero changes no sum).
An input that is missing or stale makes its signals NaN with an ``unknown`` status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.signals._result import OK, SignalBlock, input_status
from liqflow.signals._windows import align_to, change_over, empty_like, positive_int, prepare

__all__ = [
    "FiscalConfig",
    "FiscalSignals",
    "fiscal_signals",
    "new_observations",
    "tga_week_average",
    "window_sum",
]


@dataclass(frozen=True)
class FiscalConfig:
    """Windows of the fiscal signals.

    Attributes
    ----------
    short_days, long_days : int, default 5 and 20
        TGA drawdown and daily net-liquidity change windows (calendar days; about one
        and four weeks).
    refund_days : int, default 28
        Window of summed tax refunds compared with the same window of earlier years.
    refund_years : int, default 3
        Earlier years the refunds are compared with (all of them must be known).
    weeks : int, default 13
        Change window (weeks) of the Fed's MBS holdings and of the mortgage rate.
    """

    short_days: int = 5
    long_days: int = 20
    refund_days: int = 28
    refund_years: int = 3
    weeks: int = 13

    def __post_init__(self) -> None:
        for name in ("short_days", "long_days", "refund_days", "refund_years", "weeks"):
            positive_int(getattr(self, name), f"FiscalConfig.{name}")
        if self.short_days >= self.long_days:
            raise ConfigError(
                f"FiscalConfig.short_days must be below long_days ({self.long_days}), "
                f"got {self.short_days}"
            )


@dataclass(frozen=True)
class FiscalSignals(SignalBlock):
    """Fiscal signals, one row per day.

    Columns: ``net_liquidity_daily`` and ``net_liquidity_daily_chg_{l}d``, ``tga_daily``,
    ``tga_daily_chg_{s}d`` and ``tga_daily_chg_{l}d`` (negative = drawdown) in USD
    millions; ``tax_refunds_{r}d`` (USD millions) and ``tax_refunds_vs_prior`` (ratio to
    the mean of the same days of the previous ``refund_years`` years, minus 1);
    ``fed_mbs``, ``fed_mbs_chg_{w}w`` (USD millions); ``mortgage_rate``,
    ``mortgage_rate_chg_{w}w`` (percentage points).
    """

    config: FiscalConfig = field(default_factory=FiscalConfig)


def tga_week_average(tga_daily: pd.Series) -> pd.Series:
    """H.4.1-style week average of the daily TGA: mean of the last 7 calendar days.

    Days without a statement (weekends, holidays) carry the previous close. Equals FRED's
    WTREGEN on each Wednesday within USD 1 million (see the module notes); NaN until
    seven days are known.
    """
    s = prepare(tga_daily, "tga_daily").dropna()
    if s.empty:
        return s
    cal = pd.date_range(s.index[0], s.index[-1], freq="D", name="date")
    return s.reindex(cal).ffill().rolling(7, min_periods=7).mean().rename("tga_week_average")


def new_observations(s: pd.Series) -> pd.Series:
    """The as-of panel column ``s`` reduced to the days it received a new value."""
    changed = s.notna() & s.ne(s.shift())
    return s[changed.to_numpy()]


def window_sum(obs: pd.Series, index: pd.DatetimeIndex, days: int) -> pd.Series:
    """Sum of the observations dated in ``(t - days, t]`` for each ``t`` of ``index``.

    NaN where no observation is that recent (the input is unknown or stale).
    Equivalent to ``obs.rolling(f"{days}D").sum()`` taken as of each day of ``index``.
    """
    out = pd.Series(np.nan, index=index, dtype=np.float64)
    if obs.empty:
        return out
    when = obs.index.to_numpy(dtype="datetime64[ns]")
    cum = np.concatenate([[0.0], np.cumsum(obs.to_numpy(dtype=np.float64))])
    t = index.to_numpy(dtype="datetime64[ns]")
    hi = np.searchsorted(when, t, side="right")
    lo = np.searchsorted(when, t - np.timedelta64(days, "D"), side="right")
    ok = hi > lo
    out.iloc[np.flatnonzero(ok)] = (cum[hi] - cum[lo])[ok]
    return out


def _refunds(
    refunds: pd.Series | None, index: pd.DatetimeIndex, cfg: FiscalConfig
) -> tuple[pd.Series, pd.Series]:
    """Refunds over the window and their ratio to the same window of earlier years."""
    if refunds is None or not refunds.notna().any():
        return empty_like(index), empty_like(index)
    obs = new_observations(align_to(refunds, index))
    now = window_sum(obs, index, cfg.refund_days)
    past = []
    for k in range(1, cfg.refund_years + 1):
        # the same calendar window k years earlier (29 February maps to 28 February)
        earlier = pd.DatetimeIndex(index - pd.DateOffset(years=k))
        past.append(window_sum(obs, earlier, cfg.refund_days).to_numpy())
    base = np.mean(past, axis=0)  # NaN unless every earlier year is known
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, now.to_numpy() / base - 1.0, np.nan)
    return now, pd.Series(ratio, index=index)


def fiscal_signals(
    tga_daily: pd.Series | None,
    fed_assets: pd.Series | None = None,
    rrp: pd.Series | None = None,
    tax_refunds: pd.Series | None = None,
    fed_mbs: pd.Series | None = None,
    mortgage_rate: pd.Series | None = None,
    config: FiscalConfig | None = None,
    *,
    index: pd.DatetimeIndex | None = None,
) -> FiscalSignals:
    """Daily net liquidity, TGA drawdown, tax refunds, MBS holdings and mortgage rates.

    Parameters
    ----------
    tga_daily, fed_assets, rrp, tax_refunds, fed_mbs, mortgage_rate : Series or None
        Calendar-day (as-of) panel columns: USD millions, the mortgage rate in percent.
        ``None`` or all-NaN means unknown.
    config : FiscalConfig, optional
    index : DatetimeIndex, optional
        Rows of the result (default: the first supplied input's index).

    Returns
    -------
    FiscalSignals

    Notes
    -----
    Every column at *t* uses only rows up to *t*: changes compare with the value as of
    ``t - window``; refunds are compared with the same calendar days of earlier years,
    so the seasonal tax peak (February-April) is compared with itself.
    """
    cfg = config or FiscalConfig()
    inputs = {
        "tga_daily": tga_daily,
        "fed_assets": fed_assets,
        "rrp": rrp,
        "tax_refunds": tax_refunds,
        "fed_mbs": fed_mbs,
        "mortgage_rate": mortgage_rate,
    }
    present = {k: prepare(v, k) for k, v in inputs.items() if v is not None and v.notna().any()}
    if index is None:
        if not present:
            raise DataError(
                f"fiscal_signals needs one of {', '.join(inputs)} with data, or an explicit "
                "index; got none"
            )
        index = pd.DatetimeIndex(next(iter(present.values())).index)
    status = {k: input_status(v) for k, v in inputs.items()}
    cols = {k: (align_to(present[k], index) if k in present else empty_like(index)) for k in inputs}
    s, lg, w = cfg.short_days, cfg.long_days, cfg.weeks
    frame = pd.DataFrame(index=index)
    parts = ("fed_assets", "tga_daily", "rrp")
    if all(k in present for k in parts):
        nl = cols["fed_assets"] - cols["tga_daily"] - cols["rrp"]
        status["net_liquidity_daily"] = OK
    else:
        nl = empty_like(index)
        gone = ", ".join(k for k in parts if k not in present)
        status["net_liquidity_daily"] = f"unknown: no data for {gone}"
    frame["net_liquidity_daily"] = nl
    frame[f"net_liquidity_daily_chg_{lg}d"] = change_over(nl, lg)
    frame["tga_daily"] = cols["tga_daily"]
    frame[f"tga_daily_chg_{s}d"] = change_over(cols["tga_daily"], s)
    frame[f"tga_daily_chg_{lg}d"] = change_over(cols["tga_daily"], lg)
    now, ratio = _refunds(cols["tax_refunds"] if "tax_refunds" in present else None, index, cfg)
    frame[f"tax_refunds_{cfg.refund_days}d"] = now
    frame["tax_refunds_vs_prior"] = ratio
    frame["fed_mbs"] = cols["fed_mbs"]
    frame[f"fed_mbs_chg_{w}w"] = change_over(cols["fed_mbs"], 7 * w)
    frame["mortgage_rate"] = cols["mortgage_rate"]
    frame[f"mortgage_rate_chg_{w}w"] = change_over(cols["mortgage_rate"], 7 * w)
    return FiscalSignals(frame.astype(np.float64), status, cfg)
