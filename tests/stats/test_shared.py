"""The one as-of lookup, forward return and weekly close of the statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.stats._shared import (
    aligned_returns,
    asof_prices,
    forward_simple_returns,
    weekly_closes,
)


@pytest.mark.parametrize("n", [1, 7, 400])
def test_weekly_closes_equal_pandas_resample(n: int) -> None:
    rng = np.random.default_rng(n)
    days = pd.date_range("2001-01-01", "2004-01-01", freq="D").to_numpy()
    idx = pd.DatetimeIndex(np.sort(rng.choice(days, n, replace=False)), name="date")
    s = pd.Series(rng.random(n), index=idx, name="x")
    pd.testing.assert_series_equal(weekly_closes(s), s.resample("W-FRI").last())


def test_a_week_without_a_row_is_missing_not_a_zero_return() -> None:
    days = pd.bdate_range("2021-01-04", "2021-02-26", name="date")
    a = pd.Series(np.linspace(100.0, 140.0, days.size), index=days, name="a")
    b = a.rename("b") * 1.5
    b = b.drop(b.index[(b.index >= "2021-01-18") & (b.index <= "2021-01-22")])  # no row that week
    rets = aligned_returns(a, b, "W", ("a", "b"))
    assert rets.index.freqstr == "W-FRI" or (np.diff(rets.index.values).astype(int) > 0).all()
    gap = pd.Timestamp("2021-01-22")
    assert np.isnan(rets.loc[gap, "b"])  # the missing week
    assert np.isnan(rets.loc[gap + pd.Timedelta(days=7), "b"])  # and the return that spans it
    assert (rets["b"].dropna() != 0).all()  # never a fake zero
    assert rets.loc[gap, "a"] == pytest.approx(np.log(a["2021-01-22"] / a["2021-01-15"]))


def test_asof_prices_use_actual_rows_only() -> None:
    idx = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-02-01"], name="date")
    px = pd.Series([100.0, 110.0, 121.0], index=idx)
    at = pd.DatetimeIndex(["2024-01-04", "2024-01-06", "2024-01-12", "2024-01-20", "2024-02-02"])
    got = asof_prices(px, at)
    # before the first row; Saturday = Friday's close; 4 days old; 12 days old (a gap in the
    # source, not an unchanged price); after the last row (unknown)
    np.testing.assert_array_equal(got, [np.nan, 100.0, 110.0, np.nan, np.nan])
    ref = px.reindex(at, method="ffill", tolerance=pd.Timedelta(days=7)).to_numpy().copy()
    ref[at > idx[-1]] = np.nan
    np.testing.assert_array_equal(got, ref)


def test_forward_returns_never_read_past_the_window() -> None:
    idx = pd.bdate_range("2020-01-01", periods=300, name="date")
    px = pd.Series(np.exp(np.random.default_rng(0).normal(0, 0.01, 300).cumsum()), index=idx)
    d = pd.DatetimeIndex(idx[:200])
    full = forward_simple_returns(px, d, 30)
    for i in range(0, 200, 7):
        end = d[i] + pd.Timedelta(days=30)
        got = forward_simple_returns(px.loc[:end], d[i : i + 1], 30)[0]
        if end in idx:
            assert got == full[i]
        else:  # data ending before d + h: the window is not known to be complete
            assert np.isnan(got)
    assert np.isnan(forward_simple_returns(px, idx[-5:], 30)).all()  # incomplete windows
