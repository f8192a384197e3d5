"""The report's build: the parts of :mod:`liqflow.report.build` in order, timed, with
the statistics on worker threads while the building thread carries on, and the whole
result cached in the store (:func:`compute_results`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqflow._cache import cache_key, cache_read, cache_write, in_background
from liqflow._errors import DataError
from liqflow.align import input_freshness, load_panel, resolve_as_of, with_exchange_days
from liqflow.catalog import Catalog, default_catalog
from liqflow.report.build import (
    EvidenceRun,
    backtest_part,
    event_paths_start,
    event_study_of,
    lead_lags_of,
    report_ids,
    signals_part,
)
from liqflow.report.results import (
    PartRun,
    ReportConfig,
    ReportResults,
    SeriesInfo,
    available,
)
from liqflow.report.series_info import series_table
from liqflow.store import Store

if TYPE_CHECKING:
    from liqflow.signals.crypto import AltUniverse
    from liqflow.signals.survivorship import SurvivorshipBias

__all__ = ["ProgressFn", "compute_results"]

ProgressFn = Callable[[str], None]


class _Clock:
    def __init__(self, progress: ProgressFn | None) -> None:
        self.runs: list[PartRun] = []
        self._progress = progress

    @contextmanager
    def part(self, name: str) -> Iterator[list[bool]]:
        if self._progress is not None:
            self._progress(name)
        flag = [False]
        t0 = time.perf_counter()
        try:
            yield flag
        finally:
            self.runs.append(PartRun(name, time.perf_counter() - t0, flag[0]))


def compute_results(
    store: Store,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | None = None,
    config: ReportConfig | None = None,
    progress: ProgressFn | None = None,
    ids: Sequence[str] | None = None,
) -> ReportResults:
    """Every part of the report, as of ``as_of`` (default: the one default date of
    :func:`liqflow.align.default_as_of`, the same for every command).

    Parameters
    ----------
    store : Store
        Where the data is (and the cache, when it can be written).
    as_of : date, optional
        Report date; only data public by its end is used.
    catalog : Catalog, optional
        Default: the built-in catalogue.
    config : ReportConfig, optional
    progress : callable, optional
        Called with the name of each part (``"panel"``, ``"signals"``, ``"statistics"``,
        ``"backtest"``) before it runs.
    ids : sequence of str, optional
        Series to load (default :func:`report_ids`).

    Returns
    -------
    ReportResults

    Notes
    -----
    With ``config.use_cache`` the whole result is cached in the store under a key made
    of the store's :meth:`~liqflow.store.Store.fingerprint` (a digest of every stored
    value), the date asked for, the catalogue, the configuration and ``ids``: re-running
    on an unchanged store reads it back (every part marked as from the cache), and any
    new or changed value computes everything again. Only the latest such entry is kept.
    """
    cat = catalog or default_catalog()
    cfg = config or ReportConfig()
    clock = _Clock(progress)
    if not cfg.use_cache:
        return _compute(store, as_of, cat, cfg, clock, ids)
    t0 = time.perf_counter()
    when = None if as_of is None else f"{pd.Timestamp(as_of):%Y-%m-%d}"
    wanted = None if ids is None else tuple(ids)
    key = cache_key(_RESULTS_PART, store.fingerprint(), when, cat, cat.chains, repr(cfg), wanted)
    stored, hit = cache_read(store, key)
    if hit and isinstance(stored, ReportResults):
        runs = [PartRun("panel", time.perf_counter() - t0, True)]
        runs += [PartRun(name, 0.0, True) for name in _PARTS[1:]]
        return replace(
            stored,
            cached={"panel and signals": True, **dict.fromkeys(stored.cached, True)},
            timings=tuple(runs),
        )
    results = _compute(store, as_of, cat, cfg, clock, ids)
    cache_write(store, key, replace(results, timings=()), supersedes=f"{_RESULTS_PART}:")
    return results


#: The parts of the build, in the order of :attr:`ReportResults.timings` (the backtests
#: are computed before the wait for the statistics, which run meanwhile).
_PARTS = ("panel", "signals", "statistics", "backtest")
#: Key prefix of the cached :class:`ReportResults` (see :func:`compute_results`).
_RESULTS_PART = "report_results"


def _load(
    store: Store, as_of: pd.Timestamp | str | None, cat: Catalog, ids: Sequence[str] | None
) -> tuple[
    pd.DataFrame,
    tuple[SeriesInfo, ...],
    bool,
    tuple[AltUniverse | None, Callable[[], Callable[[], SurvivorshipBias | None]]],
]:
    """The panel, its series table, whether its date is the default one, and what
    :func:`_universe_and_bias_start` returns for that date.

    The universe is read on a thread of its own, through a reading view of ``store``
    (:meth:`~liqflow.store.Store.reader_view`), while this thread loads the panel: the
    two need nothing of each other but the date, and between them they leave one core
    of two idle if read one after the other. It is waited for here, before the study
    may fork (:func:`liqflow.study.staged.begin_study`: no thread of this process may be
    running then), also when the panel fails."""
    inventory = store.inventory(count_dates=False)
    sources: dict[str, list[str]] = {}
    ranges: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    for item in inventory:
        sources.setdefault(item.series_id, []).append(item.source)
        lo, hi = ranges.get(item.series_id, (item.first, item.last))
        ranges[item.series_id] = (min(lo, item.first), max(hi, item.last))
    date, is_default = resolve_as_of(store, cat, "default", as_of, inventory=inventory)
    wanted = [s for s in (ids if ids is not None else report_ids(cat)) if s in sources]
    if not wanted:
        raise DataError(
            "the store holds none of the series the report needs "
            f"({', '.join(report_ids(cat))}); run `liqflow import PATH` or `liqflow fetch`"
        )
    view = store.reader_view()
    try:
        universe = in_background(
            "universe", partial(_universe_and_bias_start, view, cat, pd.Timestamp(date))
        )
        try:
            panel = load_panel(store, wanted, catalog=cat, as_of=date, inventory=inventory)
            if panel.empty:
                when = f" on or before {pd.Timestamp(date):%Y-%m-%d}" if date is not None else ""
                raise DataError(f"no data public{when} for the report's series {wanted}")
            table = series_table(panel, cat, sources, ranges)
        except BaseException:
            with contextlib.suppress(BaseException):
                universe()  # its thread done before its connection is closed
            raise
        read = universe()
    finally:
        view.close()
    return panel, table, is_default, read


def _universe_and_bias_start(
    store: Store, catalog: Catalog, as_of: pd.Timestamp
) -> tuple[AltUniverse | None, Callable[[], Callable[[], SurvivorshipBias | None]]]:
    """:func:`liqflow.universe_store.universe_and_bias`, the bias to be computed on a
    thread of its own: the universe (read from the store on the calling thread) and the
    function that starts that thread and returns the function that waits for the same
    bias (and raises an error computing it).

    The caller starts it once the alt basket is handed to the study: the basket is on the
    path to the evidence (the tests of the alts wait for it), the bias only on the path
    to the page, so it does not take a core from the basket; it runs deferred
    (:func:`~liqflow._cache.in_background`), after the study's tests in the scheduler's
    order."""
    from liqflow.universe_store import _alt_universe, _bias
    from liqflow.universe_store import _load as load_universe_data

    data, n = load_universe_data(store, catalog, as_of, None)
    if data is None:
        return None, lambda: lambda: None
    return _alt_universe(data, n), lambda: in_background(
        "survivorship", lambda: _bias(data, "equal"), deferred=True
    )


def _warm_up() -> threading.Thread:
    """Start, on a background thread, the one-time costs of a new process that later
    parts meet: the exchange calendar (:func:`liqflow.sessions.exchange_sessions`), the
    loading of the compiled numba kernels, SciPy's distributions. They then overlap the
    reading of the store instead of adding to it. Nothing is computed differently: a part
    that needs one of them before it is ready waits for it or builds it itself, and an
    error here is met again, and raised, where the part needs it. The caller joins the
    thread before the study may fork a child process (:func:`liqflow.study.staged.begin_study`),
    so that the child inherits no lock the thread holds (numba's compiler lock, a
    module's import lock)."""

    def run() -> None:
        try:
            from liqflow.sessions import exchange_sessions
            from liqflow.stats.bootstrap import stationary_bootstrap_sums

            exchange_sessions()
            stationary_bootstrap_sums(np.zeros(4), 1, 2.0, seed=0)
            import scipy.stats  # noqa: F401  (the Granger test's F distribution)
        except Exception:  # only a head start: each part redoes what it needs
            pass

    thread = threading.Thread(target=run, name="liqflow-warm-up", daemon=True)
    thread.start()
    return thread


@contextmanager
def _old_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist on entry out of the garbage collector's full passes
    until exit (:func:`gc.freeze`, then :func:`gc.unfreeze`).

    A full pass walks every tracked object, and a new process holds some 300,000 from
    its imports alone: the two or three full passes a report triggers cost a few tenths
    of a second. Objects made inside are collected as usual; the frozen ones return to
    the oldest generation on exit, so garbage among them is collected by a later pass.

    The youngest generation is collected every :data:`_YOUNG_THRESHOLD` allocations
    instead of Python's 700 meanwhile: a cold report makes some 200 such passes over
    short-lived pandas objects that hold few reference cycles (0.13 s of collector
    time on the shared data, 0.04 s with 10,000; the peak memory 7 MB more).
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], _YOUNG_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


