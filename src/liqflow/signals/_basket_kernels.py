"""Array kernels of the alt basket (:mod:`liqflow.signals.baskets`): price checks, the
membership in force on each day, coverage, holding periods, the active span."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqflow._errors import DataError

WEIGHTINGS = ("equal", "market_cap")


def _prices(prices: pd.DataFrame, name: str = "prices") -> pd.DataFrame:
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"{name} must be a DataFrame of coin prices, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex) or not prices.index.is_monotonic_increasing:
        raise DataError(f"{name}: index must be a sorted DatetimeIndex")
    v = prices.to_numpy(dtype=np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        v[~(v > 0)] = np.nan  # a zero or negative price is not a price
    return pd.DataFrame(v, index=prices.index, columns=prices.columns)


def list_schedule(prices: pd.DataFrame) -> pd.DataFrame:
    """The membership schedule of a fixed list: every coin of ``prices`` is a member from
    its first price on (a rebalance on each day a coin gets its first price).

    Market caps are unknown (0): only the equal weighting applies.
    """
    p = _prices(prices)
    first = p.apply(lambda c: c.first_valid_index())
    first = first.dropna()
    if first.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"), columns=p.columns, dtype=float)
    days = pd.DatetimeIndex(sorted(set(first)), name="date")
    started = np.array([[first.get(c, pd.NaT) <= d for c in p.columns] for d in days])
    frame = pd.DataFrame(np.where(started, 0.0, np.nan), index=days, columns=p.columns)
    return frame


def members_by_day(schedule: pd.DataFrame, calendar: pd.DatetimeIndex) -> np.ndarray:
    """Row of ``schedule`` in force on each day of ``calendar`` (-1 before the first).

    A schedule row dated *d* is in force from day *d* on (decided at its close); for the
    returns of day *t* the row in force on *t - 1* applies.
    """
    sched = pd.DatetimeIndex(schedule.index).to_numpy(dtype="datetime64[ns]")
    cal = pd.DatetimeIndex(calendar).to_numpy(dtype="datetime64[ns]")
    return np.searchsorted(sched, cal, side="right") - 1


def _check(weighting: str, min_coverage: float, min_coins: int) -> None:
    if weighting not in WEIGHTINGS:
        raise DataError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if not 0 <= min_coverage <= 1:
        raise DataError(f"min_coverage must be in [0, 1], got {min_coverage!r}")
    if isinstance(min_coins, bool) or not isinstance(min_coins, int | np.integer) or min_coins < 1:
        raise DataError(f"min_coins must be a positive integer, got {min_coins!r}")


def first_active(
    index: pd.DatetimeIndex, coins: pd.DataFrame, schedule: pd.DataFrame | None
) -> int:
    """Position in ``index`` of the day before the first coin price or rebalance (0 when
    that is the first day): every alt figure is the same on all the days before it."""
    priced = np.flatnonzero(coins.notna().to_numpy().any(axis=1))
    firsts = [pd.Timestamp(coins.index[priced[0]])] if priced.size else []
    if schedule is not None and len(schedule.index):
        firsts.append(pd.Timestamp(schedule.index[0]))
    if not firsts:
        return 0
    return max(int(index.searchsorted(min(firsts), side="left")) - 1, 0)


def back_filled(frame: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """``frame`` (the tail of ``index``) on the whole of ``index``, each earlier day a copy
    of its first row (a day before any price or member)."""
    head = len(index) - len(frame)
    if head == 0:
        return frame.set_axis(index)
    if len(frame) == 0:  # no first row to copy: only a frame without columns fits
        return pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns}, index=index)
    rows = np.concatenate([np.zeros(head, dtype=np.intp), np.arange(len(frame), dtype=np.intp)])
    return frame.take(rows).set_axis(index)  # one take per block, not two copies a column


def _bought(
    px: np.ndarray, lo: int, hi: int, member: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coins bought at the close of ``lo`` and held to ``hi``: (held mask, each
    held coin's price relative to its price at ``lo`` on days lo..hi, held at its last
    price where it has none, and the stale matrix of days lo+1..hi)."""
    held = member & np.isfinite(px[lo])
    n = hi - lo
    if not held.any():
        return held, np.zeros((n + 1, 0)), np.zeros((n, 0), dtype=bool)
    block = px[lo : hi + 1][:, held]
    priced = np.isfinite(block)
    stale = ~priced[1:]
    # forward fill down each column (row 0 is priced: the coins held were bought there)
    last = np.maximum.accumulate(np.where(priced, np.arange(n + 1)[:, None], 0), axis=0)
    filled = np.ascontiguousarray(np.take_along_axis(block, last, axis=0))  # as pandas: same sums
    return held, filled / block[0], stale


def _period_returns(
    held: np.ndarray, relative: np.ndarray, caps: np.ndarray, weighting: str
) -> np.ndarray:
    """Daily returns (lo+1..hi) of the coins :func:`_bought`, in ``weighting``'s weights
    (NaN when none is held)."""
    if not held.any():
        return np.full(relative.shape[0] - 1, np.nan)
    w = caps[held] if weighting == "market_cap" else np.ones(int(held.sum()))
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    value = relative @ w
    return value[1:] / value[:-1] - 1.0


def _coverage(
    px: np.ndarray, members: np.ndarray, caps: np.ndarray, in_force: np.ndarray, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Members, priced members and the count/market-cap coverage on each day, for the
    membership held during the day (decided at the previous close)."""
    T = px.shape[0]
    ok = in_force >= 0
    row = rows[np.maximum(in_force, 0)]
    mem = members[row] & ok[:, None]
    cap = np.where(mem, caps[row], 0.0)
    priced = mem & np.isfinite(px)
    n_mem = mem.sum(axis=1).astype(float)
    n_pr = priced.sum(axis=1).astype(float)
    cap_tot = cap.sum(axis=1)
    cap_pr = np.where(priced, cap, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(n_mem > 0, n_pr / n_mem, np.nan)
        cov_m = np.where(cap_tot > 0, cap_pr / cap_tot, np.nan)
    del T
    return {"members": n_mem, "priced": n_pr, "coverage": cov, "coverage_mcap": cov_m}


def _top_members(schedule: pd.DataFrame, top: int | None) -> np.ndarray:
    """Member mask of each schedule row, restricted to its ``top`` largest market caps."""
    mem = schedule.notna().to_numpy()
    if top is None:
        return mem
    caps = np.where(mem, np.nan_to_num(schedule.to_numpy(), nan=0.0), -np.inf)
    order = np.argsort(-caps, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(caps.shape[1])[None, :].repeat(len(caps), 0), axis=1)
    return mem & (ranks < top)
