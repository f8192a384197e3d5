"""Statistics for the chain's links: block bootstrap, lead-lag, Granger, event studies.

Every function is pure (inputs are never mutated) and returns a typed frozen dataclass
with ``to_frame()`` and ``summary()``. Inference accounts for autocorrelation (block
bootstrap), volatility shared by the two series (wild bootstraps that keep it),
overlapping windows (declustered events) and for the number of lags tried; statistics
use the sources' own rows only (one as-of lookup and one forward return, in
``_shared``). Sizes and coverages are measured by ``bench/calibration.py``.
"""

from liqflow.stats.bootstrap import (
    BlockPlan,
    circular_block_bootstrap_indices,
    circular_blocks,
    optimal_block_length,
    stationary_blocks,
    stationary_bootstrap_indices,
    stationary_bootstrap_sums,
)
from liqflow.stats.claims import CLAIMS, ClaimsResult, assess_claims
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
    "CLAIMS",
    "HORIZONS",
    "BlockPlan",
    "ClaimsResult",
    "CorrelationResult",
    "EventStudyResult",
    "GrangerBothResult",
    "GrangerResult",
    "LeadLagResult",
    "RollingLeadLagResult",
    "assess_claims",
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
