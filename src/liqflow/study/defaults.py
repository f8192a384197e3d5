"""Defaults shared by ``liqflow study``, the report and the API (no heavy imports)."""

from __future__ import annotations

from liqflow._errors import ConfigError

__all__ = ["ALPHA", "DEFAULT_DRAWS", "DEFAULT_SEED", "MAX_DRAWS", "check_seed", "check_seed_draws"]

#: Bootstrap and placebo draws per test.
DEFAULT_DRAWS = 1999
#: The run's one random stream.
DEFAULT_SEED = 0
#: Family-wise error rate of Holm's correction over the run's one family of tests.
ALPHA = 0.05
#: Most draws per test accepted (each test holds a few draws x observations arrays).
MAX_DRAWS = 100_000


def check_seed(seed: object) -> None:
    """Refuse a seed that numpy's ``SeedSequence`` cannot take (ConfigError naming it)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")


def check_seed_draws(seed: object, draws: object) -> None:
    """Refuse a bad seed (:func:`check_seed`) or a draw count outside [1, MAX_DRAWS].

    Raises
    ------
    ConfigError
        Naming the value received and the range accepted.
    """
    check_seed(seed)
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= MAX_DRAWS:
        raise ConfigError(f"draws must be an integer from 1 to {MAX_DRAWS:,}, got {draws!r}")
