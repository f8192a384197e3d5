"""Causal helpers against pandas oracles and brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.signals._windows import (
    change_over,
    expanding_max_before,
    flag,
    percentile_rank,
    positive_int,
    prepare,
    run_start,
    to_calendar,
)

from .conftest import dates


def test_change_over_equals_shift_on_a_daily_calendar() -> None:
    s = pd.Series(
        np.random.default_rng(1).normal(size=200).cumsum(), index=dates("2021-01-01", 200)
    )
    expected = s - s.shift(28)  # pandas oracle on a gapless daily index
    pd.testing.assert_series_equal(change_over(s, 28), expected)
    rel = change_over(s + 100, 7, relative=True)
    pd.testing.assert_series_equal(rel, (s + 100) / (s + 100).shift(7) - 1.0)


def test_change_over_uses_the_value_as_of_the_lagged_day_on_weekly_data() -> None:
    weekly = pd.Series(
        [1.0, 2.0, 4.0, 8.0], index=pd.date_range("2021-01-06", periods=4, freq="7D", name="date")
    )
    out = change_over(weekly, 10)  # 10 days back from 01-20 is 01-10 -> value of 01-06
    assert np.isnan(out.iloc[0]) and np.isnan(out.iloc[1])  # 01-13 - 10d = 01-03: before data
    assert out.iloc[2] == 4.0 - 1.0
    assert out.iloc[3] == 8.0 - 2.0


def test_percentile_rank_matches_brute_force_expanding_and_rolling() -> None:
    rng = np.random.default_rng(2)
    s = pd.Series(rng.normal(size=120).round(1), index=dates("2020-01-01", 120))  # ties
    s.iloc[[5, 40]] = np.nan
    got = percentile_rank(s, None, 10)
    valid = s.dropna()
    for i, (d, v) in enumerate(valid.items()):
        past = valid.iloc[: i + 1].to_numpy()
        if i + 1 < 10:
            assert np.isnan(got[d])
            continue
        # average rank of v among past values, divided by the count (pandas' pct=True)
        rank = (past < v).sum() + ((past == v).sum() + 1) / 2
        assert got[d] == pytest.approx(rank / len(past))
    assert np.isnan(got.iloc[5])
    roll = percentile_rank(s, 30, 30)
    pd.testing.assert_series_equal(
        roll, valid.rolling(30, min_periods=30).rank(pct=True).reindex(s.index)
    )


def test_expanding_max_before_matches_brute_force() -> None:
    vals = np.array([3.0, 1.0, np.nan, 5.0, 5.0, 2.0, 7.0])
    prior, pos = expanding_max_before(vals)
    assert prior[0] == -np.inf and pos[0] == -1
    assert prior.tolist()[1:] == [3.0, 3.0, 3.0, 5.0, 5.0, 5.0]
    assert pos.tolist()[1:] == [0, 0, 0, 3, 3, 3]  # the first day of the 5.0 high


def test_flag_keeps_unknown_as_nan_and_rejects_bad_operators() -> None:
    v = pd.Series([1.0, -1.0, np.nan, 0.0])
    assert flag(v, ">", 0.0).tolist()[:2] == [1.0, 0.0]
    assert np.isnan(flag(v, ">", 0.0).iloc[2])
    assert flag(v, ">=", 0.0).iloc[3] == 1.0
    with pytest.raises(ConfigError, match=r"flag operator must be one of .* got '=='"):
        flag(v, "==", 0.0)


def test_run_start_counts_nan_as_its_own_state() -> None:
    s = pd.Series([1.0, 1.0, np.nan, np.nan, 0.0, 1.0], index=dates("2021-01-01", 6))
    got = run_start(s).dt.strftime("%d").tolist()
    assert got == ["01", "01", "03", "03", "05", "06"]


def test_to_calendar_equals_reindex_ffill_with_an_age_limit() -> None:
    idx = pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-08"], name="date")
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "s": pd.array(["a", "b", "c"], dtype="string")}, index=idx
    )
    cal = dates("2021-01-01", 25)
    got = to_calendar(frame, cal, max_age_days=None)
    pd.testing.assert_frame_equal(got, frame.reindex(cal, method="ffill"))
    aged = to_calendar(frame, cal, max_age_days=10)
    assert aged.loc["2021-01-18", "x"] == 3.0 and np.isnan(aged.loc["2021-01-19", "x"])
    assert aged["s"].isna().loc["2021-01-19"]


def test_to_calendar_of_float_columns_equals_reindex_ffill_masked_by_age() -> None:
    # oracle: pandas' as-of reindex, then NaN where the carried session is too old
    rng = np.random.default_rng(3)
    sessions = pd.DatetimeIndex(
        sorted(rng.choice(pd.date_range("2020-01-01", periods=400, freq="D"), 150, False)),
        name="date",
    )
    frame = pd.DataFrame(rng.normal(size=(150, 3)), index=sessions, columns=["a", "b", "c"])
    frame.iloc[::7, 1] = np.nan
    cal = dates("2019-12-20", 430)
    ref = frame.reindex(cal, method="ffill")
    last = pd.Series(sessions, index=sessions).reindex(cal, method="ffill")
    ref[(cal - pd.DatetimeIndex(last)) > pd.Timedelta(days=10)] = np.nan
    pd.testing.assert_frame_equal(to_calendar(frame, cal, 10), ref, check_exact=True)
    assert to_calendar(frame, cal, None).notna().sum().sum() > ref.notna().sum().sum()


def test_prepare_copies_and_validates() -> None:
    s = pd.Series([1, 2], index=dates("2021-01-01", 2))
    out = prepare(s, "x")
    out.iloc[0] = 99.0
    assert s.iloc[0] == 1 and out.dtype == np.float64
    with pytest.raises(DataError, match="x must be a pandas Series, got list"):
        prepare([1.0], "x")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="x: index must be sorted and unique"):
        prepare(s.iloc[::-1], "x")
    with pytest.raises(ConfigError, match="w must be an integer >= 1, got 0"):
        positive_int(0, "w")
    with pytest.raises(ConfigError, match="w must be an integer >= 1, got True"):
        positive_int(True, "w")
