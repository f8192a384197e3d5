"""Helpers shared by the statistics modules: validation, random generators, returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow._series import check_series

__all__ = [
    "ALTERNATIVES",
    "FREQS",
    "RandomLike",
    "aligned_returns",
    "check_alternative",
    "check_confidence",
    "check_freq",
    "check_positive_int",
    "permutation_p_value",
    "price_series",
    "resolve_rng",
    "weekly_closes",
]

RandomLike = np.random.Generator | int | None

FREQS = ("W", "D")
ALTERNATIVES = ("greater", "less", "two-sided")


def resolve_rng(seed: RandomLike) -> np.random.Generator:
    """A ``numpy`` Generator from a Generator, an integer seed or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise DataError(f"seed must be a numpy Generator, an int or None, got {seed!r}")


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``, else raise DataError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` if it lies strictly between 0 and 1."""
    if not isinstance(confidence, float | int) or not 0.0 < float(confidence) < 1.0:
        raise DataError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return float(confidence)


def check_freq(freq: str) -> str:
    """Return ``freq`` if it is one of :data:`FREQS`."""
    if freq not in FREQS:
        raise DataError(f"freq must be one of {FREQS}, got {freq!r}")
    return freq


def check_alternative(alternative: str) -> str:
    """Return ``alternative`` if it is one of :data:`ALTERNATIVES`."""
    if alternative not in ALTERNATIVES:
        raise DataError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return alternative


def price_series(obj: pd.Series, name: str) -> pd.Series:
    """Validate a price-like series (contract index, numeric) and drop its missing values.

    Non-positive prices are rejected (returns are ratios, lead-lag uses logs).
    """
    if not isinstance(obj, pd.Series):
        raise DataError(f"{name}: expected a pandas Series, got {type(obj).__name__}")
    check_series(obj, name)
    try:
        out = obj.astype(np.float64).dropna()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: values must be numeric, got dtype {obj.dtype}") from exc
    if (out <= 0).any():
        bad = out.index[out <= 0][0]
        raise DataError(f"{name}: prices must be positive, got {float(out[bad])!r} on {bad.date()}")
    return out


def weekly_closes(prices: pd.Series) -> pd.Series:
    """Last close of each week ending Friday (``W-FRI``), forward-filled over empty weeks.

    A week with no observation keeps the previous week's close (a zero return), so the
    weekly grid stays regular and lags keep their meaning.
    """
    weekly = prices.resample("W-FRI").last()
    return weekly.ffill()


def aligned_returns(
    leader: pd.Series, follower: pd.Series, freq: str, names: Sequence[str] = ("leader", "follower")
) -> pd.DataFrame:
    """Log returns of two price series on one regular grid (see :func:`lead_lag` Notes).

    ``freq="W"``: both are cut to the dates they share, then each is reduced to its
    last close of every week ending Friday. ``freq="D"``: both are restricted to the
    dates on which *both* have a price, and returns are taken between those dates.
    """
    check_freq(freq)
    a = price_series(leader, names[0])
    b = price_series(follower, names[1])
    if freq == "W":
        if len(a) and len(b):
            # cut both to the span they share first, so a partial last week is partial
            # for both (as of the same day) rather than Monday for one and Friday for the other
            start, end = max(a.index[0], b.index[0]), min(a.index[-1], b.index[-1])
            a, b = a.loc[start:end], b.loc[start:end]
        frame = pd.concat([weekly_closes(a), weekly_closes(b)], axis=1, keys=list(names), sort=True)
        frame = frame.dropna()
    else:
        frame = pd.concat([a, b], axis=1, keys=list(names), join="inner", sort=True)
    logs = pd.DataFrame(
        np.log(frame.to_numpy(dtype=np.float64)), index=frame.index, columns=frame.columns
    )
    rets = logs.diff().iloc[1:]
    rets = rets.dropna()
    rets.index.name = "date"
    if len(rets) < 3:
        raise InsufficientDataError(
            f"{names[0]} and {names[1]}: need at least 3 common {freq} returns, got {len(rets)}"
        )
    return rets


def permutation_p_value(observed: float, null: np.ndarray, alternative: str) -> float:
    """Monte Carlo p-value ``(1 + #{null at least as extreme}) / (1 + R)``.

    ``null`` holds the statistic under the null; NaN draws are ignored. For
    ``"two-sided"`` the distance from the null median is compared.

    References
    ----------
    Phipson, B. and Smyth, G. K. (2010). Permutation p-values should never be zero.
    *Statistical Applications in Genetics and Molecular Biology*, 9(1).
    """
    check_alternative(alternative)
    draws = null[np.isfinite(null)]
    if not np.isfinite(observed) or draws.size == 0:
        return float("nan")
    if alternative == "greater":
        hits = np.count_nonzero(draws >= observed)
    elif alternative == "less":
        hits = np.count_nonzero(draws <= observed)
    else:
        centre = float(np.median(draws))
        hits = np.count_nonzero(np.abs(draws - centre) >= abs(observed - centre))
    return float((1 + hits) / (1 + draws.size))
