"""The inputs of a backtest: prices, the stage series, small-cap sessions or events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.backtest._shared import DAYS_PER_YEAR, check_prices, price_returns
from liqflow.backtest.events import BreakoutParams, event_matrix, events_on_calendar
from liqflow.signals.baskets import alt_basket, alt_basket_on
from liqflow.signals.crypto import MIN_BASKET_COINS, AltUniverse

__all__ = ["MarketData", "basket_prices", "longest_known_span", "market_data_from_panel"]

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
    notes : tuple of str
        What was left out of the inputs and why (e.g. the days the alt basket is unknown).
    """

    prices: pd.DataFrame
    stage: pd.Series | None = None
    small_caps: pd.DataFrame | None = None
    breakouts: pd.Series | None = None
    periods_per_year: float = DAYS_PER_YEAR
    notes: tuple[str, ...] = ()
    # returns, stage and event rows once computed: a walk-forward asks for the same ones
    # in every fold and for every rule
    _memo: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

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
        key = ("returns", tuple(assets))
        rets = self._memo.get(key)
        if rets is None:
            rets = self._memo[key] = price_returns(self.prices[list(assets)])
        return cast(pd.DataFrame, rets)  # copy-on-write: a reader cannot change it

    def stage_array(self) -> np.ndarray:
        """Stage per calendar day as int8, -1 where unknown (a new array each call)."""
        stage = self._memo.get("stage")
        if stage is None:
            stage = self._memo["stage"] = self._stage_array()
        return cast(np.ndarray, stage).copy()

    def _stage_array(self) -> np.ndarray:
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
        """Breakout events on the calendar, one row per entry of ``params`` (a new array
        each call; each parameter's row is detected once)."""
        if self.small_caps is None:
            return self._event_rows(params)
        memo = cast(dict[BreakoutParams, np.ndarray], self._memo.setdefault("events", {}))
        todo = list(dict.fromkeys(p for p in params if p not in memo))
        if todo:
            memo.update(zip(todo, self._event_rows(todo), strict=True))
        out = np.zeros((len(params), len(self.calendar)), dtype=np.bool_)
        for row, p in enumerate(params):
            out[row] = memo[p]
        return out

    def _event_rows(self, params: Sequence[BreakoutParams]) -> np.ndarray:
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


def basket_prices(
    prices: pd.DataFrame,
    name: str = "alts",
    min_count: int = 1,
    schedule: pd.DataFrame | None = None,
    weighting: str = "equal",
    index: pd.Index | None = None,
) -> pd.Series:
    """The alt basket of :func:`liqflow.signals.baskets.alt_basket` as a tradable price.

    The same basket as the signals and the claims (one definition): members bought at
    each rebalance and held until the next, a coin whose prices stop held at its last
    price; the day is unknown (NaN) when fewer than ``min_count`` coins are held with a
    price or the coverage is below :data:`liqflow.signals.baskets.MIN_COVERAGE`. The
    price is 1 the day before the first known return. Without ``schedule`` the basket
    holds the columns of ``prices`` (today's list, which carries survivorship bias: coins
    that died are missing); with the point-in-time schedule it does not. With ``index``,
    the basket of ``prices.reindex(index)``, built without that table
    (:func:`liqflow.signals.baskets.alt_basket_on`).
    """
    if index is None:
        frame = alt_basket(prices, schedule, weighting=weighting, min_coins=min_count).frame
    else:
        frame = alt_basket_on(index, prices, schedule, weighting=weighting, min_coins=min_count)
    return _tradable(frame, name, prices.index if index is None else frame.index)


def _tradable(frame: pd.DataFrame, name: str, index: pd.Index) -> pd.Series:
    """An alt basket's frame (:class:`~liqflow.signals.baskets.AltBasket`) as a price on
    ``index`` (its days): 1 the day before its first known return, NaN where the basket
    is unknown."""
    ret = frame["return"].to_numpy()
    raw = frame["index_raw"].to_numpy()
    out = np.full(len(frame), np.nan)
    valid = np.flatnonzero(np.isfinite(ret))
    if valid.size and valid[0] >= 1:
        base = raw[valid[0] - 1]
        out[valid[0] - 1] = 1.0
        known = np.isfinite(ret)
        out[known] = raw[known] / base
    return pd.Series(out, index=index, name=name)


def longest_known_span(price: pd.Series) -> tuple[pd.Series, str | None]:
    """``price`` kept on its longest run of consecutive known days, and a note on what
    was cut (None when nothing was).

    A derived price such as the alt basket is unknown on days its coverage is too low;
    a backtest cannot hold it across such days (that would invent zero returns), so it
    holds it on one unbroken run: the longest.
    """
    known = price.notna().to_numpy()
    if not known.any():
        return price, None
    edges = np.flatnonzero(np.diff(np.r_[0, known.astype(np.int8), 0]))
    starts, stops = edges[::2], edges[1::2]
    if len(starts) == 1:
        return price, None
    best = int(np.argmax(stops - starts))
    start, stop = int(starts[best]), int(stops[best])
    kept = price.copy()
    kept.iloc[:start] = np.nan
    kept.iloc[stop:] = np.nan
    unknown = int((~known[starts[0] : stops[-1]]).sum())
    idx = price.index
    note = (
        f"{price.name} is unknown on {unknown:,} days inside its history (too few coins "
        f"priced); the backtest holds it on its longest known run, "
        f"{idx[start]:%Y-%m-%d} to {idx[stop - 1]:%Y-%m-%d}"
    )
    return kept, note


def market_data_from_panel(
    panel: pd.DataFrame,
    *,
    assets: Sequence[str] = ("btc", "eth"),
    alts: Sequence[str] | None = None,
    stage: pd.Series | None = None,
    small_cap: str = "small_caps",
    small_cap_volume: str = "small_caps_volume",
    min_alts: int = MIN_BASKET_COINS,
    universe: AltUniverse | None = None,
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
    universe : AltUniverse, optional
        Point-in-time universe: the ``alts`` basket is then the survivorship-free one,
        not the basket of ``alts``: the very frame the signals and the claims read
        (:meth:`~liqflow.signals.crypto.AltUniverse.basket_frame`, computed once per
        universe; a panel that ends earlier reads its first rows).
    """
    from liqflow.align import trading_days
    from liqflow.catalog import default_catalog

    cols = {a: panel[a] for a in assets if a in panel.columns}
    alt_ids = list(alts) if alts is not None else list(default_catalog().altcoins())
    alt_cols = [a for a in alt_ids if a in panel.columns]
    basket = None
    if universe is not None:  # the signals' and the claims' own basket (computed once)
        held = universe.basket_frame(pd.DatetimeIndex(panel.index), min_alts)
        basket = _tradable(held, "alts", held.index)
    elif len(alt_cols) >= min_alts:
        basket = basket_prices(panel[alt_cols], min_count=min_alts)
    notes: list[str] = []
    if basket is not None and basket.notna().any():
        cols["alts"], note = longest_known_span(basket)
        notes.extend([note] if note else [])
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
    return MarketData(prices=prices, stage=stage, small_caps=small, notes=tuple(notes))
