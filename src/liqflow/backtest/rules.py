"""Rotation rules as data, their positions, and the backtest of one rule.

Timing (no look-ahead)
----------------------
Every input is what was known at the **close of day t**. A rule decides at the close of
*t* and trades at the close of *t + 1*; the new position earns the return from the close
of *t + 1* to the close of *t + 2*. In arrays: the weight held over day *t* (close
*t - 1* to close *t*) is the decision of day *t - 2*. The one-day delay leaves a full
day to see the data (equity closes, release lags) and act on it.

Costs
-----
``fee_bps + slippage_bps`` (basis points) are charged per unit of turnover, the sum of
absolute weight changes: entering an asset from cash is 1, switching from BTC to the
alt basket is 2 (sell one, buy the other). A trade made at the close of *t - 1* is
booked in day *t*'s return: ``net[t] = (1 - cost * turnover[t]) * (1 + gross[t]) - 1``,
which is exact for an all-in / all-out position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.backtest._shared import (
    CASH,
    SIGNALS,
    check_keys,
    check_nonneg_number,
    check_positive_int,
)
from liqflow.backtest.data import MAX_STAGE, MarketData
from liqflow.backtest.events import BreakoutParams
from liqflow.backtest.metrics import Metrics, _PathResult, performance
from liqflow.config import read_toml

__all__ = [
    "BacktestResult",
    "Rule",
    "backtest",
    "load_rule",
    "rule_path",
    "rule_signal",
    "rule_weights",
]

#: Fee and slippage are each below this many basis points (100 % of the traded amount).
MAX_COST_BPS = 10_000.0


@dataclass(frozen=True)
class Rule:
    """A rotation rule: when to hold ``asset``, and what to hold otherwise.

    Attributes
    ----------
    signal : {"stage", "breakout", "any", "all"}
        ``stage``: hold while the stage is >= ``min_stage``; ``breakout``: hold for
        ``hold_days`` days after each small-cap breakout event (the event day counts
        as the first); ``any``: either; ``all``: both.
    asset : str
        Price column to hold when the signal is on (``alts``, ``btc``...).
    fallback : str
        ``"cash"`` (zero return) or a price column held when the signal is off.
    min_stage : int
        Stage threshold, 0-4.
    hold_days : int
        Days the breakout signal stays on after an event.
    breakout : BreakoutParams
        How events are detected when they are computed from small-cap sessions.
    fee_bps, slippage_bps : float
        Costs in basis points per unit of turnover.
    name : str
        Label (default: built from the parameters).
    """

    signal: str = "breakout"
    asset: str = "alts"
    fallback: str = CASH
    min_stage: int = 3
    hold_days: int = 60
    breakout: BreakoutParams = field(default_factory=BreakoutParams)
    fee_bps: float = 10.0
    slippage_bps: float = 10.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ConfigError(f"Rule.signal must be one of {SIGNALS}, got {self.signal!r}")
        if not isinstance(self.asset, str) or not self.asset or self.asset == CASH:
            raise ConfigError(f"Rule.asset must be a price column name, got {self.asset!r}")
        if not isinstance(self.fallback, str) or self.fallback == self.asset:
            raise ConfigError(
                f"Rule.fallback must be 'cash' or a price column other than the asset "
                f"{self.asset!r}, got {self.fallback!r}"
            )
        check_positive_int(self.min_stage, "Rule.min_stage", minimum=0)
        if self.min_stage > MAX_STAGE:
            raise ConfigError(f"Rule.min_stage must be 0-{MAX_STAGE}, got {self.min_stage!r}")
        check_positive_int(self.hold_days, "Rule.hold_days")
        for name, bps in (("fee_bps", self.fee_bps), ("slippage_bps", self.slippage_bps)):
            # a cost of 100 % of the traded amount or more is a unit mistake, not a cost
            if check_nonneg_number(bps, f"Rule.{name}") >= MAX_COST_BPS:
                raise ConfigError(
                    f"Rule.{name} must be below {MAX_COST_BPS:,.0f} basis points (100 % of the "
                    f"traded amount), got {bps!r}"
                )
        if not isinstance(self.breakout, BreakoutParams):
            raise ConfigError(
                f"Rule.breakout must be a BreakoutParams, got {type(self.breakout).__name__}"
            )

    @property
    def cost(self) -> float:
        """Cost per unit of turnover, as a fraction."""
        return (self.fee_bps + self.slippage_bps) / 1e4

    @property
    def uses_stage(self) -> bool:
        return self.signal != "breakout"

    @property
    def uses_breakouts(self) -> bool:
        return self.signal != "stage"

    @property
    def label(self) -> str:
        """The name, or a description built from the parameters."""
        if self.name:
            return self.name
        b = self.breakout
        brk = (
            f"{self.hold_days}d after breakout(lb={b.lookback}, vol>={b.volume_threshold:g}, "
            f"persist={b.persistence})"
        )
        stg = f"stage>={self.min_stage}"
        cond = {"stage": stg, "breakout": brk, "any": f"{stg} or {brk}", "all": f"{stg} and {brk}"}
        return f"{self.asset} if {cond[self.signal]} else {self.fallback}"

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], source: str = "rule") -> Rule:
        """Build a rule from a TOML-like table (``[rule]`` plus ``[rule.breakout]``)."""
        allowed = tuple(f.name for f in fields(cls))
        check_keys(table, allowed, source)
        kw = dict(table)
        brk = kw.pop("breakout", {})
        if not isinstance(brk, Mapping):
            raise ConfigError(f"{source}.breakout must be a table, got {brk!r}")
        check_keys(brk, tuple(f.name for f in fields(BreakoutParams)), f"{source}.breakout")
        try:
            return cls(breakout=BreakoutParams(**brk), **kw)
        except TypeError as exc:  # pragma: no cover - keys are checked above
            raise ConfigError(f"{source}: {exc}") from None


def load_rule(path: str | Path, table: str = "rule") -> Rule:
    """Read a :class:`Rule` from the ``[rule]`` table of a TOML file.

    Example::

        [rule]
        signal = "breakout"     # stage | breakout | any | all
        asset = "alts"
        fallback = "cash"
        hold_days = 60
        min_stage = 3
        fee_bps = 10
        slippage_bps = 10

        [rule.breakout]
        lookback = 0            # 0 = all-time high
        volume_threshold = 1.2
        persistence = 20
    """
    p = Path(path)
    doc = read_toml(p, "rule")
    if table not in doc or not isinstance(doc[table], Mapping):
        raise ConfigError(f"rule file {str(p)!r} has no [{table}] table; found {sorted(doc)}")
    return Rule.from_mapping(doc[table], source=f"{p.name}[{table}]")


def _breakout_on(events: np.ndarray, hold_days: int) -> np.ndarray:
    """True on days within ``hold_days`` of the latest event (event day included)."""
    n = events.size
    t = np.arange(n)
    last = np.maximum.accumulate(np.where(events, t, -1))
    return (last >= 0) & (t - last < hold_days)


def rule_signal(rule: Rule, data: MarketData) -> pd.Series:
    """Whether ``rule`` wants ``rule.asset`` at the close of each day (the decision).

    Unknown stages count as below ``min_stage``.
    """
    n = len(data.calendar)
    on_stage = data.stage_array() >= rule.min_stage if rule.uses_stage else np.ones(n, bool)
    if rule.uses_breakouts:
        events = data.event_rows([rule.breakout])[0]
        on_brk = _breakout_on(events, rule.hold_days)
    else:
        on_brk = np.ones(n, bool)
    # "stage" and "breakout" rules have the other side all True
    on = on_stage | on_brk if rule.signal == "any" else on_stage & on_brk
    return pd.Series(on, index=data.calendar, name="signal")


def _priced_span(returns: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the first row with a return and one past the last.

    Raises DataError when a column has no return or a gap inside its span (a history
    that stops, like a delisted coin's, ends the span instead).
    """
    ok = returns.notna().to_numpy()
    first = np.argmax(ok, axis=0).astype(np.int64)
    stop = (ok.shape[0] - np.argmax(ok[::-1], axis=0)).astype(np.int64)
    for j, col in enumerate(returns.columns):
        if not ok[:, j].any():
            raise DataError(f"asset {col!r} has no two consecutive prices")
        gaps = ~ok[first[j] : stop[j], j]
        if gaps.any():
            day = returns.index[first[j] + int(np.argmax(gaps))]
            raise DataError(
                f"price of {col!r} is missing on {day:%Y-%m-%d} inside its history; "
                "forward-fill or trim the prices"
            )
    return first, stop


