"""Sweep speed against same-work baselines, end-to-end throughput and Dask scaling.

The rule family: hold BTC for ``hold_days`` days after a small-cap breakout event
(decided at the close, traded at the next close), otherwise cash, with a cost per unit
of turnover; grids of look-backs x volume thresholds x persistences (the event sets)
x 100 hold periods, on synthetic daily data.

1. **Same work, same outputs** (10^4 combinations, no overfitting step): the total
   return, Sharpe ratio and maximum drawdown of every combination from
   (a) liqflow's ``run_sweep``, (b) a plain vectorised numpy twin (one event set at a
   time, vectorised over the hold periods; its outputs are checked equal to liqflow's)
   and (c) vectorbt's ``Portfolio.from_signals`` followed by only those three metrics
   (``total_return``, ``max_drawdown`` and the Sharpe ratio of ``pf.returns()``, not
   ``pf.stats()``). All three compute the event sets with ``MarketData.event_rows``,
   timed on every side. vectorbt charges its fee on the order value, liqflow on the
   turnover: the check with costs is a median relative difference, and a zero-cost run
   must agree to rounding. vectorbt is in the optional ``[bench]`` extra; without it
   that side is skipped with the reason printed.
2. **End to end** (kernel, deflated Sharpe ratio and PBO by CSCV over 16 blocks) at
   10^3, 10^4 and 10^5 combinations in this process (medians of ``--e2e-repeat`` runs),
   in combinations per second of wall time and of CPU time; 10^6 with ``--million``
   (the 10^5 grid with ten times the hold periods; a few minutes).
3. **Dask scaling**: the 10^5 sweep on a local cluster of two single-threaded worker
   processes against a cluster of one such worker, runs interleaved in pairs (the
   order alternating) so both see the same load; the ratio of each pair's wall times,
   and their median over the ``--dask-repeat`` pairs and over the pairs during which
   the other processes of the machine used under 0.15 cores (``--quiet CORES`` waits
   before each pair for such a second). Each cluster is swept through one client
   connected before the timings, as a notebook or a service holds one (``--connect``:
   each sweep is given the scheduler's address and connects and closes a client of its
   own, as the CLI does). Identical tables, PBO and DSR to the in-process run are
   checked. The kernel and both CSCV passes run on the workers; the CPU time
   of the busiest worker is printed too (the parallel part's critical path, which
   other processes taking turns on the cores do not lengthen). Both clusters
   run with the same settings: without a dashboard, with Dask's periodic monitors
   slowed and the workers' profiler off (:data:`QUIET_DASK`); ``--dask-defaults`` keeps
   Dask's defaults (and a dashboard).

Part 2 prints, next to the wall and CPU times, how long the sweep's thread was ready to
run while other processes held the cores (its run-queue wait) and how much of the cores'
time the hypervisor took (steal): where a single-threaded sweep's wall time goes beyond
its CPU time (it does no I/O and waits for no thread).

Peak memory is the largest resident set size of this process and all its children
(the Dask workers) together, above the one at the start of each call, sampled every
10 ms from /proc (every 50 ms in part 3: the sampling thread takes CPU from the workers
when they use every core, and their arrays live for whole phases). Wall times on a loaded machine are noisy: CPU times, the load average
and (part 3) the CPU the other processes used are printed next to them.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liqflow.backtest import BreakoutParams, MarketData, SweepGrid, run_sweep

LOOKBACKS = (0, 63, 126, 252, 504, 30, 90, 180, 360, 720)
VOLUME = (0.0, 1.1, 1.2, 1.3, 1.5, 1.05, 1.15, 1.25, 1.4, 1.6)
PERSISTENCE = (0, 5, 10, 20, 3, 8, 15, 30, 40, 60)
HOLDS = tuple(range(1, 101))
#: combinations -> (look-backs, volume thresholds, persistences), times 100 holds
SIZES = {10**3: (2, 5, 1), 10**4: (5, 5, 4), 10**5: (10, 10, 10), 10**6: (10, 10, 10)}
METRICS = ["total_return", "sharpe", "max_drawdown"]


def synthetic(days: int, seed: int = 0) -> MarketData:
    """A BTC-like daily price and a trending small-cap index with volume bursts."""
    rng = np.random.default_rng(seed)
    cal = pd.date_range("2015-01-01", periods=days, freq="D", name="date")
    btc = 300 * np.exp(np.cumsum(rng.normal(0.0012, 0.04, days)))
    sessions = cal[cal.day_of_week < 5]
    m = len(sessions)
    drift = 0.0004 + 0.002 * np.sin(np.arange(m) / 60.0)
    close = 1000 * np.exp(np.cumsum(drift + rng.normal(0, 0.012, m)))
    volume = rng.lognormal(17, 0.3, m) * (1 + 1.5 * (rng.random(m) < 0.1))
    return MarketData(
        prices=pd.DataFrame({"btc": btc}, index=cal),
        small_caps=pd.DataFrame({"close": close, "volume": volume}, index=sessions),
    )


def grid(n: int, fee_bps: float) -> SweepGrid:
    """The grid of ``n`` combinations (10^6: the 10^5 grid with ten hold ranges)."""
    nl, nv, npers = SIZES[n]
    holds = HOLDS if n < 10**6 else tuple(range(1, 1001))
    return SweepGrid(
        signal=("breakout",),
        lookback=LOOKBACKS[:nl],
        volume_threshold=VOLUME[:nv],
        persistence=PERSISTENCE[:npers],
        hold_days=holds,
        asset=("btc",),
        fallback=("cash",),
        fee_bps=fee_bps,
        slippage_bps=0.0,
    )


def event_params(g: SweepGrid) -> list[BreakoutParams]:
    """The event sets in liqflow's combo order (look-back, volume, persistence)."""
    return [
        BreakoutParams(lb, vt, ps, g.volume_window, g.volume_average)
        for lb in g.lookback
        for vt in g.volume_threshold
        for ps in g.persistence
    ]


