"""Benchmark: the cost of a no-op re-fetch (everything already up to date).

Runs the real providers through the replay server of
``tests/providers/replay/replay_harness.py`` (a local HTTPS server and CONNECT proxy on
127.0.0.1; nothing leaves the machine): a first ``fetch`` into an empty store, then the
same ``fetch`` again. Prints the requests per series of the second, no-op fetch (the
target is one) and its time against the baseline run in the same process: plain
``httpx.Client.get`` of the same requests through the same proxy. FRED's pacing (2
requests a second) is turned off in both, so the ratio measures liqflow's own overhead.
Usage: ``python bench/bench_fetch.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "providers" / "replay"))

from replay_harness import Reply, Seen, serve

from liqflow.catalog import default_catalog
from liqflow.fetch import fetch
from liqflow.providers import RetryPolicy

FRED_IDS = ("fed_assets", "tga", "rrp", "hy_spread", "ig_spread", "vix", "ust10y", "ust2y")
KEY = "abcdefghij0123456789abcdefghij01"
DAYS = pd.bdate_range("2000-01-03", "2025-11-28")


def _observations(seen: Seen) -> Reply:
    start = pd.Timestamp(seen.query.get("observation_start", "1776-07-04"))
    rows = [
        {
            "realtime_start": "2025-12-01",
            "realtime_end": "2025-12-01",
            "date": f"{d:%Y-%m-%d}",
            "value": "4.5",
        }
        for d in DAYS[start <= DAYS]
    ]
    doc = {"realtime_start": seen.query.get("realtime_start", "2025-12-01"), "count": len(rows)}
    return Reply(200, doc | {"offset": 0, "limit": 100000, "observations": rows})


def _csv(seen: Seen) -> Reply:
    start = pd.Timestamp(seen.query.get("cosd", "1900-01-01"))
    lines = "".join(f"{d:%Y-%m-%d},4.5\r\n" for d in DAYS[start <= DAYS])
    return Reply(
        200, f"observation_date,{seen.query['id']}\r\n{lines}", {"Content-Type": "text/csv"}
    )


def main() -> None:
    cat = default_catalog()
    policy = RetryPolicy(pace={})
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as harness:
        os.environ["HTTPS_PROXY"] = harness.proxy_url
        os.environ["SSL_CERT_FILE"] = str(harness.ca)
        os.environ.pop("FRED_API_KEY", None)
        server = harness.server
        server.route("api.stlouisfed.org", "/fred/series/observations", _observations)
        server.route("fred.stlouisfed.org", "/graph/fredgraph.csv", _csv)
        from liqflow.store import Store

        for label, key in (("keyless fredgraph.csv", None), ("FRED web service", KEY)):
            if key:
                os.environ["FRED_API_KEY"] = key
            server.log.clear()
            with Store(Path(tmp) / f"{bool(key)}.duckdb") as store:
                first = fetch(store, cat, FRED_IDS, policy=policy)
                n_first = len(server.requests())
                t0 = time.perf_counter()
                again = fetch(store, cat, FRED_IDS, policy=policy)
                t_noop = time.perf_counter() - t0
            noop = server.requests()[n_first:]
            assert first.ok and again.ok, [r.error for r in (*first.results, *again.results)]
            t0 = time.perf_counter()
            with httpx.Client() as client:
                for s in noop:
                    client.get(f"https://{s.host}{s.path}", params=s.query)
            t_base = time.perf_counter() - t0
            print(
                f"{label}: no-op re-fetch of {len(FRED_IDS)} series made {len(noop)} requests "
                f"({len(noop) / len(FRED_IDS):.2f} per series; target 1); "
                f"{t_noop:.3f} s vs {t_base:.3f} s for plain httpx GETs of the same requests "
                f"(ratio {t_noop / t_base:.2f}x); first fetch: {n_first} requests, "
                f"{first.rows_added} rows"
            )


if __name__ == "__main__":
    main()
