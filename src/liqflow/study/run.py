"""Run every test of a claim table once and judge it: :func:`run_study` -> Evidence.

Each test runs exactly once per (data, as-of, seed, draws). Randomness comes from one
stream: ``numpy.random.SeedSequence(seed)`` spawns one child per test in the table's
order, so a run is reproducible and one test's draws do not depend on another's. The
tests are independent and run concurrently on the usable cores (threads: their heavy
parts are NumPy and ``nogil`` numba kernels); the rows are assembled in the table's
order, so the evidence is the same whatever the number of threads. The
event study runs once for every target and horizon; the precedents and the recent
breakouts are read from its per-event table (they are descriptive). One family of
tests (``thesis``) is Holm-corrected together; Benjamini-Hochberg is shown beside it.
The result is cached in the store, keyed by the hash of the inputs and the parameters.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np
import pandas as pd

from liqflow._cache import cache_key, cached
from liqflow._errors import ConfigError, DataError
from liqflow.align import AsOf, resolve_as_of
from liqflow.catalog import Catalog
from liqflow.signals.survivorship import SurvivorshipBias
from liqflow.stats.events import EventStudyResult
from liqflow.stats.leadlag import LeadLagResult
from liqflow.store import Store
from liqflow.study.claims import ALTS, TestSpec

if TYPE_CHECKING:
    from liqflow.study.channels import ChannelsNow
from liqflow.study._rows import (
    NAN,
    _alts_most_rows,
    _Common,
    _derived_verdict,
    _event_row,
    _event_study,
    _granger_row,
    _label,
    _lead_lag_row,
    _Row,
    _values_row,
)
from liqflow.study.defaults import DEFAULT_DRAWS, check_seed_draws
from liqflow.study.evidence import EVIDENCE_FORMAT, TEST_COLUMNS, Evidence
from liqflow.study.inputs import StudyInputs, load_study_inputs
from liqflow.study.verdicts import (
    UNKNOWN,
    bh_adjust,
    claim_verdict,
    holm_adjust,
    test_verdict,
)

#: A job's result type.
_J = TypeVar("_J")

__all__ = [
    "DEFAULT_DRAWS",
    "StudyRun",
    "default_workers",
    "min_draws",
    "run_study",
    "study",
]


def min_draws(n_tests: int, alpha: float) -> int:
    """Fewest draws with which a Monte Carlo p-value (>= 1/(draws+1)) can pass Holm."""
    return math.ceil(n_tests / alpha)


def _tests_frame(rows: Sequence[_Row], alpha: float) -> pd.DataFrame:
    fam = np.array([r.spec.family == "thesis" for r in rows])
    p = np.array([r.p_value if f else NAN for r, f in zip(rows, fam, strict=True)])
    p_holm, p_bh = holm_adjust(p), bh_adjust(p)
    verdicts: list[str] = []
    for r, ph in zip(rows, p_holm, strict=True):
        if r.spec.family == "derived":
            twin = f"breakouts/event:{ALTS}+{r.spec.horizons[0]}d"
            alts_v = next(
                (v for rr, v in zip(rows, verdicts, strict=False) if rr.spec.test_id == twin),
                UNKNOWN,
            )
            verdicts.append(_derived_verdict(r, alts_v))
            continue
        verdicts.append(
            test_verdict(
                family=r.spec.family,
                available=r.available,
                n=r.n,
                min_n=r.min_n,
                p_value=r.p_value,
                p_holm=float(ph),
                supports=r.supports,
                contradicts=r.contradicts,
                alpha=alpha,
            )
        )
    records = [
        (
            r.spec.claim,
            r.spec.test_id,
            _label(r),
            r.spec.kind,
            r.spec.family,
            r.spec.follower,
            float(r.spec.horizons[0]) if r.spec.horizons else np.nan,
            r.effect,
            r.unit,
            r.ci_low,
            r.ci_high,
            r.confidence,
            r.n,
            r.n_unit,
            r.p_value,
            float(ph),
            float(pb),
            v,
            r.note,
        )
        for r, ph, pb, v in zip(rows, p_holm, p_bh, verdicts, strict=True)
    ]
    return pd.DataFrame.from_records(records, columns=list(TEST_COLUMNS))


def _claims_frame(claims: Sequence[tuple[str, str]], tests: pd.DataFrame) -> pd.DataFrame:
    out = []
    for cid, text in claims:
        vs = [str(v) for v in tests.loc[tests["claim"] == cid, "verdict"]]
        counts = {v: vs.count(v) for v in dict.fromkeys(vs)}
        detail = ", ".join(f"{k} {v}" for v, k in counts.items()) + f" of {len(vs)} tests"
        out.append(
            {"claim": cid, "claim_text": text, "verdict": claim_verdict(vs), "detail": detail}
        )
    return pd.DataFrame(out, columns=["claim", "claim_text", "verdict", "detail"])


def _notes(inputs: StudyInputs, per_event: pd.DataFrame) -> tuple[str, ...]:
    notes = []
    if inputs.basket_coins is not None and not per_event.empty:
        dates = pd.DatetimeIndex(sorted(set(per_event["event_date"])))
        held = inputs.basket_coins.reindex(dates).fillna(0).astype(int)
        cover = (
            inputs.basket_coverage.reindex(dates)
            if inputs.basket_coverage is not None
            else pd.Series(np.nan, index=dates)
        )
        parts = [
            f"{d:%Y-%m-%d}: {k}" + (f" ({c:.0%} of the top-N market cap)" if np.isfinite(c) else "")
            for (d, k), c in zip(held.items(), cover.to_numpy(dtype=np.float64), strict=True)
        ]
        notes.append("alt basket coins with returns on each breakout day: " + ", ".join(parts))
    return tuple(notes)


def default_workers() -> int:
    """Threads the study's tests run on: the CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check_workers(workers: object) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer or None, got {workers!r}")
    return workers