@dataclass
class Measured:
    wall: float
    cpu: float
    peak_mib: float
    out: Any
    cpu_all: float = 0.0  # CPU seconds of this process and its children (workers)
    other: float = 0.0  # CPU seconds of every other process of the machine meanwhile
    busiest: float = 0.0  # CPU seconds of the busiest of the given worker processes
    queued: float = 0.0  # seconds this thread was ready to run while others held the cores
    stolen: float = 0.0  # seconds of the machine's cores taken by the hypervisor (steal)


@contextmanager
def _peak_rss(every: float = 0.01) -> Iterator[list[float]]:
    """Yields a one-element list set, on exit, to the peak resident memory (MiB) above the
    start of this process and all its children (Dask workers, pool processes) together,
    sampled every ``every`` seconds by a thread of this process."""
    import psutil

    me = psutil.Process()
    # listed once (the workers exist before the call): listing every process of the
    # machine at each sample would cost this process more CPU than the sweep
    procs = [me, *me.children(recursive=True)]
    page = os.sysconf("SC_PAGE_SIZE")
    files = [f"/proc/{p.pid}/statm" for p in procs]

    def rss() -> int:
        total = 0
        for path in files:
            with suppress(OSError), open(path) as f:  # a child may have exited
                total += int(f.read().split()[1]) * page
        return total

    start = rss()
    peak = [start]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            stop.wait(every)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    box = [0.0]
    try:
        yield box
    finally:
        stop.set()
        t.join()
        peak[0] = max(peak[0], rss())
        box[0] = (peak[0] - start) / 2**20


def _cpu_all() -> float:
    import psutil

    return sum(_cpu_of([psutil.Process(), *psutil.Process().children(recursive=True)]))


def _cpu_of(procs: list[Any]) -> list[float]:
    """CPU seconds (user + system) of each of ``procs`` (psutil processes), 0 if gone."""
    import psutil

    out = []
    for p in procs:
        t = None
        with suppress(psutil.Error):
            t = p.cpu_times()
        out.append(0.0 if t is None else t.user + t.system)
    return out


def _busy() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``), all cores."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def measure(fn: Callable[[], Any], workers: list[Any] | None = None) -> Measured:
    """Wall, CPU and peak memory of ``fn()``; with ``workers`` (psutil processes) also
    the CPU of the busiest of them, and memory sampled every 50 ms instead of 10."""
    with _peak_rss(0.05 if workers else 0.01) as peak:
        a0, b0, q0 = _cpu_all(), _busy(), _waits()
        k0 = _cpu_of(workers or [])
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        cpu_all, busy, q1 = _cpu_all() - a0, _busy() - b0, _waits()
        k1 = _cpu_of(workers or [])
    busiest = max((b - a for a, b in zip(k0, k1, strict=True)), default=0.0)
    other = max(busy - cpu_all, 0.0)
    return Measured(wall, cpu, peak[0], out, cpu_all, other, busiest, q1[0] - q0[0], q1[1] - q0[1])


