"""Survivorship bias: alt results on the point-in-time universe and on today's list.

A basket built on today's list of coins holds only the survivors, from their first
price: the dead coins of each past top-N are missing. :func:`survivorship_bias` builds
both baskets (and their Altcoin Season Index) on the same prices and compares them on
the days both are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.signals.baskets import MIN_COVERAGE, AltBasket, CoinPanel

__all__ = ["SurvivorshipBias", "survivorship_bias"]


@dataclass(frozen=True)
class SurvivorshipBias:
    """Alt results on the point-in-time universe and on today's list, side by side.

    Attributes
    ----------
    point_in_time, todays_list : AltBasket
        The basket on each universe (same weighting, prices and dates).
    season_point_in_time, season_todays_list : DataFrame
        The Altcoin Season Index on each.
    start, end : Timestamp
        The span compared: days on which both baskets are known.
    """

    point_in_time: AltBasket
    todays_list: AltBasket
    season_point_in_time: pd.DataFrame
    season_todays_list: pd.DataFrame
    start: pd.Timestamp | None
    end: pd.Timestamp | None

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: ``point_in_time``, ``todays_list``, ``difference``."""
        both = self.point_in_time.frame["known"] & self.todays_list.frame["known"]
        rows = {}
        for label, basket, season in (
            ("point_in_time", self.point_in_time, self.season_point_in_time),
            ("todays_list", self.todays_list, self.season_todays_list),
        ):
            r = basket.frame["return"].where(both).dropna()
            years = len(r) / 365.0
            total = float(np.prod(1.0 + r.to_numpy()) - 1.0) if len(r) else np.nan
            si = season["index"].where(both).dropna()
            rows[label] = {
                "total_return": total,
                "annual_return": (1.0 + total) ** (1.0 / years) - 1.0 if years > 0 else np.nan,
                "mean_daily_return": float(r.mean()) if len(r) else np.nan,
                "days": float(len(r)),
                "season_index_mean": float(si.mean()) if len(si) else np.nan,
                "alt_season_share": float((si >= 75).mean()) if len(si) else np.nan,
                "mean_coverage": float(basket.frame["coverage"].where(both).mean()),
                "mean_members": float(basket.frame["members"].where(both).mean()),
            }
        out = pd.DataFrame(rows)
        out["difference"] = out["todays_list"] - out["point_in_time"]
        out.index.name = "measure"
        return out

    def summary(self) -> str:
        f = self.to_frame()
        if self.start is None or self.end is None:
            return "survivorship bias: no day on which both baskets are known"
        ann = {
            c: float(f[c].to_numpy(dtype=np.float64)[f.index.get_loc("annual_return")])
            for c in f.columns
        }
        return (
            f"alt basket {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}: annual return "
            f"{ann['point_in_time']:+.1%} on the point-in-time universe, "
            f"{ann['todays_list']:+.1%} on today's list "
            f"(difference {ann['difference']:+.1%} a year)"
        )


def survivorship_bias(
    prices: pd.DataFrame,
    btc: pd.Series,
    schedule: pd.DataFrame,
    todays_coins: Sequence[str],
    *,
    weighting: str = "equal",
    min_coverage: float = MIN_COVERAGE,
) -> SurvivorshipBias:
    """Measure the survivorship bias of alt results built on today's list of coins.

    The point-in-time basket uses ``schedule``; the other holds ``todays_coins`` (the
    catalogue's current altcoins, each from its first price), on the same prices. Both
    are compared on the days both are known.
    """
    coins = CoinPanel.of(prices, schedule)
    pit = coins.basket(weighting, min_coverage)
    cols = [c for c in todays_coins if c in prices.columns]
    if not cols:
        raise DataError(
            f"none of today's coins {list(todays_coins)[:10]} has prices; columns: "
            f"{list(prices.columns)[:10]}..."
        )
    listed = CoinPanel.of(prices[cols])
    today = listed.basket("equal", min_coverage)
    s_pit = coins.season_index(btc, min_coverage=min_coverage)
    s_today = listed.season_index(btc, min_coverage=min_coverage)
    both = pit.frame["known"] & today.frame["known"]
    start = both.index[both][0] if both.any() else None
    end = both.index[both][-1] if both.any() else None
    return SurvivorshipBias(pit, today, s_pit, s_today, start, end)
