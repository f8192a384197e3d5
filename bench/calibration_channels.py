"""Size of the channel lead tests: persistent leaders (flows, funding) against crypto.

Run: ``python bench/calibration_channels.py [--draws 1000] [--store FILE]`` (about 40 min
on one core at 1,000 draws; the Monte Carlo interval of a 5 % rate is then +-1.4 %).

The channel claims (:data:`liqflow.study.claims.CHANNELS`) reuse the lead-lag and Granger
tests of the ``lead`` claims as they are. Those are calibrated by ``bench/calibration.py``
on leaders that are returns (little autocorrelation). A channel leader is different: the
weekly TGA change, the week's ETF net flow and above all the week's funding paid are
autocorrelated (funding's weekly AR(1) is about 0.9). This bench measures the size of
both tests, as the claims call them (lead-lag ``alternative="positive"`` on lags 4-13
weeks, ``p_value_positive``; Granger ``max_lag=13``, ``adjusted_p``), under nulls where
the leader has no lead on the follower:

* ``ar(phi)``: leader ``x_t = phi x_{t-1} + e_t`` with ``e_t`` and the follower sharing
  stochastic volatility and a contemporaneous correlation of 0.5 (``liqflow.testing``'s
  ``sv`` null), for phi = 0, 0.9, 0.97, over 300 and 550 weeks (funding's and the
  TGA's histories);
* with ``--store``: each real channel input of the store (its own autocorrelation,
  volatility and gaps) against an independent simulated follower (``sv``).

The null holds at every lead lag by construction (``e_s`` for ``s <= t`` is independent
of the follower after ``t``). Each row prints the rejection rate at 5 % with its 95 %
Wilson interval and PASS when it lies in [3 %, 7 %]; the ``ar(0)`` row is the baseline
(the returns-like leader of ``bench/calibration.py``) and each row prints its size as a
ratio to it.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from liqflow.stats.granger import granger_test
from liqflow.stats.leadlag import lead_lag
from liqflow.testing import lead_market

ALPHA = 0.05
N_NULL = 199
SIZE_RANGE = (0.03, 0.07)


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson, 1927)."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _prices(rets: np.ndarray, index: pd.DatetimeIndex, name: str) -> pd.Series:
    return pd.Series(np.exp(np.cumsum(rets)), index=index, name=name)


def _pvalues(
    leader: pd.Series, follower: pd.Series, rng: np.random.Generator
) -> tuple[float, float]:
    ll = lead_lag(
        leader,
        follower,
        freq="W",
        max_lag=13,
        n_null=N_NULL,
        n_boot=0,
        alternative="positive",
        lead_lags=(4, 13),
        seed=rng,
    )
    gr = granger_test(leader, follower, freq="W", max_lag=13, n_boot=N_NULL, seed=rng)
    return ll.p_value_positive, gr.adjusted_p


def ar_draws(phi: float, weeks: int, draws: int, seed: int) -> np.ndarray:
    """(lead-lag p, Granger p) per draw with an AR(``phi``) leader and no lead."""
    out = np.empty((draws, 2))
    for i in range(draws):
        rng = np.random.default_rng([seed, i])
        m = lead_market("sv", weeks + 200, seed=rng)
        e = np.diff(np.log(m.leader.to_numpy()))
        y = np.diff(np.log(m.follower.to_numpy()))
        x = np.empty_like(e)
        acc = 0.0
        for t, v in enumerate(e):  # x_t = phi x_{t-1} + e_t
            acc = phi * acc + v
            x[t] = acc
        idx = m.leader.index[1:][200:]
        out[i] = _pvalues(_prices(x[200:], idx, "leader"), _prices(y[200:], idx, "follower"), rng)
    return out


def real_draws(leader: pd.Series, draws: int, seed: int) -> np.ndarray:
    """(lead-lag p, Granger p) per draw: a real channel level against an independent follower."""
    from liqflow.stats._shared import weekly_closes

    weeks = weekly_closes(leader).index
    out = np.empty((draws, 2))
    for i in range(draws):
        rng = np.random.default_rng([seed, i])
        m = lead_market("sv", weeks.size, seed=rng)
        follower = pd.Series(m.follower.to_numpy()[1:], index=weeks, name="follower")
        out[i] = _pvalues(leader, follower, rng)
    return out


def _real_leaders(store_path: str) -> Iterator[tuple[str, pd.Series]]:
    from liqflow.catalog import default_catalog
    from liqflow.store import Store
    from liqflow.study import load_study_inputs

    with Store(store_path, read_only=True) as st:
        inputs = load_study_inputs(st, default_catalog())
    for ch in inputs.table.channels:
        if ch.key in inputs.series:
            yield ch.key, inputs.series[ch.key]


def _row(name: str, p: np.ndarray, base: np.ndarray | None) -> str:
    cells = []
    for j, test in enumerate(("lead-lag", "Granger")):
        hits, n = int(np.sum(p[:, j] <= ALPHA)), p.shape[0]
        lo, hi = wilson(hits, n)
        ok = SIZE_RANGE[0] <= hits / n <= SIZE_RANGE[1]
        ratio = ""
        if base is not None:
            b = float(np.mean(base[:, j] <= ALPHA))
            ratio = f" x{(hits / n) / b:.2f} vs ar(0)" if b > 0 else ""
        cells.append(
            f"{test} {hits / n:6.1%} [{lo:.1%}, {hi:.1%}] {'PASS' if ok else 'FAIL'}{ratio}"
        )
    return f"{name:<28} " + " | ".join(cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000, help="simulations per row")
    ap.add_argument("--store", default=None, help="a store holding the channel inputs")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"size at {ALPHA:.0%}, {args.draws} draws per row, {N_NULL} bootstrap draws per test")
    for weeks in (300, 550):
        base = ar_draws(0.0, weeks, args.draws, seed=weeks)
        print(_row(f"ar(0.00), {weeks} weeks", base, None))
        for phi in (0.9, 0.97):
            p = ar_draws(phi, weeks, args.draws, seed=weeks + int(phi * 100))
            print(_row(f"ar({phi:.2f}), {weeks} weeks", p, base))
    if args.store:
        for key, leader in _real_leaders(args.store):
            p = real_draws(leader, args.draws, seed=7)
            print(_row(f"real {key}", p, None))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
