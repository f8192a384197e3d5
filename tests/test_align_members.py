"""The binary-search membership test of :mod:`liqflow.align` against ``Index.isin``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.align import _exchange_open, _members, exchange_sessions


@pytest.mark.parametrize("seed", range(5))
def test_members_equals_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = pd.date_range("1995-01-01", periods=3000, freq="D", name="date")
    days = pd.DatetimeIndex(np.sort(rng.choice(index.to_numpy(), 900, replace=False)))
    days = days.append(pd.DatetimeIndex(["1990-01-01", "2030-01-01"])).sort_values()
    np.testing.assert_array_equal(_members(index, days), index.isin(days))
    np.testing.assert_array_equal(_members(index, days.as_unit("s")), index.isin(days))
    assert not _members(index, pd.DatetimeIndex([])).any()


def test_exchange_open_equals_isin_and_is_open_outside_the_calendar() -> None:
    index = pd.date_range("1899-12-01", "2001-03-01", freq="D", name="date")
    sessions = exchange_sessions()
    inside = (index >= sessions[0]) & (index <= sessions[-1])
    np.testing.assert_array_equal(_exchange_open(index), index.isin(sessions) | ~inside)
    assert _exchange_open(index[:10]).all()  # before the calendar's first session