def _waits() -> tuple[float, float]:
    """Seconds this thread has waited on a run queue (``/proc/thread-self/schedstat``)
    and the machine's cores have been stolen by the hypervisor (``/proc/stat``): where
    the wall time of a single-threaded run goes beyond its CPU time."""
    queued = stolen = 0.0
    with suppress(OSError, ValueError, IndexError):
        with open("/proc/thread-self/schedstat") as f:
            queued = int(f.read().split()[1]) / 1e9
        with open("/proc/stat") as f:
            stolen = int(f.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    return queued, stolen


def wait_quiet(cores: float, timeout: float) -> float:
    """Wait (at most ``timeout`` s) for a second in which the other processes of the
    machine use less than ``cores`` cores; returns what they used in the last second."""
    deadline = time.monotonic() + timeout
    while True:
        a0, b0 = _cpu_all(), _busy()
        time.sleep(1.0)
        other = max((_busy() - b0) - (_cpu_all() - a0), 0.0)
        if other < cores or time.monotonic() > deadline:
            return other


def liqflow_metrics(data: MarketData, g: SweepGrid) -> pd.DataFrame:
    res = run_sweep(g, data, overfitting=False)
    return res.table[METRICS].reset_index(drop=True)


def _window(data: MarketData) -> tuple[int, int]:
    """liqflow's default evaluation window: the days the asset is priced."""
    r = data.returns(["btc"])["btc"].to_numpy()
    ok = np.flatnonzero(np.isfinite(r))
    return int(ok[0]), int(ok[-1]) + 1


def numpy_metrics(data: MarketData, g: SweepGrid) -> pd.DataFrame:
    """The same three metrics with plain numpy, vectorised over the hold periods.

    Position over day t: 1 if an event is at most ``hold - 1`` days old at the close of
    ``t - 2`` (decided at the close, traded at the next close), from the first priced
    day; net return ``(1 - cost |Δw|)(1 + w r) - 1``; Sharpe ``mean / std(ddof=1)``
    annualised, NaN without variance; drawdown from an equity that starts at 1.
    """
    cost = g.fee_bps / 1e4
    ppy = data.periods_per_year
    events = data.event_rows(event_params(g))
    rets = data.returns(["btc"])["btc"].to_numpy()
    start, stop = _window(data)
    n = events.shape[1]
    t = np.arange(n)
    holds = np.asarray(g.hold_days)
    out = []
    for row in events:
        last = np.maximum.accumulate(np.where(row, t, -1))
        age = np.where(last >= 0, t - last, n + 1)
        on = age[:, None] < holds[None, :]  # (T, holds): decided at the close of t
        w = np.zeros(on.shape)
        w[2:] = on[:-2]
        w[:start] = 0.0
        w = w[start - 1 : stop]
        tau = np.abs(np.diff(w, axis=0))
        x = (1.0 - cost * tau) * (1.0 + w[1:] * np.nan_to_num(rets[start:stop, None])) - 1.0
        eq = np.cumprod(1.0 + x, axis=0)
        peak = np.maximum(np.maximum.accumulate(eq, axis=0), 1.0)
        m = x.shape[0]
        s1, s2 = x.sum(axis=0), (x * x).sum(axis=0)
        dev = s2 - s1 * s1 / m
        sd = np.where(dev > 1e-12 * s2, np.sqrt(np.maximum(dev, 0.0) / (m - 1)), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sharpe = np.where(sd > 0, s1 / m / sd * np.sqrt(ppy), np.nan)
        out.append(
            np.column_stack([eq[-1] - 1.0, sharpe, np.minimum((eq / peak - 1.0).min(axis=0), 0.0)])
        )
    return pd.DataFrame(np.concatenate(out), columns=METRICS)


def vectorbt_metrics(data: MarketData, g: SweepGrid) -> pd.DataFrame:
    """``vbt.Portfolio.from_signals`` (one column per combination), then the 3 metrics."""
    import vectorbt as vbt

    events = data.event_rows(event_params(g))
    n = events.shape[1]
    t = np.arange(n)
    last = np.maximum.accumulate(np.where(events, t, -1), axis=1)  # (sets, T)
    age = np.where(last >= 0, t - last, n + 1)
    holds = np.asarray(g.hold_days)
    want = (age.T[:, :, None] < holds[None, None, :]).reshape(n, -1)
    prev = np.vstack([np.zeros((1, want.shape[1]), bool), want[:-1]])
    entries = np.vstack([np.zeros((1, want.shape[1]), bool), (want & ~prev)[:-1]])
    exits = np.vstack([np.zeros((1, want.shape[1]), bool), (~want & prev)[:-1]])
    start, stop = _window(data)
    close = data.prices["btc"].to_numpy()[:, None]
    pf = vbt.Portfolio.from_signals(
        close, entries, exits, fees=g.fee_bps / 1e4, freq="1D", init_cash=1.0
    )
    # only the portfolio value from vectorbt (pf.max_drawdown() builds drawdown records
    # and costs ~15x the simulation); the three metrics from it as liqflow defines them
    v = np.asarray(pf.value())[start - 1 : stop]
    r = v[1:] / v[:-1] - 1.0
    sd = r.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(sd > 1e-12, r.mean(axis=0) / sd * np.sqrt(data.periods_per_year), np.nan)
    eq = v[1:] / v[0]
    peak = np.maximum(np.maximum.accumulate(eq, axis=0), 1.0)
    return pd.DataFrame(
        {
            "total_return": eq[-1] - 1.0,
            "sharpe": sharpe,
            "max_drawdown": np.minimum((eq / peak - 1.0).min(axis=0), 0.0),
        }
    )


def _best(fn: Callable[[], Any], repeat: int) -> Measured:
    runs = [measure(fn) for _ in range(repeat)]
    best = min(runs, key=lambda m: m.cpu)
    best.peak_mib = max(m.peak_mib for m in runs)
    return best


def _line(name: str, m: Measured, n: int) -> str:
    return (
        f"  {name:28s} wall {m.wall:7.3f} s  CPU {m.cpu:7.3f} s  -> {n / m.cpu:10,.0f} combos/s "
        f"(CPU)  peak +{m.peak_mib:7.1f} MiB"
    )


def same_work(data: MarketData, fee_bps: float, repeat: int) -> None:
    n = 10**4
    g = grid(n, fee_bps)
    print(f"1. same work, same outputs: {n:,} combinations, total return + Sharpe + max DD")
    liqflow_metrics(data, g)  # numba compilation (or cache load) outside the timings
    lf = _best(lambda: liqflow_metrics(data, g), repeat)
    tw = _best(lambda: numpy_metrics(data, g), repeat)
    diff = (lf.out - tw.out).abs().max()
    same_nan = bool((lf.out.isna() == tw.out.isna()).all().all())
    print(_line("liqflow run_sweep", lf, n))
    print(_line("numpy twin", tw, n))
    print(
        f"  numpy twin equals liqflow: max |diff| total return {diff['total_return']:.1e}, "
        f"Sharpe {diff['sharpe']:.1e}, max DD {diff['max_drawdown']:.1e}, same NaN: {same_nan}"
    )
    print(
        f"  ratio numpy twin / liqflow: CPU {tw.cpu / lf.cpu:.2f}x, wall {tw.wall / lf.wall:.2f}x; "
        f"peak memory liqflow {lf.peak_mib:.0f} MiB vs numpy twin {tw.peak_mib:.0f} MiB"
    )
    try:
        import vectorbt  # noqa: F401
    except ImportError as exc:
        print(f"  vectorbt side skipped: {exc} (install the [bench] extra: pip install vectorbt)")
        return
    vectorbt_metrics(data, g)
    vb = _best(lambda: vectorbt_metrics(data, g), repeat)
    print(_line("vectorbt (3 metrics only)", vb, n))
    print(
        f"  ratio vectorbt / liqflow: CPU {vb.cpu / lf.cpu:.2f}x, wall {vb.wall / lf.wall:.2f}x; "
        f"peak memory liqflow {lf.peak_mib:.0f} MiB vs vectorbt {vb.peak_mib:.0f} MiB"
    )
    g0 = grid(n, 0.0)
    a, b = liqflow_metrics(data, g0), vectorbt_metrics(data, g0)
    print(
        "  vectorbt agreement with zero costs: max |diff| total return "
        f"{(a - b)['total_return'].abs().max():.1e}, max DD {(a - b)['max_drawdown'].abs().max():.1e}"
    )
    rel = (
        (lf.out - vb.out)["total_return"].abs() / vb.out["total_return"].abs().clip(1e-9)
    ).median()
    print(f"  with costs (fee on order value vs on turnover): median relative diff {rel:.1e}")


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def end_to_end(data: MarketData, fee_bps: float, sizes: list[int], repeat: int) -> None:
    print(f"2. end to end in this process (kernel + deflated Sharpe + PBO, 16 blocks); {_load()}")
    run_sweep(grid(10**3, fee_bps), data)  # compile / load the kernels
    for n in sizes:
        runs = [measure(lambda n=n: run_sweep(grid(n, fee_bps), data)) for _ in range(repeat)]
        wall = float(np.median([m.wall for m in runs]))
        cpu = float(np.median([m.cpu for m in runs]))
        peak = max(m.peak_mib for m in runs)
        queued = float(np.median([m.queued for m in runs]))
        stolen = float(np.median([m.stolen for m in runs]))
        res = runs[0].out
        est = grid(n, fee_bps).memory_estimate(len(data.calendar)) / 2**20
        print(
            f"  {n:>9,} combos: median of {repeat}: wall {wall:7.2f} s ({n / wall:8,.0f}/s), "
            f"CPU {cpu:7.2f} s ({n / cpu:8,.0f}/s), peak +{peak:6.0f} MiB "
            f"(memory model: {est:,.0f} MiB); "
            f"PBO {res.pbo.pbo:.3f}, DSR {res.deflated.dsr:.3f}; waited for a core "
            f"{queued:.2f} s, stolen from the cores {stolen:.2f} s; {_load()}"
        )


#: Dask settings of both benchmark clusters unless ``--dask-defaults``: no dashboard, the
#: event-loop monitor ticking every second instead of every 20 ms, the workers' statistical
#: profiler off (it samples every 10 ms) and their memory checked every second instead
#: of every 100 ms, the system monitor every 2 s instead of 500 ms. Idle, Dask's defaults
#: cost this process about 50 ms of CPU per second and each worker about 37 ms; these
#: settings, about 7 and 3 ms. On a machine with as many cores as workers that CPU is
#: taken from the workers.
QUIET_DASK = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def dask_scaling(data: MarketData, fee_bps: float, n: int, opts: argparse.Namespace) -> None:
    import dask

    defaults = opts.dask_defaults
    settings = {} if defaults else QUIET_DASK
    how = (
        "a client connected and closed by each sweep (the scheduler's address)"
        if opts.connect
        else "through one connected client per cluster"
    )
    print(
        f"3. Dask: {n:,} combinations, local cluster of single-threaded worker processes "
        f"(kernel and both CSCV passes on the workers), {how}; "
        f"{'Dask defaults' if defaults else f'no dashboard, {settings}'}; {_load()}"
    )
    with dask.config.set(settings):
        _dask_pairs(data, fee_bps, n, opts, dashboard=":0" if defaults else None)


def _same(res: Any, ref: Any) -> bool:
    """The same table, PBO (every per-split vector) and DSR as the in-process run."""
    return bool(
        res.table.equals(ref.table)
        and all(
            np.array_equal(getattr(res.pbo, f), getattr(ref.pbo, f))
            for f in ("logits", "is_sharpe", "oos_sharpe")
        )
        and res.pbo.pbo == ref.pbo.pbo
        and res.deflated == ref.deflated
    )


def _dask_pairs(
    data: MarketData, fee_bps: float, n: int, opts: argparse.Namespace, dashboard: str | None
) -> None:
    from distributed import Client, LocalCluster

    g = grid(n, fee_bps)
    ref = run_sweep(g, data)
    runs: dict[int, list[Measured]] = {1: [], 2: []}
    same = True
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=dashboard
        ) as one,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=dashboard
        ) as two,
        Client(one, set_as_default=False) as c1,
        Client(two, set_as_default=False) as c2,
    ):
        import psutil

        # an address: a client connected and closed by each sweep (the CLI's --scheduler)
        target: dict[int, Any] = (
            {1: one.scheduler_address, 2: two.scheduler_address} if opts.connect else {1: c1, 2: c2}
        )
        procs = {
            w: [psutil.Process(n.pid) for n in c.workers.values()] for w, c in ((1, one), (2, two))
        }
        for w in (1, 2):
            run_sweep(grid(10**3, fee_bps), data, scheduler=target[w])  # workers load kernels
        for i in range(opts.dask_repeat):  # interleaved, so both see the same load
            if opts.quiet > 0:
                wait_quiet(opts.quiet, opts.quiet_wait)
            for w in (1, 2) if i % 2 == 0 else (2, 1):
                m = measure(lambda w=w: run_sweep(g, data, scheduler=target[w]), procs[w])
                same &= _same(m.out, ref)
                m.out = None
                runs[w].append(m)
    _print_pairs(runs, n, opts.quiet, same)


