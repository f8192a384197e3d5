"""Sweep speed: liqflow's kernel vs vectorbt's ``Portfolio.from_signals``, same rule.

The rule: hold BTC for ``hold_days`` days after a small-cap breakout event (decided at
the close, traded at the next close), otherwise cash, with a cost per unit of turnover.
The grid: 5 look-backs x 5 volume thresholds x 4 persistences (100 event sets) x 100
hold periods = 10,000 combinations. Both sides get the same event arrays (computed by
``liqflow.backtest.event_matrix``, timed in both) and report total return, Sharpe ratio
and maximum drawdown per combination.

vectorbt is a bench-only optional dependency (its licence is not OSI open source);
liqflow never imports it. Run it from an environment that has both::

    python -m venv /work/venv-vbt
    /work/venv-vbt/bin/pip install -e . vectorbt
    /work/venv-vbt/bin/python bench/bench_sweep.py

First-call times include numba compilation: the bench points ``NUMBA_CACHE_DIR`` at a
fresh temporary folder so liqflow's on-disk kernel cache does not hide it. A check with
zero costs confirms that both compute the same returns.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="liqflow-bench-numba-"))

import numpy as np
import pandas as pd

from liqflow.backtest import (
    BreakoutParams,
    MarketData,
    SweepGrid,
    event_matrix,
    events_on_calendar,
    run_sweep,
)

LOOKBACKS = (0, 63, 126, 252, 504)
VOLUME = (0.0, 1.1, 1.2, 1.3, 1.5)
PERSISTENCE = (0, 5, 10, 20)
HOLDS = tuple(range(1, 101))


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


def grid(fee_bps: float) -> SweepGrid:
    return SweepGrid(
        signal=("breakout",),
        lookback=LOOKBACKS,
        volume_threshold=VOLUME,
        persistence=PERSISTENCE,
        hold_days=HOLDS,
        asset=("btc",),
        fallback=("cash",),
        fee_bps=fee_bps,
        slippage_bps=0.0,
    )


def liqflow_sweep(data: MarketData, fee_bps: float) -> pd.DataFrame:
    res = run_sweep(grid(fee_bps), data, overfitting=False)
    return res.table[["total_return", "sharpe", "max_drawdown"]]


def vectorbt_sweep(data: MarketData, fee_bps: float) -> pd.DataFrame:
    """The same grid with ``vbt.Portfolio.from_signals`` (one column per combo)."""
    import vectorbt as vbt

    # combos in liqflow's order: event set (lookback, volume, persistence), then hold
    params = [BreakoutParams(lb, vt, ps) for lb in LOOKBACKS for vt in VOLUME for ps in PERSISTENCE]
    sc = data.small_caps
    assert sc is not None
    sessions = event_matrix(sc["close"], sc["volume"], params)
    cal = data.calendar
    events = np.stack([events_on_calendar(pd.Series(r, index=sc.index), cal) for r in sessions])
    n = len(cal)
    t = np.arange(n)
    last = np.maximum.accumulate(np.where(events, t, -1), axis=1)  # (sets, T)
    age = np.where(last >= 0, t - last, n + 1)  # days since the latest event
    holds = np.asarray(HOLDS)
    # want[t, set, hold]: the decision at the close of t; the order fills at t + 1
    want = age.T[:, :, None] < holds[None, None, :]
    want = want.reshape(n, -1)
    prev = np.vstack([np.zeros((1, want.shape[1]), bool), want[:-1]])
    entries = np.vstack([np.zeros((1, want.shape[1]), bool), (want & ~prev)[:-1]])
    exits = np.vstack([np.zeros((1, want.shape[1]), bool), (~want & prev)[:-1]])
    close = data.prices["btc"].to_numpy()[:, None]
    pf = vbt.Portfolio.from_signals(
        close, entries, exits, fees=fee_bps / 1e4, freq="1D", init_cash=1.0
    )
    out = pd.DataFrame(
        {
            "total_return": np.asarray(pf.total_return()),
            "sharpe": np.asarray(pf.sharpe_ratio(year_freq="365D")),
            "max_drawdown": np.asarray(pf.max_drawdown()),
        }
    )
    return out


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(first call, best of ``repeat`` later calls, result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return first, best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=3000, help="calendar days (default 3000)")
    ap.add_argument("--repeat", type=int, default=3, help="warm runs; the best is reported")
    ap.add_argument("--fee-bps", type=float, default=20.0)
    args = ap.parse_args()
    data = synthetic(args.days)
    n = len(grid(args.fee_bps))
    print(
        f"{n:,} combinations (5 look-backs x 5 volume thresholds x 4 persistences x "
        f"100 hold periods), {args.days:,} days, {args.fee_bps:g} bp per unit turnover; "
        f"numba cache: {os.environ['NUMBA_CACHE_DIR']}"
    )
    lf_first, lf_warm, lf = timed(lambda: liqflow_sweep(data, args.fee_bps), args.repeat)
    t0 = time.perf_counter()
    full = run_sweep(grid(args.fee_bps), data)
    lf_full = time.perf_counter() - t0
    try:
        vf_first, vf_warm, vf = timed(lambda: vectorbt_sweep(data, args.fee_bps), args.repeat)
    except ImportError:
        print("vectorbt is not installed here: liqflow only")
        print(
            f"liqflow : first call {lf_first:.2f} s, warm {lf_warm:.3f} s -> {n / lf_warm:,.0f} combos/s"
        )
        return
    print(
        f"liqflow : first call (incl. numba compile) {lf_first:6.2f} s; warm {lf_warm:7.3f} s -> {n / lf_warm:10,.0f} combos/s"
    )
    print(
        f"vectorbt: first call (incl. numba compile) {vf_first:6.2f} s; warm {vf_warm:7.3f} s -> {n / vf_warm:10,.0f} combos/s"
    )
    print(f"ratio liqflow / vectorbt (warm combos/s): {vf_warm / lf_warm:.1f}x")
    dsr = full.deflated.dsr if full.deflated is not None else float("nan")
    pbo = full.pbo.pbo if full.pbo is not None else float("nan")
    print(
        f"liqflow with the deflated Sharpe ratio and PBO (CSCV, 16 blocks) over the same "
        f"grid: {lf_full:.2f} s (DSR {dsr:.3f}, PBO {pbo:.3f} on this synthetic data)"
    )
    # same rule, same numbers: compare with zero costs (the fee models differ slightly)
    a = liqflow_sweep(data, 0.0)
    b = vectorbt_sweep(data, 0.0)
    diff = np.abs(a["total_return"].to_numpy() - b["total_return"].to_numpy())
    dd = np.abs(a["max_drawdown"].to_numpy() - b["max_drawdown"].to_numpy())
    print(
        f"agreement with zero costs: max |total return diff| {np.nanmax(diff):.2e}, "
        f"max |max drawdown diff| {np.nanmax(dd):.2e}"
    )
    with_cost = np.abs(lf["total_return"].to_numpy() - vf["total_return"].to_numpy())
    rel = with_cost / np.maximum(np.abs(vf["total_return"].to_numpy()), 1e-9)
    print(
        f"with costs (vectorbt charges the fee on the order value): median relative "
        f"total-return difference {np.nanmedian(rel):.2e}"
    )


if __name__ == "__main__":
    main()
