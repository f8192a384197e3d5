"""Rotation backtests: rules as data, metrics, walk-forward, sweeps and overfitting tests.

Pure functions over plain series (:class:`MarketData`): no I/O; a sweep may send its
chunks to local processes or a Dask cluster.
"""

from liqflow.backtest._shared import CASH, DAYS_PER_YEAR, SIGNALS
from liqflow.backtest.data import MarketData, basket_prices, market_data_from_panel
from liqflow.backtest.events import (
    BreakoutParams,
    breakout_events,
    event_matrix,
    events_on_calendar,
)
from liqflow.backtest.metrics import (
    Metrics,
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
from liqflow.backtest.overfit import (
    DeflatedSharpeResult,
    PBOResult,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe_ratio,
)
from liqflow.backtest.rules import (
    BacktestResult,
    Rule,
    backtest,
    load_rule,
    rule_signal,
    rule_weights,
)
from liqflow.backtest.sweep import SweepGrid, SweepResult, load_grid, run_sweep
from liqflow.backtest.walkforward import Fold, WalkForwardResult, walk_forward

__all__ = [
    "CASH",
    "DAYS_PER_YEAR",
    "SIGNALS",
    "BacktestResult",
    "BreakoutParams",
    "DeflatedSharpeResult",
    "Fold",
    "MarketData",
    "Metrics",
    "PBOResult",
    "Rule",
    "SweepGrid",
    "SweepResult",
    "WalkForwardResult",
    "annual_volatility",
    "backtest",
    "basket_prices",
    "breakout_events",
    "cagr",
    "calmar_ratio",
    "deflated_sharpe_ratio",
    "drawdown_duration",
    "event_matrix",
    "events_on_calendar",
    "expected_max_sharpe",
    "load_grid",
    "load_rule",
    "market_data_from_panel",
    "max_drawdown",
    "pbo_cscv",
    "performance",
    "probabilistic_sharpe_ratio",
    "rule_signal",
    "rule_weights",
    "run_sweep",
    "sharpe_ratio",
    "sortino_ratio",
    "trade_returns",
    "walk_forward",
]
