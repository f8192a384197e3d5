"""A sweep on a Dask cluster: the trials stay on the worker that made them.

The distinct combos are dealt to as many shares as the cluster has worker threads (or
more, with a ``chunk_size``), in blocks of :data:`COMBO_BLOCK` combos taken in turn, so
that every share has the same mix of parameters and costs about the same. Each share
is pinned to one thread, which runs, over the share's own trials only:

1. **the kernel**: the share's statistics (sent to the client, for the table) and its
   trials' per-block sums (kept on the worker);
2. **the first CSCV pass**, range of splits by range (:data:`PASS_RANGES`): the
   in-sample best of the share's trials (a few floats per split, sent to the other
   workers and the client);
3. **the second pass**, range by range, once every share's picks of that range are
   in: the picks merged (the largest key, the smallest trial number on ties) and the
   share's trials counted below and equal to the pick out of sample (two integers per
   split, to the client). A worker that ends its first pass before another does not
   wait for it: the other's first ranges are long done.

The per-block sums never leave their worker: what travels between the passes is a few
vectors per split. The client sends each worker once the kernel's inputs for its
shares (pickled once, the rows as runs and the integers narrowed; inside the tasks,
or scattered first when large) and every task in one graph (each pinned to its
share's worker by annotations), places the statistics by combo as they come (their
whole-number columns narrowed on the way), hands them to the caller while the workers
rank, and adds the counts. The numbers are those of the in-process evaluation, bit for
bit: the kernel computes each combo alone, each trial's sums are added in the same
order wherever it is, ties go to the first trial and the counts are integers.
"""

from __future__ import annotations

import functools
import itertools
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from liqflow.backtest._dispatch import narrow
from liqflow.backtest._kernels import STATS, sweep_stats
from liqflow.backtest.overfit import (
    CSCVSplits,
    PBOResult,
    SplitPicks,
    TrialBlocks,
    concat_picks,
    cscv_splits_of,
    merge_picks,
    pbo_from_counts,
    split_counts,
    split_picks,
    trial_blocks,
)

if TYPE_CHECKING:
    from liqflow.backtest._dispatch import Progress, SweepArrays

__all__ = ["COMBO_BLOCK", "run_on_cluster", "share_of", "share_rows"]

#: Combos per block dealt to the shares.
COMBO_BLOCK = 256
#: A share's inputs up to this size travel inside its task (no round trip before it is
#: submitted); larger ones are scattered to its worker first (Dask warns from 10 MB).
EMBED_BYTES = 8 * 2**20
#: Ranges of splits each CSCV pass of a share is cut into (see :func:`_graph`):
#: with two, a worker counts the first half of the splits while another ends its first
#: pass; each more range costs every share two more tasks (a few ms of the scheduler's
#: time each).
PASS_RANGES = 2


