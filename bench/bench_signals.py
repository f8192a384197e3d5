"""Every signal and the stage timeline over the full history vs day-by-day recomputation.

Run: ``python bench/bench_signals.py [--data DIR] [--stride K]`` from the repository root.

Data: ``../shared/data`` (``LIQFLOW_SHARED_DATA`` or ``--data`` override) imported into a
temporary store and loaded as the point-in-time panel (``liqflow status``'s panel: every
catalogue series, plus CoinGecko BTC market cap for dominance). Setup is not timed.

* liqflow: ``compute_signals(panel)`` once: liquidity, credit, large caps, small caps and
  their breakouts, crypto, supercycle traits, flags and the stage timeline, for every day.
  Best of ``--repeat`` runs.
* baseline (the honest point-in-time method without the invariance property): for each
  day *t* of the panel, ``compute_signals(panel.loc[:t])`` and keep row *t*. Running it
  for all days takes hours, so it is timed on every ``--stride``-th day (uniform over
  the history) and extrapolated: total = mean sampled time x number of days. The
  printout says so. As a check, row *t* of each sampled recomputation is compared with
  row *t* of the single pass (the point-in-time invariance property on real data).
"""

from __future__ import annotations

import argparse
import os
import tempfile
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
    full = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        full = compute_signals(panel)
        best = min(best, time.perf_counter() - t0)
    assert full is not None
    print(
        f"liqflow, one pass (every signal + stage timeline, {full.frame.shape[1]} columns): "
        f"{best:.2f} s (best of {args.repeat})"
    )

    positions = np.arange(args.stride - 1, n, args.stride)
    times = []
    mismatched = 0
    for pos in positions:
        day = panel.index[pos]
        t0 = time.perf_counter()
        part = compute_signals(panel.iloc[: pos + 1])
        times.append(time.perf_counter() - t0)
        ok = part.frame.columns.equals(full.frame.columns)
        ok = (
            ok
            and _same_row(part.frame.iloc[-1], full.frame.loc[day])
            and _same_row(part.stages.frame.iloc[-1], full.stages.frame.loc[day])
        )
        mismatched += not ok
    for _ in range(args.repeat):  # again after the samples: same machine load on both sides
        t0 = time.perf_counter()
        compute_signals(panel)
        best = min(best, time.perf_counter() - t0)
    print(
        f"liqflow, one pass, best of {2 * args.repeat} (before and after the baseline): {best:.2f} s"
    )
    mean = float(np.mean(times))
    naive = mean * n
    print(
        f"baseline, day-by-day recomputation: timed on {len(positions)} days (every "
        f"{args.stride}th day), mean {mean:.3f} s per day; EXTRAPOLATED to all {n} days: "
        f"{naive:,.0f} s ({naive / 3600:.1f} h)"
    )
    print(
        f"point-in-time check on the sampled days: {len(positions) - mismatched} of {len(positions)} rows identical"
    )
    print(f"ratio (baseline / liqflow): {naive / best:,.0f}x  (target >= 50x)")


if __name__ == "__main__":
    main()