def _test_task(
    spec: TestSpec,
    inputs: StudyInputs,
    draws: int,
    conf: float,
    rng: np.random.Generator,
    common: _Common,
) -> tuple[_Row, LeadLagResult | None]:
    """One lead-lag or Granger test: its row and, for a lead-lag, its full result."""
    if spec.kind == "lead_lag":
        out: dict[str, LeadLagResult] = {}
        row = _lead_lag_row(spec, inputs, draws, conf, rng, out, common)
        return row, out.get(spec.test_id)
    return _granger_row(spec, inputs, draws, rng, common), None


def _channels(panel: pd.DataFrame) -> ChannelsNow:
    from liqflow.study.channels import channel_signals, channels_now

    return channels_now(channel_signals(panel))


def _run_jobs(
    jobs: dict[object, Callable[[], object]], workers: int, stop: threading.Event | None = None
) -> dict[object, object]:
    """Each job's result, by key; on ``workers`` threads when there is more than one,
    begun in key order.

    The jobs are independent and each draws from its own stream, so the results do not
    depend on the number of threads or on the order the jobs finish in. The heavy parts
    of the tests run in NumPy and in numba kernels compiled with ``nogil=True``, which
    release the GIL. The first job to fail (in key order) raises its exception. With
    ``stop`` set, a job not yet begun is skipped (its result is None).

    While the threads run, BLAS runs single-threaded (``threadpoolctl``): its own
    threads would only compete with the jobs' for the same cores (a fifth less CPU time
    for the same evidence on 2 cores; one thread or two, every product is the same).
    """

    def run(job: Callable[[], object]) -> object:
        return None if stop is not None and stop.is_set() else job()

    if workers <= 1 or len(jobs) <= 1:
        return {key: run(job) for key, job in jobs.items()}
    from threadpoolctl import threadpool_limits

    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool,
    ):
        futures = {key: pool.submit(run, job) for key, job in jobs.items()}
        return {key: fut.result() for key, fut in futures.items()}


def _reads_alts(spec: TestSpec) -> bool:
    """Whether a test reads the alt basket (the one input that waits for the universe)."""
    return ALTS in (spec.leader, spec.follower)


def _on_whole(full: Callable[[], StudyInputs], task: Callable[..., _J], **args: object) -> _J:
    """``task(inputs=full(), **args)``: a job of the alt basket, once the inputs hold it."""
    return task(inputs=full(), **args)