def share_rows(n: int, parts: int, block: int, k: int) -> np.ndarray:
    """Rows of share ``k`` when rows ``0..n-1`` are dealt to ``parts`` shares in blocks
    of ``block`` rows taken in turn (smaller blocks when there are few rows, so that
    every share gets some if ``n >= parts``)."""
    size = max(1, min(block, n // max(parts, 1)))
    return np.flatnonzero((np.arange(n) // size) % parts == k)


@dataclass(frozen=True, eq=False)
class ShareResult:
    """The kernel's statistics of one share of combos (rows ``rows`` of the distinct
    combos), and its trials' block sums."""

    rows: np.ndarray
    stats: np.ndarray
    trials: TrialBlocks | None = None

    def light(self) -> ShareResult:
        """The same without the block sums (what the client receives)."""
        return replace(self, trials=None)

    def __sizeof__(self) -> int:
        # what Dask's memory accounting and transfer costs read (sys.getsizeof)
        held = 0 if self.trials is None else self.trials.nbytes
        return int(self.rows.nbytes + self.stats.nbytes + held)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # the rows as runs, the integer-valued statistics in the narrowest integers that
        # hold them (float64 again on arrival, exactly): about 2/3 of the bytes to the
        # client
        st = self.stats
        ints = st[:, _INT_STATS]
        whole = ints.astype(np.int64)
        if not np.array_equal(whole, ints):  # pragma: no cover - the kernel counts days
            return _unpack_result, (pack_rows(self.rows), st, None, self.trials)
        floats = np.ascontiguousarray(np.delete(st, _INT_STATS, axis=1))
        return _unpack_result, (pack_rows(self.rows), floats, narrow(whole), self.trials)


#: Columns of the kernel's statistics that hold whole numbers (counts of days, trades).
_INT_STATS = np.array(
    [STATS.index(s) for s in ("n", "max_drawdown_days", "exposed", "n_trades", "n_wins")]
)


def _unpack_result(
    runs: tuple[np.ndarray, np.ndarray],
    floats: np.ndarray,
    ints: np.ndarray | None,
    trials: TrialBlocks | None,
) -> ShareResult:
    """The :class:`ShareResult` of :meth:`ShareResult.__reduce__`."""
    if ints is None:
        stats = floats
    else:
        stats = np.empty((floats.shape[0], floats.shape[1] + ints.shape[1]))
        rest = np.setdiff1d(np.arange(stats.shape[1]), _INT_STATS)
        stats[:, rest] = floats
        stats[:, _INT_STATS] = ints
    return ShareResult(unpack_rows(runs), stats, trials)


def pack_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Increasing ``rows`` as runs of consecutive rows: their first rows and lengths
    (a share's rows are blocks of :data:`COMBO_BLOCK`)."""
    if rows.size == 0:
        return rows, rows
    cut = np.flatnonzero(np.diff(rows) != 1) + 1
    firsts = rows[np.r_[0, cut]]
    lengths = np.diff(np.r_[0, cut, rows.size])
    return narrow(firsts), narrow(lengths)


def unpack_rows(runs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The rows of :func:`pack_rows`, int64."""
    firsts, lengths = (x.astype(np.int64) for x in runs)
    total = int(lengths.sum())
    offsets = np.repeat(firsts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return offsets + np.arange(total, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Share:
    """The kernel's inputs for the rows ``rows`` of the distinct combos."""

    arrays: SweepArrays
    rows: np.ndarray

    @property
    def nbytes(self) -> int:
        """At most the size of its pickle (the events travel as bits, the integers
        narrowed)."""
        a = self.arrays
        sized = (a.combos, a.starts, a.stage, a.rets, self.rows, a.weights)
        return a.events.nbytes + sum(int(x.nbytes) for x in sized if x is not None)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _unpack_share, (self.arrays, pack_rows(self.rows))


def _unpack_share(arrays: SweepArrays, runs: tuple[np.ndarray, np.ndarray]) -> Share:
    """The :class:`Share` of :meth:`Share.__reduce__`."""
    return Share(arrays, unpack_rows(runs))


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


def evaluate_share(blob: bytes, start: int, end: int, edges: np.ndarray, cscv: bool) -> ShareResult:
    """Kernel statistics of one share of the combos (pickled by :func:`_send_shares`),
    with their trials' per-block sums if ``cscv``."""
    share: Share = pickle.loads(blob)
    a = share.arrays
    st, bsum, bsq = sweep_stats(
        a.last_event, a.stage, a.rets, a.combos, a.cost, a.starts, start, end, edges
    )
    if not cscv:
        return ShareResult(share.rows, st)
    return ShareResult(share.rows, st, trial_blocks(bsum, bsq, a.weights))


def _trials(part: ShareResult) -> TrialBlocks:
    if part.trials is None:  # pragma: no cover - evaluated with cscv=True
        raise RuntimeError("share evaluated without its block sums")
    return part.trials


def _range_splits(counts: np.ndarray, lo: int, hi: int) -> CSCVSplits:
    """Splits ``lo:hi`` of the CSCV over blocks of ``counts`` observations."""
    return _splits_of(tuple(counts.tolist())).part(lo, hi)


@functools.lru_cache(maxsize=4)
def _splits_of(counts: tuple[float, ...]) -> CSCVSplits:
    # every pass of every share on a worker reads the same splits: built once there
    return cscv_splits_of(np.asarray(counts, dtype=np.float64))


def share_picks(counts: np.ndarray, part: ShareResult, lo: int, hi: int) -> SplitPicks:
    """First CSCV pass over the trials of ``part`` (blocks of ``counts`` observations) in
    splits ``lo:hi``: their in-sample best in each, numbered as rows of the distinct
    combos."""
    return split_picks(_range_splits(counts, lo, hi), _trials(part), part.rows)


def share_counts(
    counts: np.ndarray,
    part: ShareResult,
    lo: int,
    hi: int,
    *picks: SplitPicks,
    report: bool = False,
) -> tuple[np.ndarray, np.ndarray, SplitPicks | None]:
    """Second CSCV pass over the trials of ``part`` in splits ``lo:hi``: per split, how
    many are below and equal to the pick of every share (``picks`` of those splits,
    merged) out of sample; and (if ``report``) the merged picks, for the client."""
    merged = merge_picks(list(picks))
    below, ties = split_counts(_range_splits(counts, lo, hi), _trials(part), merged.chosen)
    return below, ties, merged if report else None


def split_ranges(n_splits: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges of splits ``0..n_splits-1`` (sizes within one; fewer
    when there are fewer splits), cut at even splits where possible (the kernels take
    splits two at a time when they differ only in their last block)."""
    parts = max(1, min(parts, n_splits))
    cuts = [round(n_splits * i / parts) for i in range(parts + 1)]
    cuts = [c - c % 2 if 0 < c < n_splits else c for c in cuts]
    return [(lo, hi) for lo, hi in itertools.pairwise(cuts) if hi > lo]


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
    on_stats: Callable[[np.ndarray], None] | None = None,
) -> tuple[np.ndarray, PBOResult | None]:
    """Statistics of every distinct combo of ``arrays`` and (with ``splits``) the PBO,
    on the workers of ``client``; see the module's docstring. ``on_stats`` is called
    with the statistics as soon as they are in, while the workers run the CSCV passes."""
    from distributed import as_completed

    slots = _slots(client)
    n = arrays.combos.shape[0]
    n_parts = max(len(slots), -(-n // chunk_size) if chunk_size else 0)
    n_parts = max(1, min(n_parts, n))
    where = [slots[k % len(slots)] for k in range(n_parts)]
    shares = _send_shares(client, arrays, n_parts, where)
    ranges = [] if splits is None else split_ranges(splits.n_splits, PASS_RANGES)
    light, tallies = _graph(shares, where, window, splits is not None, ranges)
    # one message to the scheduler: every worker starts at once
    futures = client.compute([*light, *_flat(tallies)], optimize_graph=False)
    k = len(light)
    light_f = futures[:k]
    tallies_f = _rows(futures[k:], k)
    del futures
    stats = _collect_stats(as_completed(light_f, loop=client.loop), arrays, progress)
    if on_stats is not None:
        on_stats(stats)
    if splits is None:
        return stats, None
    below = np.zeros(splits.n_splits, dtype=np.int64)
    ties = np.zeros(splits.n_splits, dtype=np.int64)
    picks: list[SplitPicks] = []
    for (lo, hi), parts in zip(ranges, client.gather(tallies_f), strict=True):
        for bl, ti, merged in parts:
            below[lo:hi] += bl
            ties[lo:hi] += ti
            if merged is not None:
                picks.append(merged)
    weights = arrays.weights if arrays.weights is not None else np.ones(n, dtype=np.int64)
    return stats, pbo_from_counts(splits, concat_picks(picks), below, ties, int(weights.sum()))


def _flat(rows: list[list[Any]]) -> list[Any]:
    return [x for row in rows for x in row]


def _rows(flat: list[Any], width: int) -> list[list[Any]]:
    return [flat[i : i + width] for i in range(0, len(flat), width)]


#: Priorities on a worker's thread: a share's statistics first (the client tabulates
#: them while the workers rank), then every first pass (another worker's count of a
#: range waits for them), then the counts.
_PRIORITY = {"light": 3, "picks": 2, "counts": 1}


def _graph(
    shares: list[Any],
    where: list[str],
    window: tuple[int, int, np.ndarray],
    cscv: bool,
    ranges: list[tuple[int, int]],
) -> tuple[list[Any], list[list[Any]]]:
    """Every task of the sweep, each pinned to its share's worker thread: per share the
    kernel and its statistics (delayed objects), and per range of splits every share's
    counts (the first share's with the merged picks of the range), each after every
    share's picks of the range.

    A share's count of a range waits for every share's picks of that range only: a
    worker done with its first pass counts the first ranges while the others finish
    theirs, instead of waiting for every pick of every split."""
    import dask

    start, end, edges = window
    counts = np.diff(edges).astype(np.float64)
    task = functools.partial(dask.delayed, pure=False)
    full, light = [], []
    for sh, w in zip(shares, where, strict=True):
        with dask.annotate(workers=[w], allow_other_workers=False):
            full.append(f := task(evaluate_share)(sh, start, end, edges, cscv))
            with dask.annotate(priority=_PRIORITY["light"]):
                light.append(task(ShareResult.light)(f))
    picks, tallies = [], []
    for lo, hi in ranges:
        row = []
        for f, w in zip(full, where, strict=True):
            with dask.annotate(workers=[w], allow_other_workers=False, priority=_PRIORITY["picks"]):
                row.append(task(share_picks)(counts, f, lo, hi))
        picks.append(row)
    for (lo, hi), ps in zip(ranges, picks, strict=True):
        row = []
        for i, (f, w) in enumerate(zip(full, where, strict=True)):
            with dask.annotate(
                workers=[w], allow_other_workers=False, priority=_PRIORITY["counts"]
            ):
                row.append(task(share_counts)(counts, f, lo, hi, *ps, report=i == 0))
        tallies.append(row)
    return light, tallies


def _send_shares(client: Any, arrays: SweepArrays, n_parts: int, where: list[str]) -> list[Any]:
    """Each share's inputs for the worker that evaluates it (the combos of the other
    shares do not travel), pickled once here (Dask passes bytes on as they are, where it
    would pickle and unpickle a share again on the way): inside the task itself up to
    :data:`EMBED_BYTES`, otherwise scattered to that worker first, one message per
    worker."""
    n = arrays.combos.shape[0]
    parts = [
        pickle.dumps(share_of(arrays, share_rows(n, n_parts, COMBO_BLOCK, k)), protocol=5)
        for k in range(n_parts)
    ]
    if max(len(p) for p in parts) <= EMBED_BYTES:
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
