"""`liqflow fetch` in a real process, against the replay server, while others read the store.

The fetch's first request is held by the server until the readers are done, so `report`
and `status` run while the fetch is provably under way (its process alive, its request
open); they must succeed, and the fetch must then store what it fetched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
from replay_harness import ReplayServer, Reply, Seen

import liqflow
from liqflow.store import Batch, Store

SRC = str(Path(liqflow.__file__).resolve().parents[1])
GRAPH = "/graph/fredgraph.csv"
#: Longest the server holds the fetch's request (below the providers' 30 s timeout).
HOLD = 25.0


def _liqflow(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=SRC, COLUMNS="200")  # the replay proxy and CA included
    env.pop("LIQFLOW_HOME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "liqflow", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


class HeldGraph:
    """fredgraph.csv for any id; every answer waits until ``release`` (at most HOLD s)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, seen: Seen) -> Reply:
        self.release.wait(HOLD)
        days = pd.bdate_range("2025-10-01", "2025-11-28")
        lines = [f"{d:%Y-%m-%d},{4 + i / 100:.2f}" for i, d in enumerate(days)]
        body = "observation_date," + seen.query["id"] + "\r\n" + "\r\n".join(lines) + "\r\n"
        return Reply(200, body, {"Content-Type": "text/csv"})


def _seed(db: Path) -> None:
    weeks = pd.date_range("2024-01-03", periods=100, freq="7D", name="date")
    frame = pd.DataFrame({"value": [7e6 + i for i in range(len(weeks))]}, index=weeks)
    with Store(db) as store:
        store.write([Batch("fed_assets", "fred", frame)])


def test_report_and_status_succeed_while_a_fetch_runs(replay: ReplayServer, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _seed(db)
    graph = HeldGraph()
    replay.route("fred.stlouisfed.org", GRAPH, graph)
    fetch = _liqflow("fetch", "ust10y", "--store", str(db))
    try:
        deadline = time.monotonic() + 60
        while not replay.requests("fred.stlouisfed.org"):
            assert fetch.poll() is None, fetch.communicate()
            assert time.monotonic() < deadline, "the fetch never reached the replay server"
            time.sleep(0.05)
        readers = {
            "report": _liqflow(
                "report", "--offline", "--store", str(db), "-o", str(tmp_path / "r.html")
            ),
            "status": _liqflow("status", "--store", str(db)),
        }
        for name, proc in readers.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{name}: {err}"
            assert out.strip() and "Traceback" not in err, name
        assert fetch.poll() is None, "the fetch ended before the readers did"
        assert not graph.release.is_set()
    finally:
        graph.release.set()
        out, err = fetch.communicate(timeout=120)
    assert fetch.returncode == 0, err
    assert (tmp_path / "r.html").stat().st_size > 0
    with Store(db, read_only=True) as store:
        assert len(store.read("ust10y", "fred")) == len(pd.bdate_range("2025-10-01", "2025-11-28"))
        assert len(store.read("fed_assets", "fred")) == 100