def _jobs(
    inputs: StudyInputs,
    full: Callable[[], StudyInputs],
    draws: int,
    conf: float,
    rngs: Sequence[np.random.Generator],
) -> dict[object, Callable[[], object]]:
    """The study's jobs by key: first those that read only ``inputs`` (every input but,
    perhaps, the alt basket), then the event study and the tests of the alt basket, which
    read ``full()``. Each test draws from its own stream whichever inputs it reads."""
    specs = inputs.table.tests
    common: _Common = {}  # written by the threads, each key with the one same count
    early: dict[object, Callable[[], object]] = {}
    later: dict[object, Callable[[], object]] = {}
    for i, (spec, rng) in enumerate(zip(specs, rngs, strict=True)):
        if spec.kind not in ("lead_lag", "granger"):
            continue
        if _reads_alts(spec):
            later[i] = partial(
                _on_whole,
                full,
                _test_task,
                spec=spec,
                draws=draws,
                conf=conf,
                rng=rng,
                common=common,
            )
        else:
            early[i] = partial(_test_task, spec, inputs, draws, conf, rng, common)
    if inputs.channel_panel is not None:
        early["channels"] = partial(_channels, inputs.channel_panel)
    event_specs = [t for t in specs if t.kind == "event"]
    if event_specs:
        rng = rngs[next(i for i, t in enumerate(specs) if t.kind == "event")]
        later["event study"] = partial(
            _on_whole, full, _event_study, specs=event_specs, draws=draws, conf=conf, rng=rng
        )
    return {**early, **later}


def _compute(
    inputs: StudyInputs,
    seed: int,
    draws: int,
    alpha: float,
    conf: float,
    workers: int = 1,
    *,
    full: Callable[[], StudyInputs] | None = None,
    stop: threading.Event | None = None,
) -> Evidence:
    """The evidence of ``full()`` (default ``inputs``): the tests that do not read the alt
    basket start on ``inputs`` at once, the others when ``full()`` returns (the same
    series but the basket, see :func:`liqflow.study.staged.begin_study`); ``stop`` set: the jobs not yet begun
    are skipped (an abandoned run, whose evidence nobody reads)."""
    whole = full if full is not None else (lambda: inputs)
    specs = inputs.table.tests
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(specs))]
    done = _run_jobs(_jobs(inputs, whole, draws, conf, rngs), workers, stop)
    inputs = whole()
    es = cast("EventStudyResult | None", done.get("event study"))
    per_event = es.per_event if es is not None else pd.DataFrame()
    lead_lags: dict[str, LeadLagResult] = {}
    rows: list[_Row] = []
    for i, spec in enumerate(specs):
        if i in done:
            row, res = cast("tuple[_Row, LeadLagResult | None]", done[i])
            if res is not None:
                lead_lags[spec.test_id] = res
            rows.append(row)
        elif spec.kind == "event":
            rows.append(_event_row(spec, inputs, es))
        else:
            rows.append(_values_row(spec, inputs, per_event))
    rows.extend(_alts_most_rows(rows))
    tests = _tests_frame(rows, alpha)
    claims = _claims_frame(inputs.table.claims, tests)
    channels = cast("ChannelsNow | None", done.get("channels"))
    return Evidence(
        as_of=inputs.as_of,
        seed=seed,
        draws=draws,
        alpha=alpha,
        data_hash=inputs.data_hash(),
        chain=inputs.table.chain,
        claims=claims,
        tests=tests,
        per_event=per_event,
        lead_lags=lead_lags,
        event_study=es,
        notes=_notes(inputs, per_event),
        channels=channels,
    )


def _has_inputs(spec: TestSpec, inputs: StudyInputs) -> bool:
    """Whether the series a test reads are there (a test without them has no p-value)."""
    return all(
        k in inputs.series or (k == "breakouts" and inputs.events is not None)
        for k in (spec.leader, spec.follower)
    )


def _check_levels(seed: int, draws: int, alpha: float, confidence: float) -> None:
    if not 0 < alpha < 1 or not 0 < confidence < 1:
        raise ConfigError(f"alpha and confidence must be in (0, 1), got {alpha!r}, {confidence!r}")
    check_seed_draws(seed, draws)


