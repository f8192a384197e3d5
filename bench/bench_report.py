"""Benchmark: the whole report, from an imported store to the HTML file.

Imports ../shared/data into a temporary store (not timed; or pass ``--store PATH`` to
use an existing one), loads the libraries once (timed separately: interpreter and
import start-up are excluded from the target), then builds and writes the report:

* **cold**: the cache is not used, every statistic is computed;
* **cached**: the second run, heavy statistics read from the store's cache (keyed by a
  hash of their inputs), which is what a user re-running the command sees;

with the wall time of each part (panel, signals, statistics, backtest, rendering) and
the peak memory (process peak RSS from ``getrusage``; Python-level peak of one cached
build from ``tracemalloc``, measured in a separate run so it does not slow the timed
ones). The baseline, measured in the same process, is loading the report's panel alone
(``load_panel``): the report's time is printed as a ratio of it.

With ``--coins N``, N generated coins are added to the store first, in the shared
data's layouts (:func:`bench_universe.synthetic`: CoinMarketCap weekly top 18 and monthly
top 200 snapshots, a CoinGecko daily top 100, daily closes from 2013 to 2026 with births,
deaths and gaps): the report at 300 coins x 13 years.

Targets: cold under 3 s and cached under 1 s wall on 2 cores, peak memory under 1 GB
(300 coins: cached under 5 s, peak under 1 GB).
Usage: ``python bench/bench_report.py [DATA_DIR] [--store PATH] [--as-of DATE] [--coins N]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"


def _build(
    store_path: Path, out: Path, as_of: str | None, use_cache: bool = True
) -> tuple[float, object]:
    from liqflow.report import ReportConfig, write_report
    from liqflow.store import Store

    t0 = time.perf_counter()
    with Store(store_path) as st:
        report = write_report(st, out, as_of=as_of, config=ReportConfig(use_cache=use_cache))
    return time.perf_counter() - t0, report


def _add_coins(store_path: Path, n_coins: int) -> None:
    """Write ``n_coins`` generated coins (snapshots, coin table, closes) into the store."""
    import pandas as pd

    from bench_universe import synthetic
    from liqflow.store import Batch, Store

    snaps, close = synthetic(n_coins, seed=7)
    coins = (
        snaps.groupby(["coin_id", "symbol", "name"])["date"]
        .agg(first="min", last="max")
        .reset_index()
    )
    batches = [
        Batch(f"coin_bench{k:04d}", "coingecko", pd.DataFrame({"close": close[cid].dropna()}),
              symbol=str(cid), unit="USD", frequency="D")
        for k, cid in enumerate(close.columns)
        if close[cid].notna().any()
    ]  # fmt: skip
    with Store(store_path) as st:
        st.write_universe(snaps, coins)
        st.write(batches)


def _parts(report: object) -> str:
    frame = report.results.timing_frame()  # type: ignore[attr-defined]
    return "  ".join(
        f"{name} {row.seconds:5.2f}s{' (cache)' if row.cached else ''}"
        for name, row in frame.iterrows()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--store", type=Path, help="existing store (skips the import)")
    ap.add_argument("--as-of", default=None)
    ap.add_argument("--coins", type=int, default=0, help="generated coins to add (e.g. 300)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import arch.bootstrap  # noqa: F401  (the heaviest imports, loaded by the statistics)
    import plotly.offline  # noqa: F401

    import liqflow.backtest
    import liqflow.report
    import liqflow.signals
    import liqflow.stats  # noqa: F401
    from liqflow.align import load_panel
    from liqflow.catalog import default_catalog
    from liqflow.importer import import_paths
    from liqflow.report.build import report_ids
    from liqflow.store import Store

    t_import_libs = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "store.duckdb"
        if args.store is not None:
            shutil.copy(args.store, work)
        else:
            if not args.data.exists():
                sys.exit(f"data folder {args.data} not found; pass the path to shared/data")
            t0 = time.perf_counter()
            with Store(work) as st:
                import_paths(st, default_catalog(), [args.data])
            print(
                f"import of {args.data} (not part of the report): {time.perf_counter() - t0:.2f} s"
            )
        if args.coins:
            t0 = time.perf_counter()
            _add_coins(work, args.coins)
            print(
                f"{args.coins} generated coins added (not timed): {time.perf_counter() - t0:.2f} s"
            )
        out = Path(tmp) / "report.html"

        # baseline: the report's panel alone, best of 3
        base = []
        with Store(work, read_only=True) as st:
            ids = [s for s in report_ids(default_catalog()) if st.sources(s)]
            for _ in range(3):
                t0 = time.perf_counter()
                panel = load_panel(st, ids, as_of=args.as_of)
                base.append(time.perf_counter() - t0)
        t_base = min(base)

        t_cold, cold = _build(work, out, args.as_of, use_cache=False)  # everything computed
        _build(work, out, args.as_of)  # fills the cache (if the store did not hold it yet)
        t_warm, warm = _build(work, out, args.as_of)
        size = out.stat().st_size
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB (Linux)

        tracemalloc.start()
        _build(work, Path(tmp) / "again.html", args.as_of)
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"library imports (start-up, excluded): {t_import_libs:.2f} s")
    print(
        f"panel: {panel.shape[0]:,} days x {panel.shape[1]} columns; report file {size / 1e6:.1f} MB"
    )
    print(f"baseline load_panel alone (best of 3): {t_base:6.2f} s")
    print(
        f"report, cold (no cache)              : {t_cold:6.2f} s  = {t_cold / t_base:4.1f}x the baseline"
    )
    print(f"    {_parts(cold)}")
    print(
        f"report, cached statistics            : {t_warm:6.2f} s  = {t_warm / t_base:4.1f}x the baseline"
    )
    print(f"    {_parts(warm)}")
    print(f"cold / cached                        : {t_cold / t_warm:4.1f}x")
    print(
        f"peak memory: process RSS {rss:,.0f} MB; Python allocations of one cached build {py_peak / 1e6:,.0f} MB"
    )
    if args.coins:
        verdict = "met" if t_warm < 5.0 and rss < 1024 else "NOT met"
        print(f"target at {args.coins} coins (cached < 5 s, peak < 1 GB): {verdict}")
    else:
        verdict = "met" if t_cold < 3.0 and t_warm < 1.0 and rss < 1024 else "NOT met"
        print(f"target (cold < 3 s, cached < 1 s, peak < 1 GB): {verdict}")


if __name__ == "__main__":
    main()
