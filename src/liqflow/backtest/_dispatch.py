"""Where a sweep's chunks run: in-process, local processes, or a Dask cluster.

Every mode gives the same results, bit for bit. On local processes, a chunk of combos
is evaluated in one task: the kernel's statistics, then the first pass of CSCV over the
chunk's own trials (their in-sample best in every split); the picks are merged (a
per-split maximum) and a second task per chunk counts the chunk's trials below them.
In this process both passes run as one over each chunk, against the picks of a few
candidate trials (:func:`~liqflow.backtest.overfit.pbo_one_pass`). On a Dask cluster
(:mod:`liqflow.backtest._dask`) each worker thread evaluates one interleaved share of
the combos and runs both CSCV passes over that share's trials, which never leave it:
only statistics and per-split vectors travel. The kernel's inputs are sent once to each
worker.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from liqflow._errors import ConfigError
from liqflow._memo import cached_property
from liqflow.backtest._kernels import last_event_rows, sweep_stats
from liqflow.backtest.overfit import (
    CSCVSplits,
    PBOResult,
    SplitPicks,
    TrialBlocks,
    cscv_splits_of,
    merge_picks,
    pbo_from_counts,
    pbo_one_pass,
    split_counts,
    split_picks,
    trial_blocks,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ChunkResult", "Evaluation", "SweepArrays", "evaluate", "evaluate_chunk"]

Progress = Callable[[int, int], None]

#: Combos per chunk in this process: bounds the kernel's per-block output and keeps a
#: chunk's CSCV pass over every split short.
IN_PROCESS_CHUNK = 65_536
#: In this process, the picks over all the trials are found first in one run of
#: ``GUESS_RUN`` consecutive splits (which share most of their blocks) out of every
#: ``GUESS_STEP``: the trials they pick are the candidates whose picks the one CSCV pass
#: ranks against (on the sweeps of ``bench/bench_sweep.py`` they are the picks of 95 %
#: of the splits).
GUESS_RUN = 16
GUESS_STEP = 8
#: Tasks per local process: enough to balance, few enough that each task's start-up
#: (its arguments pickled, its result sent back) stays negligible.
TASKS_PER_WORKER = 2


@dataclass(frozen=True, eq=False)
class SweepArrays:
    """Everything the kernel needs, as plain arrays (cheap to pickle and scatter).

    ``events`` holds the event days of each set, one bit a day (``np.packbits`` of the
    bool[sets, days] rows): what is compared to find identical sets and what travels.
    The kernel reads :attr:`last_event`, built from them where it runs. The integer
    arrays travel in the narrowest integer type that holds their values
    (:func:`narrow`) and are int64 again on arrival.
    """

    events: np.ndarray
    stage: np.ndarray
    rets: np.ndarray
    combos: np.ndarray
    cost: float
    starts: np.ndarray
    #: How many combos each row stands for (None: one each); see :func:`distinct_combos`.
    weights: np.ndarray | None = None

    @cached_property
    def last_event(self) -> np.ndarray:
        """``last_event[i, t]``: the last day ``<= t`` with an event of set ``i`` (-1
        before the first), int64[sets, days]."""
        on = np.unpackbits(self.events, axis=1, count=self.stage.size).view(np.bool_)
        return last_event_rows(on)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        w = None if self.weights is None else narrow(self.weights)
        # each column of the combos in its own narrowest type (codes of a few values)
        cols = tuple(narrow(np.ascontiguousarray(c)) for c in self.combos.T)
        rest = (self.stage, self.rets, cols, self.cost, narrow(self.starts), w)
        return _unpack_arrays, (self.events, *rest)


def narrow(x: np.ndarray) -> np.ndarray:
    """``x`` (int64) in the narrowest signed integer type that holds its values, to
    travel; ``.astype(np.int64)`` gives ``x`` back exactly."""
    if x.size == 0:
        return x
    lo, hi = int(x.min()), int(x.max())
    for t in (np.int8, np.int16, np.int32):
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return x.astype(t)
    return x


def _unpack_arrays(
    events: np.ndarray,
    stage: np.ndarray,
    rets: np.ndarray,
    cols: tuple[np.ndarray, ...],
    cost: float,
    starts: np.ndarray,
    weights: np.ndarray | None,
) -> SweepArrays:
    """The :class:`SweepArrays` of :meth:`SweepArrays.__reduce__`."""
    w = None if weights is None else weights.astype(np.int64)
    combos = np.empty((starts.size, len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        combos[:, j] = c
    return SweepArrays(events, stage, rets, combos, cost, starts.astype(np.int64), w)


def distinct_combos(arrays: SweepArrays) -> tuple[SweepArrays, np.ndarray]:
    """The distinct combos of ``arrays`` (with their counts as weights) and, per combo,
    the row of its representative.

    Event sets with identical rows (different breakout parameters giving the same
    events) are merged first, so combos that differ only by such a set are the same
    combo: they have the same statistics and the same per-block sums; only the sets the
    distinct combos use are kept. Representatives keep the order of their first
    occurrence, so the first of exactly tied (but not identical) trials stays first.
    """
    first: dict[bytes, int] = {}
    canon = np.array(
        [first.setdefault(row.tobytes(), i) for i, row in enumerate(arrays.events)],
        dtype=np.int64,
    )
    # column by column (Fortran order): the keys' ranges and products read each
    # column contiguously
    keys = np.empty((arrays.starts.size, arrays.combos.shape[1] + 1), dtype=np.int64, order="F")
    keys[:, :-1] = arrays.combos
    keys[:, -1] = arrays.starts
    keys[:, 0] = canon[keys[:, 0]]
    row_keys = _row_keys(keys)
    _, idx, inverse = np.unique(
        row_keys, axis=0 if row_keys.ndim > 1 else None, return_index=True, return_inverse=True
    )
    order = np.argsort(idx, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    reps = idx[order]
    row_of = rank[inverse.ravel()]
    weights = np.bincount(row_of, minlength=reps.size).astype(np.int64)
    if arrays.weights is not None:
        weights = np.zeros(reps.size, dtype=np.int64)
        np.add.at(weights, row_of, arrays.weights)
    # only the event sets the distinct combos use, renumbered in their order
    used, set_of = np.unique(keys[reps, 0], return_inverse=True)
    combos = np.ascontiguousarray(arrays.combos[reps])
    combos[:, 0] = set_of.ravel()
    out = replace(
        arrays,
        events=np.ascontiguousarray(arrays.events[used]),
        combos=combos,
        starts=np.ascontiguousarray(arrays.starts[reps]),
        weights=weights,
    )
    return out, row_of


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """One int64 per row, equal for equal rows only (mixed radix over the columns'
    ranges), or the rows themselves when the ranges do not fit in 63 bits."""
    lo = rows.min(axis=0)
    span = rows.max(axis=0) - lo + 1
    if float(np.prod(span.astype(np.float64))) >= 2.0**62:
        return rows
    key = np.zeros(rows.shape[0], dtype=np.int64)
    for j in range(rows.shape[1]):
        key = key * span[j] + (rows[:, j] - lo[j])
    return key


@dataclass(frozen=True, eq=False)
class Window:
    """The evaluation window, its CSCV blocks and (if asked) the CSCV splits."""

    start: int
    end: int
    edges: np.ndarray
    splits: CSCVSplits | None


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """Combos ``lo:lo + len(stats)``: statistics, and for CSCV their trials and picks."""

    lo: int
    stats: np.ndarray
    trials: TrialBlocks | None = None
    picks: SplitPicks | None = None
    bsum: np.ndarray | None = None
    bsq: np.ndarray | None = None


def evaluate_chunk(
    arrays: SweepArrays,
    lo: int,
    hi: int,
    window: Window,
    keep_blocks: bool = False,
    picks: bool = True,
) -> ChunkResult:
    """Kernel statistics of combos ``lo:hi`` and, if ``window`` has splits, their trials
    and (if ``picks``) CSCV picks."""
    st, bsum, bsq = sweep_stats(
        arrays.last_event,
        arrays.stage,
        arrays.rets,
        arrays.combos[lo:hi],
        arrays.cost,
        arrays.starts[lo:hi],
        window.start,
        window.end,
        window.edges,
    )
    trials = picked = None
    if window.splits is not None:
        w = arrays.weights[lo:hi] if arrays.weights is not None else None
        trials = trial_blocks(bsum, bsq, w)
        if picks:
            picked = split_picks(window.splits, trials, np.arange(lo, hi))
    if keep_blocks:
        return ChunkResult(lo, st, trials, picked, bsum, bsq)
    return ChunkResult(lo, st, trials, picked)


def chunk_counts(
    window: Window, chunk: ChunkResult, chosen: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """Second CSCV pass over one chunk's trials; returns ``lo`` to reorder the chunks."""
    if chunk.trials is None or window.splits is None:  # pragma: no cover - see evaluate
        raise RuntimeError("chunk evaluated without CSCV splits")
    below, ties = split_counts(window.splits, chunk.trials, chosen)
    return chunk.lo, below, ties


