"""One verdict rule and one vocabulary for every claim liqflow judges.

A test's verdict depends on its row of the evidence and on the run's one multiple-testing
family (Holm over every ``thesis`` test with a p-value; Benjamini-Hochberg shown beside
it, never used for a verdict):

``supported``
    Holm-adjusted p <= alpha and the effect lies where the claim puts it (the peak-lag
    interval inside the lead window; a positive excess return).
``not supported``
    The interval excludes the claimed effect, or the raw p-value exceeds
    :data:`NOT_SUPPORTED_P` (the statistic sits on the null side of its median).
``inconclusive``
    Neither; always when the sample is below the test's minimum (two years of weekly
    returns; three independent events), where values are shown without an interval or
    a p-value.
``unknown``
    The data the test needs is missing (or stale at the as-of date), or a channel's
    history is shorter than :data:`MIN_WEEKS` weekly returns (``n too small``, with n).
``descriptive``
    Windows chosen after the fact (the 2016-17 and 2020-21 precedents): values only.

A claim is ``supported`` when one of its tests is and none is ``not supported``, ``not
supported`` in the mirror case, ``unknown`` when every test is, ``descriptive`` for the
descriptive claims, and ``inconclusive`` otherwise.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics*, 6(2), 65-70.

Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of
the Royal Statistical Society B*, 57(1), 289-300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "DESCRIPTIVE",
    "INCONCLUSIVE",
    "LEGEND",
    "MIN_EVENTS",
    "MIN_WEEKS",
    "NOT_SUPPORTED",
    "NOT_SUPPORTED_P",
    "SUPPORTED",
    "UNKNOWN",
    "VERDICTS",
    "bh_adjust",
    "claim_verdict",
    "holm_adjust",
    "test_verdict",
]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
UNKNOWN = "unknown"
DESCRIPTIVE = "descriptive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, UNKNOWN, DESCRIPTIVE)
LEGEND = {
    SUPPORTED: "significant after Holm's correction over the run's one family of tests, "
    "with the effect where the claim puts it",
    NOT_SUPPORTED: "the interval excludes the claimed effect, or the estimate sits on the "
    "null side (raw p > 0.5)",
    INCONCLUSIVE: "neither: not significant after correction, or too few observations "
    "(under 3 independent events: values only, no interval, no p-value)",
    UNKNOWN: "the data the test needs is missing or stale, or a channel's history is too "
    "short to test (n too small, with n)",
    DESCRIPTIVE: "windows chosen after the fact: values shown, never tested",
}
NOT_SUPPORTED_P = 0.5
MIN_WEEKS = 104  # lead-lag and Granger need two years of weekly returns
MIN_EVENTS = 3  # fewer independent events: values, never an interval or a p-value


def holm_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (input order; NaN stays NaN)."""
    from liqflow.stats.granger import holm_adjust as _holm

    return _holm(p_values)


def bh_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (input order; NaN stays NaN).

    Equal to ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]`` on the
    finite values (tested against it).
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    vals = p[ok]
    order = np.argsort(vals, kind="stable")[::-1]
    ranks = np.arange(m, 0, -1)
    stepped = np.minimum.accumulate(vals[order] * m / ranks)
    adj = np.empty(m)
    adj[order] = np.minimum(stepped, 1.0)
    out[ok] = adj
    return out


def test_verdict(
    *,
    family: str,
    available: bool,
    n: int,
    min_n: int,
    p_value: float,
    p_holm: float,
    supports: bool,
    contradicts: bool,
    alpha: float,
) -> str:
    """The verdict of one test row (see the module docstring)."""
    if family == "descriptive":
        return DESCRIPTIVE if available else UNKNOWN
    if not available:
        return UNKNOWN
    if n < min_n or not math.isfinite(p_value):
        return INCONCLUSIVE
    if math.isfinite(p_holm) and p_holm <= alpha and supports and not contradicts:
        return SUPPORTED
    if contradicts or p_value > NOT_SUPPORTED_P:
        return NOT_SUPPORTED
    return INCONCLUSIVE


test_verdict.__test__ = False  # type: ignore[attr-defined]


def claim_verdict(verdicts: Sequence[str]) -> str:
    """A claim's verdict from its tests' verdicts."""
    vs = list(verdicts)
    if not vs or all(v == UNKNOWN for v in vs):
        return UNKNOWN
    if all(v in (DESCRIPTIVE, UNKNOWN) for v in vs):
        return DESCRIPTIVE
    sup, nos = vs.count(SUPPORTED), vs.count(NOT_SUPPORTED)
    if sup and not nos:
        return SUPPORTED
    if nos and not sup:
        return NOT_SUPPORTED
    return INCONCLUSIVE
