"""Event-study block bootstrap: liqflow vs a loop over arch and vs a vectorised numpy twin.

Run: ``python bench/bench_events.py`` (from the repository root).

Data: Russell 2000 all-time closing highs as events and BTC as target, from
``../shared/data`` when present (``LIQFLOW_SHARED_DATA`` overrides the folder);
otherwise a synthetic history of the same size (a random walk with drift on trading
days as "Russell", another on calendar days as "BTC").

Statistic (identical on all sides), for each horizon h in 30/60/90 calendar days and
on the history rows t (Russell trading days with a complete h-day BTC window, from
BTC's own rows), with f_t = 1 on declustered event dates and r_t the h-day forward BTC
return: ``sum(f* r*) / sum(f*) - mean(r*)`` on each of 10,000 stationary-bootstrap
resamples (f*, r*).

* baseline 1: ``arch.bootstrap.StationaryBootstrap(b, f, r)``, ``for data in
  bs.bootstrap(10_000)``, the statistic computed from each resample with numpy;
* baseline 2 (the fair one): a vectorised numpy stationary bootstrap -- geometric
  block lengths and uniform starts drawn at once, the ``(chunk, n)`` index matrix by
  ``np.maximum.accumulate`` over the block starts, the statistic by fancy indexing --
  in chunks of 1,000 resamples;
* baseline 3 (the closest: the same algorithm without numba): numpy prefix sums -- the same
  geometric blocks and uniform starts drawn at once, each block's sum a difference of
  prefix sums of the series repeated twice, in chunks of 1,000 resamples;
* liqflow: ``excess_return_bootstrap`` (block sums from prefix sums over block starts,
  numba kernel; nothing of size reps x n).

All use the block lengths ``optimal_block_length`` gives for the forward returns.
Times are the best of ``REPEATS`` runs; peak memory (tracemalloc, numpy allocations
included) from one further run of each side. The bootstrap quantiles of all sides are
printed as a check that they estimate the same distribution.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from arch.bootstrap import StationaryBootstrap

from liqflow.stats._shared import forward_simple_returns
from liqflow.stats.bootstrap import optimal_block_length
from liqflow.stats.events import decluster, excess_return_bootstrap

REPS = 10_000
REPEATS = 3
CHUNK = 1_000
HORIZONS = (30, 60, 90)
DATA = Path(
    os.environ.get("LIQFLOW_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def _blocks(
    rng: np.random.Generator, m: int, k: int, n: int, block: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m`` resamples of ``k`` stationary-bootstrap blocks covering ``n`` periods: the
    geometric lengths (redrawn until they cover ``n``), the uniform starts and where each
    block begins in the resample."""
    lengths = rng.geometric(1.0 / block, (m, k))
    starts = rng.integers(0, n, (m, k))
    short = lengths.sum(axis=1) < n
    while short.any():
        lengths[short] = rng.geometric(1.0 / block, (int(short.sum()), k))
        short = lengths.sum(axis=1) < n
    return lengths, starts, np.cumsum(lengths, axis=1) - lengths


def _read_close(path: Path) -> pd.Series:
    frame = pd.read_csv(path, usecols=["Date", "Close"])
    idx = pd.DatetimeIndex(pd.to_datetime(frame["Date"].str.slice(0, 10)), name="date")
    out = pd.Series(frame["Close"].to_numpy(dtype=np.float64), index=idx)
    return out[~out.index.duplicated(keep="last")].sort_index().dropna()


def load_data() -> tuple[str, pd.Series, pd.Series]:
    """(source label, Russell closes on trading days, BTC closes on calendar days)."""
    rut_file = DATA / "equities" / "RUT_daily.csv"
    btc_file = DATA / "crypto" / "BTC_daily.csv"
    if rut_file.exists() and btc_file.exists():
        return f"real data from {DATA}", _read_close(rut_file), _read_close(btc_file)
    rng = np.random.default_rng(20240601)
    tdays = pd.bdate_range("2005-01-03", "2026-02-20", name="date")
    rut = pd.Series(np.exp(np.cumsum(rng.normal(3e-4, 0.013, tdays.size))) * 600, tdays)
    cdays = pd.date_range("2014-09-17", "2026-06-05", freq="D", name="date")
    btc = pd.Series(np.exp(np.cumsum(rng.normal(1.5e-3, 0.037, cdays.size))) * 450, cdays)
    return "synthetic data (../shared/data not found)", rut, btc


def all_time_highs(close: pd.Series) -> pd.Series:
    """True on days the close exceeds every earlier close (point-in-time)."""
    return close > close.cummax().shift(1)


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def arch_loop(flags: np.ndarray, fwd: np.ndarray, block: float, seed: int) -> np.ndarray:
    bs = StationaryBootstrap(block, flags, fwd, seed=np.random.default_rng(seed))
    out = np.empty(REPS)
    for i, (data, _) in enumerate(bs.bootstrap(REPS)):
        f, r = data
        k = f.sum()
        out[i] = (f @ r) / k - r.mean() if k > 0 else np.nan
    return out


