"""Every signal and the stage timeline over the full history, with a point-in-time check.

Run: ``python bench/bench_signals.py [--data DIR] [--stride K]`` from the repository root.

Data: ``../shared/data`` (``LIQFLOW_SHARED_DATA`` or ``--data`` override) imported into a
temporary store and loaded as the point-in-time panel (``liqflow status``'s panel: every
catalogue series, plus CoinGecko BTC market cap for dominance). Setup is not timed.

* liqflow: ``compute_signals(panel)`` once: liquidity, credit, large caps, small caps and
  their breakouts, crypto, supercycle traits, flags and the stage timeline, for every day.
  Best of ``--repeat`` runs, with its peak memory.
* correctness check, not a speed baseline: on every ``--stride``-th day *t*,
  ``compute_signals(panel.loc[:t])`` must give row *t* of the single pass (the
  point-in-time invariance property on real data). Recomputing day by day does
  quadratically more work than one pass, so its time is no fair comparison, and there is
  no independent one-pass implementation of every signal to compare with: this bench
  prints **no speed ratio**. It exits with status 1 if any sampled day differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow.catalog import default_catalog
from liqflow.cli.signals import load_signal_panel
from liqflow.importer import import_paths
from liqflow.signals import compute_signals
from liqflow.store import Store

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _panel(data: Path) -> pd.DataFrame:
    cat = default_catalog()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as st:
        import_paths(st, cat, [data])
        return load_signal_panel(st, cat)


def _same_row(a: pd.Series, b: pd.Series) -> bool:
    for col in a.index:
        x, y = a[col], b[col]
        if pd.isna(x) and pd.isna(y):
            continue
        if isinstance(x, float | np.floating) and isinstance(y, float | np.floating):
            if not np.isclose(x, y, rtol=1e-12, atol=0.0):
                return False
        elif x != y:
            return False
    return True


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _timed_with_peak(fn):  # type: ignore[no-untyped-def]
    """(seconds, peak RSS above the start in MiB, result), RSS sampled every 2 ms."""
    start = _rss()
    peak = [start]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            stop.wait(0.002)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    stop.set()
    t.join()
    return dt, (max(peak[0], _rss()) - start) / 2**20, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("LIQFLOW_SHARED_DATA", DEFAULT_DATA))
    )
    parser.add_argument("--stride", type=int, default=250, help="time every K-th day")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "PROVENANCE.md").exists():
        raise SystemExit(f"no data folder at {args.data} (needs ../shared/data)")

    panel = _panel(args.data)
    n = len(panel)
    print(
        f"panel: {n} days ({panel.index[0]:%Y-%m-%d}..{panel.index[-1]:%Y-%m-%d}), "
        f"{panel.shape[1]} columns"
    )

    best = np.inf
    peak = 0.0
    full = None
    for _ in range(args.repeat):
        dt, mib, full = _timed_with_peak(lambda: compute_signals(panel))
        best = min(best, dt)
        peak = max(peak, mib)
    assert full is not None
    print(
        f"liqflow, one pass (every signal + stage timeline, {full.frame.shape[1]} columns): "
        f"{best:.2f} s (best of {args.repeat}), peak memory +{peak:.0f} MiB"
    )

    positions = np.arange(args.stride - 1, n, args.stride)
    mismatched = []
    t0 = time.perf_counter()
    for pos in positions:
        day = panel.index[pos]
        part = compute_signals(panel.iloc[: pos + 1])
        ok = part.frame.columns.equals(full.frame.columns)
        ok = (
            ok
            and _same_row(part.frame.iloc[-1], full.frame.loc[day])
            and _same_row(part.stages.frame.iloc[-1], full.stages.frame.loc[day])
        )
        if not ok:
            mismatched.append(f"{day:%Y-%m-%d}")
    check = time.perf_counter() - t0
    print(
        f"point-in-time check (correctness, not timed against liqflow): recomputed on "
        f"{len(positions)} days (every {args.stride}th) from the data up to each day, "
        f"{len(positions) - len(mismatched)} of {len(positions)} rows identical to the "
        f"single pass ({check:.0f} s)"
    )
    print(
        "speed ratio: none printed (no same-work baseline: day-by-day recomputation does "
        "quadratically more work, and no independent one-pass implementation exists)"
    )
    if mismatched:
        print(f"MISMATCH on {', '.join(mismatched)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
