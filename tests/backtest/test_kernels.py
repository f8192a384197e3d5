"""The numba sweep kernel equals its Python twin and the pandas backtest."""

from __future__ import annotations

import numpy as np
import pytest

from liqflow.backtest import MarketData, SweepGrid, backtest
from liqflow.backtest._kernels import (
    last_event_rows,
    last_event_rows_py,
    stats_to_metrics,
    sweep_stats,
    sweep_stats_py,
    sweep_stats_reference_py,
)
from liqflow.backtest._shared import block_edges
from liqflow.backtest.sweep import _prepare

GRID = SweepGrid(
    signal=("breakout", "stage", "any", "all"),
    lookback=(0, 40),
    volume_threshold=(0.0, 1.2),
    persistence=(0, 4),
    hold_days=(5, 25),
    min_stage=(2, 3),
    asset=("alts", "btc"),
    fallback=("cash", "eth"),
    fee_bps=12.0,
    slippage_bps=3.0,
)


def _run(fn, prep, eval_start: int, eval_end: int, n_blocks: int = 4):  # type: ignore[no-untyped-def]
    a = prep.arrays
    edges = block_edges(eval_start, eval_end, n_blocks)
    return fn(
        a.last_event, a.stage, a.rets, a.combos, a.cost, a.starts, eval_start, eval_end, edges
    )


def test_kernel_equals_python_twin(market: MarketData) -> None:
    prep = _prepare(GRID.rules(), market)
    fast = _run(sweep_stats, prep, prep.start + 30, 800)
    slow = _run(sweep_stats_py, prep, prep.start + 30, 800)
    for f, s in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(f, s)


@pytest.mark.parametrize(
    ("lo", "hi", "n_blocks"), [(None, None, 4), (3, 400, 2), (0, 900, 8), (500, 530, 6)]
)
def test_idle_cash_days_skipped_bit_for_bit(
    market: MarketData, lo: int | None, hi: int | None, n_blocks: int
) -> None:
    # every signal, cash and asset fallbacks, holds of 1 day, stage thresholds 0-4,
    # windows starting before the first priced day and blocks ending inside idle runs
    import numba

    grid = SweepGrid(
        signal=("breakout", "stage", "any", "all"),
        lookback=(0, 40),
        volume_threshold=(0.0, 1.2),
        persistence=(0, 4),
        hold_days=(1, 5, 25),
        min_stage=(0, 2, 3, 4),
        asset=("alts", "btc"),
        fallback=("cash", "eth"),
        fee_bps=12.0,
    )
    prep = _prepare(grid.rules(), market)
    reference = numba.njit(sweep_stats_reference_py)
    start = prep.start if lo is None else lo
    stop = prep.stop if hi is None else hi
    got = _run(sweep_stats, prep, start, stop, n_blocks)
    want = _run(reference, prep, start, stop, n_blocks)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert 0.05 < (got[0][:, 8] / got[0][:, 0]).mean() < 0.95  # idle days exist


@pytest.mark.parametrize("window", [(None, None), ("2018-05-01", "2019-12-31")])
def test_kernel_equals_pandas_backtest(market: MarketData, window: tuple) -> None:  # type: ignore[type-arg]
    rules = GRID.rules()
    prep = _prepare(rules, market)
    cal = market.calendar
    lo = prep.start if window[0] is None else int(cal.searchsorted(window[0]))
    hi = len(cal) if window[1] is None else int(cal.searchsorted(window[1], side="right"))
    stats, bsum, bsq = _run(sweep_stats, prep, lo, hi)
    got = stats_to_metrics(stats, market.periods_per_year)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(rules), 40, replace=False):
        res = backtest(rules[i], market, start=cal[lo], end=cal[hi - 1], benchmarks=())
        m = res.metrics
        for name in ("sharpe", "cagr", "volatility", "sortino", "max_drawdown", "calmar"):
            want = getattr(m, name)
            assert got[name][i] == pytest.approx(want, rel=1e-9, abs=1e-12, nan_ok=True), name
        for name in ("max_drawdown_days", "n_trades"):
            assert got[name][i] == getattr(m, name), name
        for name in ("turnover", "exposure", "hit_rate", "total_return"):
            assert got[name][i] == pytest.approx(getattr(m, name), rel=1e-12, nan_ok=True), name
        # per-block sums of the same net returns
        net = res.returns.to_numpy()
        for b, part in enumerate(np.array_split(net, 4)):
            assert bsum[i, b] == pytest.approx(part.sum(), rel=1e-9, abs=1e-14)
            assert bsq[i, b] == pytest.approx((part**2).sum(), rel=1e-9)


def test_cash_only_combo_has_nan_ratios(market: MarketData) -> None:
    # stage >= 4 never happens before day 10 of a 12-day window: always in cash
    grid = SweepGrid(signal=("stage",), min_stage=(4,), asset=("btc",))
    prep = _prepare(grid.rules(), market)
    stats, _, _ = _run(sweep_stats, prep, 2, 12, n_blocks=2)
    m = stats_to_metrics(stats, 365)
    assert m["exposure"][0] == 0 and np.isnan(m["sharpe"][0]) and m["total_return"][0] == 0


def test_last_event_rows_equal_the_running_maximum() -> None:
    rng = np.random.default_rng(4)
    events = rng.random((6, 300)) < 0.02
    events[0] = False  # no event: -1 throughout
    events[1, 0] = True  # an event on the first day
    want = np.maximum.accumulate(np.where(events, np.arange(300), -1), axis=1)
    for fn in (last_event_rows, last_event_rows_py):
        got = fn(events)
        assert got.dtype == np.int64 and np.array_equal(got, want)
    assert (want[0] == -1).all() and (want[1] >= 0).all()
