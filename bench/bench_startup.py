"""Start-up: ``liqflow --help`` against ``python -c "import pandas, duckdb"`` and ``python -c pass``.

Each command runs ``--runs`` times as a fresh subprocess, the three interleaved so that
load on the machine hits them alike. Printed per command: the median wall time, the
median CPU time (user + system of the child) and the peak resident memory (max RSS),
then the ratios of ``liqflow --help`` to each baseline. ``liqflow status --help`` is
measured too (every ``--help`` builds only the command's options, not its imports).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
HELP = "from liqflow.cli import main; main({args!r})"
COMMANDS: dict[str, list[str]] = {
    "liqflow --help": [sys.executable, "-c", HELP.format(args=["--help"])],
    "liqflow status --help": [sys.executable, "-c", HELP.format(args=["status", "--help"])],
    "python -c 'import pandas, duckdb'": [sys.executable, "-c", "import pandas, duckdb"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


def run_once(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, max RSS MiB) of one run of ``cmd`` as a child process."""
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "100"}
    t0 = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).pid
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = ap.parse_args()
    for cmd in COMMANDS.values():
        run_once(cmd)  # warm the file cache and numba/pyc caches
    samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in COMMANDS}
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            samples[name].append(run_once(cmd))
    med = {
        name: tuple(statistics.median(s[i] for s in runs) for i in range(3))
        for name, runs in samples.items()
    }
    print(f"start-up, median of {args.runs} interleaved subprocess runs ({sys.executable})")
    print(f"{'command':38s} {'wall s':>8s} {'CPU s':>8s} {'max RSS MiB':>12s}")
    for name, (wall, cpu, rss) in med.items():
        print(f"{name:38s} {wall:8.3f} {cpu:8.3f} {rss:12.1f}")
    lf = med["liqflow --help"]
    for base in ("python -c 'import pandas, duckdb'", "python -c pass"):
        b = med[base]
        print(
            f"liqflow --help / {base}: wall {lf[0] / b[0]:.2f}x, CPU {lf[1] / b[1]:.2f}x, "
            f"peak memory {lf[2] / b[2]:.2f}x"
        )
    load = os.getloadavg()[0]
    print(
        f"(load average during the bench: {load:.2f} on {os.cpu_count()} cores; "
        f"self: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
