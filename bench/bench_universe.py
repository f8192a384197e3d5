"""The point-in-time universe from every snapshot plus the alt basket, 2013-2026.

Run: ``python bench/bench_universe.py [--coins 300,600,1200] [--repeat 2]`` from the
repository root.

Data: synthetic, in the shared data's snapshot layout (the columns of
``liqflow.universe.SNAPSHOT_COLUMNS``): ``--coins`` coins with random-walk prices and
market caps (coins are born and die over the span), from 2013-04-28 to 2026-05-01 (4,752
days): a weekly top-18 (CoinMarketCap weekly), a monthly top-200 (the monthly market-cap
files) and, from 2025-08-05, a daily top-100 (CoinGecko). Generating it is not timed.

Work timed (the same in both):

1. the membership schedule: for every snapshot date, the snapshot in force and its
   members (deepest fresh snapshot; no top-N cap), stablecoins/wrapped tokens removed;
2. the equal-weight and market-cap-weight basket over every day: buy at each rebalance,
   hold (a stopped price held at its last value), returns, count and market-cap coverage.

* liqflow: ``membership_schedule`` + ``alt_basket`` (numpy per rebalance period).
* baseline: a straightforward pandas implementation: per snapshot date a ``groupby`` of
  the past snapshots for the one in force, then the basket in long format (``merge_asof``
  of prices onto the schedule, ``groupby`` by date for the holding values). Its returns
  are checked equal to liqflow's (max abs difference printed).

Printed: seconds and peak traced memory (``tracemalloc``) of each, the ratio, and how both
grow with coins x days.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from liqflow.signals.baskets import alt_basket
from liqflow.universe import SNAPSHOT_COLUMNS, exclusion_reason, membership_schedule

START, END = pd.Timestamp("2013-04-28"), pd.Timestamp("2026-05-01")
MAX_AGE = {"cmc_weekly": 10, "cmc_monthly_mcap": 40, "coingecko_top100": 7}


def synthetic(
    n_coins: int, seed: int = 0, start: pd.Timestamp = START
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(snapshots, daily closes by coin id) with births, deaths and rank changes."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, END, freq="D", name="date").as_unit("ns")
    T = len(days)
    birth = rng.integers(0, T * 3 // 4, n_coins)
    birth[: n_coins // 10] = 0
    death = np.minimum(birth + rng.integers(200, 2 * T, n_coins), T)
    logp = np.cumsum(rng.normal(0.0005, 0.05, (T, n_coins)), axis=0)
    alive = (np.arange(T)[:, None] >= birth) & (np.arange(T)[:, None] < death)
    price = np.where(alive, 2.0 + 50.0 * np.exp(logp), np.nan)  # never near 1 USD: no coin is
    # taken for a stablecoin by the price test, which the baseline does not run
    supply = 10 ** rng.uniform(6, 10, n_coins)
    cap = price * supply
    ids = np.array([f"coin-{k:04d}" for k in range(n_coins)], dtype=object)
    close = pd.DataFrame(price, index=days, columns=ids)
    # a tenth of the priced coins have gaps (the source missed days)
    gaps = rng.random((T, n_coins)) < 0.01
    close = close.mask(gaps & (np.arange(n_coins) % 10 == 0))
    parts = []
    weekly = np.flatnonzero(days.day_of_week == 6)
    monthly = np.flatnonzero((days.day_of_week == 6) & (days.day <= 7))
    daily = np.flatnonzero(days >= pd.Timestamp("2025-08-05"))
    for source, rows, depth in (
        ("cmc_weekly", weekly, 18),
        ("cmc_monthly_mcap", monthly, 200),
        ("coingecko_top100", daily, 100),
    ):
        sub = np.nan_to_num(cap[rows], nan=-1.0)
        order = np.argsort(-sub, axis=1)[:, :depth]
        for r, top in zip(rows, order, strict=True):
            ok = sub[rows.searchsorted(r), top] > 0
            top = top[ok]
            parts.append(
                pd.DataFrame(
                    {
                        "date": days[r],
                        "rank": np.arange(1, len(top) + 1),
                        "coin_id": ids[top],
                        "symbol": [f"C{k}" for k in top],
                        "name": [f"Coin {k}" for k in top],
                        "market_cap": cap[r, top],
                        "price": price[r, top],
                        "source": source,
                    }
                )
            )
    snaps = pd.concat(parts, ignore_index=True)[list(SNAPSHOT_COLUMNS)]
    return snaps, close


def baseline_schedule(snaps: pd.DataFrame) -> pd.DataFrame:
    """Membership schedule by straightforward pandas (groupby of the past per date)."""
    snaps = snaps[
        [
            exclusion_reason(s, n) is None
            for s, n in zip(snaps["symbol"], snaps["name"], strict=True)
        ]
    ]
    index = snaps.groupby(["source", "date"]).size().rename("depth").reset_index()
    index["max_age"] = index["source"].map(MAX_AGE)
    rows = {}
    last = None
    for day in sorted(index["date"].unique()):
        past = index[index["date"] <= day]
        latest = past.groupby("source").tail(1)
        fresh = latest[(day - latest["date"]).dt.days <= latest["max_age"]]
        pick = fresh.sort_values(["depth", "date"], ascending=False).iloc[0]
        g = snaps[(snaps["source"] == pick["source"]) & (snaps["date"] == pick["date"])]
        g = g[g["coin_id"] != "bitcoin"]
        caps = g.set_index("coin_id")["market_cap"]
        key = (frozenset(caps.index), pick["source"])
        if key != last:
            rows[pd.Timestamp(day)] = caps
            last = key
    frame = pd.DataFrame(rows).T.sort_index()
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame


def baseline_basket(close: pd.DataFrame, schedule: pd.DataFrame, weighting: str) -> pd.Series:
    """Buy-and-hold between rebalances in long format: merge_asof + groupby by date."""
    long = close.stack().dropna().rename("price").reset_index()
    long.columns = ["date", "coin_id", "price"]
    held_at = pd.DataFrame({"date": close.index, "reb": close.index})
    reb_dates = schedule.index[schedule.index.isin(close.index)]
    reb = pd.DataFrame({"date": reb_dates, "reb": reb_dates})
    day_reb = pd.merge_asof(held_at[["date"]], reb, on="date", allow_exact_matches=False)
    sched = schedule.stack().dropna().rename("cap").reset_index()
    sched.columns = ["reb", "coin_id", "cap"]
    base = sched.merge(long.rename(columns={"date": "reb", "price": "base"}), on=["reb", "coin_id"])
    w = base.assign(w=base["cap"] if weighting == "market_cap" else 1.0)
    w["w"] = w["w"] / w.groupby("reb")["w"].transform("sum")
    full = day_reb.dropna().merge(w, on="reb")
    full = full.merge(long, on=["date", "coin_id"], how="left")
    full = full.sort_values(["coin_id", "reb", "date"])
    full["price"] = full.groupby(["coin_id", "reb"])["price"].ffill()
    full["value"] = full["w"] * full["price"].fillna(full["base"]) / full["base"]
    value = full.groupby(["date", "reb"])["value"].sum().reset_index()
    # the previous day's value of the same holding (1 on the day after the rebalance)
    value["prev"] = value.groupby("reb")["value"].shift(1).fillna(1.0)
    return (value["value"] / value["prev"] - 1.0).set_axis(value["date"]).rename("return")


def _measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` runs, then peak traced memory of one more (tracing
    slows a run down, so it is not timed)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coins", default="300,600,1200", help="coin counts, comma separated")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    ap.add_argument(
        "--starts", default="2013-04-28,2019-11-03", help="first days of the spans, comma separated"
    )
    args = ap.parse_args()
    print(f"spans ending {END:%Y-%m-%d}; liqflow vs baseline (pandas groupby/merge)")
    print(
        f"{'coins':>6} {'days':>6} {'coin-days':>10} {'snap rows':>9} | {'liqflow s':>9} "
        f"{'MiB':>7} | {'baseline s':>10} {'MiB':>7} | {'speed-up':>8} {'mem ratio':>9} {'max |diff|':>10}"
    )
    runs = [
        (int(c), pd.Timestamp(d)) for d in args.starts.split(",") for c in args.coins.split(",")
    ]
    for n, start in runs:
        snaps, close = synthetic(n, start=start)

        def ours(snaps: pd.DataFrame = snaps, close: pd.DataFrame = close) -> Any:
            sched = membership_schedule(snaps)
            eq = alt_basket(close, sched, min_coverage=0.0, min_coins=1)
            mc = alt_basket(close, sched, weighting="market_cap", min_coverage=0.0, min_coins=1)
            return eq.frame["index_raw"], mc, sched

        def theirs(snaps: pd.DataFrame = snaps, close: pd.DataFrame = close) -> Any:
            sched = baseline_schedule(snaps)
            return baseline_basket(close, sched, "equal"), baseline_basket(
                close, sched, "market_cap"
            )

        t1, m1, (level, _mc, _sched) = _measure(ours, args.repeat)
        t2, m2, (ret_eq, _ret_mc) = _measure(theirs, args.repeat)
        mine = level.pct_change(fill_method=None).reindex(ret_eq.index)
        diff = float(np.nanmax(np.abs(mine.to_numpy() - ret_eq.to_numpy())))
        T = len(close)
        print(
            f"{n:>6} {T:>6} {n * T:>10,} {len(snaps):>9,} | {t1:>9.2f} {m1:>7.0f} | {t2:>10.2f} "
            f"{m2:>7.0f} | {t2 / t1:>7.1f}x {m2 / m1:>8.1f}x {diff:>10.1e}"
        )


if __name__ == "__main__":
    main()