def _checked(inputs: StudyInputs, seed: int, draws: int, alpha: float, confidence: float) -> str:
    """The evidence's cache key, once the parameters are checked (see :func:`run_study`)."""
    _check_draws(inputs, seed, draws, alpha, confidence)
    params = (int(seed), draws, alpha, confidence, EVIDENCE_FORMAT)
    return cache_key("evidence", inputs.data_hash(), params)


def _check_draws(
    inputs: StudyInputs, seed: int, draws: int, alpha: float, confidence: float
) -> None:
    """The checks of :func:`_checked`: the levels, and enough draws for Holm over the
    tests ``inputs`` support."""
    _check_levels(seed, draws, alpha, confidence)
    n_family = sum(
        t.family == "thesis" and t.kind != "event_values" and _has_inputs(t, inputs)
        for t in inputs.table.tests
    )
    need = min_draws(n_family, alpha)
    if draws < need:  # an integer in [1, MAX_DRAWS] by check_seed_draws
        raise ConfigError(
            f"draws must be an integer of at least {need} (a Monte Carlo p-value of "
            f"1/(draws+1) must be able to pass Holm over {n_family} tests at alpha={alpha}), "
            f"got {draws!r}"
        )


def run_study(
    inputs: StudyInputs,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    alpha: float = 0.05,
    confidence: float = 0.90,
    store: Store | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> tuple[Evidence, bool]:
    """Every test of ``inputs.table`` once, judged with one family; ``(evidence, cached)``.

    Parameters
    ----------
    inputs : StudyInputs
        From :func:`liqflow.study.study_inputs` or :func:`~liqflow.study.load_study_inputs`.
    seed : int
        The run's one random stream.
    draws : int
        Bootstrap and placebo draws per test; at least :func:`min_draws` of the family.
    alpha : float
        Family-wise error rate of Holm's correction.
    confidence : float
        Level of every interval.
    store : Store, optional
        Where the evidence is cached (keyed by the data hash and the parameters).
    use_cache : bool
        Read and write the cache (False: always compute).
    workers : int, optional
        Threads the tests run on (default :func:`default_workers`, the usable CPU
        cores). The evidence does not depend on it: every test draws from its own
        stream and the rows are assembled in the table's order.

    Raises
    ------
    ConfigError
        ``alpha`` or ``confidence`` outside (0, 1), too few draws for Holm, or
        ``workers`` not a positive integer.
    """
    threads = _check_workers(workers)
    key = _checked(inputs, seed, draws, alpha, confidence)
    return cached(
        store,
        key,
        lambda: _compute(inputs, int(seed), draws, alpha, confidence, threads),
        enabled=use_cache,
    )


@dataclass(frozen=True)
class StudyRun:
    """A study as of one date: the evidence, the freshness of its inputs, cache use, and
    the survivorship bias of the alt figures measured (point-in-time universe against
    today's list; None without universe snapshots in the store)."""

    evidence: Evidence
    as_of: AsOf
    cached: bool
    bias: SurvivorshipBias | None = None


def study(
    store: Store,
    catalog: Catalog,
    chain: str = "default",
    *,
    as_of: pd.Timestamp | str | None = None,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    alpha: float = 0.05,
    use_cache: bool = True,
) -> StudyRun:
    """Load the chain's inputs as of ``as_of`` (default: the one default date) and judge them.

    Raises
    ------
    DataError
        The store is empty, or ``as_of`` is after its last data.
    CatalogError
        ``chain`` is not in ``catalog``.
    """
    catalog.chain(chain)  # an unknown chain is refused before anything is loaded
    check_seed_draws(seed, draws)
    date, is_default = resolve_as_of(store, catalog, chain, as_of)
    from liqflow.universe_store import universe_and_bias

    universe, bias = universe_and_bias(store, catalog, date)
    inputs = load_study_inputs(
        store, catalog, chain, as_of=date, default=is_default, universe=universe
    )
    evidence, hit = run_study(
        inputs, seed=seed, draws=draws, alpha=alpha, store=store, use_cache=use_cache
    )
    if inputs.freshness is None:  # study_inputs always sets it; a hand-built input may not
        raise DataError("study inputs carry no freshness of the chain's inputs")
    return StudyRun(evidence, inputs.freshness, hit, bias)
