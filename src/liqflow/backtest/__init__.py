"""Rotation backtests: rules as data, metrics, walk-forward, sweeps and overfitting tests.

Pure functions over plain series (:class:`MarketData`): no I/O; a sweep may send its
chunks to local processes or a Dask cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow._lazy import lazy_exports

if TYPE_CHECKING:
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

#: Where each name is defined (imported on first use: see liqflow._lazy).
_SOURCES = {
    "BacktestResult": "rules",
    "BreakoutParams": "events",
    "CASH": "_shared",
    "DAYS_PER_YEAR": "_shared",
    "DeflatedSharpeResult": "deflated",
    "Fold": "walkforward",
    "MarketData": "data",
    "Metrics": "metrics",
    "PBOResult": "overfit",
    "Rule": "rules",
    "SIGNALS": "_shared",
    "SweepGrid": "sweep",
    "SweepResult": "sweep",
    "WalkForwardResult": "walkforward",
    "annual_volatility": "metrics",
    "backtest": "rules",
    "basket_prices": "data",
    "breakout_events": "events",
    "cagr": "metrics",
    "calmar_ratio": "metrics",
    "deflated_sharpe_ratio": "deflated",
    "drawdown_duration": "metrics",
    "event_matrix": "events",
    "events_on_calendar": "events",
    "expected_max_sharpe": "deflated",
    "load_grid": "sweep",
    "load_rule": "rules",
    "market_data_from_panel": "data",
    "max_drawdown": "metrics",
    "pbo_cscv": "overfit",
    "performance": "metrics",
    "probabilistic_sharpe_ratio": "deflated",
    "rule_signal": "rules",
    "rule_weights": "rules",
    "run_sweep": "sweep",
    "sharpe_ratio": "metrics",
    "sortino_ratio": "metrics",
    "trade_returns": "metrics",
    "walk_forward": "walkforward",
}
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