def _trading_span(returns: pd.DataFrame) -> tuple[int, int]:
    """Rows ``[start, stop)`` where every column has a return."""
    first, stop = _priced_span(returns)
    start, end = int(first.max()), int(stop.min())
    if end - start < 2:
        raise DataError(
            f"the price histories of {list(returns.columns)} overlap on {max(end - start, 0)} "
            "days; need at least 2"
        )
    return start, end


def rule_weights(rule: Rule, signal: pd.Series, start: int = 0) -> pd.DataFrame:
    """Weights held over each day: the decision of two days before (see module doc).

    Columns: ``rule.asset`` and, unless the fallback is cash, ``rule.fallback``. Rows
    before ``start`` (the first day every asset is priced) hold cash.
    """
    on = signal.to_numpy(dtype=bool)
    w = np.zeros(on.size, dtype=np.float64)
    w[2:] = on[:-2]
    w[:start] = 0.0
    cols = {rule.asset: w}
    if rule.fallback != CASH:
        wf = 1.0 - w
        wf[:start] = 0.0
        cols[rule.fallback] = wf
    return pd.DataFrame(cols, index=signal.index)


def _portfolio(
    weights: pd.DataFrame, returns: pd.DataFrame, cost: float
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Gross return, turnover and net return of daily weights (cash = the rest)."""
    w = weights.to_numpy()
    r = returns[weights.columns].to_numpy()
    gross = np.where(w != 0, w * np.nan_to_num(r), 0.0).sum(axis=1)
    prev = np.vstack([np.zeros((1, w.shape[1])), w[:-1]])
    tau = np.abs(w - prev).sum(axis=1)
    net = (1.0 - cost * tau) * (1.0 + gross) - 1.0
    idx = weights.index
    return (
        pd.Series(gross, index=idx, name="gross"),
        pd.Series(tau, index=idx, name="turnover"),
        pd.Series(net, index=idx, name="net"),
    )


def _window(
    index: pd.DatetimeIndex,
    span: tuple[int, int],
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
) -> slice:
    lo, hi = span
    if start is not None:
        lo = max(lo, int(index.searchsorted(pd.Timestamp(start), side="left")))
    if end is not None:
        hi = min(hi, int(index.searchsorted(pd.Timestamp(end), side="right")))
    if hi - lo < 2:
        raise DataError(
            f"backtest window {start!r}..{end!r} leaves {max(hi - lo, 0)} days with prices "
            f"(data from {index[span[0]]:%Y-%m-%d} to {index[span[1] - 1]:%Y-%m-%d}); "
            "need at least 2"
        )
    return slice(lo, hi)


@dataclass(frozen=True, eq=False)
class BacktestResult(_PathResult):
    """The daily path and metrics of one rule, next to buy-and-hold.

    Attributes
    ----------
    rule : Rule
    metrics : Metrics
        The rule's net performance over the window.
    benchmarks : tuple of Metrics
        Buy-and-hold of the rule's asset and of each requested benchmark (no costs).
    path : DataFrame
        Per day: ``signal`` (decision at the close), ``weight`` (held over the day, in
        the asset), ``asset_return``, ``fallback_return``, ``gross``, ``turnover``,
        ``net`` and ``equity`` (1 before the first day).
    """

    rule: Rule
    metrics: Metrics
    benchmarks: tuple[Metrics, ...]
    path: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The daily path (a copy)."""
        return self.path.copy()

    def summary(self) -> str:
        lines = [f"backtest: {self.rule.label}", "  " + self.metrics.summary()]
        lines += ["  " + b.summary() for b in self.benchmarks]
        return "\n".join(lines)


def rule_path(
    rule: Rule,
    data: MarketData,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, slice]:
    """The daily path of :func:`backtest` (its ``path``) and its window in the calendar,
    without the metrics."""
    assets = [rule.asset] + ([rule.fallback] if rule.fallback != CASH else [])
    rets = data.returns(assets)
    span = _trading_span(rets)
    signal = rule_signal(rule, data)
    weights = rule_weights(rule, signal, span[0])
    gross, tau, net = _portfolio(weights, rets, rule.cost)
    win = _window(data.calendar, span, start, end)
    path = pd.DataFrame(
        {
            "signal": signal,
            "weight": weights[rule.asset],
            "asset_return": rets[rule.asset],
            "fallback_return": rets[rule.fallback] if rule.fallback != CASH else 0.0,
            "gross": gross,
            "turnover": tau,
            "net": net,
        }
    ).iloc[win]
    path["equity"] = (1.0 + path["net"]).cumprod()
    return path, win


def backtest(
    rule: Rule,
    data: MarketData,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    benchmarks: Sequence[str] = ("btc",),
) -> BacktestResult:
    """Backtest ``rule`` on ``data`` (pandas reference implementation).

    Parameters
    ----------
    rule : Rule
    data : MarketData
    start, end : date, optional
        Evaluation window (inclusive), inside the days when all the rule's assets are
        priced. The rule runs from the first of those days; days before ``start`` only
        set the position it starts with.
    benchmarks : sequence of str
        Price columns to report buy-and-hold for, besides the rule's asset; skipped
        when absent or not priced over the whole window.

    Returns
    -------
    BacktestResult
    """
    path, win = rule_path(rule, data, start=start, end=end)
    ppy = data.periods_per_year
    metrics = performance(
        path["net"],
        name=rule.label,
        exposure=path["weight"],
        turnover=path["turnover"],
        cost=rule.cost,
        periods_per_year=ppy,
    )
    bench: list[Metrics] = []
    for col in dict.fromkeys([rule.asset, *benchmarks]):
        if col not in data.prices.columns:
            continue
        r = data.returns([col])[col].iloc[win]
        if r.isna().any():
            continue
        bench.append(performance(r, name=f"buy & hold {col}", periods_per_year=ppy))
    return BacktestResult(rule=rule, metrics=metrics, benchmarks=tuple(bench), path=path)
