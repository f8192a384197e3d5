"""Benchmark: import ../shared/data into a fresh store and build the full panel.

Baseline (same process): plain ``pandas.read_csv`` of the same files. Prints rows per
second for each step and the ratio of liqflow's import (parse + validate + upsert) and of
import + panel to the baseline. Usage: ``python bench/bench_import.py [DATA_DIR]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from liqflow.align import load_panel
from liqflow.catalog import default_catalog
from liqflow.importer import import_paths
from liqflow.store import Store

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not data.exists():
        sys.exit(f"data folder {data} not found; pass the path to shared/data")
    files = sorted(data.rglob("*.csv"))

    t0 = time.perf_counter()
    rows = sum(len(pd.read_csv(f)) for f in files)
    baseline = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        t0 = time.perf_counter()
        report = import_paths(store, default_catalog(), [data])
        t_import = time.perf_counter() - t0
        stored = store.row_count()
        t0 = time.perf_counter()
        panel = load_panel(store)
        t_panel = time.perf_counter() - t0
        t0 = time.perf_counter()
        import_paths(store, default_catalog(), [data])
        t_again = time.perf_counter() - t0

    print(
        f"files: {len(files)} ({len(report.loaded)} matched), CSV rows: {rows:,}, stored values: {stored:,}"
    )
    print(f"baseline pandas.read_csv    : {baseline:6.2f} s  {rows / baseline:12,.0f} rows/s")
    print(
        f"liqflow import (parse+upsert): {t_import:6.2f} s  {rows / t_import:12,.0f} rows/s  "
        f"ratio to baseline {t_import / baseline:5.1f}x slower"
    )
    print(f"liqflow re-import (no change): {t_again:6.2f} s  ratio {t_again / baseline:5.1f}x")
    print(
        f"load_panel (full, {panel.shape[0]:,} days x {panel.shape[1]} cols): {t_panel:6.2f} s  "
        f"{panel.size / t_panel:12,.0f} cells/s"
    )
    total = t_import + t_panel
    print(
        f"import + panel               : {total:6.2f} s  ratio to baseline {total / baseline:5.1f}x"
    )


if __name__ == "__main__":
    main()
