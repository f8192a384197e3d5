from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.stats.corr import parse_periods, return_correlation


def correlated(n: int, rho_by_year: dict[int, float], seed: int) -> tuple[pd.Series, pd.Series]:
    """Equity on trading days, coin on calendar days, correlation rho in each year."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2017-01-02", periods=n, name="date")
    rho = np.array([rho_by_year.get(d.year, 0.0) for d in days])
    z1, z2 = rng.standard_normal((2, n))
    x = 0.01 * z1
    y = 0.02 * (rho * z1 + np.sqrt(1 - rho**2) * z2)
    eq = pd.Series(100 * np.exp(np.cumsum(x)), index=days, name="small_caps")
    coin_days = pd.date_range(days[0], days[-1], freq="D", name="date")
    # weekend prices of the coin: the Friday level (the Monday return carries the move)
    coin = pd.Series(100 * np.exp(np.cumsum(y)), index=days).reindex(coin_days).ffill()
    return eq, coin.rename("btc")


def test_parse_periods() -> None:
    got = parse_periods("2017-2019, 2021,2020-03-01..2020-06-30")
    assert got == [
        ("2017-2019", pd.Timestamp("2017-01-01"), pd.Timestamp("2019-12-31")),
        ("2021", pd.Timestamp("2021-01-01"), pd.Timestamp("2021-12-31")),
        ("2020-03-01..2020-06-30", pd.Timestamp("2020-03-01"), pd.Timestamp("2020-06-30")),
    ]
    with pytest.raises(DataError, match=r"each item must be one of .* got '17-19' in '17-19'"):
        parse_periods("17-19")
    with pytest.raises(DataError, match=r"periods: '2019-2017' ends before it starts"):
        parse_periods("2019-2017")
    with pytest.raises(DataError, match=r"periods must be items like"):
        parse_periods("")
    with pytest.raises(DataError, match=r"periods: '2020-02-30..2020-03-01' has an invalid date"):
        parse_periods("2020-02-30..2020-03-01")


def test_period_correlations_recover_the_planted_values() -> None:
    eq, coin = correlated(1500, {2017: 0.0, 2018: 0.0, 2019: 0.0, 2020: 0.6, 2021: 0.6}, seed=1)
    res = return_correlation(eq, coin, periods="2017-2019,2020-2021", seed=0)
    table = res.to_frame()
    assert list(table.index) == ["all", "2017-2019", "2020-2021"]
    calm, hot = table.loc["2017-2019"], table.loc["2020-2021"]
    assert calm["ci_low"] < 0 < calm["ci_high"]
    assert hot["ci_low"] < 0.6 < hot["ci_high"]
    assert hot["ci_low"] > 0.4
    # n is the number of common daily returns whose end date is in the period
    common = eq.index.intersection(coin.index)[1:]
    assert calm["n"] == ((common >= "2017-01-01") & (common <= "2019-12-31")).sum()
    # the point estimate is the plain Pearson correlation of the log returns
    rx = np.diff(np.log(eq.to_numpy()))
    ry = np.diff(np.log(coin.reindex(eq.index).to_numpy()))
    mask = (eq.index[1:] >= "2020-01-01") & (eq.index[1:] <= "2021-12-31")
    assert hot["correlation"] == pytest.approx(np.corrcoef(rx[mask], ry[mask])[0, 1])
    assert "2020-2021" in res.summary()


def test_rolling_equals_pandas() -> None:
    eq, coin = correlated(400, {2017: 0.5, 2018: 0.5}, seed=2)
    res = return_correlation(eq, coin, window=60, n_boot=0)
    rx = np.log(eq).diff()
    ry = np.log(coin.reindex(eq.index)).diff()
    want = rx.rolling(60).corr(ry).dropna()
    pd.testing.assert_series_equal(res.rolling, want, check_names=False)
    assert np.isnan(res.to_frame().loc["all", "ci_low"])


def test_empty_period_is_reported_not_raised() -> None:
    eq, coin = correlated(300, {2017: 0.5}, seed=3)
    res = return_correlation(eq, coin, periods="2030", n_boot=50, seed=1)
    row = res.to_frame().loc["2030"]
    assert row["n"] == 0
    assert np.isnan(row["correlation"])
    assert "2030: n/a (n=0)" in res.summary()
