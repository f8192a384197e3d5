"""A sweep on a Dask cluster: one task per worker thread and phase, CSCV reduced there.

1. **Kernel.** The distinct combos are dealt to as many shares as the cluster has
   worker threads, in blocks of :data:`COMBO_BLOCK` combos taken in turn, so that every
   share has the same mix of parameters and costs about the same; each share is one
   task, pinned to its thread. It returns the share's statistics (for the table) and
   keeps its trials' per-block sums on the worker.
2. **CSCV.** The splits are dealt to the same threads the same way (blocks of
   :data:`SPLIT_BLOCK`); each task takes every share's per-block sums (Dask moves them
   from worker to worker) and runs both CSCV passes over its own splits: the in-sample
   best of all the trials, then the counts below it out of sample. No pick has to be
   merged between the passes, so nothing waits for the client; a task returns, per
   split, the pick's out-of-sample key and Sharpe ratios and the counts.

The client sends the kernel's inputs once (to every worker), submits every task at
once and only places the results: the statistics by combo, the per-split vectors by
split. The numbers are those of the in-process evaluation, bit for bit: the kernel
computes each combo alone, and the trials are ordered by combo before CSCV reads them,
so ties go to the same (first) trial and every sum is added in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from liqflow.backtest._kernels import sweep_stats
from liqflow.backtest.overfit import (
    CSCVSplits,
    PBOResult,
    SplitPicks,
    TrialBlocks,
    cscv_splits_of,
    merge_trials,
    pbo_from_counts,
    split_counts,
    split_picks,
    trial_blocks,
)

if TYPE_CHECKING:
    from liqflow.backtest._dispatch import Progress, SweepArrays

__all__ = ["COMBO_BLOCK", "SPLIT_BLOCK", "run_on_cluster", "share_rows"]

#: Combos per block dealt to the shares of the kernel phase.
COMBO_BLOCK = 256
#: Splits per block dealt to the shares of the CSCV phase.
SPLIT_BLOCK = 64


def share_rows(n: int, parts: int, block: int, k: int) -> np.ndarray:
    """Rows of share ``k`` when rows ``0..n-1`` are dealt to ``parts`` shares in blocks
    of ``block`` rows taken in turn (smaller blocks when there are few rows, so that
    every share gets some if ``n >= parts``)."""
    size = max(1, min(block, n // max(parts, 1)))
    return np.flatnonzero((np.arange(n) // size) % parts == k)


@dataclass(frozen=True, eq=False)
class ShareResult:
    """The kernel's statistics of one share of combos, and its trials' block sums."""

    rows: np.ndarray
    stats: np.ndarray
    trials: TrialBlocks | None = None

    def light(self) -> ShareResult:
        """The same without the block sums (what the client receives)."""
        return replace(self, trials=None)


@dataclass(frozen=True, eq=False)
class SplitShare:
    """Both CSCV passes over some splits (indices ``splits``) of all the trials."""

    splits: np.ndarray
    picks: SplitPicks
    below: np.ndarray
    ties: np.ndarray


def evaluate_share(
    arrays: SweepArrays,
    start: int,
    end: int,
    edges: np.ndarray,
    share: tuple[int, int, int],
    cscv: bool,
) -> ShareResult:
    """Kernel statistics of share ``share = (parts, block, k)`` of the combos, with
    their trials' per-block sums if ``cscv``."""
    parts, block, k = share
    rows = share_rows(arrays.combos.shape[0], parts, block, k)
    st, bsum, bsq = sweep_stats(
        arrays.last_event,
        arrays.stage,
        arrays.rets,
        np.ascontiguousarray(arrays.combos[rows]),
        arrays.cost,
        np.ascontiguousarray(arrays.starts[rows]),
        start,
        end,
        edges,
    )
    if not cscv:
        return ShareResult(rows, st)
    weights = arrays.weights[rows] if arrays.weights is not None else None
    return ShareResult(rows, st, trial_blocks(bsum, bsq, weights))


