"""Performance metrics of a daily return series.

Every function takes simple (not log) periodic returns as a Series or 1-d array without
NaN and returns a float. Conventions follow ``empyrical`` (the tests check equality to
1e-10 with ``annualization=periods_per_year``):

* ``cagr``: ``prod(1 + r) ** (periods_per_year / n) - 1``;
* ``annual_volatility``: ``std(r, ddof=1) * sqrt(periods_per_year)``;
* ``sharpe_ratio``: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``;
* ``sortino_ratio``: ``mean(r - m) * ppy / (sqrt(mean(min(r - m, 0) ** 2)) * sqrt(ppy))``;
* ``max_drawdown``: the worst ``wealth / running_peak - 1``, the wealth path starting
  at 1 *before* the first return (so a loss on day one is a drawdown);
* ``calmar_ratio``: ``cagr / |max_drawdown|`` (NaN without a drawdown).

The annualisation factor is a parameter: 365 (:data:`DAYS_PER_YEAR`) for the daily
calendar-day panel, since crypto trades every day and the panel carries equities over
weekends; use 252 for a series indexed by equity sessions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.backtest._shared import DAYS_PER_YEAR

__all__ = [
    "Metrics",
    "annual_volatility",
    "cagr",
    "calmar_ratio",
    "drawdown_duration",
    "max_drawdown",
    "performance",
    "sharpe_ratio",
    "sortino_ratio",
    "trade_returns",
]


def _values(returns: pd.Series | np.ndarray, name: str = "returns") -> np.ndarray:
    arr = np.asarray(returns, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise DataError(f"{name} contains NaN at position {int(np.argmax(np.isnan(arr)))}")
    return arr


def cagr(returns: pd.Series | np.ndarray, periods_per_year: float = DAYS_PER_YEAR) -> float:
    """Compound annual growth rate (``empyrical.annual_return``)."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    ending = float(np.prod(1.0 + r))
    if ending <= 0:
        return -1.0
    return float(ending ** (periods_per_year / r.size) - 1.0)


def annual_volatility(
    returns: pd.Series | np.ndarray, periods_per_year: float = DAYS_PER_YEAR
) -> float:
    """Annualised standard deviation, ddof=1 (``empyrical.annual_volatility``)."""
    r = _values(returns)
    if r.size < 2:
        return float("nan")
    return float(np.std(r, ddof=1) * np.sqrt(periods_per_year))


def sharpe_ratio(
    returns: pd.Series | np.ndarray,
    periods_per_year: float = DAYS_PER_YEAR,
    risk_free: float = 0.0,
) -> float:
    """Annualised Sharpe ratio (``empyrical.sharpe_ratio``); NaN when the std is 0.

    ``risk_free`` is per period, like empyrical's.
    """
    r = _values(returns) - risk_free
    if r.size < 2:
        return float("nan")
    sd = float(np.std(r, ddof=1))
    if sd == 0 or r.max() == r.min():
        return float("nan")
    return float(np.mean(r) / sd * np.sqrt(periods_per_year))


def sortino_ratio(
    returns: pd.Series | np.ndarray,
    periods_per_year: float = DAYS_PER_YEAR,
    required_return: float = 0.0,
) -> float:
    """Annualised Sortino ratio (``empyrical.sortino_ratio``); NaN without downside."""
    r = _values(returns) - required_return
    if r.size < 2:
        return float("nan")
    downside = float(np.sqrt(np.mean(np.square(np.minimum(r, 0.0)))) * np.sqrt(periods_per_year))
    if downside == 0:
        return float("nan")
    return float(np.mean(r) * periods_per_year / downside)


def _wealth(r: np.ndarray) -> np.ndarray:
    return np.concatenate([[1.0], np.cumprod(1.0 + r)])


