"""Where a sweep's chunks run: in-process, local processes, or a Dask cluster.

Every mode calls the same kernel on the same chunks of combos and reassembles the
chunks by combo index, so the results are identical whichever mode ran them. The
overfitting step (CSCV) runs on the same workers, in ranges of splits, after the
kernel: each range needs every combo's per-block sums, sent once to each worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from liqflow._errors import ConfigError
from liqflow.backtest._kernels import sweep_stats
from liqflow.backtest.overfit import (
    CSCVPlan,
    PBOResult,
    cscv_part,
    cscv_plan,
    pbo_from_parts,
    split_ranges,
)

__all__ = ["Evaluation", "SweepArrays", "evaluate", "evaluate_chunk"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class SweepArrays:
    """Everything the kernel needs, as plain arrays (cheap to pickle and scatter)."""

    last_event: np.ndarray
    stage: np.ndarray
    rets: np.ndarray
    combos: np.ndarray
    cost: float
    starts: np.ndarray


def evaluate_chunk(
    arrays: SweepArrays, lo: int, hi: int, eval_start: int, eval_end: int, edges: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Kernel statistics of combos ``lo:hi``; returns ``lo`` to reorder the chunks."""
    st, bsum, bsq = sweep_stats(
        arrays.last_event,
        arrays.stage,
        arrays.rets,
        arrays.combos[lo:hi],
        arrays.cost,
        arrays.starts[lo:hi],
        eval_start,
        eval_end,
        edges,
    )
    return lo, st, bsum, bsq


_WORKER_ARRAYS: SweepArrays | None = None


def _init_worker(arrays: SweepArrays) -> None:
    global _WORKER_ARRAYS
    _WORKER_ARRAYS = arrays


def _worker_chunk(
    lo: int, hi: int, eval_start: int, eval_end: int, edges: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    if _WORKER_ARRAYS is None:  # pragma: no cover - set by the pool initializer
        raise RuntimeError("sweep worker started without its arrays")
    return evaluate_chunk(_WORKER_ARRAYS, lo, hi, eval_start, eval_end, edges)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The kernel's statistics and per-block sums of every combo, and the PBO if asked."""

    stats: np.ndarray
    bsum: np.ndarray
    bsq: np.ndarray
    pbo: PBOResult | None


CSCVPart = tuple[int, np.ndarray, np.ndarray, np.ndarray]


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def evaluate(
    arrays: SweepArrays,
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
    *,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    cscv: bool = False,
) -> Evaluation:
    """Statistics of every combo, and their PBO, computed where ``scheduler`` says.

    Parameters
    ----------
    scheduler : None, "processes" or "tcp://HOST:PORT"
        ``None``: in this process. ``"processes"``: a pool of local processes (one per
        core). An address: the workers of that running ``dask.distributed`` scheduler.
    chunk_size : int, optional
        Combos per task (default: about 8 tasks per worker, at least 64 combos).
    progress : callable(done, total), optional
        Called after each chunk with the number of combos done.
    cscv : bool
        Also compute the PBO (CSCV over the blocks of ``edges``), on the same workers.
    """
    n = arrays.combos.shape[0]
    workers = 1 if scheduler is None else max(os.cpu_count() or 1, 1)
    size = chunk_size or max(64, -(-n // (8 * workers)))
    chunks = _chunks(n, size)
    parts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def collect(lo: int, st: np.ndarray, bsum: np.ndarray, bsq: np.ndarray) -> None:
        parts[lo] = (st, bsum, bsq)
        if progress is not None:
            progress(sum(p[0].shape[0] for p in parts.values()), n)

    def assemble() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = sorted(parts)
        out = tuple(np.concatenate([parts[k][i] for k in order]) for i in range(3))
        parts.clear()
        return out[0], out[1], out[2]

    counts = np.diff(edges).astype(np.float64)
    if scheduler is None:
        for lo, hi in chunks:
            collect(*evaluate_chunk(arrays, lo, hi, eval_start, eval_end, edges))
        st, bsum, bsq = assemble()
        pbo = None
        if cscv:
            plan = cscv_plan(counts, bsum, bsq)
            pbo = pbo_from_parts(plan, [cscv_part(plan, 0, plan.n_splits)])
        return Evaluation(st, bsum, bsq, pbo)
    if scheduler == "processes":
        return _run_processes(
            workers,
            arrays,
            chunks,
            eval_start,
            eval_end,
            edges,
            collect,
            assemble,
            counts if cscv else None,
        )
    if isinstance(scheduler, str) and scheduler.startswith(("tcp://", "tls://", "inproc://")):
        return _run_dask(
            scheduler,
            arrays,
            chunks,
            eval_start,
            eval_end,
            edges,
            collect,
            assemble,
            counts if cscv else None,
        )
    raise ConfigError(
        f"scheduler must be None (in-process), 'processes' or a Dask scheduler address "
        f"like 'tcp://127.0.0.1:8786', got {scheduler!r}"
    )


Collect = Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]
Assemble = Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _run_processes(
    workers: int,
    arrays: SweepArrays,
    chunks: list[tuple[int, int]],
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
    collect: Collect,
    assemble: Assemble,
    counts: np.ndarray | None,
) -> Evaluation:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(arrays,)
    ) as pool:
        futures = [
            pool.submit(_worker_chunk, lo, hi, eval_start, eval_end, edges) for lo, hi in chunks
        ]
        for fut in as_completed(futures):
            collect(*fut.result())
        st, bsum, bsq = assemble()
        if counts is None:
            return Evaluation(st, bsum, bsq, None)
        plan = cscv_plan(counts, bsum, bsq)
        # one range of splits per worker: the plan is pickled once per range
        cs = [
            pool.submit(cscv_part, plan, lo, hi) for lo, hi in split_ranges(plan.n_splits, workers)
        ]
        return Evaluation(st, bsum, bsq, pbo_from_parts(plan, [f.result() for f in cs]))


def _run_dask(
    address: str,
    arrays: SweepArrays,
    chunks: list[tuple[int, int]],
    eval_start: int,
    eval_end: int,
    edges: np.ndarray,
    collect: Collect,
    assemble: Assemble,
    counts: np.ndarray | None,
) -> Evaluation:
    from distributed import Client
    from distributed import as_completed as dask_completed

    from liqflow._errors import ProviderError

    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise ProviderError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
    try:
        shared = client.scatter(arrays, broadcast=True)
        futures = [
            client.submit(evaluate_chunk, shared, lo, hi, eval_start, eval_end, edges, pure=False)
            for lo, hi in chunks
        ]
        for fut in dask_completed(futures, loop=client.loop):
            collect(*fut.result())
        del shared, futures
        st, bsum, bsq = assemble()
        if counts is None:
            return Evaluation(st, bsum, bsq, None)
        plan: CSCVPlan = cscv_plan(counts, bsum, bsq)
        threads = max(1, sum(client.nthreads().values()))
        shared_plan = client.scatter(plan, broadcast=True)
        ranges = split_ranges(plan.n_splits, 2 * threads)
        cs = [client.submit(cscv_part, shared_plan, lo, hi, pure=False) for lo, hi in ranges]
        results: list[CSCVPart] = client.gather(cs)
        return Evaluation(st, bsum, bsq, pbo_from_parts(plan, results))
    finally:
        client.close()
