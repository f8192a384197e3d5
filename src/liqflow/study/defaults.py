"""Defaults shared by ``liqflow study``, the report and the API (no heavy imports)."""

from __future__ import annotations

__all__ = ["ALPHA", "DEFAULT_DRAWS", "DEFAULT_SEED"]

#: Bootstrap and placebo draws per test.
DEFAULT_DRAWS = 1999
#: The run's one random stream.
DEFAULT_SEED = 0
#: Family-wise error rate of Holm's correction over the run's one family of tests.
ALPHA = 0.05
