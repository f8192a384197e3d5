"""Event study with 10,000 stationary-bootstrap resamples: liqflow vs a loop over arch.

Run: ``python bench/bench_events.py`` (from the repository root).

Data: Russell 2000 all-time closing highs as events and BTC as target, from
``../shared/data`` when present (``LIQFLOW_SHARED_DATA`` overrides the folder);
otherwise a synthetic history of the same size (a random walk with drift on trading
days as "Russell", another on calendar days as "BTC").

Statistic (identical on both sides), for each horizon h in 30/60/90 calendar days and
on the history rows t (Russell trading days with a complete h-day BTC window), with
f_t = 1 on declustered event dates and r_t the h-day forward BTC return:
``sum(f* r*) / sum(f*) - mean(r*)`` on each stationary-bootstrap resample (f*, r*).

* baseline: ``arch.bootstrap.StationaryBootstrap(b, f, r)``, ``for data in
  bs.bootstrap(10_000)``, the statistic computed from each resample with numpy.
* liqflow: ``liqflow.stats.event_study(..., n_boot=10_000, n_placebo=0)`` (the whole
  event study: forward returns, declustering, per-event table, block-length estimate
  and bootstrap), and ``excess_return_bootstrap`` alone (the same work as the baseline).

Both use the block lengths liqflow chooses (``optimal_block_length`` of the forward
returns); the baseline is not charged for estimating them. Times are the best of
``REPEATS`` runs. The bootstrap quantiles of both sides are printed as a check that
they estimate the same distribution.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from arch.bootstrap import StationaryBootstrap

from liqflow.stats.events import decluster, event_study, excess_return_bootstrap

REPS = 10_000
REPEATS = 3
HORIZONS = (30, 60, 90)
DATA = Path(
    os.environ.get("LIQFLOW_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


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


def main() -> None:
    source, rut, btc = load_data()
    events = all_time_highs(rut).loc[btc.index[0] :]
    print(f"{source}: {events.sum()} raw events, {events.size} history days, {REPS} resamples")

    # warm-up (numba compile / cache load) outside the timings
    event_study(events, btc.rename("btc"), HORIZONS, n_boot=10, n_placebo=0, seed=0)
    t_full, res = best_of(
        lambda: event_study(events, btc.rename("btc"), HORIZONS, n_boot=REPS, n_placebo=0, seed=1)
    )
    stats = res.to_frame()  # type: ignore[attr-defined]

    daily = btc.resample("D").last().ffill()
    t_kernel = t_arch = 0.0
    for h in HORIZONS:
        fwd = (daily.shift(-h) / daily - 1.0).reindex(events.index)
        ok = fwd.notna().to_numpy()
        r = fwd.to_numpy()[ok]
        f = np.isin(events.index[ok], decluster(events, h)).astype(np.float64)
        block = float(stats.loc[("btc", h), "block_length"])
        tk, mine = best_of(
            lambda f=f, r=r, block=block: excess_return_bootstrap(f, r, REPS, block, seed=2)
        )
        ta, ref = best_of(lambda f=f, r=r, block=block: arch_loop(f, r, block, seed=3))
        t_kernel += tk
        t_arch += ta
        q = [0.05, 0.5, 0.95]
        print(
            f"  +{h}d: n={int(f.sum())} events, rows={r.size}, block={block:.1f}; "
            f"excess quantiles 5/50/95% liqflow "
            f"{np.round(np.nanquantile(mine, q), 4)} arch {np.round(np.nanquantile(ref, q), 4)}"  # type: ignore[arg-type]
        )
    print(f"arch StationaryBootstrap loop ({len(HORIZONS)} horizons): {t_arch:8.3f} s")
    print(
        f"liqflow excess_return_bootstrap (same work): {t_kernel:8.3f} s  -> {t_arch / t_kernel:6.1f}x"
    )
    print(
        f"liqflow event_study (whole study):           {t_full:8.3f} s  -> {t_arch / t_full:6.1f}x"
    )


if __name__ == "__main__":
    main()