def cscv_share(counts: np.ndarray, share: tuple[int, int, int], *parts: ShareResult) -> SplitShare:
    """Both CSCV passes over share ``share = (parts, block, k)`` of the splits of
    blocks of ``counts`` observations, over the trials of every part."""
    n_parts, block, k = share
    whole = cscv_splits_of(counts)
    which = share_rows(whole.n_splits, n_parts, block, k)
    splits: CSCVSplits = whole.subset(which)
    blocks = [p.trials for p in parts if p.trials is not None]
    trials = merge_trials(blocks, [p.rows for p in parts if p.trials is not None])
    picks = split_picks(splits, trials)
    below, ties = split_counts(splits, trials, picks.chosen)
    return SplitShare(which, picks, below, ties)


def _assemble_pbo(splits: CSCVSplits, parts: list[SplitShare], n_trials: int) -> PBOResult:
    """The PBO from every split's share (each split in exactly one)."""
    ns = splits.n_splits
    fields = {f: np.empty(ns) for f in SplitPicks.__dataclass_fields__}
    below = np.zeros(ns, dtype=np.int64)
    ties = np.zeros(ns, dtype=np.int64)
    for p in parts:
        for f, arr in fields.items():
            arr[p.splits] = getattr(p.picks, f)
        below[p.splits] = p.below
        ties[p.splits] = p.ties
    return pbo_from_counts(splits, SplitPicks(**fields), below, ties, n_trials)


def _slots(client: Any) -> list[str]:
    """One worker address per worker thread, the workers' threads taken in turn."""
    threads = {a: int(n) for a, n in sorted(client.nthreads().items())}
    out: list[str] = []
    for i in range(max(threads.values(), default=0)):
        out += [a for a, n in threads.items() if n > i]
    return out


def run_on_cluster(
    client: Any,
    arrays: SweepArrays,
    window: tuple[int, int, np.ndarray],
    splits: CSCVSplits | None,
    chunk_size: int | None,
    progress: Progress | None,
) -> tuple[np.ndarray, PBOResult | None]:
    """Statistics of every distinct combo of ``arrays`` and (with ``splits``) the PBO,
    on the workers of ``client``; see the module's docstring."""
    from distributed import as_completed

    slots = _slots(client)
    n = arrays.combos.shape[0]
    n_parts = max(len(slots), -(-n // chunk_size) if chunk_size else 0)
    n_parts = max(1, min(n_parts, n))
    pin: dict[str, Any] = {"allow_other_workers": False, "pure": False}
    shared = client.scatter(arrays, broadcast=True, hash=False)
    start, end, edges = window
    cscv = splits is not None
    full = [
        client.submit(
            evaluate_share,
            shared,
            start,
            end,
            edges,
            (n_parts, COMBO_BLOCK, k),
            cscv,
            workers=[slots[k % len(slots)]],
            **pin,
        )
        for k in range(n_parts)
    ]
    light = [
        client.submit(ShareResult.light, f, workers=[slots[k % len(slots)]], **pin)
        for k, f in enumerate(full)
    ]
    passes = []
    if splits is not None:
        m = max(1, min(len(slots), splits.n_splits))
        counts = np.diff(edges).astype(np.float64)
        passes = [
            client.submit(cscv_share, counts, (m, SPLIT_BLOCK, k), *full, workers=[slots[k]], **pin)
            for k in range(m)
        ]
    del full  # the CSCV tasks hold the block sums as long as they need them
    stats = _collect_stats(as_completed(light, loop=client.loop), arrays, progress)
    if splits is None:
        return stats, None
    weights = arrays.weights if arrays.weights is not None else np.ones(n, dtype=np.int64)
    return stats, _assemble_pbo(splits, client.gather(passes), int(weights.sum()))


def _collect_stats(done: Any, arrays: SweepArrays, progress: Progress | None) -> np.ndarray:
    """The statistics of every combo from the shares as they come, with progress."""
    n = arrays.combos.shape[0]
    weights = arrays.weights if arrays.weights is not None else np.ones(n, dtype=np.int64)
    total = int(weights.sum())
    stats: np.ndarray | None = None
    finished = 0
    for fut in done:
        part: ShareResult = fut.result()
        if stats is None:
            stats = np.empty((n, part.stats.shape[1]))
        stats[part.rows] = part.stats
        finished += int(weights[part.rows].sum())
        if progress is not None:
            progress(finished, total)
    if stats is None:  # pragma: no cover - n >= 1 share always
        raise RuntimeError("no share of the sweep came back")
    return stats
