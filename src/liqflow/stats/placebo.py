"""Placebo event dates: random dates with the same count and spacing as the real events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import RandomLike, check_positive_int, resolve_rng

__all__ = ["count_spaced_subsets", "spaced_placebo_positions"]


def _day_numbers(dates: pd.DatetimeIndex) -> np.ndarray:
    if not isinstance(dates, pd.DatetimeIndex):
        raise DataError(f"dates must be a DatetimeIndex, got {type(dates).__name__}")
    if not dates.is_monotonic_increasing or not dates.is_unique:
        raise DataError("dates must be sorted and unique")
    return np.asarray(dates.values.astype("datetime64[D]").astype(np.int64))


def _suffix_tables(days: np.ndarray, k: int, min_gap_days: int) -> tuple[np.ndarray, np.ndarray]:
    """``nxt`` and the scaled suffix counts ``A[r]`` for r = 1..k (row r-1).

    ``nxt[p]`` is the first position whose date is at least ``min_gap_days`` after
    position ``p``. ``A[r][i]`` is proportional to the number of valid r-subsets of the
    positions ``i..M-1`` (each level has its own scale; only ratios within a level are
    used, which keeps the numbers finite however large the binomial counts get).
    """
    m = days.size
    nxt = np.searchsorted(days, days + min_gap_days, side="left")
    tables = np.empty((k, m + 1))
    below = np.ones(m + 1)  # scaled N_0: one way to choose nothing, from anywhere
    for r in range(1, k + 1):
        weights = below[nxt]
        suffix = np.zeros(m + 1)
        suffix[:m] = np.cumsum(weights[::-1])[::-1]
        tables[r - 1] = suffix
        top = suffix[0]
        below = suffix / top if top > 0 else suffix
    return nxt, tables


def count_spaced_subsets(dates: pd.DatetimeIndex, k: int, min_gap_days: int) -> float:
    """Number of ways to pick ``k`` of ``dates`` with consecutive picks >= ``min_gap_days`` apart.

    Exact for counts below 2**53 (used by tests and to check feasibility).
    """
    days = _day_numbers(dates)
    k = check_positive_int("k", k)
    gap = check_positive_int("min_gap_days", min_gap_days)
    nxt = np.searchsorted(days, days + gap, side="left")
    below = np.ones(days.size + 1)
    for _ in range(k):
        suffix = np.zeros(days.size + 1)
        suffix[:-1] = np.cumsum(below[nxt][::-1])[::-1]
        below = suffix
    return float(below[0])


def spaced_placebo_positions(
    dates: pd.DatetimeIndex,
    k: int,
    min_gap_days: int,
    reps: int,
    *,
    seed: RandomLike = None,
) -> np.ndarray:
    """Random sets of ``k`` positions in ``dates``, each pair at least ``min_gap_days`` apart.

    Parameters
    ----------
    dates : DatetimeIndex
        Sorted unique dates on which an event could have happened (the history).
    k : int
        Number of placebo events per draw (the number of real independent events).
    min_gap_days : int
        Minimum spacing in calendar days between consecutive placebo events (the
        declustering spacing of the real events, so placebo windows do not overlap).
    reps : int
        Number of placebo draws.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    ndarray of int64, shape (reps, k)
        Sorted positions into ``dates`` for each draw.

    Notes
    -----
    Each draw is uniform over *all* admissible configurations (k dates of the history
    with every gap >= ``min_gap_days``), on any calendar, including trading-day
    calendars with weekends and holidays. With ``N_r(i)`` the number of admissible
    r-subsets of positions ``i..M-1``, ``N_r(i) = sum_{p >= i} N_{r-1}(nxt(p))`` where
    ``nxt(p)`` is the first position ``min_gap_days`` after ``p``. The first event is
    drawn with probability ``N_{k-1}(nxt(p)) / N_k(0)``, the next one from ``nxt(p)`` on
    in the same way, and so on: sequential sampling from exact counts, all draws at
    once (``k`` vectorised steps of ``searchsorted``).

    References
    ----------
    Nijenhuis, A. and Wilf, H. S. (1978). *Combinatorial Algorithms*, 2nd ed., Academic
    Press, ch. 13 (uniform generation of combinatorial objects from counts).
    """
    days = _day_numbers(dates)
    k = check_positive_int("k", k)
    gap = check_positive_int("min_gap_days", min_gap_days)
    reps = check_positive_int("reps", reps)
    rng = resolve_rng(seed)
    nxt, tables = _suffix_tables(days, k, gap)
    if tables[k - 1][0] <= 0:
        raise InsufficientDataError(
            f"dates: cannot place {k} placebo events {gap} days apart in "
            f"{days.size} dates spanning {int(days[-1] - days[0]) if days.size else 0} days"
        )
    out = np.empty((reps, k), dtype=np.int64)
    low = np.zeros(reps, dtype=np.int64)
    for j in range(k):
        suffix = tables[k - 1 - j]
        total = suffix[low]
        target = total * (1.0 - rng.random(reps))  # in (0, total]
        # largest p with suffix[p] >= target; suffix is non-increasing and suffix[M] = 0
        pos = np.searchsorted(-suffix, -target, side="right") - 1
        out[:, j] = pos
        low = nxt[pos]
    return out