#: Allocations between two collections of the youngest generation while a report is
#: built (:func:`_old_objects_frozen`).
_YOUNG_THRESHOLD = 10_000


@_old_objects_frozen()
def _compute(
    store: Store,
    as_of: pd.Timestamp | str | None,
    cat: Catalog,
    cfg: ReportConfig,
    clock: _Clock,
    ids: Sequence[str] | None,
) -> ReportResults:
    """Every part computed (the parts' own caches aside), timed by ``clock``, with the
    objects that exist before it frozen (:func:`_old_objects_frozen`).

    Each part's time is the wall time the building thread spends in it. The panel part
    reads the crypto universe on a thread beside the panel (:func:`_load`). The
    statistics run elsewhere while the building thread carries on: the evidence's tests
    that do not read the alt basket from the end of the panel part, in a forked child
    process on Linux (:class:`EvidenceRun`; the claims' inputs are built on the building
    thread, the basket right after, and the evidence cache read then), the other tests
    once the basket is handed over; the survivorship bias from then and the event paths
    from the end of the signals part, on worker threads. The backtests are computed
    meanwhile, and the statistics part is what is left to wait for after the backtests.
    Whatever fails, the study's jobs are stopped (its child killed) on the way out.
    """
    warm_up = _warm_up()
    with clock.part("panel"):
        panel, series, is_default, (universe, start_survivorship) = _load(store, as_of, cat, ids)
        warm_up.join()  # no lock of its (numba's, an import's) held when the study forks
    study: EvidenceRun | None = None
    try:  # whatever fails (or a Ctrl-C), the study's jobs stop with it
        with clock.part("signals"):
            study = EvidenceRun(panel, cat, cfg, store, default=is_default)
            wait_study = study.complete(universe)
            wait_survivorship = start_survivorship()
            signals = signals_part(panel, cat, universe)
            wait_paths = event_paths_start(panel, signals, cfg, store)
        hits: dict[str, bool] = {}
        with clock.part("backtest") as flag:
            bt, hits["walk-forward"] = backtest_part(panel, signals, cfg, store, universe)
            flag[0] = hits["walk-forward"]
        with clock.part("statistics") as flag:
            inputs, evidence, hits["evidence"] = wait_study()
            paths, hits["event paths"] = wait_paths()
            survivorship = wait_survivorship()
            flag[0] = hits["evidence"] or hits["event paths"]
    finally:
        if study is not None:  # harmless once its evidence is in
            study.abandon()
    return ReportResults(
        as_of=pd.Timestamp(panel.index[-1]),
        panel=with_exchange_days(panel),
        series=series,
        signals=signals,
        event_study=event_study_of(evidence),
        event_paths=paths,
        lead_lag=lead_lags_of(evidence),
        evidence=evidence,
        backtests=bt,
        cached=hits,
        timings=tuple(sorted(clock.runs, key=lambda run: _PARTS.index(run.name))),
        config=cfg,
        freshness=inputs.freshness
        if available(inputs) and inputs.freshness is not None
        else input_freshness(panel, cat, "default", default=is_default),
        survivorship=survivorship,
    )
