"""A sweep on a Dask cluster: one task per worker thread and phase, CSCV reduced there.

1. **Kernel.** The distinct combos are dealt to as many shares as the cluster has
   worker threads, in blocks of :data:`COMBO_BLOCK` combos taken in turn, so that every
   share has the same mix of parameters and costs about the same; each share is one
   task, pinned to its thread. It returns the share's statistics (for the table) and
   keeps its trials' per-block sums on the worker.
2. **CSCV.** The splits are dealt to the same threads the same way (blocks of
   :data:`SPLIT_BLOCK`); each task takes every share's per-block sums (Dask moves them
   between the workers) and runs both CSCV passes over its own splits: the in-sample
   best of all the trials, then the counts below it out of sample. No pick has to be
   merged between the passes, so nothing waits for the client; a task returns, per
   split, the pick's out-of-sample key and Sharpe ratios and the counts.

The client sends each worker once the kernel's inputs for its shares (inside the
tasks, or scattered first when large), submits every task at once and only places the
results: the statistics by combo, the per-split vectors by split. The numbers are those of the in-process evaluation, bit for bit: the kernel
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

__all__ = ["COMBO_BLOCK", "SPLIT_BLOCK", "run_on_cluster", "share_of", "share_rows"]

#: Combos per block dealt to the shares of the kernel phase.
COMBO_BLOCK = 256
#: Splits per block dealt to the shares of the CSCV phase.
SPLIT_BLOCK = 64
#: A share's inputs up to this size travel inside its task (no round trip before it is
#: submitted); larger ones are scattered to its worker first (Dask warns from 10 MB).
EMBED_BYTES = 8 * 2**20


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


@dataclass(frozen=True, eq=False)
class Share:
    """The kernel's inputs for the rows ``rows`` of the distinct combos."""

    arrays: SweepArrays
    rows: np.ndarray

    @property
    def nbytes(self) -> int:
        """About the size of its pickle (the events travel as bits)."""
        a = self.arrays
        sized = (a.combos, a.starts, a.stage, a.rets, self.rows, a.weights)
        return a.last_event.size // 8 + sum(int(x.nbytes) for x in sized if x is not None)


def share_of(arrays: SweepArrays, rows: np.ndarray) -> Share:
    """The :class:`Share` of ``arrays`` at ``rows`` (only those combos travel)."""
    w = arrays.weights
    part = replace(
        arrays,
        combos=np.ascontiguousarray(arrays.combos[rows]),
        starts=np.ascontiguousarray(arrays.starts[rows]),
        weights=None if w is None else np.ascontiguousarray(w[rows]),
    )
    return Share(part, rows)


def evaluate_share(
    share: Share, start: int, end: int, edges: np.ndarray, cscv: bool
) -> ShareResult:
    """Kernel statistics of one share of the combos, with their trials' per-block sums
    if ``cscv``."""
    a = share.arrays
    st, bsum, bsq = sweep_stats(
        a.last_event, a.stage, a.rets, a.combos, a.cost, a.starts, start, end, edges
    )
    if not cscv:
        return ShareResult(share.rows, st)
    return ShareResult(share.rows, st, trial_blocks(bsum, bsq, a.weights))


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


#: Seconds to wait for a first worker when the scheduler has none.
WORKER_WAIT = 30.0


def _slots(client: Any) -> list[str]:
    """One worker address per worker thread, the workers' threads taken in turn."""
    threads = {a: int(n) for a, n in sorted(client.nthreads().items())}
    if not threads:
        from liqflow._errors import ProviderError

        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise ProviderError(
                f"the Dask scheduler at {client.scheduler.address!r} has no worker "
                f"(none joined within {WORKER_WAIT:g} s); start workers or use "
                "scheduler=None"
            ) from None
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
    where = [slots[k % len(slots)] for k in range(n_parts)]
    shares = _send_shares(client, arrays, n_parts, where)
    start, end, edges = window
    cscv = splits is not None
    full = [
        client.submit(evaluate_share, sh, start, end, edges, cscv, workers=[w], **pin)
        for sh, w in zip(shares, where, strict=True)
    ]
    light = [
        client.submit(ShareResult.light, f, workers=[w], **pin)
        for f, w in zip(full, where, strict=True)
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


def _send_shares(client: Any, arrays: SweepArrays, n_parts: int, where: list[str]) -> list[Any]:
    """Each share's inputs for the worker that evaluates it (the combos of the other
    shares do not travel): inside the task itself up to :data:`EMBED_BYTES`, otherwise
    scattered to that worker first, one message per worker."""
    n = arrays.combos.shape[0]
    parts = [share_of(arrays, share_rows(n, n_parts, COMBO_BLOCK, k)) for k in range(n_parts)]
    if max(p.nbytes for p in parts) <= EMBED_BYTES:
        return parts
    out: list[Any] = list(parts)
    for w in dict.fromkeys(where):
        ks = [k for k in range(n_parts) if where[k] == w]
        sent = client.scatter([parts[k] for k in ks], workers=[w], hash=False)
        for k, fut in zip(ks, sent, strict=True):
            out[k] = fut
    return out


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
