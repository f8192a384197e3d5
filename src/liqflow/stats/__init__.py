"""Statistics for the chain's links: block bootstrap, lead-lag, Granger, event studies.

Every function is pure (inputs are never mutated) and returns a typed frozen dataclass
with ``to_frame()`` and ``summary()``. Inference accounts for autocorrelation (block
bootstrap), overlapping windows (declustered events) and for the number of lags tried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow._lazy import lazy_exports

if TYPE_CHECKING:
    from liqflow.stats.bootstrap import (
        BlockPlan,
        circular_block_bootstrap_indices,
        circular_blocks,
        optimal_block_length,
        stationary_blocks,
        stationary_bootstrap_indices,
        stationary_bootstrap_sums,
    )
    from liqflow.stats.corr import CorrelationResult, parse_periods, return_correlation
    from liqflow.stats.events import (
        HORIZONS,
        EventStudyResult,
        decluster,
        event_study,
        excess_return_bootstrap,
        forward_returns,
        window_max_drawdown,
    )
    from liqflow.stats.granger import (
        GrangerBothResult,
        GrangerResult,
        granger_both,
        granger_test,
        holm_adjust,
    )
    from liqflow.stats.leadlag import (
        LeadLagResult,
        RollingLeadLagResult,
        block_signs,
        lagged_correlations,
        lead_lag,
        rolling_lead_lag,
    )
    from liqflow.stats.placebo import count_spaced_subsets, spaced_placebo_positions

__all__ = [
    "HORIZONS",
    "BlockPlan",
    "CorrelationResult",
    "EventStudyResult",
    "GrangerBothResult",
    "GrangerResult",
    "LeadLagResult",
    "RollingLeadLagResult",
    "block_signs",
    "circular_block_bootstrap_indices",
    "circular_blocks",
    "count_spaced_subsets",
    "decluster",
    "event_study",
    "excess_return_bootstrap",
    "forward_returns",
    "granger_both",
    "granger_test",
    "holm_adjust",
    "lagged_correlations",
    "lead_lag",
    "optimal_block_length",
    "parse_periods",
    "return_correlation",
    "rolling_lead_lag",
    "spaced_placebo_positions",
    "stationary_blocks",
    "stationary_bootstrap_indices",
    "stationary_bootstrap_sums",
    "window_max_drawdown",
]

#: Where each name is defined (imported on first use: see liqflow._lazy).
_SOURCES = {
    "block_signs": "leadlag",
    "BlockPlan": "bootstrap",
    "CorrelationResult": "corr",
    "EventStudyResult": "events",
    "GrangerBothResult": "granger",
    "GrangerResult": "granger",
    "HORIZONS": "events",
    "LeadLagResult": "leadlag",
    "RollingLeadLagResult": "leadlag",
    "circular_block_bootstrap_indices": "bootstrap",
    "circular_blocks": "bootstrap",
    "count_spaced_subsets": "placebo",
    "decluster": "events",
    "event_study": "events",
    "excess_return_bootstrap": "events",
    "forward_returns": "events",
    "granger_both": "granger",
    "granger_test": "granger",
    "holm_adjust": "granger",
    "lagged_correlations": "leadlag",
    "lead_lag": "leadlag",
    "optimal_block_length": "bootstrap",
    "parse_periods": "corr",
    "return_correlation": "corr",
    "rolling_lead_lag": "leadlag",
    "spaced_placebo_positions": "placebo",
    "stationary_blocks": "bootstrap",
    "stationary_bootstrap_indices": "bootstrap",
    "stationary_bootstrap_sums": "bootstrap",
    "window_max_drawdown": "events",
}
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
