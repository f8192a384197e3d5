"""Benchmark: ``liqflow import`` of a data folder against a same-work pandas + DuckDB writer.

Baseline (same process, same files, same output): for each file liqflow loads,
``pandas.read_csv``, parse the dates, rename to liqflow fields, melt to long rows, drop
NaN, then drop duplicate keys and one ``INSERT OR REPLACE`` into a DuckDB file with the
same ``observations`` schema and primary key. The bench checks that both stores hold
the same keys (and the same values but for the conflicts liqflow reports and keeps).

Prints, for each side: time (best of ``--repeat`` interleaved runs), peak memory above
start-up (RSS of a child process running that side alone), bytes per stored value, the
ratio liqflow / baseline; the no-op re-import as a fraction of a fresh import; and, for
reference, plain ``pandas.read_csv`` of every CSV file under the folder.

Usage: ``python bench/bench_import.py [DATA_DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from liqflow.catalog import default_catalog
from liqflow.importer import ImportReport, import_paths
from liqflow.store import Store

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"
_FIELDS = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj close": "adj_close",
    "volume": "volume",
    "price": "close",
    "market_cap": "market_cap",
    "total_volume": "volume",
}
_SCHEMA = """CREATE TABLE observations (
    series_id VARCHAR NOT NULL, date DATE NOT NULL, field VARCHAR NOT NULL,
    value DOUBLE NOT NULL, source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_id, source, field, date))"""


def _rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    """Peak RSS of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmHWM in /proc/self/status")


def _dates(raw: pd.Series) -> pd.DatetimeIndex:
    text = raw.astype(str)
    if text.iloc[0].isdigit():
        nums = pd.to_numeric(text)
        return pd.DatetimeIndex(pd.to_datetime(nums, unit="ms" if nums.max() > 1e11 else "s"))
    return pd.DatetimeIndex(pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d"))


def baseline(files: list[tuple[str, str, str, str]], db: Path) -> int:
    """Same work as the import, written plainly: returns rows stored.

    ``files`` holds (path, series_id, source, primary field) for each file liqflow loads.
    """
    longs = []
    for path, sid, source, primary in files:
        frame = pd.read_csv(path, na_values=[".", "null"])
        date_col = frame.columns[0]
        frame.index = _dates(frame[date_col]).normalize().rename("date")
        frame = frame.drop(columns=[date_col])
        names = {c: _FIELDS.get(c.strip().lower(), c.strip().lower()) for c in frame.columns}
        if len(frame.columns) == 1 and names[frame.columns[0]] not in _FIELDS.values():
            names = {frame.columns[0]: primary}
        frame = frame.rename(columns=names)[[n for n in names.values() if n in _KEEP]]
        vol = frame["volume"].to_numpy() if "volume" in frame.columns else None
        if vol is not None and len(vol) > 1 and vol[-1] == 0 and vol[-2] > 0:
            frame = frame.iloc[:-1]  # liqflow drops an intraday snapshot bar too
        long = frame.reset_index().melt(id_vars="date", var_name="field", value_name="v")
        long = long.dropna().rename(columns={"v": "value"})
        long["series_id"] = sid
        long["source"] = source
        longs.append(long)
    rows = pd.concat(longs, ignore_index=True)
    rows["value"] = rows["value"].astype(np.float64)
    rows = rows.drop_duplicates(["series_id", "source", "field", "date"], keep="first")
    with duckdb.connect(str(db)) as con:
        con.execute(_SCHEMA)
        con.register("_rows", rows)
        con.execute(
            "INSERT OR REPLACE INTO observations SELECT series_id, CAST(date AS DATE), field, "
            "value, source, now()::TIMESTAMP FROM _rows"
        )
        return int(con.execute("SELECT count(*) FROM observations").fetchall()[0][0])


_KEEP = {"open", "high", "low", "close", "adj_close", "volume", "market_cap", "value"}


def liqflow_import(data: Path, db: Path) -> tuple[ImportReport, int]:
    with Store(db) as store:
        report = import_paths(store, default_catalog(), [data])
        return report, store.row_count()


def _plan(data: Path) -> list[tuple[str, str, str, str]]:
    cat = default_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        report, _ = liqflow_import(data, Path(tmp) / "plan.duckdb")
    return [
        (str(f.path), f.series_id, f.source, cat[f.series_id].primary_field) for f in report.loaded
    ]


def _child(side: str, data: Path, plan_file: Path) -> None:
    """Run one side alone and print JSON: seconds, start-up and peak RSS, rows."""
    files = [tuple(x) for x in json.loads(plan_file.read_text())]
    start_rss = _rss_mib()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if side == "liqflow":
            _, rows = liqflow_import(data, Path(tmp) / "s.duckdb")
        else:
            rows = baseline(files, Path(tmp) / "b.duckdb")  # type: ignore[arg-type]
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "start": start_rss, "peak": _peak_mib(), "rows": rows}))


