"""Stage 2 and 3 equity signals: trend and momentum, small-vs-large relative strength.

All windows count *observations* (trading days for equities): pass each index on its
own sessions (``liqflow.align.trading_days``), not on a forward-filled calendar, or a
"200-day average" would mix in weekends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow.signals._result import NO_DATA, OK, SignalBlock
from liqflow.signals._windows import align_to, flag, positive_int, prepare

__all__ = [
    "RelativeStrengthConfig",
    "TrendConfig",
    "TrendSignals",
    "relative_strength",
    "trend_signals",
]


@dataclass(frozen=True)
class TrendConfig:
    """Trend (moving average) and momentum (trailing return) settings.

    Attributes
    ----------
    ma_window : int, default 200
        Moving-average length in observations (200 trading days).
    momentum_window : int, default 63
        Trailing-return length in observations (63 trading days, about 3 months).
    momentum_threshold : float, default 0.0
        Momentum is positive when the trailing return exceeds this (0.05 = 5 %).
    above_ma_threshold : float, default 0.0
        The close is "above its average" when ``close / ma - 1`` exceeds this.
    """

    ma_window: int = 200
    momentum_window: int = 63
    momentum_threshold: float = 0.0
    above_ma_threshold: float = 0.0

    def __post_init__(self) -> None:
        positive_int(self.ma_window, "TrendConfig.ma_window")
        positive_int(self.momentum_window, "TrendConfig.momentum_window")


@dataclass(frozen=True)
class RelativeStrengthConfig:
    """Small-vs-large relative strength: ratio momentum and trend.

    Attributes
    ----------
    momentum_window : int, default 63
        Observations over which the ratio's change is measured.
    ma_window : int, default 200
        Moving average of the ratio (the ratio's trend).
    """

    momentum_window: int = 63
    ma_window: int = 200

    def __post_init__(self) -> None:
        positive_int(self.momentum_window, "RelativeStrengthConfig.momentum_window")
        positive_int(self.ma_window, "RelativeStrengthConfig.ma_window")


@dataclass(frozen=True)
class TrendSignals(SignalBlock):
    """Columns ``close``, ``ma``, ``pct_above_ma``, ``momentum`` and the flags
    ``above_ma`` and ``momentum_positive`` (1/0/NaN)."""

    config: TrendConfig = field(default_factory=TrendConfig)


def trend_signals(close: pd.Series, config: TrendConfig | None = None) -> TrendSignals:
    """Trend and momentum of a price series on its own sessions.

    Parameters
    ----------
    close : Series
        Closes on trading days (NaN rows are dropped: an unknown close is not a session).
    config : TrendConfig, optional

    Returns
    -------
    TrendSignals
        ``ma`` equals ``close.rolling(ma_window).mean()`` and ``momentum`` equals
        ``close.pct_change(momentum_window)`` on the non-missing sessions.
    """
    cfg = config or TrendConfig()
    c = prepare(close, "close").dropna()
    ma = c.rolling(cfg.ma_window, min_periods=cfg.ma_window).mean()
    pct = c / ma - 1.0
    mom = c / c.shift(cfg.momentum_window) - 1.0
    frame = pd.DataFrame(
        {
            "close": c,
            "ma": ma,
            "pct_above_ma": pct,
            "momentum": mom,
            "above_ma": flag(pct, ">", cfg.above_ma_threshold),
            "momentum_positive": flag(mom, ">", cfg.momentum_threshold),
        },
        index=c.index,
    )
    return TrendSignals(frame, {"close": OK if len(c) else NO_DATA}, cfg)


def relative_strength(
    small: pd.Series, large: pd.Series, config: RelativeStrengthConfig | None = None
) -> SignalBlock:
    """Small-cap / large-cap price ratio, its momentum and its trend.

    Parameters
    ----------
    small, large : Series
        Closes of the small-cap and large-cap index, each on its own sessions. The
        ratio is computed on the small-cap sessions with the large-cap close as of
        that day.
    config : RelativeStrengthConfig, optional

    Returns
    -------
    SignalBlock
        No rows when either series has no data. Columns ``ratio``, ``ratio_momentum`` (relative change over ``momentum_window``
        sessions), ``ratio_pct_above_ma`` and the flags ``rs_rising`` (momentum > 0) and
        ``rs_above_ma``.
    """
    cfg = config or RelativeStrengthConfig()
    s = prepare(small, "small").dropna()
    lg = prepare(large, "large").dropna()
    status = {"small": OK if len(s) else NO_DATA, "large": OK if len(lg) else NO_DATA}
    if lg.empty:
        s = s.iloc[:0]  # nothing to compare with: no rows, every value unknown
    ratio = (s / align_to(lg, s.index)).rename("ratio")
    mom = ratio / ratio.shift(cfg.momentum_window) - 1.0
    ma = ratio.rolling(cfg.ma_window, min_periods=cfg.ma_window).mean()
    pct = ratio / ma - 1.0
    frame = pd.DataFrame(
        {
            "ratio": ratio,
            "ratio_momentum": mom,
            "ratio_pct_above_ma": pct,
            "rs_rising": flag(mom, ">", 0.0),
            "rs_above_ma": flag(pct, ">", 0.0),
        },
        index=s.index,
    ).astype(np.float64)
    return SignalBlock(frame, status)
