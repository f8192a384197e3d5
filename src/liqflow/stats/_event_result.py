"""The event study's result (:class:`EventStudyResult`), its columns and its limits;
computed by :func:`liqflow.stats.events.event_study`, which documents the method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["INTERVALS", "MIN_EVENTS", "PLACEBO_LEVELS", "STAT_COLUMNS", "EventStudyResult"]

PLACEBO_LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
STAT_COLUMNS = (
    "n_events",
    "mean",
    "median",
    "hit_rate",
    "uncond_mean",
    "uncond_median",
    "uncond_hit_rate",
    "excess",
    "excess_ci_low",
    "excess_ci_high",
    "placebo_p05",
    "placebo_median",
    "placebo_p95",
    "p_value",
    "n_history",
    "block_length",
    "interval_reason",
)
#: Fewest independent events that get an interval and a p-value.
MIN_EVENTS = 3
INTERVALS = ("placebo", "t")


@dataclass(frozen=True)
class EventStudyResult:
    """Forward returns after independent events, with placebo inference.

    Attributes
    ----------
    stats : DataFrame
        One row per ``(target, horizon_days)``: ``n_events`` (independent events with a
        complete window), ``mean``/``median``/``hit_rate`` of their forward returns, the
        same over every date of the history (``uncond_*``), ``excess`` = mean - uncond
        mean with its interval (``excess_ci_low``/``excess_ci_high``), the placebo band
        (5 %, 50 %, 95 % quantiles of the placebo mean), the placebo ``p_value``,
        ``n_history`` (dates a placebo event could fall on), ``block_length`` (unused
        by the default interval, NaN) and ``interval_reason``: empty when the interval
        and p-value are given, else why not (``"n too small ..."`` below
        :data:`MIN_EVENTS` events).
    per_event : DataFrame
        One row per ``(event_date, target, horizon_days)`` of the declustered events:
        ``forward_return``, ``max_drawdown`` in the window, and ``complete`` (False when
        the window runs past the data; those rows are not in ``stats``).
    placebo_quantiles : DataFrame
        Quantiles (columns :data:`PLACEBO_LEVELS`) of the placebo mean per row of ``stats``.
    n_raw_events : int
        True values in the event series before declustering.
    interval : str
        How the interval was built (:data:`INTERVALS`).
    min_events : int
        Fewest independent events given an interval and a p-value.
    """

    stats: pd.DataFrame
    per_event: pd.DataFrame
    placebo_quantiles: pd.DataFrame
    n_raw_events: int
    horizons: tuple[int, ...]
    alternative: str
    confidence: float
    n_placebo: int
    n_boot: int
    interval: str = "placebo"
    min_events: int = MIN_EVENTS

    def to_frame(self) -> pd.DataFrame:
        """The per-(target, horizon) statistics (a copy)."""
        return self.stats.copy()

    def per_event_table(self) -> pd.DataFrame:
        """Wide per-event table: one row per event date, return and drawdown per target/horizon."""
        if self.per_event.empty:
            return pd.DataFrame(index=pd.DatetimeIndex([], name="event_date"))
        wide = self.per_event.pivot_table(
            index="event_date",
            columns=["target", "horizon_days"],
            values=["forward_return", "max_drawdown"],
            aggfunc="first",
        )
        return wide.sort_index()

    def summary(self) -> str:
        """One line per (target, horizon), with the number of independent events."""
        pct = round(self.confidence * 100)
        lines = [
            f"event study: {self.n_raw_events} raw events; placebo p-values "
            f"({self.alternative}, {self.n_placebo} draws), {pct}% {self.interval} intervals"
        ]
        for key, row in self.stats.iterrows():
            target, h = cast(tuple[str, int], key)
            n = int(row["n_events"])
            if n == 0:
                lines.append(f"{target} +{h}d: no independent event with a complete window (n=0)")
                continue
            head = (
                f"{target} +{h}d: mean {_pct(row['mean'])} vs unconditional "
                f"{_pct(row['uncond_mean'])} (excess {_pct(row['excess'])}"
            )
            if row["interval_reason"]:
                lines.append(
                    f"{head}); n={n} independent events: {row['interval_reason']}, "
                    "no interval and no p-value"
                )
                continue
            lines.append(
                f"{head}, {pct}% CI "
                f"[{_pct(row['excess_ci_low'])}, {_pct(row['excess_ci_high'])}]); placebo "
                f"5-95% [{_pct(row['placebo_p05'])}, {_pct(row['placebo_p95'])}], "
                f"p={_p(row['p_value'])}; n={n} independent events"
            )
        return "\n".join(lines)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x * 100:+.1f}%"


def _p(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3f}"
