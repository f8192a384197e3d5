from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats.placebo import count_spaced_subsets, spaced_placebo_positions


def admissible(dates: pd.DatetimeIndex, k: int, gap: int) -> list[tuple[int, ...]]:
    """Brute force: every k-subset of positions with consecutive dates >= gap days apart."""
    return [
        c
        for c in itertools.combinations(range(len(dates)), k)
        if all((dates[c[i + 1]] - dates[c[i]]).days >= gap for i in range(k - 1))
    ]


# an irregular calendar: business days with a holiday gap, so position != day offset
IRREGULAR = pd.DatetimeIndex(pd.bdate_range("2021-03-01", periods=16).delete([4, 9]), name="date")


@pytest.mark.parametrize("k,gap", [(1, 1), (2, 3), (3, 4), (4, 3)])
def test_count_matches_brute_force(k: int, gap: int) -> None:
    assert count_spaced_subsets(IRREGULAR, k, gap) == len(admissible(IRREGULAR, k, gap))


def test_draws_are_uniform_over_admissible_sets() -> None:
    k, gap = 3, 4
    valid = admissible(IRREGULAR, k, gap)
    draws = spaced_placebo_positions(IRREGULAR, k, gap, 40_000, seed=1)
    seen = Counter(map(tuple, draws))
    assert set(seen) <= set(valid)
    observed = np.array([seen[v] for v in valid])
    # chi-square goodness of fit against the uniform law on all admissible sets
    assert stats.chisquare(observed).pvalue > 0.001


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(5, 200),
    k=st.integers(1, 6),
    gap=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_draws_sorted_in_range_and_spaced(n: int, k: int, gap: int, seed: int) -> None:
    dates = pd.DatetimeIndex(pd.bdate_range("2020-01-01", periods=n))
    if count_spaced_subsets(dates, k, gap) == 0:
        with pytest.raises(InsufficientDataError, match="cannot place"):
            spaced_placebo_positions(dates, k, gap, 5, seed=seed)
        return
    pos = spaced_placebo_positions(dates, k, gap, 50, seed=seed)
    assert pos.shape == (50, k)
    assert pos.min() >= 0
    assert pos.max() < n
    days = dates.values.astype("datetime64[D]").astype(np.int64)[pos]
    assert (np.diff(days, axis=1) >= gap).all()


def test_large_counts_stay_finite() -> None:
    # C(5000, 60)-sized counts overflow float64 unless each level is rescaled
    dates = pd.DatetimeIndex(pd.date_range("2000-01-01", periods=5000, freq="D"))
    pos = spaced_placebo_positions(dates, 60, 30, 100, seed=0)
    assert (np.diff(pos, axis=1) >= 30).all()
    # the first placebo date is spread over the feasible range, not stuck at the start
    assert pos[:, 0].std() > 10


def test_errors() -> None:
    with pytest.raises(InsufficientDataError, match=r"cannot place 5 placebo events 10 days apart"):
        spaced_placebo_positions(IRREGULAR, 5, 10, 3, seed=0)
    with pytest.raises(DataError, match=r"k must be an integer >= 1, got 0"):
        spaced_placebo_positions(IRREGULAR, 0, 10, 3)
    with pytest.raises(DataError, match=r"dates must be sorted and unique"):
        spaced_placebo_positions(IRREGULAR[::-1], 1, 1, 3)
    with pytest.raises(DataError, match=r"dates must be a DatetimeIndex, got list"):
        spaced_placebo_positions(list(IRREGULAR), 1, 1, 3)  # type: ignore[arg-type]