def numpy_vectorised(flags: np.ndarray, fwd: np.ndarray, block: float, seed: int) -> np.ndarray:
    """Stationary bootstrap with dense ``(chunk, n)`` index matrices, all in numpy.

    Geometric block lengths and uniform starts for every block at once; each position's
    block by ``np.maximum.accumulate`` over the marked block starts; the statistic by
    fancy indexing.
    """
    rng = np.random.default_rng(seed)
    n = fwd.size
    out = np.empty(REPS)
    pos = np.arange(n)
    k = int(np.ceil(2 * n / block + 10))  # blocks per resample: covers n almost surely
    for lo in range(0, REPS, CHUNK):
        m = min(CHUNK, REPS - lo)
        _, starts, begins = _blocks(rng, m, k, n, block)
        marks = np.zeros((m, n), dtype=np.int64)
        rows, cols = np.nonzero(begins < n)
        marks[rows, begins[rows, cols]] = cols
        bid = np.maximum.accumulate(marks, axis=1)
        first = np.take_along_axis(begins, bid, axis=1)
        idx = (np.take_along_axis(starts, bid, axis=1) + pos - first) % n
        f, r = flags[idx], fwd[idx]
        events = f.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + m] = np.where(
                events > 0, (f * r).sum(axis=1) / events - r.mean(axis=1), np.nan
            )
    return out


def numpy_prefix_sums(flags: np.ndarray, fwd: np.ndarray, block: float, seed: int) -> np.ndarray:
    """Stationary bootstrap from block sums in plain numpy (liqflow's algorithm, no numba).

    Blocks as in :func:`numpy_vectorised`; block ``(s, L)`` cut to the positions left
    adds ``prefix[s + L] - prefix[s]`` of the columns ``f, f r, r`` repeated twice.
    """
    rng = np.random.default_rng(seed)
    n = fwd.size
    cols = np.column_stack([flags, flags * fwd, fwd])
    prefix = np.zeros((2 * n + 1, 3))
    np.cumsum(np.concatenate([cols, cols]), axis=0, out=prefix[1:])
    out = np.empty(REPS)
    k = int(np.ceil(2 * n / block + 10))
    for lo in range(0, REPS, CHUNK):
        m = min(CHUNK, REPS - lo)
        lengths, starts, begins = _blocks(rng, m, k, n, block)
        take = np.clip(n - begins, 0, lengths)
        tot = (prefix[starts + take] - prefix[starts]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + m] = np.where(
                tot[:, 0] > 0, tot[:, 1] / tot[:, 0] - tot[:, 2] / n, np.nan
            )
    return out


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    source, rut, btc = load_data()
    events = all_time_highs(rut).loc[btc.index[0] :]
    print(f"{source}: {events.sum()} raw events, {events.size} history days, {REPS} resamples")
    excess_return_bootstrap(np.ones(20), np.ones(20), 10, 2.0, seed=0)  # numba warm-up
    names = ("arch loop", "numpy vectorised", "numpy prefix sums", "liqflow")
    times = dict.fromkeys(names, 0.0)
    peaks = dict.fromkeys(names, 0.0)
    for h in HORIZONS:
        r = forward_simple_returns(btc, pd.DatetimeIndex(events.index), h)
        ok = np.isfinite(r)
        r = r[ok]
        f = np.isin(events.index[ok], decluster(events, h)).astype(np.float64)
        block = optimal_block_length(r)
        sides: dict[str, Callable[[], np.ndarray]] = {
            "arch loop": lambda f=f, r=r, block=block: arch_loop(f, r, block, seed=3),
            "numpy vectorised": lambda f=f, r=r, block=block: numpy_vectorised(f, r, block, 4),
            "numpy prefix sums": lambda f=f, r=r, block=block: numpy_prefix_sums(f, r, block, 5),
            "liqflow": lambda f=f, r=r, block=block: excess_return_bootstrap(
                f, r, REPS, block, seed=2
            ),
        }
        q = [0.05, 0.5, 0.95]
        line = [f"  +{h}d: n={int(f.sum())} events, rows={r.size}, block={block:.1f}; 5/50/95%"]
        for name, fn in sides.items():
            t, draws = best_of(fn)
            times[name] += t
            peaks[name] = max(peaks[name], peak_mib(fn))
            line.append(f"{name} {np.round(np.nanquantile(draws, q), 4)}")  # type: ignore[arg-type]
        print(" ".join(line))
    for name in names:
        print(
            f"{name:18s} ({len(HORIZONS)} horizons): {times[name]:8.3f} s, peak {peaks[name]:8.1f} MiB"
        )
    mine = times["liqflow"]
    print(f"liqflow vs arch loop:        {times['arch loop'] / mine:6.1f}x faster")
    print(
        f"liqflow vs numpy vectorised: {times['numpy vectorised'] / mine:6.1f}x faster (fair baseline, dense indices)"
    )
    print(
        f"liqflow vs numpy prefix sums: {times['numpy prefix sums'] / mine:6.1f}x faster "
        "(closest baseline: same algorithm without numba)"
    )
    print(
        f"peak memory: liqflow {peaks['liqflow']:.1f} MiB, numpy {peaks['numpy vectorised']:.1f} MiB, "
        f"numpy prefix sums {peaks['numpy prefix sums']:.1f} MiB, arch {peaks['arch loop']:.1f} MiB"
    )


if __name__ == "__main__":
    main()
