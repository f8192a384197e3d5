"""Every part of the report, each on its own, from the results before it.

:func:`liqflow.report.compute.compute_results` loads the point-in-time panel (as of the
report date), then runs these parts: the signals, the statistics and the backtests.
Each part is produced by a small function of the earlier results; a part whose package
is missing, whose input is not in the store or which fails on this data becomes an
:class:`~liqflow.report.results.Unavailable` with the reason, and the report says so
instead of inventing it.

Heavy statistics (the evidence, the event paths and their placebo band, the
walk-forward) are cached in the store, keyed by a hash of their inputs and parameters
(:mod:`liqflow._cache`), and so is the whole :class:`ReportResults`, keyed by the
store's fingerprint (:func:`~liqflow.report.compute.compute_results`): an unchanged
store is read back, not recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from liqflow._cache import (
    cache_key,
    cached,
    cached_in_background,
)
from liqflow._errors import DataError, LiqflowError
from liqflow.catalog import SEGMENTS, Catalog
from liqflow.report.results import (
    BacktestSet,
    EventPaths,
    ReportConfig,
    Unavailable,
    available,
)
from liqflow.report.series_info import series_table
from liqflow.store import Store

if TYPE_CHECKING:
    from liqflow.backtest import WalkForwardResult
    from liqflow.signals import SignalSet
    from liqflow.signals.crypto import AltUniverse
    from liqflow.stats.events import EventStudyResult
    from liqflow.stats.leadlag import LeadLagResult
    from liqflow.study import Evidence, StudyInputs
    from liqflow.study.staged import StagedStudy

__all__ = [
    "SIGNAL_IDS",
    "EvidenceRun",
    "alt_basket_target",
    "backtest_part",
    "breakout_events",
    "event_paths_part",
    "event_paths_start",
    "event_study_of",
    "lead_lags_of",
    "report_ids",
    "series_table",
    "signals_part",
]

#: Series the signals read (besides the altcoin group and any configured segments).
SIGNAL_IDS = (
    "fed_assets",
    "fed_bills",
    "tga",
    "rrp",
    "hy_spread",
    "ig_spread",
    "baa_spread",
    "large_caps",
    "small_caps",
    "small_caps_volume",
    "btc",
    "total_crypto_mcap",
)

_T = TypeVar("_T")


def _unavailable(obj: object, part: str) -> Unavailable:
    """``obj`` when it is an :class:`Unavailable`, else one naming ``part`` as missing."""
    return obj if isinstance(obj, Unavailable) else Unavailable(part, "not computed")


def _failed(part: str, exc: BaseException) -> Unavailable:
    return Unavailable(part, f"failed on this data: {type(exc).__name__}: {exc}")


def _missing_module(part: str, module: str) -> Unavailable:
    return Unavailable(part, f"{module} is not available in this installation of liqflow")


def _cached_part(
    part: str, store: Store | None, key: str, run: Callable[[], _T], config: ReportConfig
) -> tuple[_T | Unavailable, bool]:
    """``(run() or its cached value, from cache)``; a failure becomes :class:`Unavailable`."""
    try:
        return cached(store, key, run, enabled=config.use_cache)
    except LiqflowError as exc:  # data that cannot support the part; a bug propagates
        return _failed(part, exc), False


def _background_part(
    part: str, store: Store | None, key: str, run: Callable[[], _T], config: ReportConfig
) -> Callable[[], tuple[_T | Unavailable, bool]]:
    """:func:`_cached_part` begun in the background (:func:`~liqflow._cache.cached_in_background`,
    deferred: it is waited for after the statistics): returns the function that waits for
    ``(value or Unavailable, from cache)``."""
    wait = cached_in_background(store, key, run, name=part, enabled=config.use_cache, deferred=True)

    def done() -> tuple[_T | Unavailable, bool]:
        try:
            return wait()
        except LiqflowError as exc:  # data that cannot support the part; a bug propagates
            return _failed(part, exc), False

    return done


def report_ids(catalog: Catalog, segments: Sequence[str] = SEGMENTS) -> list[str]:
    """Catalogue ids the report loads: :data:`SIGNAL_IDS`, the channels' inputs
    (:data:`liqflow.study.channels.CHANNEL_INPUTS`), the altcoins and ``segments``.

    The other large-cap and context series (SPY, QQQ, HYG, VIX, ...) are not read by
    any part of the report, so they are left out of its panel.
    """
    from liqflow.study.channels import CHANNEL_INPUTS

    alts, wanted = catalog.altcoins(), {*SIGNAL_IDS, *CHANNEL_INPUTS, *segments}
    return [sid for sid in catalog if sid in wanted or sid in alts]


def signals_part(
    panel: pd.DataFrame,
    catalog: Catalog,
    universe: AltUniverse | None = None,
) -> SignalSet | Unavailable:
    """:func:`liqflow.signals.compute_signals` on the panel (and the point-in-time crypto
    universe when there is one), or Unavailable."""
    try:
        from liqflow.signals import compute_signals
    except ImportError:
        return _missing_module("signals and stages", "liqflow.signals")
    if panel.empty:
        return Unavailable("signals and stages", "the store holds no data for the report")
    try:
        return compute_signals(panel, catalog=catalog, universe=universe)
    except LiqflowError as exc:  # the report states why the data cannot support it
        return _failed("signals and stages", exc)


def breakout_events(signals: SignalSet | Unavailable) -> pd.Series | None:
    """Russell 2000 all-time-high breakout days (bool) on its sessions, or None.

    The event is the first close above the old high: the day it is known. Whether it
    was later confirmed by persistence is not used (it is known only later).
    """
    if not available(signals) or signals.breakouts is None:
        return None
    daily = signals.breakouts.daily
    if daily.empty:
        return None
    return daily["event"].fillna(0.0).astype(bool).rename("breakout")


def alt_basket_target(signals: SignalSet | Unavailable, min_alts: int) -> pd.Series | None:
    """The equal-weight alt basket level while at least ``min_alts`` coins are priced.

    The basket of :mod:`liqflow.signals.crypto` is built from the coins that had data on
    each day; it is kept from the first to the last day with ``min_alts`` or more coins
    (before that it is one or two coins, not a basket).
    """
    if not available(signals):
        return None
    frame = signals.frame
    if "crypto.alt_basket" not in frame or "crypto.alt_count" not in frame:
        return None
    ok = frame["crypto.alt_count"] >= min_alts
    if not ok.any():
        return None
    lo, hi = ok.idxmax(), ok[::-1].idxmax()
    return frame.loc[lo:hi, "crypto.alt_basket"].dropna().rename("alts")


def _targets(
    panel: pd.DataFrame, signals: SignalSet | Unavailable, config: ReportConfig
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    if "btc" in panel.columns and panel["btc"].notna().any():
        out["btc"] = panel["btc"].dropna()
    alts = alt_basket_target(signals, config.min_alts)
    if alts is not None and len(alts) > 1:
        out["alts"] = alts
    return out


def _paths(prices: pd.Series, dates: pd.DatetimeIndex, horizon: int, pre: int = 0) -> pd.DataFrame:
    """Each day's close relative to each date's close (``close / event close - 1``), from
    ``pre`` days before the date to ``horizon`` days after it (NaN outside the data)."""
    daily = prices.dropna()
    cal = pd.date_range(daily.index[0], daily.index[-1], freq="D")
    daily = daily.reindex(cal, method="ffill")
    values = daily.to_numpy()
    pos = cal.searchsorted(dates)
    out = np.full((pre + horizon + 1, len(dates)), np.nan)
    for j, p in enumerate(pos):
        if p >= len(cal) or cal[int(p)] != dates[j]:
            continue
        lo = max(0, int(p) - pre)
        seg = values[lo : p + horizon + 1] / values[p] - 1.0
        out[pre - (int(p) - lo) : pre - (int(p) - lo) + seg.size, j] = seg
    index = pd.RangeIndex(-pre, horizon + 1, name="day")
    return pd.DataFrame(out, index=index, columns=dates)


def event_paths_part(
    panel: pd.DataFrame,
    signals: SignalSet | Unavailable,
    config: ReportConfig,
    store: Store | None,
) -> tuple[EventPaths | Unavailable, bool]:
    """:func:`event_paths_start`, waited for."""
    return event_paths_start(panel, signals, config, store)()


def event_paths_start(
    panel: pd.DataFrame,
    signals: SignalSet | Unavailable,
    config: ReportConfig,
    store: Store | None,
) -> Callable[[], tuple[EventPaths | Unavailable, bool]]:
    """Per-event paths of BTC and alts around each breakout, with the placebo band.

    Each path runs from ``config.pre_days`` before the event to the longest horizon
    after it, relative to the event day's close.

    Events are declustered at the longest horizon so the paths never overlap; the band
    is the 5-95 % range of the mean forward return over placebo event sets of the same
    size and spacing (:func:`liqflow.stats.event_study` at every ``path_step`` days).
    Computed on a thread of its own (:func:`_background_part`): returns the function
    that waits for ``(EventPaths or Unavailable, from cache)``.
    """
    part = "event paths"
    try:
        from liqflow.stats.events import decluster, event_study
    except ImportError:
        missing = _missing_module(part, "liqflow.stats.events")
        return lambda: (missing, False)
    events = breakout_events(signals)
    targets = _targets(panel, signals, config)
    if events is None or not targets:
        needs = Unavailable(part, "needs the breakout series and BTC or the alt basket")
        return lambda: (needs, False)
    horizon = max(config.horizons)
    steps = tuple(range(config.path_step, horizon + 1, config.path_step))
    pre = config.pre_days
    key = cache_key("event_paths", events, targets, (steps, pre, config.n_placebo, config.seed))

    def run() -> EventPaths:
        cols: dict[tuple[str, pd.Timestamp], pd.Series] = {}
        band_rows = []
        for name, prices in targets.items():
            in_span = events.loc[events.index >= prices.index[0]]
            kept = decluster(in_span, horizon)
            flags = pd.Series(events.index.isin(kept), index=events.index, name="breakout")
            res = event_study(
                flags, {name: prices}, steps, n_placebo=config.n_placebo, n_boot=0, seed=config.seed
            )
            q = res.placebo_quantiles[[0.05, 0.5, 0.95]].to_numpy()
            hs = res.stats.index.get_level_values("horizon_days")
            n_ev = res.stats["n_events"].to_numpy()
            mean = res.stats["mean"].to_numpy()
            for i, h in enumerate(hs):
                band_rows.append(
                    {
                        "target": name,
                        "horizon_days": int(h),
                        "n_events": int(n_ev[i]),
                        "mean": float(mean[i]),
                        "p05": float(q[i, 0]),
                        "p50": float(q[i, 1]),
                        "p95": float(q[i, 2]),
                    }
                )
            paths = _paths(prices, pd.DatetimeIndex(kept), horizon, pre)
            for d in paths.columns:
                cols[(name, pd.Timestamp(d))] = paths[d]
        frame = pd.DataFrame(cols)
        if cols:
            frame.columns = pd.MultiIndex.from_tuples(list(cols), names=["target", "event_date"])
        band = pd.DataFrame(band_rows).set_index(["target", "horizon_days"])
        return EventPaths(frame, band, horizon, config.n_placebo, pre)

    return _background_part(part, store, key, run, config)


class EvidenceRun:
    """The one evidence of the default chain, begun on the panel before the alt basket is
    built (:func:`liqflow.study.staged.begin_study`): the tests that do not read the
    basket run while the caller builds it; :meth:`complete` with the universe adds the
    basket (on the calling thread) and lets the others run.

    The inputs are those of :func:`liqflow.study.study_inputs` and the evidence is that
    of :func:`liqflow.study.run_study` (the same seed, draws and streams as ``liqflow
    study`` on the same store and date; from the cache when it is there): every p-value,
    interval and verdict of the page is read from it. A configuration that switches the
    evidence off, or data that cannot support it, gives :class:`Unavailable`.
    """

    def __init__(
        self,
        panel: pd.DataFrame,
        catalog: Catalog,
        config: ReportConfig,
        store: Store | None,
        *,
        default: bool = False,
    ) -> None:
        from liqflow.study.inputs import inputs_before_alts
        from liqflow.study.staged import begin_study

        self._panel, self._catalog, self._config = panel, catalog, config
        self._staged: StagedStudy | None = None
        self._early: StudyInputs | Unavailable
        if not config.claims:
            self._early = Unavailable("evidence", "switched off in the report's configuration")
            return
        try:
            self._early = inputs_before_alts(panel, catalog, "default", default=default)
        except DataError as exc:
            self._early = Unavailable("evidence", str(exc))
            return
        self._staged = begin_study(
            self._early,
            seed=config.seed,
            draws=config.draws,
            alpha=config.alpha,
            confidence=config.confidence,
            store=store,
            use_cache=config.use_cache,
        )

    def abandon(self) -> None:
        """Give the run up: the jobs not yet begun are skipped, a child process is
        killed. Harmless once the evidence is in (the report calls it on every exit)."""
        if self._staged is not None:
            self._staged.abandon()

    def complete(
        self, universe: AltUniverse | None
    ) -> Callable[[], tuple[StudyInputs | Unavailable, Evidence | Unavailable, bool]]:
        """The whole inputs (with the alt basket of ``universe``, or of the catalogue's
        coins without one) handed over: returns the function that waits for
        ``(inputs, evidence, evidence from cache)``."""
        from liqflow.study.inputs import with_alt_basket

        early, staged = self._early, self._staged
        if staged is None or not available(early):
            missing = _unavailable(early, "evidence")
            return lambda: (early, missing, False)
        try:
            inputs = with_alt_basket(
                early, self._panel, self._catalog, min_alts=self._config.min_alts, universe=universe
            )
        except DataError as exc:
            staged.abandon()
            failed = Unavailable("evidence", str(exc))
            return lambda: (failed, failed, False)
        wait = staged.complete(inputs)
        return lambda: (inputs, *wait())


def lead_lags_of(evidence: Evidence | Unavailable) -> Mapping[str, LeadLagResult] | Unavailable:
    """The lead-lag analyses of the ``lead`` claim by pair (``small_caps -> btc``)."""
    if not available(evidence):
        return _unavailable(evidence, "lead-lag")
    out: dict[str, LeadLagResult] = {}
    rows = evidence.tests[
        (evidence.tests["claim"] == "lead") & (evidence.tests["kind"] == "lead_lag")
    ]
    for test_id in rows["test_id"]:
        if test_id in evidence.lead_lags:
            res = evidence.lead_lags[test_id]
            out[f"{res.leader} -> {res.follower}"] = res
    if not out:
        return Unavailable("lead-lag", "no lead-lag pair could be computed on this data")
    return out


def event_study_of(evidence: Evidence | Unavailable) -> EventStudyResult | Unavailable:
    """The evidence's one event study, or Unavailable with the reason."""
    if not available(evidence):
        return _unavailable(evidence, "event study")
    if evidence.event_study is None:
        rows = evidence.claim("breakouts")
        why = str(rows["note"].iloc[0]) if len(rows) else "no breakout claim in the chain"
        return Unavailable("event study", why)
    return evidence.event_study


