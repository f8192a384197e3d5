"""Stage-1 credit: option-adjusted spreads, their change, causal percentile, narrowing.

The headline spread is the ICE BofA US High Yield OAS (``hy_spread``). Where its history
is missing (FRED now serves only about three years of ICE BofA data, so a fresh fetch
starts recently), the Moody's Baa-minus-10-year spread (``baa_spread``, BAA10Y) is used
instead on those days, and the ``source`` column says which series each day used. The
change and percentile of the headline are always computed within one source, so the
switch never creates a jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.signals._result import OK, SignalBlock, input_status
from liqflow.signals._windows import (
    change_over,
    empty_like,
    flag,
    percentile_rank,
    positive_int,
    prepare,
    to_calendar,
)

__all__ = ["SOURCES", "CreditConfig", "CreditSignals", "credit_signals", "spread_signals"]

#: Labels of the ``source`` column: which spread the headline used on each day.
SOURCES = {"hy": "hy_oas", "baa": "baa10y_fallback"}


@dataclass(frozen=True)
class CreditConfig:
    """Windows and thresholds of the credit signals.

    Attributes
    ----------
    change_weeks : int, default 13
        Window of the spread change (``7 * change_weeks`` calendar days).
    percentile_window : int or None, default None
        Observations in the trailing percentile window; ``None`` ranks against the
        whole history *up to each day* (expanding, never the full sample).
    percentile_min_periods : int, default 252
        Observations needed before a percentile is reported (about a year).
    narrowing_below : float, default 0.0
        The spread is "narrowing" when its change over ``change_weeks`` is below this
        (percentage points; 0.0 means any fall).
    max_age_days : int, default 10
        When the result has other rows than a spread's observation days, a spread is
        carried forward at most this many calendar days (then unknown).
    """

    change_weeks: int = 13
    percentile_window: int | None = None
    percentile_min_periods: int = 252
    narrowing_below: float = 0.0
    max_age_days: int = 10

    def __post_init__(self) -> None:
        positive_int(self.change_weeks, "CreditConfig.change_weeks")
        positive_int(self.max_age_days, "CreditConfig.max_age_days")
        positive_int(self.percentile_min_periods, "CreditConfig.percentile_min_periods")
        if self.percentile_window is not None:
            positive_int(self.percentile_window, "CreditConfig.percentile_window")
            if self.percentile_window < self.percentile_min_periods:
                raise ConfigError(
                    "CreditConfig.percentile_window must be >= percentile_min_periods "
                    f"({self.percentile_min_periods}), got {self.percentile_window}"
                )


@dataclass(frozen=True)
class CreditSignals(SignalBlock):
    """Credit signals, one row per day.

    Per spread ``x`` in ``hy``, ``ig``, ``baa``: ``x_spread``, ``x_chg_{w}w``,
    ``x_percentile`` (0-1). The headline: ``spread``, ``spread_chg_{w}w``,
    ``spread_percentile``, ``narrowing`` (1/0/NaN), ``ig_narrowing`` and ``source``
    (:data:`SOURCES` value, or missing when no spread is known that day).
    """

    config: CreditConfig = field(default_factory=CreditConfig)


def spread_signals(spread: pd.Series, config: CreditConfig | None = None) -> pd.DataFrame:
    """Level, change over ``change_weeks`` and causal percentile of one spread.

    Parameters
    ----------
    spread : Series
        Spread in percent on its observation days (ffilled calendar rows would be counted
        several times by the percentile; pass observation days).
    config : CreditConfig, optional

    Returns
    -------
    DataFrame
        Columns ``spread``, ``chg`` and ``percentile``.
    """
    cfg = config or CreditConfig()
    s = prepare(spread, "spread")
    return pd.DataFrame(
        {
            "spread": s,
            "chg": change_over(s, 7 * cfg.change_weeks),
            "percentile": percentile_rank(s, cfg.percentile_window, cfg.percentile_min_periods),
        },
        index=s.index,
    )


def _result_index(
    present: dict[str, pd.Series], index: pd.DatetimeIndex | None
) -> pd.DatetimeIndex:
    """``index``, or the union of the spreads' dates."""
    if index is None:
        if not present:
            raise DataError(
                "credit_signals needs at least one of hy, ig, baa with data, or an explicit "
                "index; got none"
            )
        union = pd.DatetimeIndex(present[next(iter(present))].index)
        for s in present.values():
            union = union.union(pd.DatetimeIndex(s.index))
        index = union
    return index


