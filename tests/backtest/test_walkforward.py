"""Walk-forward: fold layout, embargo, selection on the past only, stitched path."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, InsufficientDataError
from liqflow.backtest import MarketData, Rule, SweepGrid, backtest, walk_forward

GRID = SweepGrid(
    signal=("breakout", "stage"),
    lookback=(0, 40),
    volume_threshold=(0.0,),
    persistence=(0, 3),
    hold_days=(10, 30),
    min_stage=(2, 3),
    asset=("alts", "btc"),
    fallback=("cash",),
)


def test_folds_tile_the_out_of_sample_period(market: MarketData) -> None:
    res = walk_forward(GRID, market, train_days=200, test_days=90)
    folds = res.to_frame()
    assert res.embargo_days == 30  # default: the longest hold
    assert (
        folds["test_start"].iloc[1:].to_numpy()
        == (folds["test_end"].iloc[:-1] + pd.Timedelta(days=1)).to_numpy()
    ).all()
    gap = (folds["test_start"] - folds["train_end"]).dt.days
    assert (gap == 31).all()  # embargo of 30 days between them
    assert ((folds["train_end"] - folds["train_start"]).dt.days == 199).all()
    assert res.path.index[0] == folds["test_start"].iloc[0]
    assert res.path.index[-1] == market.calendar[-1]
    assert len(res.path) == (folds["test_end"] - folds["test_start"]).dt.days.add(1).sum()
    assert res.metrics.n_obs == len(res.path)
    assert {b.name for b in res.benchmarks} == {"buy & hold alts", "buy & hold btc"}
    assert f"{len(res.folds)} folds" in res.summary() and len(res.compare()) == 3


def test_expanding_windows_start_at_the_first_tradable_day(market: MarketData) -> None:
    res = walk_forward(GRID, market, train_days=300, test_days=120, expanding=True)
    starts = res.to_frame()["train_start"]
    assert (starts == starts.iloc[0]).all()
    assert starts.iloc[0] == market.calendar[41]  # alts first return (priced from day 40)


def test_selection_uses_only_the_past(market: MarketData) -> None:
    # Changing every price after a fold's test window starts leaves its choice unchanged.
    res = walk_forward(GRID, market, train_days=200, test_days=90)
    fold = res.folds[2]
    prices = market.prices.copy()
    later = prices.index >= fold.test_start
    rng = np.random.default_rng(0)
    prices.loc[later] = prices.loc[later].to_numpy() * rng.uniform(0.5, 2.0, (later.sum(), 3))
    altered = MarketData(prices=prices, stage=market.stage, small_caps=market.small_caps)
    res2 = walk_forward(GRID, altered, train_days=200, test_days=90)
    assert [f.combo for f in res2.folds[:3]] == [f.combo for f in res.folds[:3]]


def test_single_candidate_matches_its_backtest(market: MarketData) -> None:
    rule = Rule(signal="stage", asset="btc", min_stage=2, fee_bps=10)
    res = walk_forward([rule], market, train_days=100, test_days=50)
    assert {f.combo for f in res.folds} == {0}
    alone = backtest(rule, market).path["net"].loc[res.path.index]
    # identical after the first out-of-sample day, where the stitched path enters
    np.testing.assert_allclose(res.path["net"].iloc[1:], alone.iloc[1:], rtol=0, atol=1e-15)
    first_w = backtest(rule, market).path["weight"].loc[res.path.index[0]]
    assert res.path["turnover"].iloc[0] == first_w


def test_switching_rules_pays_the_cost(market: MarketData) -> None:
    res = walk_forward(GRID, market, train_days=150, test_days=60)
    tau = res.path["turnover"]
    assert set(np.unique(tau)) <= {0.0, 1.0}
    assert res.metrics.turnover == pytest.approx(tau.sum() * 365 / len(tau))


def test_errors(market: MarketData) -> None:
    with pytest.raises(
        ConfigError,
        match=re.escape("embargo_days must be >= the longest holding horizon (30 days), got 5"),
    ):
        walk_forward(GRID, market, embargo_days=5)
    with pytest.raises(InsufficientDataError, match="walk-forward needs train_days"):
        walk_forward(GRID, market, train_days=5000)
    with pytest.raises(ConfigError, match="at least one candidate"):
        walk_forward([], market)
