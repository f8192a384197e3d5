"""The result types the report is built from.

Each part of the report (signals, event study, lead-lag, backtests...) is either its
library result or an :class:`Unavailable` saying why it is missing (module not installed,
input not in the store, the computation failed on this data). Sections of the report
are small functions of these objects, so a part that lands later only needs wiring in
:mod:`liqflow.report.build`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeGuard, TypeVar

import pandas as pd

from liqflow.signals.crypto import MIN_BASKET_COINS

if TYPE_CHECKING:
    from liqflow.align import AsOf
    from liqflow.backtest import BacktestResult, WalkForwardResult
    from liqflow.signals import SignalSet
    from liqflow.signals.survivorship import SurvivorshipBias
    from liqflow.stats.events import EventStudyResult
    from liqflow.stats.leadlag import LeadLagResult
    from liqflow.study import Evidence

__all__ = [
    "BacktestSet",
    "EventPaths",
    "PartRun",
    "ReportConfig",
    "ReportResults",
    "SeriesInfo",
    "Unavailable",
    "available",
]


@dataclass(frozen=True)
class Unavailable:
    """A part of the report that could not be produced, and why."""

    part: str
    reason: str

    def summary(self) -> str:
        return f"not available: {self.part} ({self.reason})"


_T = TypeVar("_T")


def available(obj: _T | Unavailable | None) -> TypeGuard[_T]:
    """True when ``obj`` is a result, False for :class:`Unavailable` or None (and
    narrows ``Result | Unavailable`` to ``Result`` for the type checker)."""
    return obj is not None and not isinstance(obj, Unavailable)


@dataclass(frozen=True)
class ReportConfig:
    """Settings of the report's statistics and backtests.

    Attributes
    ----------
    horizons : tuple of int, default (30, 60, 90)
        Event-study horizons in calendar days (the seed's "one to three months").
    path_step : int, default 5
        Days between the horizons of the event-path placebo band (up to ``max(horizons)``).
    pre_days : int, default 30
        Days before each breakout its path starts (the pre-event window of the chart).
    n_placebo, n_boot : int, default 2000
        Placebo draws and bootstrap resamples of the event study.
    confidence : float, default 0.90
        Level of the bootstrap intervals.
    alpha : float, default 0.05
        Significance level of every thesis that rests on a test (after Holm's correction
        where several tests are tried).
    seed : int, default 0
        Seed of every random draw (placebos, bootstrap): the report is reproducible, and
        its evidence equals ``liqflow study``'s (same default seed and draws).
    min_alts : int, default 3
        Fewest altcoins priced for the alt basket to count as a target
        (:data:`liqflow.signals.crypto.MIN_BASKET_COINS`, shared with the claims table).
    lead_weeks : tuple of int, default (4, 13)
        The lead the seed claims ("one to three months"), in weeks.
    draws : int, default 1999
        Bootstrap and placebo draws per test of the evidence
        (:data:`liqflow.study.DEFAULT_DRAWS`, as ``liqflow study``); at least the size of
        the test family divided by ``alpha``.
    claims : bool, default True
        Run the evidence on the chain's claims (the heaviest part).
    walk_forward : bool, default True
        Run the walk-forward selection over :attr:`wf_hold_days`, :attr:`wf_min_stage`
        and :attr:`wf_volume` (breakout and stage rules into the alt basket).
    wf_hold_days, wf_min_stage, wf_volume : tuple
        The walk-forward candidates' parameters.
    use_cache : bool, default True
        Read and write the report's results (keyed by a fingerprint of every stored
        value) and its heavy statistics from/to the store's cache; False computes
        every part and writes nothing.
    """

    horizons: tuple[int, ...] = (30, 60, 90)
    path_step: int = 5
    pre_days: int = 30
    n_placebo: int = 2000
    n_boot: int = 2000
    confidence: float = 0.90
    alpha: float = 0.05
    seed: int = 0
    min_alts: int = MIN_BASKET_COINS
    lead_weeks: tuple[int, int] = (4, 13)
    draws: int = 1999
    claims: bool = True
    walk_forward: bool = True
    wf_hold_days: tuple[int, ...] = (30, 60, 90)
    wf_min_stage: tuple[int, ...] = (2, 3, 4)
    wf_volume: tuple[float, ...] = (1.0, 1.2, 1.5)
    use_cache: bool = True


@dataclass(frozen=True)
class SeriesInfo:
    """One series of the methods & data table, as public on the report date.

    Attributes
    ----------
    id, description, group, source, symbol, unit, frequency, release_lag : str
    first : Timestamp or None
        First day a value was public.
    last_update : Timestamp or None
        Last day a new value became public (on or before the report date).
    updates : int
        New values public up to the report date.
    stale_days : int or None
        Days between ``last_update`` and the report date.
    stored_first, stored_last : Timestamp or None
        First and last observation the store holds (every source), whatever the report
        date: the data snapshot the report was built from.
    """

    id: str
    description: str
    group: str
    source: str
    symbol: str
    unit: str
    frequency: str
    release_lag: str
    first: pd.Timestamp | None
    last_update: pd.Timestamp | None
    updates: int
    stale_days: int | None
    stored_first: pd.Timestamp | None = None
    stored_last: pd.Timestamp | None = None


@dataclass(frozen=True)
class EventPaths:
    """What followed each independent breakout, day by day, against placebo dates.

    Attributes
    ----------
    paths : DataFrame
        Index: days from the event (``-pre_days``..``horizon_days``); columns: MultiIndex
        ``(target, event_date)``; values: cumulative return relative to the event's close
        (NaN outside the data).
    band : DataFrame
        Index ``(target, horizon_days)``; columns ``n_events``, ``mean`` (mean forward
        return of the events) and the placebo ``p05``, ``p50``, ``p95`` of that mean.
    horizon_days : int
        Length of the paths; events closer than this are declustered to the first.
    n_placebo : int
    pre_days : int
        Days before each event its path starts.
    """

    paths: pd.DataFrame
    band: pd.DataFrame
    horizon_days: int
    n_placebo: int
    pre_days: int = 0

    def to_frame(self) -> pd.DataFrame:
        return self.band.copy()

    def summary(self) -> str:
        targets = list(dict.fromkeys(self.paths.columns.get_level_values(0)))
        n = {t: int((self.paths.columns.get_level_values(0) == t).sum()) for t in targets}
        return f"event paths over {self.horizon_days} days: " + ", ".join(
            f"{t} {k} events" for t, k in n.items()
        )


@dataclass(frozen=True, eq=False)
class BacktestSet:
    """The report's backtests.

    Attributes
    ----------
    results : tuple of BacktestResult
        :class:`liqflow.backtest.BacktestResult` of each rule.
    end : Timestamp
        Last day of the backtests (the last day BTC and the alt basket are priced).
    walk_forward : WalkForwardResult, Unavailable or None
        Out-of-sample walk-forward result when :mod:`liqflow.backtest` provides it.
    """

    results: tuple[BacktestResult, ...]
    end: pd.Timestamp
    walk_forward: WalkForwardResult | Unavailable | None = None


@dataclass(frozen=True)
class PartRun:
    """Wall time of one part of the build, and whether it came from the cache."""

    name: str
    seconds: float
    cached: bool = False


@dataclass(frozen=True, eq=False)
class ReportResults:
    """Everything the theses and charts are made from.

    Attributes
    ----------
    as_of : Timestamp
        Report date: the last day of the panel (only data public then is used).
    panel : DataFrame
        The point-in-time panel the report used.
    series : tuple of SeriesInfo
    signals : SignalSet or Unavailable
    event_study : EventStudyResult or Unavailable
        The evidence's one event study (Russell 2000 breakouts -> BTC and the alt basket).
    event_paths : EventPaths or Unavailable
    lead_lag : mapping or Unavailable
        The evidence's :class:`liqflow.stats.LeadLagResult` of the ``lead`` claim by pair
        (``"small_caps -> btc"``...).
    evidence : Evidence or Unavailable
        The one evidence (:class:`liqflow.study.Evidence`): every p-value, interval and
        verdict of the page.
    backtests : BacktestSet or Unavailable
    cached : mapping
        Part name -> True when it was read from the store's cache.
    timings : tuple of PartRun
    config : ReportConfig
    freshness : AsOf or None
        How fresh the chain's required inputs are on the report date
        (:func:`liqflow.align.input_freshness`), the line every command prints first.
    survivorship : SurvivorshipBias or None
        The alt basket on the point-in-time universe against today's list (None without
        universe snapshots in the store).
    """

    as_of: pd.Timestamp
    panel: pd.DataFrame
    series: tuple[SeriesInfo, ...]
    signals: SignalSet | Unavailable
    event_study: EventStudyResult | Unavailable
    event_paths: EventPaths | Unavailable
    lead_lag: Mapping[str, LeadLagResult] | Unavailable
    evidence: Evidence | Unavailable
    backtests: BacktestSet | Unavailable
    cached: Mapping[str, bool] = field(default_factory=dict)
    timings: tuple[PartRun, ...] = ()
    config: ReportConfig = field(default_factory=ReportConfig)
    freshness: AsOf | None = None
    survivorship: SurvivorshipBias | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cached", MappingProxyType(dict(self.cached)))

    def parts(self) -> dict[str, object]:
        """Each part by name (for listing what is and is not available)."""
        return {
            "signals": self.signals,
            "event study": self.event_study,
            "event paths": self.event_paths,
            "lead-lag": self.lead_lag,
            "evidence": self.evidence,
            "backtests": self.backtests,
        }

    def stale(self) -> tuple[SeriesInfo, ...]:
        """Series with no new value for longer than their frequency allows on the report
        date (:data:`liqflow.align.MAX_STALENESS`): unknown in the panel, not carried forward."""
        from liqflow.align import MAX_STALENESS

        return tuple(
            s
            for s in self.series
            if s.stale_days is not None and s.stale_days > MAX_STALENESS.get(s.frequency, 10)
        )

    def missing(self) -> tuple[Unavailable, ...]:
        """The parts that are not available."""
        return tuple(v for v in self.parts().values() if isinstance(v, Unavailable))

    def timing_frame(self) -> pd.DataFrame:
        """Seconds per part and whether it came from the cache."""
        return pd.DataFrame(
            {
                "seconds": [t.seconds for t in self.timings],
                "cached": [t.cached for t in self.timings],
            },
            index=pd.Index([t.name for t in self.timings], name="part"),
        )
