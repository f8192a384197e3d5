"""The inputs of a backtest: prices, the stage series, small-cap sessions or events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.backtest._shared import DAYS_PER_YEAR, check_prices, price_returns
from liqflow.backtest.events import BreakoutParams, event_matrix, events_on_calendar
from liqflow.signals.crypto import MIN_BASKET_COINS

__all__ = ["MarketData", "basket_prices", "market_data_from_panel"]

#: Highest stage of the chain (stage 4: crypto).
MAX_STAGE = 4


@dataclass(frozen=True, eq=False)
class MarketData:
    """Plain inputs of :func:`~liqflow.backtest.backtest` and the sweeps.

    Attributes
    ----------
    prices : DataFrame
        Daily calendar-day closes, one column per asset (``btc``, ``alts``...). A column
        may start later than others (NaN before its first price).
    stage : Series, optional
        Market stage 0-4 as known at the end of each day (NaN: unknown). Reindexed to
        the price calendar as of each day (carried forward, never backward).
    small_caps : DataFrame, optional
        Small-cap index sessions with a ``close`` column and, for volume-confirmed
        breakouts, a ``volume`` column. Breakout events are recomputed from it for
        each rule's :class:`~liqflow.backtest.BreakoutParams`.
    breakouts : Series of bool, optional
        Precomputed breakout events (for example from ``liqflow.signals``), used
        when ``small_caps`` is not given; then every rule sees these same events.
    periods_per_year : float, default 365
        Annualisation factor of the calendar (365: crypto trades every day).
    """

    prices: pd.DataFrame
    stage: pd.Series | None = None
    small_caps: pd.DataFrame | None = None
    breakouts: pd.Series | None = None
    periods_per_year: float = DAYS_PER_YEAR

    def __post_init__(self) -> None:
        check_prices(self.prices)
        if self.small_caps is not None and "close" not in self.small_caps.columns:
            raise DataError(
                "small_caps must have a 'close' column (and 'volume' for volume-confirmed "
                f"breakouts), got columns {list(self.small_caps.columns)}"
            )
        if not self.periods_per_year > 0:
            raise ConfigError(f"periods_per_year must be > 0, got {self.periods_per_year!r}")

    @property
    def calendar(self) -> pd.DatetimeIndex:
        """The daily index of the prices."""
        return pd.DatetimeIndex(self.prices.index)

    def returns(self, assets: Sequence[str]) -> pd.DataFrame:
        """Simple daily returns of ``assets`` (NaN before an asset's first price)."""
        missing = [a for a in assets if a not in self.prices.columns]
        if missing:
            raise DataError(
                f"asset(s) {', '.join(map(repr, missing))} not in prices; "
                f"available: {', '.join(map(str, self.prices.columns))} or 'cash'"
            )
        return price_returns(self.prices[list(assets)])

    def stage_array(self) -> np.ndarray:
        """Stage per calendar day as int8, -1 where unknown."""
        if self.stage is None:
            raise DataError(
                "this rule uses the stage series but MarketData.stage is None; "
                "pass stage= (0-4 per day) or use signal = 'breakout'"
            )
        s = pd.Series(self.stage, dtype=np.float64)
        if not isinstance(s.index, pd.DatetimeIndex) or not s.index.is_monotonic_increasing:
            raise DataError("stage: index must be a sorted DatetimeIndex")
        vals = s.to_numpy()
        ok = np.isfinite(vals)
        bad = ok & ((vals != np.round(vals)) | (vals < 0) | (vals > MAX_STAGE))
        if bad.any():
            raise DataError(
                f"stage must hold integers 0-{MAX_STAGE} or NaN, got {float(vals[bad][0])!r} "
                f"on {s.index[bad][0]:%Y-%m-%d}"
            )
        aligned = s.reindex(self.calendar, method="ffill")
        return np.where(aligned.notna(), aligned.fillna(-1), -1).astype(np.int8)

    def event_rows(self, params: Sequence[BreakoutParams]) -> np.ndarray:
        """Breakout events on the calendar, one row per entry of ``params``."""
        cal = self.calendar
        if self.small_caps is not None:
            volume = self.small_caps["volume"] if "volume" in self.small_caps.columns else None
            sessions = event_matrix(self.small_caps["close"], volume, params)
            # events_on_calendar for every row at once: sessions placed on the same
            # calendar positions (the next calendar day when a session is not one)
            pos = cal.searchsorted(pd.DatetimeIndex(self.small_caps.index), side="left")
            inside = pos < len(cal)
            out = np.zeros((len(params), len(cal)), dtype=np.bool_)
            rows, cols = np.nonzero(np.asarray(sessions, dtype=np.bool_)[:, inside])
            out[rows, pos[inside][cols]] = True
            return out
        if self.breakouts is not None:
            if len(set(params)) > 1:
                raise ConfigError(
                    "breakout parameters vary across rules, but MarketData has only "
                    "precomputed breakouts; pass small_caps (close, volume) to recompute them"
                )
            row = events_on_calendar(pd.Series(self.breakouts).astype(bool), cal)
            return np.tile(row, (len(params), 1))
        raise DataError(
            "this rule uses breakout events but MarketData has neither small_caps "
            "(close, volume sessions) nor breakouts; pass one or use signal = 'stage'"
        )


def basket_prices(prices: pd.DataFrame, name: str = "alts", min_count: int = 1) -> pd.Series:
    """Equal-weight basket of the columns of ``prices``, rebalanced daily.

    The basket's return each day is the mean return of the columns priced on that day
    and the day before (a coin joins the day after its first price), when at least
    ``min_count`` of them are (otherwise the day has no basket return). The index starts
    at 1 the day before the first return and ends on the last day with a return (a day
    without any inside that span counts as flat). The basket holds today's list of
    coins over the whole history, so it carries survivorship bias: coins that died are
    missing.
    """
    rets = price_returns(prices)
    mean = rets.mean(axis=1, skipna=True).to_numpy(copy=True)
    mean[rets.notna().sum(axis=1).to_numpy() < min_count] = np.nan
    out = np.full(len(prices), np.nan)
    valid = np.flatnonzero(np.isfinite(mean))
    if valid.size:
        first, last = int(valid[0]), int(valid[-1])
        out[first - 1] = 1.0
        out[first : last + 1] = np.cumprod(1.0 + np.nan_to_num(mean[first : last + 1]))
    return pd.Series(out, index=prices.index, name=name)


def market_data_from_panel(
    panel: pd.DataFrame,
    *,
    assets: Sequence[str] = ("btc", "eth"),
    alts: Sequence[str] | None = None,
    stage: pd.Series | None = None,
    small_cap: str = "small_caps",
    small_cap_volume: str = "small_caps_volume",
    min_alts: int = MIN_BASKET_COINS,
) -> MarketData:
    """Build :class:`MarketData` from the daily panel of ``liqflow.align.load_panel``.

    Parameters
    ----------
    panel : DataFrame
        The point-in-time panel.
    assets : sequence of str
        Panel columns to trade, kept when present.
    alts : sequence of str, optional
        Altcoin columns of the ``alts`` basket (:func:`basket_prices`); default the
        catalogue's alt group. The basket has a return on days when at least
        ``min_alts`` of them have one.
    stage : Series, optional
        Stage timeline (0-4 per day).
    small_cap, small_cap_volume : str
        Panel columns of the small-cap close and volume; breakouts are computed on
        the close's sessions (``liqflow.align.trading_days``).
    """
    from liqflow.align import trading_days
    from liqflow.catalog import default_catalog

    cols = {a: panel[a] for a in assets if a in panel.columns}
    alt_ids = list(alts) if alts is not None else list(default_catalog().altcoins())
    alt_cols = [a for a in alt_ids if a in panel.columns]
    if len(alt_cols) >= min_alts:
        basket = basket_prices(panel[alt_cols], min_count=min_alts)
        if basket.notna().any():
            cols["alts"] = basket
    if not cols:
        raise DataError(
            f"panel has none of the assets {list(assets)} nor {min_alts}+ altcoins; "
            f"columns: {', '.join(map(str, panel.columns))}"
        )
    prices = pd.DataFrame(cols, index=panel.index)
    small = None
    if small_cap in panel.columns and panel[small_cap].notna().any():
        sessions = trading_days(panel, small_cap)
        frame = {"close": panel.loc[sessions, small_cap]}
        if small_cap_volume in panel.columns:
            frame["volume"] = panel.loc[sessions, small_cap_volume]
        small = pd.DataFrame(frame, index=sessions)
    return MarketData(prices=prices, stage=stage, small_caps=small)