def _memory(side: str, data: Path, plan_file: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, str(data), "--child", side, "--plan", str(plan_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _same_output(data: Path, files: list[tuple[str, str, str, str]], tmp: Path) -> str:
    """Both writers store the same keys; values differ only where liqflow kept a conflict."""
    report, _ = liqflow_import(data, tmp / "check.duckdb")
    baseline(files, tmp / "check_base.duckdb")
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{tmp / 'check.duckdb'}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{tmp / 'check_base.duckdb'}' AS b (READ_ONLY)")
        only, differ = con.execute(
            """SELECT count(*) FILTER (WHERE l.value IS NULL OR b.value IS NULL),
                      count(*) FILTER (WHERE l.value <> b.value)
               FROM l.observations l FULL JOIN b.observations b
               USING (series_id, source, field, date)"""
        ).fetchall()[0]
    if only:
        raise SystemExit(f"outputs differ: {only} keys stored by one side only")
    if differ:
        raise SystemExit(f"outputs differ: {differ} values")
    return f"same {len(files)} files, same keys and values ({len(report.revisions)} conflicts kept)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=("liqflow", "baseline"))
    ap.add_argument("--plan", type=Path)
    args = ap.parse_args()
    data: Path = args.data
    if not data.exists():
        sys.exit(f"data folder {data} not found; pass the path to shared/data")
    if args.child:
        _child(args.child, data, args.plan)
        return
    files = _plan(data)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        print(_same_output(data, files, tmp))
        t_lf, t_base, t_noop = [], [], []
        for k in range(args.repeat):  # interleaved, best of each
            t0 = time.perf_counter()
            baseline(files, tmp / f"b{k}.duckdb")
            t_base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _, stored = liqflow_import(data, tmp / f"l{k}.duckdb")
            t_lf.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            liqflow_import(data, tmp / f"l{k}.duckdb")
            t_noop.append(time.perf_counter() - t0)
        plan_file = tmp / "plan.json"
        plan_file.write_text(json.dumps(files))
        mem = {side: _memory(side, data, plan_file) for side in ("liqflow", "baseline")}
    csvs = sorted(data.rglob("*.csv"))
    t0 = time.perf_counter()
    csv_rows = sum(len(pd.read_csv(f)) for f in csvs)
    t_plain = time.perf_counter() - t0

    lf, base, noop = min(t_lf), min(t_base), min(t_noop)
    above = {s: m["peak"] - m["start"] for s, m in mem.items()}
    print(f"files loaded: {len(files)}, stored values: {stored:,}")
    print(
        f"baseline pandas+duckdb (same work): {base:6.2f} s   peak above start-up "
        f"{above['baseline']:7.1f} MiB  ({above['baseline'] * 2**20 / stored:6.1f} B/value)"
    )
    print(
        f"liqflow import                    : {lf:6.2f} s   peak above start-up "
        f"{above['liqflow']:7.1f} MiB  ({above['liqflow'] * 2**20 / stored:6.1f} B/value)"
    )
    print(f"ratio liqflow / baseline time     : {lf / base:6.2f}x   (target <= 1.0x)")
    print(f"ratio liqflow / baseline memory   : {above['liqflow'] / above['baseline']:6.2f}x")
    print(f"no-op re-import / fresh import    : {noop / lf:6.1%}   ({noop:.2f} s; target < 10 %)")
    print(
        f"reference: plain pandas.read_csv of all {len(csvs)} CSV files ({csv_rows:,} rows): "
        f"{t_plain:.2f} s; liqflow import is {lf / t_plain:.1f}x that"
    )


if __name__ == "__main__":
    main()
