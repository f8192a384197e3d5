"""Metrics equal empyrical (empyrical-reloaded) to 1e-10; planted drawdowns and trades."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError, InsufficientDataError
from liqflow.backtest import (
    annual_volatility,
    cagr,
    calmar_ratio,
    drawdown_duration,
    max_drawdown,
    performance,
    sharpe_ratio,
    sortino_ratio,
    trade_returns,
)


def _returns(seed: int, n: int = 1500) -> pd.Series:
    rng = np.random.default_rng(seed)
    r = rng.standard_t(4, n) * 0.02 + 0.0005
    r[0] = -0.03  # a loss on day one is a drawdown from the starting wealth
    idx = pd.date_range("2019-01-01", periods=n, freq="D", name="date")
    return pd.Series(r, index=idx)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ppy", [365, 252])
def test_metrics_equal_empyrical(seed: int, ppy: int) -> None:
    # Reference: empyrical-reloaded, e.g. empyrical.sharpe_ratio(r, annualization=365).
    r = _returns(seed)
    pairs = [
        (cagr(r, ppy), empyrical.annual_return(r, annualization=ppy)),
        (annual_volatility(r, ppy), empyrical.annual_volatility(r, annualization=ppy)),
        (sharpe_ratio(r, ppy), empyrical.sharpe_ratio(r, annualization=ppy)),
        (sortino_ratio(r, ppy), empyrical.sortino_ratio(r, annualization=ppy)),
        (max_drawdown(r), empyrical.max_drawdown(r)),
        (calmar_ratio(r, ppy), empyrical.calmar_ratio(r, annualization=ppy)),
    ]
    for ours, ref in pairs:
        assert abs(ours - float(ref)) <= 1e-10


def test_performance_uses_the_same_functions() -> None:
    r = _returns(3)
    m = performance(r, name="x", periods_per_year=365)
    assert m.sharpe == sharpe_ratio(r, 365)
    assert abs(m.cagr - empyrical.annual_return(r, annualization=365)) <= 1e-10
    assert m.n_obs == len(r) and m.start == r.index[0] and m.end == r.index[-1]
    assert m.exposure == 1.0 and m.turnover == 0.0 and m.n_trades == 1
    assert abs(m.total_return - (np.prod(1 + r.to_numpy()) - 1)) <= 1e-12
    assert "x: CAGR" in m.summary()
    assert m.to_series().name == "x"


def test_drawdown_duration_planted() -> None:
    # wealth: 1 -> 1.1 (peak, period 0) -> 0.55 -> 0.66 -> 1.32 (recovered, period 3)
    r = np.array([0.1, -0.5, 0.2, 1.0, -0.1])
    assert max_drawdown(r) == pytest.approx(-0.5)
    assert drawdown_duration(r) == 3
    # never recovered: from the peak (period 0) to the last period (2)
    assert drawdown_duration(np.array([0.1, -0.5, 0.1])) == 2
    # loss on day one: the peak is the starting wealth, before period 0
    assert drawdown_duration(np.array([-0.1, 0.0, 0.2])) == 3
    assert drawdown_duration(np.array([0.01, 0.02])) == 0


def test_trade_returns_planted() -> None:
    r = np.array([0.0, 0.1, 0.2, 0.0, 0.5, 0.1])
    exposure = np.array([0, 1, 1, 0, 1, 1])
    tau = np.array([0, 1, 0, 1, 1, 0])
    out = trade_returns(r, exposure, tau, cost=0.01)
    # trade 1: 1.1 * 1.2 then exit cost 1%; trade 2 still open: 1.5 * 1.1
    np.testing.assert_allclose(out, [1.1 * 1.2 * 0.99 - 1, 1.5 * 1.1 - 1])


def test_undefined_ratios_are_nan() -> None:
    flat = np.zeros(10)
    assert np.isnan(sharpe_ratio(flat)) and np.isnan(sortino_ratio(flat))
    assert np.isnan(calmar_ratio(flat))
    assert cagr(np.array([-1.0, 0.5])) == -1.0


def test_errors() -> None:
    with pytest.raises(DataError, match="contains NaN at position 1"):
        sharpe_ratio(np.array([0.1, np.nan, 0.2]))
    with pytest.raises(DataError, match="one-dimensional"):
        cagr(np.zeros((2, 2)))
    with pytest.raises(InsufficientDataError, match="need at least 2 periods, got 1"):
        performance(pd.Series([0.1], index=pd.DatetimeIndex(["2020-01-01"])), name="r")