def max_drawdown(returns: pd.Series | np.ndarray) -> float:
    """Largest peak-to-trough loss, a number <= 0 (``empyrical.max_drawdown``)."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    wealth = _wealth(r)
    return float(np.min(wealth / np.maximum.accumulate(wealth) - 1.0))


def drawdown_duration(returns: pd.Series | np.ndarray) -> int:
    """Length in periods of the maximum drawdown, from its peak to its recovery.

    The peak is the last period at the running maximum before the (first) deepest
    trough; the recovery is the first later period whose wealth is back at or above
    that peak. When wealth has not recovered, the duration runs to the last period.
    0 when there is no drawdown.
    """
    r = _values(returns)
    if r.size == 0:
        return 0
    wealth = _wealth(r)
    peaks = np.maximum.accumulate(wealth)
    dd = wealth / peaks - 1.0
    trough = int(np.argmin(dd))
    if dd[trough] >= 0:
        return 0
    level = peaks[trough]
    peak_at = int(np.flatnonzero(wealth[: trough + 1] >= level)[-1])
    after = np.flatnonzero(wealth[trough:] >= level)
    end = trough + int(after[0]) if after.size else wealth.size - 1
    return end - peak_at


def calmar_ratio(returns: pd.Series | np.ndarray, periods_per_year: float = DAYS_PER_YEAR) -> float:
    """CAGR over the absolute maximum drawdown (``empyrical.calmar_ratio``)."""
    mdd = max_drawdown(returns)
    if not mdd < 0:
        return float("nan")
    return cagr(returns, periods_per_year) / abs(mdd)


def trade_returns(
    returns: pd.Series | np.ndarray,
    exposure: pd.Series | np.ndarray,
    turnover: pd.Series | np.ndarray,
    cost: float,
) -> np.ndarray:
    """Return of each trade: a run of consecutive periods with ``exposure > 0``.

    A trade compounds the net returns of its periods (the entry cost is booked in the
    first of them) times the exit cost ``1 - cost * turnover`` booked the period after
    the run. A run still open at the end of the series is closed without exit cost.
    """
    r = _values(returns)
    x = _values(exposure, "exposure") > 0
    tau = _values(turnover, "turnover")
    out: list[float] = []
    growth = 1.0
    in_trade = False
    for t in range(r.size):
        if x[t]:
            if not in_trade:
                in_trade, growth = True, 1.0
            growth *= 1.0 + r[t]
        elif in_trade:
            growth *= 1.0 - cost * tau[t]
            out.append(growth - 1.0)
            in_trade = False
    if in_trade:
        out.append(growth - 1.0)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Metrics:
    """Performance of one return series.

    Attributes
    ----------
    name : str
        What the returns are (a rule, ``buy & hold btc``...).
    start, end : Timestamp or None
        First and last period.
    n_obs : int
        Number of periods.
    periods_per_year : float
        Annualisation factor used.
    total_return, cagr, volatility, sharpe, sortino : float
        See the module docstring; ratios are annualised, risk-free rate 0.
    max_drawdown : float
        Worst peak-to-trough loss (<= 0).
    max_drawdown_days : int
        Periods from the peak before the maximum drawdown to its recovery (or the end).
    calmar : float
        ``cagr / |max_drawdown|``.
    turnover : float
        Annualised turnover: sum of absolute weight changes per year (1 = the whole
        portfolio traded once a year; a round trip into an asset and back to cash is 2).
    exposure : float
        Share of periods with a position in the rule's asset.
    n_trades : int
        Number of trades (runs of exposure).
    hit_rate : float
        Share of trades with a positive return after costs (NaN without trades).
    """

    name: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    n_obs: int
    periods_per_year: float
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_days: int
    calmar: float
    turnover: float
    exposure: float
    n_trades: int
    hit_rate: float

    def to_series(self) -> pd.Series:
        """The metrics as a Series named after :attr:`name`."""
        d = asdict(self)
        name = d.pop("name")
        return pd.Series(d, name=name, dtype=object)

    def summary(self) -> str:
        """One line: CAGR, volatility, Sharpe, max drawdown, exposure."""
        return (
            f"{self.name}: CAGR {self.cagr:+.1%}, vol {self.volatility:.1%}, "
            f"Sharpe {self.sharpe:.2f}, Sortino {self.sortino:.2f}, "
            f"max DD {self.max_drawdown:.1%} ({self.max_drawdown_days} d), "
            f"exposure {self.exposure:.0%}, {self.n_trades} trades, n={self.n_obs}"
        )


class _PathResult:
    """What a result with a daily ``path`` (columns ``net``, ``equity``), its ``metrics``
    and buy-and-hold ``benchmarks`` offers (base of the backtest and walk-forward results).
    """

    path: pd.DataFrame
    metrics: Metrics
    benchmarks: tuple[Metrics, ...]

    @property
    def returns(self) -> pd.Series:
        """Net daily returns."""
        return self.path["net"].copy()

    @property
    def equity(self) -> pd.Series:
        """Equity curve starting from 1."""
        return self.path["equity"].copy()

    def compare(self) -> pd.DataFrame:
        """The metrics next to the buy-and-hold benchmarks, one row each."""
        return pd.DataFrame([m.to_series() for m in (self.metrics, *self.benchmarks)])


def performance(
    returns: pd.Series,
    *,
    name: str = "",
    exposure: pd.Series | None = None,
    turnover: pd.Series | None = None,
    cost: float = 0.0,
    periods_per_year: float = DAYS_PER_YEAR,
) -> Metrics:
    """All metrics of ``returns``.

    Parameters
    ----------
    returns : Series
        Net periodic returns, no NaN.
    name : str
        Label of the result.
    exposure : Series, optional
        Weight in the rule's asset per period (default: always 1, buy and hold).
    turnover : Series, optional
        Sum of absolute weight changes per period (default: 0).
    cost : float
        Cost per unit turnover (fraction), used for the exit leg of trades.
    periods_per_year : float
        Annualisation factor (365 for the daily calendar-day panel).

    Returns
    -------
    Metrics
    """
    r = _values(returns)
    if r.size < 2:
        raise InsufficientDataError(f"returns {name!r}: need at least 2 periods, got {r.size}")
    x = np.ones_like(r) if exposure is None else _values(exposure, "exposure")
    tau = np.zeros_like(r) if turnover is None else _values(turnover, "turnover")
    trades = trade_returns(r, x, tau, cost)
    idx = returns.index if isinstance(returns, pd.Series) else None
    return Metrics(
        name=name,
        start=pd.Timestamp(idx[0]) if idx is not None else None,
        end=pd.Timestamp(idx[-1]) if idx is not None else None,
        n_obs=int(r.size),
        periods_per_year=float(periods_per_year),
        total_return=float(np.prod(1.0 + r) - 1.0),
        cagr=cagr(r, periods_per_year),
        volatility=annual_volatility(r, periods_per_year),
        sharpe=sharpe_ratio(r, periods_per_year),
        sortino=sortino_ratio(r, periods_per_year),
        max_drawdown=max_drawdown(r),
        max_drawdown_days=drawdown_duration(r),
        calmar=calmar_ratio(r, periods_per_year),
        turnover=float(tau.sum() * periods_per_year / r.size),
        exposure=float(np.mean(x > 0)),
        n_trades=int(trades.size),
        hit_rate=float(np.mean(trades > 0)) if trades.size else float("nan"),
    )
