"""The API guide's script (docs/api.md): the panel, signals, stages, evidence and universe
as pandas objects, each in a few lines. Run it on a store that holds the data::

    python docs/api_example.py [STORE] [AS_OF]

(default: the user's store and the commands' default date). The test suite runs it on
the real data (tests/test_docs.py).
"""

from __future__ import annotations

import sys

import pandas as pd

import liqflow
from liqflow.signals import net_liquidity


def main(store: str | None = None, as_of: str | None = None) -> dict[str, object]:
    """Run each section of the guide; return what each produced (for the tests)."""
    # --- the panel: one column per series, point in time (release lags applied) ---
    ids = ["fed_assets", "tga", "rrp", "small_caps", "btc"]
    with liqflow.Store(store, read_only=True) as st:
        panel = liqflow.load_panel(st, ids, as_of=as_of)
    liquidity = net_liquidity(panel["fed_assets"], panel["tga"], panel["rrp"])  # USD millions
    print(liquidity.dropna().tail(3))

    # --- the signals and the current stage (what `liqflow status` prints) ---
    signals = liqflow.load_signals(store, as_of=as_of)
    print(signals.stage_status().summary())
    frame = signals.to_frame()  # one column per signal, calendar days

    # --- the stage of every day ---
    stages = liqflow.load_stages(store, as_of=as_of)
    print(stages["stage"].value_counts().sort_index())

    # --- the evidence (what `liqflow study` prints) ---
    evidence = liqflow.load_evidence(store, as_of=as_of)
    print(evidence.claims[["claim", "verdict"]])
    tests = evidence.to_frame()  # one row per test: effect, interval, n, p, Holm p

    # --- the point-in-time crypto universe (what `liqflow universe` prints) ---
    universe = liqflow.load_universe(store, as_of=as_of, top_n=10)
    print(universe.head(10))

    return {
        "panel": panel,
        "net_liquidity": liquidity,
        "signals": frame,
        "stages": stages,
        "claims": evidence.claims,
        "tests": tests,
        "universe": universe,
    }


if __name__ == "__main__":
    pd.set_option("display.width", 100)
    main(*sys.argv[1:3])
