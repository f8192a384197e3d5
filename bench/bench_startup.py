"""Start-up: every ``liqflow ... --help`` against ``python -c "import pandas, duckdb"``.

Each command runs ``--runs`` times as a fresh subprocess, all of them interleaved so that
load on the machine hits them alike: ``liqflow --help``, ``liqflow COMMAND --help`` for
every registered command, and the baselines ``python -c "import pandas, duckdb"`` and
``python -c pass``. Printed per command: the median wall time, the median CPU time
(user + system of the child) and the peak resident memory (max RSS); then the slowest
``--help`` by name, how many are under the :data:`TARGET` of 0.5 s, and the ratios of
``liqflow --help`` and of the slowest to each baseline.
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
PANDAS = "python -c 'import pandas, duckdb'"
PASS = "python -c pass"
#: Wall time every ``--help`` must stay under (seconds, idle machine).
TARGET = 0.5


def commands() -> dict[str, list[str]]:
    """Every ``--help`` of the CLI (root first), then the two baselines."""
    sys.path.insert(0, SRC)
    from liqflow.cli.main import app

    names = [c.name for c in app.registered_commands if c.name and not c.hidden]
    out = {"liqflow --help": [sys.executable, "-c", HELP.format(args=["--help"])]}
    for name in names:
        out[f"liqflow {name} --help"] = [
            sys.executable,
            "-c",
            HELP.format(args=[name, "--help"]),
        ]
    out[PANDAS] = [sys.executable, "-c", "import pandas, duckdb"]
    out[PASS] = [sys.executable, "-c", "pass"]
    return out


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


def _ratio(name: str, a: tuple[float, ...], base: str, b: tuple[float, ...]) -> str:
    return (
        f"{name} / {base}: wall {a[0] / b[0]:.2f}x, CPU {a[1] / b[1]:.2f}x, "
        f"peak memory {a[2] / b[2]:.2f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="runs per command (default 9)")
    args = ap.parse_args()
    cmds = commands()
    load0 = os.getloadavg()[0]
    for cmd in cmds.values():
        run_once(cmd)  # warm the file cache and the .pyc files
    samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():
            samples[name].append(run_once(cmd))
    med = {
        name: tuple(statistics.median(s[i] for s in runs) for i in range(3))
        for name, runs in samples.items()
    }
    print(f"start-up, median of {args.runs} interleaved subprocess runs ({sys.executable})")
    print(f"{'command':38s} {'wall s':>8s} {'CPU s':>8s} {'max RSS MiB':>12s}")
    for name, (wall, cpu, rss) in med.items():
        print(f"{name:38s} {wall:8.3f} {cpu:8.3f} {rss:12.1f}")
    helps = [n for n in med if n.startswith("liqflow")]
    slowest = max(helps, key=lambda n: med[n][0])
    under = sum(med[n][0] < TARGET for n in helps)
    print(
        f"slowest: {slowest} ({med[slowest][0]:.3f} s wall, {med[slowest][1]:.3f} s CPU); "
        f"{under} of {len(helps)} --help under {TARGET} s"
    )
    for name in dict.fromkeys(("liqflow --help", slowest)):
        for base in (PANDAS, PASS):
            print(_ratio(name, med[name], base, med[base]))
    print(
        f"(load average before {load0:.2f}, after {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} cores; self: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