_WORKER_ARRAYS: SweepArrays | None = None


def _init_worker(arrays: SweepArrays) -> None:
    global _WORKER_ARRAYS
    _WORKER_ARRAYS = arrays


def _worker_chunk(lo: int, hi: int, window: Window) -> ChunkResult:
    if _WORKER_ARRAYS is None:  # pragma: no cover - set by the pool initializer
        raise RuntimeError("sweep worker started without its arrays")
    return evaluate_chunk(_WORKER_ARRAYS, lo, hi, window)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The kernel's statistics of every combo, their PBO if asked, and (if asked) the
    per-block sums."""

    stats: np.ndarray
    pbo: PBOResult | None
    bsum: np.ndarray | None = None
    bsq: np.ndarray | None = None


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


class _Collector:
    """Chunk results by ``lo``, progress, and the final assembly."""

    def __init__(self, weights: np.ndarray, progress: Progress | None) -> None:
        self.n = weights.size  # rows evaluated
        self.cum = np.r_[0, np.cumsum(weights)]
        self.n_trials = int(self.cum[-1])  # combos they stand for
        self.progress = progress
        self.parts: dict[int, ChunkResult] = {}
        self.done = 0

    def add(self, r: ChunkResult) -> None:
        self.parts[r.lo] = r
        self.done += int(self.cum[r.lo + r.stats.shape[0]] - self.cum[r.lo])
        if self.progress is not None:
            self.progress(self.done, self.n_trials)

    def ordered(self) -> list[ChunkResult]:
        return [self.parts[k] for k in sorted(self.parts)]

    def stats(self) -> np.ndarray:
        return np.concatenate([r.stats for r in self.ordered()])

    def chosen(self) -> SplitPicks:
        return merge_picks([r.picks for r in self.ordered() if r.picks is not None])

    def pbo(
        self,
        splits: CSCVSplits,
        picks: SplitPicks,
        counts: list[tuple[int, np.ndarray, np.ndarray]],
    ) -> PBOResult:
        below = np.zeros(splits.n_splits, dtype=np.int64)
        ties = np.zeros(splits.n_splits, dtype=np.int64)
        for _, bl, ti in counts:
            below += bl
            ties += ti
        return pbo_from_counts(splits, picks, below, ties, self.n_trials)


def evaluate(
    arrays: SweepArrays,
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
    *,
    scheduler: str | Client | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    cscv: bool = False,
    keep_blocks: bool = False,
    on_stats: Callable[[np.ndarray], None] | None = None,
) -> Evaluation:
    """Statistics of every combo, and their PBO, computed where ``scheduler`` says.

    Parameters
    ----------
    scheduler : None, "processes", "tcp://HOST:PORT" or a distributed.Client
        ``None``: in this process. ``"processes"``: a pool of local processes (one per
        core). An address: the workers of that running ``dask.distributed`` scheduler
        (a client is connected for the call and closed). A connected ``Client``: the
        workers of its scheduler, through it (left open).
    chunk_size : int, optional
        Combos per task (default: in this process :data:`IN_PROCESS_CHUNK`; on local
        processes :data:`TASKS_PER_WORKER` tasks per process, at least 64 combos; on a
        Dask cluster one task per worker thread).
    progress : callable(done, total), optional
        Called after each chunk with the number of combos done.
    cscv : bool
        Also compute the PBO (CSCV over the blocks of ``edges``), on the same workers.
    keep_blocks : bool
        Return every combo's per-block sums too (in this process only).
    on_stats : callable(stats), optional
        Called once with every combo's statistics as soon as they are known: on a Dask
        cluster while the workers still run the CSCV passes (the caller's own work on
        them overlaps the workers'), elsewhere before returning.
    """
    splits = cscv_splits_of(np.diff(edges).astype(np.float64)) if cscv else None
    window = Window(eval_start, eval_end, edges, splits)
    distinct, row_of = distinct_combos(arrays)
    if distinct.weights is None:  # pragma: no cover - distinct_combos sets them
        raise RuntimeError("distinct combos without weights")
    out = _Collector(distinct.weights, progress)
    if scheduler is None:
        ev = _in_process(distinct, window, out, chunk_size, keep_blocks)
    elif keep_blocks:
        raise ConfigError("keep_blocks is only available in this process (scheduler=None)")
    elif scheduler == "processes":
        workers = max(os.cpu_count() or 1, 1)
        size = chunk_size or max(64, -(-out.n // (TASKS_PER_WORKER * workers)))
        ev = _run_processes(workers, distinct, _chunks(out.n, size), window, out)
    elif _is_client(scheduler) or (
        isinstance(scheduler, str) and scheduler.startswith(("tcp://", "tls://", "inproc://"))
    ):
        early = None if on_stats is None else _mapped(on_stats, row_of)
        ev = _run_dask(scheduler, distinct, chunk_size, window, out, early)
        on_stats = None  # called by the cluster's run
    else:
        raise ConfigError(
            f"scheduler must be None (in-process), 'processes', a Dask scheduler address "
            f"like 'tcp://127.0.0.1:8786' or a distributed.Client, got {scheduler!r}"
        )
    if on_stats is not None:
        on_stats(ev.stats[row_of])
    return Evaluation(
        ev.stats[row_of],
        ev.pbo,
        None if ev.bsum is None else ev.bsum[row_of],
        None if ev.bsq is None else ev.bsq[row_of],
    )


def _mapped(fn: Callable[[np.ndarray], None], rows: np.ndarray) -> Callable[[np.ndarray], None]:
    """``fn`` of the statistics of the distinct combos placed at every combo's row."""
    return lambda stats: fn(stats[rows])


def _in_process(
    arrays: SweepArrays,
    window: Window,
    out: _Collector,
    chunk_size: int | None,
    keep_blocks: bool,
) -> Evaluation:
    for lo, hi in _chunks(out.n, chunk_size or IN_PROCESS_CHUNK):
        out.add(evaluate_chunk(arrays, lo, hi, window, keep_blocks, picks=False))
    pbo = None
    if window.splits is not None:
        pbo = _fused_pbo(window.splits, out)
    if not keep_blocks:
        return Evaluation(out.stats(), pbo)
    parts = out.ordered()
    return Evaluation(
        out.stats(),
        pbo,
        np.concatenate([r.bsum for r in parts if r.bsum is not None]),
        np.concatenate([r.bsq for r in parts if r.bsq is not None]),
    )


def _fused_pbo(splits: CSCVSplits, out: _Collector) -> PBOResult:
    """The PBO of the collected chunks by :func:`~liqflow.backtest.overfit.pbo_one_pass`,
    its candidates picked in a sample of the splits (:data:`GUESS_RUN`)."""
    parts = out.ordered()
    trials = [r.trials for r in parts if r.trials is not None]
    numbers = [np.arange(r.lo, r.lo + r.stats.shape[0]) for r in parts]
    runs = np.arange(splits.n_splits) // GUESS_RUN
    sample = np.flatnonzero(runs % GUESS_STEP == 0)
    return pbo_one_pass(splits, trials, numbers, out.n_trials, sample)


def _run_processes(
    workers: int,
    arrays: SweepArrays,
    chunks: list[tuple[int, int]],
    window: Window,
    out: _Collector,
) -> Evaluation:
    from concurrent.futures import as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(arrays,)
    ) as pool:
        futures = [pool.submit(_worker_chunk, lo, hi, window) for lo, hi in chunks]
        for fut in as_completed(futures):
            out.add(fut.result())
        splits = window.splits
        if splits is None:
            return Evaluation(out.stats(), None)
        # the trials travel back: a pool has no memory of which process holds what
        picks = out.chosen()
        cs = [pool.submit(chunk_counts, window, r, picks.chosen) for r in out.ordered()]
        return Evaluation(out.stats(), out.pbo(splits, picks, [f.result() for f in cs]))


def _is_client(scheduler: object) -> bool:
    """Whether ``scheduler`` is a ``distributed.Client`` (without importing Dask: a
    client exists only once it is imported)."""
    dist = sys.modules.get("distributed")
    return dist is not None and isinstance(scheduler, dist.Client)


def _run_dask(
    scheduler: Any,
    arrays: SweepArrays,
    chunk_size: int | None,
    window: Window,
    out: _Collector,
    on_stats: Callable[[np.ndarray], None] | None,
) -> Evaluation:
    """The run on the cluster of ``scheduler`` (an address, or a connected client)."""
    from liqflow.backtest._dask import run_on_cluster

    span = (window.start, window.end, window.edges)
    if _is_client(scheduler):
        stats, pbo = run_on_cluster(
            scheduler, arrays, span, window.splits, chunk_size, out.progress, on_stats
        )
        return Evaluation(stats, pbo)
    from distributed import Client

    from liqflow._errors import ProviderError

    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise ProviderError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
    try:
        stats, pbo = run_on_cluster(
            client, arrays, span, window.splits, chunk_size, out.progress, on_stats
        )
        return Evaluation(stats, pbo)
    finally:
        client.close()
