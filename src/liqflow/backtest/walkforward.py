"""Walk-forward evaluation: choose parameters on the past, trade them on the next block.

Folds tile the out-of-sample period with consecutive test windows of ``test_days``.
Each fold's training window ends ``embargo_days`` before its test window starts
(rolling: the ``train_days`` before that; expanding: everything since the first
tradable day). The combo with the highest training Sharpe ratio is traded over the test
window. The stitched out-of-sample path is built from the chosen rules' daily weights,
so switching rules at a fold boundary pays its turnover cost like any other trade.

The embargo must be at least the longest holding horizon of the candidates: a position
opened near the end of a training window would otherwise keep earning inside the test
window on information the selection already used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, InsufficientDataError
from liqflow.backtest._dispatch import evaluate
from liqflow.backtest._kernels import stats_to_metrics
from liqflow.backtest._shared import CASH, check_positive_int
from liqflow.backtest.data import MarketData
from liqflow.backtest.metrics import Metrics, _PathResult, performance
from liqflow.backtest.rules import Rule, _portfolio, rule_signal, rule_weights
from liqflow.backtest.sweep import SweepGrid, _prepare, _Prepared

__all__ = ["Fold", "WalkForwardResult", "walk_forward"]


@dataclass(frozen=True)
class Fold:
    """One train/test split and the rule chosen on it.

    Attributes
    ----------
    train_start, train_end, test_start, test_end : Timestamp
        Inclusive dates.
    combo : int
        Index of the chosen candidate.
    rule : Rule
    train_sharpe, test_sharpe : float
        Annualised Sharpe ratio of the chosen rule in each window (its own returns,
        without the switching cost at the boundary).
    """

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    combo: int
    rule: Rule
    train_sharpe: float
    test_sharpe: float


@dataclass(frozen=True, eq=False)
class WalkForwardResult(_PathResult):
    """The stitched out-of-sample performance of walk-forward selection.

    Attributes
    ----------
    folds : tuple of Fold
    path : DataFrame
        Per out-of-sample day: ``exposure`` (weight in the chosen rule's asset),
        ``turnover``, ``net`` and ``equity``.
    metrics : Metrics
        Out-of-sample metrics of the stitched returns.
    benchmarks : tuple of Metrics
        Buy-and-hold over the same out-of-sample days.
    train_days, test_days, embargo_days : int
    expanding : bool
    n_candidates : int
    """

    folds: tuple[Fold, ...]
    path: pd.DataFrame
    metrics: Metrics
    benchmarks: tuple[Metrics, ...]
    train_days: int
    test_days: int
    embargo_days: int
    expanding: bool
    n_candidates: int

    def to_frame(self) -> pd.DataFrame:
        """One row per fold: windows, chosen combo and rule, train and test Sharpe."""
        rows = [
            {
                "train_start": f.train_start,
                "train_end": f.train_end,
                "test_start": f.test_start,
                "test_end": f.test_end,
                "combo": f.combo,
                "rule": f.rule.label,
                "train_sharpe": f.train_sharpe,
                "test_sharpe": f.test_sharpe,
            }
            for f in self.folds
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        kind = "expanding" if self.expanding else "rolling"
        lines = [
            f"walk-forward ({kind}, train {self.train_days} d, test {self.test_days} d, "
            f"embargo {self.embargo_days} d): {len(self.folds)} folds, "
            f"{self.n_candidates} candidates",
            "  " + self.metrics.summary(),
        ]
        lines += ["  " + b.summary() for b in self.benchmarks]
        return "\n".join(lines)


def walk_forward(
    candidates: SweepGrid | Sequence[Rule],
    data: MarketData,
    *,
    train_days: int = 730,
    test_days: int = 182,
    embargo_days: int | None = None,
    expanding: bool = False,
    benchmarks: Sequence[str] = ("btc",),
    scheduler: str | None = None,
) -> WalkForwardResult:
    """Walk-forward selection by training Sharpe ratio (see the module docstring).

    Parameters
    ----------
    candidates : SweepGrid or sequence of Rule
        The rules to choose from (same costs).
    data : MarketData
    train_days, test_days : int
        Window lengths in days (calendar days on the daily panel).
    embargo_days : int, optional
        Gap between training and test windows; default and minimum: the longest
        ``hold_days`` among the breakout candidates (0 with stage rules only).
    expanding : bool
        Expanding instead of rolling training windows.
    benchmarks : sequence of str
        Extra buy-and-hold benchmarks (besides the candidates' assets).
    scheduler : see :func:`~liqflow.backtest.run_sweep`.

    Returns
    -------
    WalkForwardResult
    """
    rules = candidates.rules() if isinstance(candidates, SweepGrid) else list(candidates)
    embargo_days = _embargo(rules, train_days, test_days, embargo_days)
    prep = _prepare(rules, data)
    n = prep.stop  # the last day every candidate asset is priced, plus one
    first_test = prep.start + train_days + embargo_days
    if first_test + 2 > n:
        raise InsufficientDataError(
            f"walk-forward needs train_days + embargo_days + 2 = "
            f"{train_days + embargo_days + 2} days after {prep.calendar[prep.start]:%Y-%m-%d}, "
            f"got {n - prep.start}"
        )
    assets = list(prep.assets)
    stitched = np.zeros((len(prep.calendar), len(assets)))
    exposure = np.zeros(len(prep.calendar))
    folds: list[Fold] = []
    for ts in range(first_test, n, test_days):
        te = min(ts + test_days, n)
        tr_end = ts - embargo_days
        tr_start = prep.start if expanding else tr_end - train_days
        fold = _fold(rules, data, prep, (tr_start, tr_end), (ts, te), scheduler)
        w = rule_weights(fold.rule, rule_signal(fold.rule, data), prep.start)
        for col in w.columns:
            stitched[ts:te, assets.index(col)] = w[col].to_numpy()[ts:te]
        exposure[ts:te] = w[fold.rule.asset].to_numpy()[ts:te]
        folds.append(fold)
    oos = slice(first_test, n)
    path, metrics = _out_of_sample(data, rules[0].cost, stitched, exposure, assets, prep, oos)
    bench = _buy_and_hold(data, [*assets, *benchmarks], oos)
    return WalkForwardResult(
        folds=tuple(folds),
        path=path,
        metrics=metrics,
        benchmarks=tuple(bench),
        train_days=train_days,
        test_days=test_days,
        embargo_days=embargo_days,
        expanding=expanding,
        n_candidates=len(rules),
    )


def _embargo(rules: Sequence[Rule], train_days: int, test_days: int, embargo: int | None) -> int:
    """The checked windows; the embargo (default and minimum: the longest holding horizon)."""
    if not rules:
        raise ConfigError("walk_forward needs at least one candidate rule")
    check_positive_int(train_days, "train_days", minimum=2)
    check_positive_int(test_days, "test_days")
    horizon = max((r.hold_days for r in rules if r.uses_breakouts), default=0)
    if embargo is None:
        embargo = horizon
    check_positive_int(embargo, "embargo_days", minimum=0)
    if embargo < horizon:
        raise ConfigError(
            f"embargo_days must be >= the longest holding horizon ({horizon} days), got {embargo}"
        )
    return embargo


def _fold(
    rules: Sequence[Rule],
    data: MarketData,
    prep: _Prepared,
    train: tuple[int, int],
    test: tuple[int, int],
    scheduler: str | None,
) -> Fold:
    """The candidate with the best training Sharpe ratio, and its Sharpe ratio on ``test``."""
    ppy = data.periods_per_year
    cal = prep.calendar
    stats = evaluate(prep.arrays, *train, np.array(train), scheduler=scheduler).stats
    sharpe = stats_to_metrics(stats, ppy)["sharpe"]
    best = int(np.argmax(np.where(np.isfinite(sharpe), sharpe, -np.inf)))
    one = replace(
        prep.arrays,
        combos=prep.arrays.combos[best : best + 1],
        starts=prep.arrays.starts[best : best + 1],
    )
    test_stats = evaluate(one, *test, np.array(test)).stats
    return Fold(
        train_start=cal[train[0]],
        train_end=cal[train[1] - 1],
        test_start=cal[test[0]],
        test_end=cal[test[1] - 1],
        combo=best,
        rule=rules[best],
        train_sharpe=float(sharpe[best]),
        test_sharpe=float(stats_to_metrics(test_stats, ppy)["sharpe"][0]),
    )


def _out_of_sample(
    data: MarketData,
    cost: float,
    stitched: np.ndarray,
    exposure: np.ndarray,
    assets: list[str],
    prep: _Prepared,
    oos: slice,
) -> tuple[pd.DataFrame, Metrics]:
    """The stitched out-of-sample path (exposure, turnover, net, equity) and its metrics."""
    cal = prep.calendar
    weights = pd.DataFrame(stitched, index=cal, columns=assets)
    _, tau, net = _portfolio(weights, data.returns(assets), cost)
    path = pd.DataFrame(
        {
            "exposure": exposure[oos],
            "turnover": tau.iloc[oos].to_numpy(),
            "net": net.iloc[oos].to_numpy(),
        },
        index=cal[oos],
    )
    path["equity"] = (1.0 + path["net"]).cumprod()
    metrics = performance(
        path["net"],
        name="walk-forward (out of sample)",
        exposure=path["exposure"],
        turnover=path["turnover"],
        cost=cost,
        periods_per_year=data.periods_per_year,
    )
    return path, metrics


def _buy_and_hold(data: MarketData, columns: list[str], oos: slice) -> list[Metrics]:
    """Buy and hold of each asset priced on every out-of-sample day (cash excluded)."""
    bench = []
    for col in dict.fromkeys(columns):
        if col == CASH or col not in data.prices.columns:
            continue
        r = data.returns([col])[col].iloc[oos]
        if not r.isna().any():
            bench.append(
                performance(r, name=f"buy & hold {col}", periods_per_year=data.periods_per_year)
            )
    return bench
