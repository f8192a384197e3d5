"""Constants and validation helpers shared by the backtest modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError

__all__ = [
    "CASH",
    "DAYS_PER_YEAR",
    "SIGNALS",
    "block_edges",
    "check_keys",
    "check_nonneg_number",
    "check_positive_int",
    "check_prices",
    "price_returns",
]

#: Annualisation factor for daily calendar-day series: crypto trades every day.
DAYS_PER_YEAR = 365

#: The name of the riskless fallback (zero return, no asset held).
CASH = "cash"

#: How a rule turns the stage and breakout series into "hold the asset":
#: ``stage``: stage >= min_stage; ``breakout``: within hold_days of a breakout event;
#: ``any``: either; ``all``: both.
SIGNALS = ("stage", "breakout", "any", "all")


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_nonneg_number(value: object, name: str) -> float:
    """Return ``value`` as float, or raise ConfigError unless it is a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not np.isfinite(value)
        or value < 0
    ):
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], name: str) -> None:
    """Raise ConfigError when ``table`` has keys outside ``allowed``."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{name}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(allowed)}"
        )


def check_prices(prices: pd.DataFrame) -> None:
    """Raise DataError unless ``prices`` is a daily price frame the backtest can use."""
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"prices must be a DataFrame of asset closes, got {type(prices).__name__}")
    idx = prices.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is not None:
        raise DataError("prices: index must be a tz-naive DatetimeIndex of calendar days")
    if not idx.is_monotonic_increasing or not idx.is_unique:
        raise DataError("prices: index must be sorted and unique")
    if CASH in prices.columns:
        raise DataError(f"prices: {CASH!r} is reserved for the riskless fallback, not a column")
    if len(idx) < 3:
        raise DataError(f"prices: need at least 3 days, got {len(idx)}")


def price_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Simple returns ``p[t] / p[t-1] - 1`` per column (NaN where either price is missing)."""
    values = prices.to_numpy(dtype=np.float64)
    out = np.full_like(values, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = values[1:] / values[:-1] - 1.0
    return pd.DataFrame(out, index=prices.index, columns=prices.columns)


def block_edges(start: int, stop: int, n_blocks: int) -> np.ndarray:
    """Edges of ``n_blocks`` contiguous blocks covering ``[start, stop)``.

    Sizes differ by at most one, larger blocks first, like ``np.array_split``.
    """
    n = stop - start
    base, extra = divmod(n, n_blocks)
    sizes = np.full(n_blocks, base, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate([[start], start + np.cumsum(sizes)]).astype(np.int64)
