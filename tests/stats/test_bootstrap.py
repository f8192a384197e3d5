from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap
from arch.bootstrap import optimal_block_length as arch_optimal_block_length
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats.bootstrap import (
    _accumulate_block_sums,
    _accumulate_block_sums_python,
    circular_block_bootstrap_indices,
    circular_blocks,
    optimal_block_length,
    stationary_blocks,
    stationary_bootstrap_indices,
    stationary_bootstrap_sums,
)


def ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def sequential_stationary_indices(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """The textbook algorithm (as in arch's ``stationary_bootstrap_sample``), one resample."""
    idx = rng.integers(0, n, size=n)
    u = rng.random(n)
    for t in range(1, n):
        if u[t] > p:
            idx[t] = (idx[t - 1] + 1) % n
    return idx


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 300),
    reps=st.integers(1, 20),
    block=st.floats(1.0, 400.0),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["stationary", "circular"]),
)
def test_indices_in_range_and_blocks_cover_n(
    n: int, reps: int, block: float, seed: int, kind: str
) -> None:
    make = stationary_blocks if kind == "stationary" else circular_blocks
    plan = make(n, reps, block, seed=seed)
    idx = plan.indices()
    assert idx.shape == (reps, n)
    assert idx.min() >= 0
    assert idx.max() < n
    assert (plan.lengths.sum(axis=1) == n).all()
    assert (plan.lengths >= 0).all()
    # within a block positions are consecutive modulo n
    steps = (np.diff(idx, axis=1) % n) == 1
    n_blocks = (plan.lengths > 0).sum(axis=1)
    assert (n - 1 - steps.sum(axis=1) <= n_blocks - 1).all()


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 120),
    reps=st.integers(1, 8),
    block=st.floats(1.0, 50.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_counts_and_sums_equal_indexing(n: int, reps: int, block: float, seed: int) -> None:
    plan = stationary_blocks(n, reps, block, seed=seed)
    idx = plan.indices()
    values = np.random.default_rng(seed).standard_normal((n, 3))
    expected_counts = np.stack([np.bincount(row, minlength=n) for row in idx])
    np.testing.assert_array_equal(plan.counts(), expected_counts)
    np.testing.assert_allclose(plan.sums(values), values[idx].sum(axis=1), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(plan.sums(values[:, 0]), values[idx, 0].sum(axis=1), atol=1e-9)


def test_seed_reproducible() -> None:
    a = stationary_bootstrap_indices(100, 5, 7.0, seed=3)
    b = stationary_bootstrap_indices(100, 5, 7.0, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, stationary_bootstrap_indices(100, 5, 7.0, seed=4))


def test_mean_block_length_matches_expected() -> None:
    # Block lengths are geometric(1/b) truncated at n; with n >> b the mean is b and the
    # standard error of the mean over ~6,000 complete blocks is about b / sqrt(6000).
    b = 12.5
    plan = stationary_blocks(2000, 40, b, seed=1)
    complete = plan.lengths[:, :-1][plan.lengths[:, 1:] > 0]  # drop each row's cut last block
    se = b / np.sqrt(complete.size)
    assert abs(complete.mean() - b) < 4 * se
    # restart frequency seen in the index matrix: a new block starts with probability 1/b
    idx = plan.indices()
    restarts = (np.diff(idx, axis=1) % 2000) != 1
    assert abs(restarts.mean() - 1 / b) < 4 * np.sqrt((1 / b) * (1 - 1 / b) / restarts.size)


def test_geometric_law_matches_sequential_algorithm() -> None:
    # run lengths from the block representation and from the sequential algorithm (arch's)
    n, b, reps = 500, 8.0, 400
    rng = np.random.default_rng(2)
    seq = np.stack([sequential_stationary_indices(n, 1 / b, rng) for _ in range(reps)])
    vec = stationary_bootstrap_indices(n, reps, b, seed=9)

    def run_lengths(idx: np.ndarray) -> np.ndarray:
        out = []
        for row in idx:
            breaks = np.flatnonzero((np.diff(row) % n) != 1) + 1
            out.append(np.diff(np.r_[0, breaks, n])[:-1])  # last run is truncated: drop
        return np.concatenate(out)

    res = stats.ks_2samp(run_lengths(seq), run_lengths(vec))
    assert res.pvalue > 0.001


def test_circular_blocks_fixed_length() -> None:
    plan = circular_blocks(103, 4, 10, seed=0)
    assert plan.block_length == 10.0
    np.testing.assert_array_equal(plan.lengths[:, :-1], 10)
    np.testing.assert_array_equal(plan.lengths[:, -1], 3)
    idx = circular_block_bootstrap_indices(103, 4, 10, seed=0)
    np.testing.assert_array_equal(idx, plan.indices())


QUANTILES = np.array([0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975])


def quantile_tolerance(sd: float, reps: int) -> np.ndarray:
    """4 Monte Carlo standard errors of the difference of two independent quantile estimates.

    For a statistic close to normal with sd ``sd``, the sample q-quantile of ``reps`` draws
    has standard error sqrt(q(1-q)/reps) / density(x_q), density(x_q) = phi(z_q)/sd
    (asymptotic variance of sample quantiles); the difference of two independent estimates
    has sqrt(2) times that. Four of them make a false failure a ~1e-4 event per quantile.
    """
    z = stats.norm.ppf(QUANTILES)
    se = np.sqrt(QUANTILES * (1 - QUANTILES) / reps) * sd / stats.norm.pdf(z)
    return 4 * np.sqrt(2) * se


@pytest.mark.parametrize("kind", ["stationary", "circular"])
def test_bootstrap_mean_of_ar1_quantiles_agree_with_arch(kind: str) -> None:
    x = ar1(400, 0.6, seed=11)
    reps, b = 4000, 10
    if kind == "stationary":
        ref_bs = StationaryBootstrap(b, x, seed=np.random.default_rng(5))
        mine = stationary_blocks(400, reps, b, seed=6).sums(x) / 400
    else:
        ref_bs = CircularBlockBootstrap(b, x, seed=np.random.default_rng(5))
        mine = circular_blocks(400, reps, b, seed=6).sums(x) / 400
    ref = np.array([data[0][0].mean() for data in ref_bs.bootstrap(reps)])
    tol = quantile_tolerance(float(ref.std()), reps)
    diff = np.abs(np.quantile(mine, QUANTILES) - np.quantile(ref, QUANTILES))
    assert (diff < tol).all(), (diff, tol)
    assert stats.ks_2samp(mine, ref).pvalue > 0.001
    # the block bootstrap keeps the AR(1) dependence: far wider than the iid bootstrap
    assert mine.std() > 1.5 * x.std() / np.sqrt(400)


def test_optimal_block_length_wraps_arch() -> None:
    x = ar1(500, 0.7, seed=4)
    ref = float(arch_optimal_block_length(x)["stationary"].iloc[0])
    assert optimal_block_length(x) == pytest.approx(ref)
    ref_c = float(arch_optimal_block_length(x)["circular"].iloc[0])
    assert optimal_block_length(pd.Series(x), kind="circular") == pytest.approx(ref_c)
    # several columns: the largest, never below 1
    noise = np.random.default_rng(0).standard_normal(500)
    both = np.column_stack([noise, x])
    assert optimal_block_length(both) == pytest.approx(max(ref, 1.0))
    assert optimal_block_length(np.ones(50)) == 1.0


def test_errors() -> None:
    with pytest.raises(DataError, match=r"block_length must be a finite number >= 1, got 0\.5"):
        stationary_blocks(10, 2, 0.5)
    with pytest.raises(DataError, match=r"n must be an integer >= 2, got 1"):
        stationary_blocks(1, 2, 2.0)
    with pytest.raises(DataError, match=r"reps must be an integer >= 1, got 0"):
        circular_blocks(10, 0, 2.0)
    with pytest.raises(DataError, match=r"seed must be a numpy Generator, an int or None"):
        stationary_blocks(10, 2, 2.0, seed="x")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"kind must be one of \('stationary', 'circular'\)"):
        optimal_block_length(np.arange(20.0), kind="moving")
    with pytest.raises(InsufficientDataError, match=r"at least 9 observations, got 5"):
        optimal_block_length(np.arange(5.0))
    plan = stationary_blocks(10, 2, 2.0, seed=0)
    with pytest.raises(DataError, match=r"values must have shape \(10,\) or \(10, k\), got \(9,\)"):
        plan.sums(np.zeros(9))


@pytest.mark.parametrize("block", [1.0, 3.5, 40.0, 1e6])
def test_fused_sums_equal_plan_sums_for_same_seed(block: float) -> None:
    values = np.random.default_rng(1).standard_normal((257, 4))
    fused = stationary_bootstrap_sums(values, 300, block, seed=8)
    plan = stationary_blocks(257, 300, block, seed=8)
    np.testing.assert_allclose(fused, plan.sums(values), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(
        stationary_bootstrap_sums(values[:, 0], 300, block, seed=8), fused[:, 0], atol=1e-12
    )


def test_numba_kernel_equals_python_twin() -> None:
    rng = np.random.default_rng(0)
    n, reps, m = 50, 30, 12
    values = rng.standard_normal((n, 2))
    prefix = np.vstack([np.zeros((1, 2)), np.cumsum(np.vstack([values, values]), axis=0)])
    rows = np.arange(reps, dtype=np.int64)
    starts = rng.integers(0, n, size=(reps, m))
    lengths = rng.geometric(0.2, size=(reps, m)).astype(np.int64)
    out = []
    for kernel in (_accumulate_block_sums, _accumulate_block_sums_python):
        pos = np.zeros(reps, dtype=np.int64)
        acc = np.zeros((reps, 2))
        kernel(rows, starts, lengths, prefix, n, pos, acc)
        out.append((pos, acc))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])  # same operations, same order
    # and the twin is the plain definition: sum of values over the wrapped blocks
    pos, acc = out[1]
    for r in range(reps):
        taken, want = 0, np.zeros(2)
        for s, length in zip(starts[r], lengths[r], strict=True):
            if taken >= n:
                break
            use = min(length, n - taken)
            want += values[(s + np.arange(use)) % n].sum(axis=0)
            taken += use
        assert pos[r] == min(taken, n)
        np.testing.assert_allclose(acc[r], want, atol=1e-12)


def test_fused_sums_mean_of_ar1_agrees_with_arch() -> None:
    x = ar1(400, 0.6, seed=12)
    reps = 4000
    ref_bs = StationaryBootstrap(10, x, seed=np.random.default_rng(7))
    ref = np.array([data[0][0].mean() for data in ref_bs.bootstrap(reps)])
    mine = stationary_bootstrap_sums(x, reps, 10, seed=9) / 400
    diff = np.abs(np.quantile(mine, QUANTILES) - np.quantile(ref, QUANTILES))
    assert (diff < quantile_tolerance(float(ref.std()), reps)).all()