def backtest_part(
    panel: pd.DataFrame,
    signals: SignalSet | Unavailable,
    config: ReportConfig,
    store: Store | None = None,
    universe: AltUniverse | None = None,
) -> tuple[BacktestSet | Unavailable, bool]:
    """Two rotation rules into the alt basket, next to buy-and-hold, and a walk-forward.

    Rules: hold the alt basket for 60 days after each volume-confirmed Russell breakout
    (the backtest package's default rule), and hold it while the stage is >= 3. The
    walk-forward picks among breakout and stage rules (``config.wf_*``) by training
    Sharpe ratio and trades the pick out of sample (:func:`liqflow.backtest.walk_forward`).
    The backtests end on the last day BTC and at least ``config.min_alts`` altcoins are
    priced. Returns ``(BacktestSet or Unavailable, walk-forward from cache)``.
    """
    part = "backtests"
    try:
        from liqflow.backtest import Rule, SweepGrid, backtest, market_data_from_panel, walk_forward
    except ImportError:
        return _missing_module(part, "liqflow.backtest"), False
    if not available(signals):
        return Unavailable(part, "needs the stage timeline (signals are not available)"), False
    if "btc" not in panel.columns or "crypto.alt_count" not in signals.frame:
        return Unavailable(part, "needs BTC and altcoin prices in the store"), False
    ok = panel["btc"].notna() & (signals.frame["crypto.alt_count"] >= config.min_alts)
    if not ok.any():
        return Unavailable(part, f"no day with BTC and {config.min_alts}+ altcoins priced"), False
    end = pd.Timestamp(ok[ok].index[-1])
    try:
        stage = signals.stages.frame["stage"].loc[:end].astype(np.float64)
        data = market_data_from_panel(
            panel.loc[:end], stage=stage, min_alts=config.min_alts, universe=universe
        )
        rules = (Rule(), Rule(signal="stage", min_stage=3))
        results = tuple(backtest(r, data, benchmarks=("btc",)) for r in rules)
    except LiqflowError as exc:
        return _failed(part, exc), False
    wf: WalkForwardResult | Unavailable = Unavailable(
        "walk-forward", "switched off in the report's configuration"
    )
    hit = False
    if config.walk_forward:
        grid = SweepGrid(
            signal=("breakout", "stage"),
            hold_days=config.wf_hold_days,
            min_stage=config.wf_min_stage,
            volume_threshold=config.wf_volume,
        )
        prices = data.prices
        key = cache_key("walk_forward", prices, stage, data.small_caps, repr(grid))
        try:
            wf, hit = cached(store, key, lambda: walk_forward(grid, data), enabled=config.use_cache)
        except LiqflowError as exc:
            wf = _failed("walk-forward", exc)
    return BacktestSet(results=results, end=end, walk_forward=wf), hit
