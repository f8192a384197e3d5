"""Hypothesis properties: kernel == pandas backtest, and no look-ahead, on random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqflow.backtest import MarketData, Rule, backtest
from liqflow.backtest._kernels import stats_to_metrics, sweep_stats
from liqflow.backtest._shared import block_edges
from liqflow.backtest.sweep import _prepare


def _market(seed: int, n: int, n_events: int, eth_start: int) -> MarketData:
    rng = np.random.default_rng(seed)
    cal = pd.date_range("2022-01-01", periods=n, freq="D", name="date")
    px = pd.DataFrame(
        {
            "btc": 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n))),
            "eth": 10 * np.exp(np.cumsum(rng.normal(0, 0.04, n))),
        },
        index=cal,
    )
    px.iloc[:eth_start, 1] = np.nan
    ev = pd.Series(False, index=cal)
    ev.iloc[rng.choice(n, n_events, replace=False)] = True
    stage = pd.Series(rng.integers(0, 5, n).astype(float), index=cal)
    return MarketData(prices=px, breakouts=ev, stage=stage)


rules = st.builds(
    Rule,
    signal=st.sampled_from(["stage", "breakout", "any", "all"]),
    asset=st.just("btc"),
    fallback=st.sampled_from(["cash", "eth"]),
    min_stage=st.integers(0, 4),
    hold_days=st.integers(1, 12),
    fee_bps=st.floats(0, 50),
    slippage_bps=st.floats(0, 20),
)


@settings(max_examples=40, deadline=None)
@given(
    rule=rules,
    seed=st.integers(0, 2**16),
    n_events=st.integers(0, 10),
    eth_start=st.integers(0, 20),
)
def test_kernel_equals_backtest(rule: Rule, seed: int, n_events: int, eth_start: int) -> None:
    data = _market(seed, 80, n_events, eth_start)
    res = backtest(rule, data, benchmarks=())
    prep = _prepare([rule], data)
    lo, hi = prep.span
    a = prep.arrays
    stats, _, _ = sweep_stats(
        a.last_event, a.stage, a.rets, a.combos, a.cost, a.starts, lo, hi, block_edges(lo, hi, 2)
    )
    got = stats_to_metrics(stats, 365)
    m = res.metrics
    assert got["total_return"][0] == pytest.approx(m.total_return, rel=1e-10, abs=1e-13)
    assert got["sharpe"][0] == pytest.approx(m.sharpe, rel=1e-8, nan_ok=True)
    assert got["max_drawdown"][0] == pytest.approx(m.max_drawdown, rel=1e-10, abs=1e-13)
    assert got["max_drawdown_days"][0] == m.max_drawdown_days
    assert got["n_trades"][0] == m.n_trades
    assert got["exposure"][0] == pytest.approx(m.exposure)


@settings(max_examples=25, deadline=None)
@given(rule=rules, seed=st.integers(0, 2**16), cut=st.integers(25, 75))
def test_no_look_ahead(rule: Rule, seed: int, cut: int) -> None:
    # Net returns up to day t do not change when every input after t is removed.
    data = _market(seed, 80, 6, 0)
    full = backtest(rule, data, benchmarks=()).path
    day = data.calendar[cut]
    assert data.stage is not None and data.breakouts is not None
    short = MarketData(
        prices=data.prices.loc[:day],
        stage=data.stage.loc[:day],
        breakouts=data.breakouts.loc[:day],
    )
    part = backtest(rule, short, benchmarks=()).path
    pd.testing.assert_frame_equal(part, full.loc[:day])