def credit_signals(
    hy: pd.Series | None,
    ig: pd.Series | None = None,
    baa: pd.Series | None = None,
    config: CreditConfig | None = None,
    *,
    index: pd.DatetimeIndex | None = None,
) -> CreditSignals:
    """HY and IG spread signals with the BAA10Y fallback for the headline.

    Parameters
    ----------
    hy, ig, baa : Series or None
        ``hy_spread`` (BAMLH0A0HYM2), ``ig_spread`` (BAMLC0A0CM), ``baa_spread``
        (BAA10Y), in percent, each on its own observation days.
    config : CreditConfig, optional
    index : DatetimeIndex, optional
        Rows of the result (default: the union of the input dates). Each spread's
        signals are carried as of each row.

    Returns
    -------
    CreditSignals

    Notes
    -----
    The percentile is the rank of the day's spread among the spreads observed up to that
    day (expanding by default, or the last ``percentile_window`` observations): a
    spread at its 10th percentile is tighter than 90 % of its own past. It never uses
    later data, unlike a full-sample percentile.
    """
    cfg = config or CreditConfig()
    w = cfg.change_weeks
    inputs = {"hy": hy, "ig": ig, "baa": baa}
    present = {
        k: prepare(v, f"{k}_spread") for k, v in inputs.items() if v is not None and v.notna().any()
    }
    index = _result_index(present, index)
    status = {f"{k}_spread": input_status(v) for k, v in inputs.items()}
    frame = pd.DataFrame(index=index)
    per: dict[str, pd.DataFrame] = {}
    for k in inputs:
        if k in present:
            part = spread_signals(present[k], cfg)
            if not part.index.equals(index):
                part = to_calendar(part, index, max_age_days=cfg.max_age_days)
        else:
            part = pd.DataFrame(
                {c: empty_like(index) for c in ("spread", "chg", "percentile")}, index=index
            )
        per[k] = part
        frame[f"{k}_spread"] = part["spread"]
        frame[f"{k}_chg_{w}w"] = part["chg"]
        frame[f"{k}_percentile"] = part["percentile"]

    use_hy = per["hy"]["spread"].notna()
    use_baa = ~use_hy & per["baa"]["spread"].notna()
    for col in ("spread", "chg", "percentile"):
        name = {"spread": "spread", "chg": f"spread_chg_{w}w", "percentile": "spread_percentile"}
        frame[name[col]] = per["hy"][col].where(use_hy, per["baa"][col].where(use_baa))
    source = pd.Series(pd.NA, index=index, dtype="string")
    source[use_hy.to_numpy()] = SOURCES["hy"]
    source[use_baa.to_numpy()] = SOURCES["baa"]
    frame["narrowing"] = flag(frame[f"spread_chg_{w}w"], "<", cfg.narrowing_below)
    frame["ig_narrowing"] = flag(frame[f"ig_chg_{w}w"], "<", cfg.narrowing_below)
    frame["source"] = source
    n_baa = int(use_baa.sum())
    if n_baa:
        first = index[use_baa.to_numpy()][0]
        status["spread"] = (
            f"hy_spread unknown on {n_baa} days; baa_spread (BAA10Y) used instead "
            f"from {first:%Y-%m-%d} on those days (see the source column)"
        )
    elif use_hy.any():
        status["spread"] = OK
    else:
        status["spread"] = "unknown: neither hy_spread nor baa_spread has data"
    return CreditSignals(frame, status, cfg)