def _print_pairs(runs: dict[int, list[Measured]], n: int, quiet: float, same: bool) -> None:
    for w in (1, 2):
        walls = [m.wall for m in runs[w]]
        med = float(np.median(walls))
        print(
            f"  {w} worker(s): median wall {med:6.2f} s ({n / med:8,.0f} combos/s; runs "
            f"{', '.join(f'{x:.2f}' for x in walls)}), peak "
            f"+{max(m.peak_mib for m in runs[w]):6.0f} MiB (client, scheduler and workers); "
            f"CPU of all processes {np.median([m.cpu_all for m in runs[w]]):.2f} s, of the "
            f"client {np.median([m.cpu for m in runs[w]]):.2f} s, of the busiest worker "
            f"{np.median([m.busiest for m in runs[w]]):.2f} s"
        )
    pairs = list(zip(runs[1], runs[2], strict=True))
    ratios = np.array([a.wall / b.wall for a, b in pairs])
    # other processes' load during the pair, in cores
    others = np.array([(a.other + b.other) / (a.wall + b.wall) for a, b in pairs])
    print(
        "  ratio 2 workers / 1 worker (throughput) per interleaved pair, with the other "
        "processes' load meanwhile: "
        + ", ".join(f"{r:.2f}x ({o:.2f} cores)" for r, o in zip(ratios, others, strict=True))
    )
    calm = others < max(quiet, 0.15)
    calm_text = (
        f"median of the {int(calm.sum())} pairs with under {max(quiet, 0.15):.2f} cores of "
        f"other load {np.median(ratios[calm]):.2f}x"
        if calm.any()
        else "no pair ran without other load"
    )
    print(
        f"  ratio median of all {ratios.size} pairs {np.median(ratios):.2f}x; {calm_text}; "
        f"identical table, PBO and DSR to in-process: {same}; {_load()}"
    )
    # CPU seconds do not grow when other processes take turns on the cores: the work
    # of the busiest worker (the parallel part's critical path) is a figure a loaded
    # machine does not blur, the wall-time ratio above is the one that counts
    work = np.array([a.busiest / b.busiest for a, b in pairs if b.busiest > 0])
    if work.size:
        print(
            f"  CPU of the single worker / CPU of the busiest of the two, median of the "
            f"pairs: {np.median(work):.2f}x (the wall-time ratio's bound without the "
            f"client's serial part)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=3000, help="calendar days (default 3000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of part 1; the best is shown")
    ap.add_argument("--fee-bps", type=float, default=20.0)
    ap.add_argument("--million", action="store_true", help="also 10^6 combinations in part 2")
    ap.add_argument("--e2e-repeat", type=int, default=3, help="runs per size in part 2 (median)")
    ap.add_argument("--dask-repeat", type=int, default=5, help="interleaved pairs in part 3")
    ap.add_argument(
        "--quiet",
        type=float,
        default=0.0,
        metavar="CORES",
        help="part 3: before each pair, wait for a second in which the other processes of "
        "the machine use fewer cores than this (default 0: do not wait)",
    )
    ap.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for --quiet (s)")
    ap.add_argument("--skip-same-work", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-e2e", action="store_true", help="skip part 2 (10^3..10^5)")
    ap.add_argument(
        "--connect",
        action="store_true",
        help="part 3: give each sweep the scheduler's address (a client connected and "
        "closed per sweep, as the CLI's --scheduler does) instead of one connected client "
        "per cluster",
    )
    ap.add_argument(
        "--dask-defaults",
        action="store_true",
        help="part 3 with Dask's default settings (dashboard, 20 ms event-loop tick)",
    )
    args = ap.parse_args()
    data = synthetic(args.days)
    load = os.getloadavg()[0]
    print(
        f"{args.days:,} days, {args.fee_bps:g} bp per unit turnover; load average {load:.2f} "
        f"on {os.cpu_count()} cores; NUMBA_CACHE_DIR={os.environ.get('NUMBA_CACHE_DIR')}"
    )
    if not args.skip_same_work:
        same_work(data, args.fee_bps, args.repeat)
    if not args.skip_e2e:
        end_to_end(data, args.fee_bps, [10**3, 10**4, 10**5], args.e2e_repeat)
    if args.million:
        end_to_end(data, args.fee_bps, [10**6], 1)
    if not args.skip_dask:
        dask_scaling(data, args.fee_bps, 10**5, args)


if __name__ == "__main__":
    main()
