"""Deflated Sharpe ratio (paper example) and PBO by CSCV (naive twin, calibration)."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from scipy import stats as sps

from liqflow._errors import ConfigError, DataError, InsufficientDataError
from liqflow.backtest import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe_ratio,
)
from liqflow.backtest.overfit import TrialBlocks


def test_deflated_sharpe_paper_example() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example:
    # N = 100 independent trials, T = 1250 daily observations (5 years), the best
    # annualised SR = 2.5 (daily 2.5 / sqrt(250)), variance of the trials' annualised
    # SRs = 0.5 (daily 0.5 / 250), skewness -3, kurtosis 10. Stated results:
    # SR0 ≈ 0.1132 (daily) and DSR ≈ 0.9004.
    res = deflated_sharpe_ratio(
        2.5 / math.sqrt(250),
        n_trials=100,
        var_trials=0.5 / 250,
        n_obs=1250,
        skew=-3.0,
        kurtosis=10.0,
        periods_per_year=250,
    )
    assert res.sr0 == pytest.approx(0.1132, abs=5e-5)
    assert res.dsr == pytest.approx(0.9004, abs=5e-5)
    assert not res.significant
    assert res.sharpe_annual == pytest.approx(2.5)
    assert "not significant" in res.summary()
    assert res.to_frame().loc[0, "n_trials"] == 100


def test_expected_max_sharpe_close_to_simulation() -> None:
    # The paper's approximation of E[max of N iid N(0, V)] is within ~1% for N = 100.
    rng = np.random.default_rng(1)
    sim = rng.standard_normal((20_000, 100)).max(axis=1).mean()
    assert expected_max_sharpe(100, 1.0) == pytest.approx(sim, rel=0.02)
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))


def test_psr_normal_case() -> None:
    # skew 0, kurtosis 3: z = (SR - SR*) sqrt(T-1) / sqrt(1 + SR²/2)
    sr, t = 0.1, 500
    z = sr * math.sqrt(t - 1) / math.sqrt(1 + sr**2 / 2)
    assert probabilistic_sharpe_ratio(sr, 0.0, t) == pytest.approx(sps.norm.cdf(z), rel=1e-12)


def _naive_pbo(m: np.ndarray, s: int) -> np.ndarray:
    """Bailey et al. (2017) CSCV, literally: concatenate row blocks, rank with scipy."""
    blocks = np.array_split(np.arange(m.shape[0]), s)
    n = m.shape[1]
    logits = []
    for chosen in itertools.combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[i] for i in chosen])
        oos_rows = np.concatenate([blocks[i] for i in range(s) if i not in chosen])
        sr_is = m[is_rows].mean(0) / m[is_rows].std(0, ddof=1)
        sr_oos = m[oos_rows].mean(0) / m[oos_rows].std(0, ddof=1)
        best = int(np.argmax(sr_is))
        omega = sps.rankdata(sr_oos, method="average")[best] / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    return np.array(logits)


def test_pbo_equals_naive_cscv() -> None:
    rng = np.random.default_rng(5)
    m = rng.normal(0.0002, 0.01, (203, 7))
    m[:, 3] = m[:, 2]  # tied trials: mid-rank
    res = pbo_cscv(m, n_blocks=8)
    want = _naive_pbo(m, 8)
    np.testing.assert_allclose(res.logits, want, rtol=1e-9, atol=1e-12)
    assert res.pbo == np.mean(want <= 0)
    assert res.n_splits == math.comb(8, 4) == len(res.to_frame())
    assert "PBO (CSCV, 8 blocks, 70 splits, 7 trials)" in res.summary()


def test_pbo_calibration() -> None:
    # No skill: a single sample's PBO varies a lot (the splits share data), but its
    # mean over samples is 1/2 (200 samples: 0.497 ± 0.014 with this seed).
    rng = np.random.default_rng(11)
    pbos = [pbo_cscv(rng.normal(0, 0.01, (400, 20)), n_blocks=8).pbo for _ in range(200)]
    assert abs(np.mean(pbos) - 0.5) < 0.05
    noise = rng.normal(0, 0.01, (1000, 40))
    skilled = noise.copy()
    skilled[:, 0] += 0.004  # one trial with a real edge (daily SR 0.4)
    res = pbo_cscv(skilled, n_blocks=10)
    assert res.pbo < 0.05 and res.prob_oos_loss == 0.0


def test_zero_variance_trials_rank_last() -> None:
    rng = np.random.default_rng(2)
    m = np.column_stack([np.zeros(64), rng.normal(0.001, 0.01, (64, 3))])
    res = pbo_cscv(m, n_blocks=4)
    assert np.isfinite(res.logits).all()


def test_errors() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("n_blocks must be an even integer in 2..24, got 5")
    ):
        pbo_cscv(np.zeros((100, 3)), n_blocks=5)
    with pytest.raises(InsufficientDataError, match="needs at least 32 observations, got 20"):
        pbo_cscv(np.zeros((20, 3)), n_blocks=16)
    with pytest.raises(DataError, match="N >= 2 trials"):
        pbo_cscv(np.zeros((100, 1)))
    with pytest.raises(DataError, match="must not contain NaN"):
        pbo_cscv(np.full((100, 2), np.nan))
    with pytest.raises(ConfigError, match="n_trials must be an integer >= 2, got 1"):
        expected_max_sharpe(1, 1.0)
    with pytest.raises(DataError, match="PSR undefined"):
        probabilistic_sharpe_ratio(2.0, 0.0, 100, skew=5.0, kurtosis=3.0)
    with pytest.raises(InsufficientDataError, match="n_obs must be >= 2, got 1"):
        probabilistic_sharpe_ratio(0.1, 0.0, 1)


def test_cscv_kernel_equals_twins() -> None:
    # numba kernel == its Python twin == the vectorised numpy reference
    from liqflow.backtest._kernels import cscv_ranks, cscv_ranks_py
    from liqflow.backtest.overfit import _cscv_ranks_numpy, _split_masks, _split_sums

    rng = np.random.default_rng(8)
    n, s = 9, 6
    counts = rng.integers(20, 30, s).astype(float)
    bsum = rng.normal(0.001, 0.01, (n, s)) * counts
    bsq = rng.uniform(1e-4, 4e-4, (n, s)) * counts + bsum**2 / counts
    bsum[4], bsq[4] = bsum[3], bsq[3]  # tie
    bsum[0], bsq[0] = 0.0, 0.0  # always in cash
    masks = _split_masks(s)
    s1, s2, n_is = _split_sums(counts, bsum, bsq, masks)
    t1, t2, n_all = _split_sums(counts, bsum, bsq, np.ones((1, s), bool))
    args = (s1, s2, t1[0], t2[0], n_is, float(n_all[0]))
    ref = _cscv_ranks_numpy(*args)
    for fn in (cscv_ranks, cscv_ranks_py):
        for got, want in zip(fn(*args), ref, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)


def _block_sums(rng: np.random.Generator, n: int, s: int) -> tuple[np.ndarray, ...]:
    """Per-block sums of n trials with ties, always-in-cash and near-flat trials."""
    counts = rng.integers(20, 30, s).astype(float)
    bsum = rng.normal(0.0005, 0.01, (n, s)) * counts
    bsq = rng.uniform(1e-4, 4e-4, (n, s)) * counts + bsum**2 / counts
    bsum[5], bsq[5] = bsum[2], bsq[2]  # identical trials
    bsum[n - 1], bsq[n - 1] = bsum[2], bsq[2]
    bsum[0], bsq[0] = 0.0, 0.0  # always in cash
    bsum[7], bsq[7] = 0.0, 0.0
    bsum[9] = 0.001 * counts  # constant positive returns: no variance
    bsq[9] = 0.001**2 * counts
    return counts, bsum, bsq


@pytest.mark.parametrize(("n", "s"), [(40, 2), (300, 4), (2500, 8), (1100, 10), (64, 16)])
def test_tiled_cscv_equals_matrix_cscv_bit_for_bit(n: int, s: int) -> None:
    # The tiled, division-free kernel against the matrix form it replaced (same sums,
    # same keys): every logit and Sharpe ratio identical, not merely close.
    from liqflow.backtest.overfit import _pbo_from_blocks, _pbo_from_blocks_reference

    counts, bsum, bsq = _block_sums(np.random.default_rng(n + s), n, s)
    got = _pbo_from_blocks(counts, bsum, bsq)
    want = _pbo_from_blocks_reference(counts, bsum, bsq)
    for field in ("logits", "is_sharpe", "oos_sharpe"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    assert (got.pbo, got.prob_oos_loss, got.n_splits, got.n_trials) == (
        want.pbo,
        want.prob_oos_loss,
        want.n_splits,
        want.n_trials,
    )


def test_chunked_cscv_python_twins_chunks_and_tiles() -> None:
    # the numba kernels equal their Python twins; any cut of the trials into chunks and
    # any tile size give the same result (picks merged by largest key, counts summed)
    from liqflow.backtest import _kernels as k
    from liqflow.backtest.overfit import (
        _pbo_from_blocks,
        cscv_splits_of,
        merge_picks,
        split_counts,
        split_picks,
        trial_blocks,
    )

    counts, bsum, bsq = _block_sums(np.random.default_rng(3), 37, 6)
    trials = trial_blocks(bsum, bsq)
    assert trials.n_trials == 37 and trials.bs.shape[1] == 37 - 3  # 3 duplicates merged
    splits = cscv_splits_of(counts)
    assert splits.n_splits == 20 and splits.n_blocks == 6
    args = (trials.bs, trials.bq, trials.tot1, trials.tot2, splits.n_is, splits.n_all)
    for tile in (5, 8):
        fast = k.cscv_best(*args, splits.blocks, splits.lcp, tile)
        slow = k.cscv_best_py(*args, splits.blocks, splits.lcp, tile)
        for got, want in zip(slow, fast, strict=True):
            np.testing.assert_array_equal(got, want)
        wargs = (*args[:4], trials.weights, *args[4:], splits.blocks, splits.lcp, tile, fast[1])
        for got, want in zip(k.cscv_counts_py(*wargs), k.cscv_counts(*wargs), strict=True):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        k.block_totals_py(trials.bs, trials.bq)[0], k.block_totals(trials.bs, trials.bq)[0]
    )
    whole = _pbo_from_blocks(counts, bsum, bsq)
    for chunk in (1, 4, 10, 36):
        part = _pbo_from_blocks(counts, bsum, bsq, chunk=chunk)
        for field in ("logits", "is_sharpe", "oos_sharpe"):
            np.testing.assert_array_equal(getattr(part, field), getattr(whole, field))
    # a chunk of identical, always-in-cash trials never wins a split
    cash = trial_blocks(np.zeros((3, 6)), np.zeros((3, 6)))
    later = np.arange(3, 40)  # the cash trials first, then the others
    merged = merge_picks([split_picks(splits, cash), split_picks(splits, trials, later)])
    np.testing.assert_array_equal(merged.chosen, split_picks(splits, trials).chosen)
    below, ties = split_counts(splits, cash, merged.chosen)
    assert (below + ties <= 3).all()


def _chunks_of(
    bsum: np.ndarray, bsq: np.ndarray, cuts: list[int]
) -> tuple[list[TrialBlocks], list[np.ndarray]]:
    from liqflow.backtest.overfit import trial_blocks

    edges = [0, *cuts, bsum.shape[0]]
    chunks = [trial_blocks(bsum[a:b], bsq[a:b]) for a, b in itertools.pairwise(edges)]
    return chunks, [np.arange(a, b) for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize(
    ("n", "s", "cuts", "sparse"),
    [
        (2500, 8, [900, 1000], False),
        (1100, 10, [], False),
        (700, 8, [300], True),
        (64, 16, [40], False),
    ],
)
def test_one_pass_cscv_equals_two_passes_bit_for_bit(
    n: int, s: int, cuts: list[int], sparse: bool
) -> None:
    # Both passes in one against the picks of a few candidate trials, the splits whose
    # pick is another trial counted again: the logits and Sharpe ratios of the matrix
    # form, whichever sample of splits names the candidates (all of them, every third,
    # or one split: a guess wrong in most splits).
    from liqflow.backtest.overfit import (
        _pbo_from_blocks_reference,
        cscv_splits_of,
        merge_picks,
        pbo_one_pass,
        split_picks,
    )

    rng = np.random.default_rng(n + s)
    counts, bsum, bsq = _block_sums(rng, n, s)
    if sparse:  # rare signals: picks without out-of-sample variance (key -inf)
        active = rng.random(bsum.shape) < 0.3
        active[:40] = False
        active[:40, :2] = True
        bsum[:40, :2] = np.abs(bsum[:40, :2]) + 0.2
        bsum, bsq = np.where(active, bsum, 0.0), np.where(active, bsq, 0.0)
    want = _pbo_from_blocks_reference(counts, bsum, bsq)
    splits = cscv_splits_of(counts)
    chunks, numbers = _chunks_of(bsum, bsq, cuts)
    truth = merge_picks([split_picks(splits, c, k) for c, k in zip(chunks, numbers, strict=True)])
    for sample in (np.arange(splits.n_splits), np.arange(0, splits.n_splits, 3), np.array([1])):
        got = pbo_one_pass(splits, chunks, numbers, n, sample)
        for field in ("logits", "is_sharpe", "oos_sharpe"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
        assert (got.pbo, got.prob_oos_loss, got.n_trials) == (
            want.pbo,
            want.prob_oos_loss,
            want.n_trials,
        )
    # the one-split sample names too few candidates: the guess is wrong somewhere
    seen = merge_picks(
        [
            split_picks(splits.subset(np.array([1])), c, k)
            for c, k in zip(chunks, numbers, strict=True)
        ]
    )
    assert np.unique(seen.trial).size < np.unique(truth.trial).size


def test_fused_cscv_kernel_equals_its_twin() -> None:
    from liqflow.backtest import _kernels as k
    from liqflow.backtest.overfit import cscv_splits_of, trial_blocks

    counts, bsum, bsq = _block_sums(np.random.default_rng(4), 300, 6)
    trials = trial_blocks(bsum, bsq)
    splits = cscv_splits_of(counts)
    args = (trials.bs, trials.bq, trials.tot1, trials.tot2)
    shape = (splits.n_is, splits.n_all, splits.blocks, splits.lcp, 8)
    picks = k.cscv_best(*args, *shape)
    floor = picks[0] - np.abs(picks[0]) * 1e-9
    fused = (*args, trials.weights, *shape, floor, picks[1])
    for got, want in zip(k.cscv_fused_py(*fused), k.cscv_fused(*fused), strict=True):
        np.testing.assert_array_equal(got, want)
    # the picks above the floor are the picks; the counts are the second pass's
    np.testing.assert_array_equal(k.cscv_fused(*fused)[4], picks[4])
    counts2 = k.cscv_counts(*args, trials.weights, *shape, picks[1])
    np.testing.assert_array_equal(k.cscv_fused(*fused)[5], counts2[0])
    np.testing.assert_array_equal(k.cscv_fused(*fused)[6], counts2[1])


def test_distinct_rows_keeps_first_of_each() -> None:
    from liqflow.backtest._distinct import _distinct_rows

    x = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [np.nan, 0.0], [np.nan, 0.0], [3.0, 4.0]])
    keep, counts = _distinct_rows(x)
    # NaN rows never compare equal: each is kept on its own
    assert keep.tolist() == [0, 1, 3, 4] and counts.tolist() == [2, 2, 1, 1]


def test_distinct_pairs_equals_sorting_reference() -> None:
    # the hash-table pass over (sums, sums of squares) side by side gives the rows and
    # weights of the sort-based reference on the rows put together, and so does its
    # Python twin; NaN rows stay apart, -0.0 and 0.0 are equal values
    from liqflow.backtest._distinct import _distinct_pairs, _distinct_rows_numpy, _row_hashes
    from liqflow.backtest._kernels import distinct_pairs, distinct_pairs_py

    rng = np.random.default_rng(21)
    a = rng.normal(size=(300, 4)).round(1)  # few distinct values: many identical rows
    b = a**2
    a[[7, 9], 0] = np.nan
    a[11], b[11] = a[12], b[12]
    a[5], b[5] = 0.0, 0.0
    a[6], b[6] = -0.0, 0.0
    w = rng.integers(1, 9, 300)
    rows = np.concatenate([a, b], axis=1)
    for weights in (None, w):
        keep, total = _distinct_pairs(a, b, weights)
        want_keep, want_total = _distinct_rows_numpy(rows, weights)
        assert keep.size < 300 and {7, 9} <= set(keep.tolist())
        np.testing.assert_array_equal(keep, want_keep)
        np.testing.assert_array_equal(total, want_total)
    # three hashes for all the rows: rows of equal hashes are compared, not merged
    a[6] = 0.5
    h = _row_hashes(b, _row_hashes(a)) % np.uint64(3)
    want_keep, want_total = _distinct_rows_numpy(np.concatenate([a, b], axis=1), w)
    for fn in (distinct_pairs, distinct_pairs_py):
        keep, total = fn(a, b, h, w)
        np.testing.assert_array_equal(keep, want_keep)
        np.testing.assert_array_equal(total, want_total)


def test_sparse_trials_cscv_equals_matrix_cscv_bit_for_bit() -> None:
    # Trials active in a few blocks only (rare signals): many (split, trial) pairs have
    # no out-of-sample variance at all, and splits whose pick is never active out of
    # sample (out-of-sample key -inf) count only ties; both are classified without the
    # exact key, and must give what the matrix form gives.
    from liqflow.backtest.overfit import _pbo_from_blocks, _pbo_from_blocks_reference

    rng = np.random.default_rng(11)
    counts, bsum, bsq = _block_sums(rng, 700, 8)
    active = rng.random(bsum.shape) < 0.3
    active[:40] = False
    active[:40, :2] = True  # strong in-sample in blocks 0-1 only
    bsum[:40, :2] = np.abs(bsum[:40, :2]) + 0.2
    bsum, bsq = np.where(active, bsum, 0.0), np.where(active, bsq, 0.0)
    got = _pbo_from_blocks(counts, bsum, bsq, chunk=300)
    want = _pbo_from_blocks_reference(counts, bsum, bsq)
    assert np.isneginf(want.oos_sharpe).any() and np.isfinite(want.oos_sharpe).any()
    for field in ("logits", "is_sharpe", "oos_sharpe"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


@pytest.mark.parametrize(
    ("n", "s", "parts", "block"), [(300, 6, 2, 7), (1200, 8, 3, 64), (50, 4, 5, 1)]
)
def test_cscv_over_shares_of_trials_equals_cscv_over_all(
    n: int, s: int, parts: int, block: int
) -> None:
    # How a Dask cluster runs CSCV: trials dealt to interleaved shares (each deduplicated
    # on its own, so identical trials of different shares stay apart), each share's
    # picks over each range of splits, merged in any order, then each share's counts
    # below the merged picks of each range. Same picks (first of tied trials), counts and logits, bit for bit,
    # as the whole set in one pass.
    from liqflow.backtest._dask import (
        ShareResult,
        share_counts,
        share_picks,
        share_rows,
        split_ranges,
    )
    from liqflow.backtest.overfit import (
        _pbo_from_blocks,
        concat_picks,
        cscv_splits_of,
        merge_picks,
        pbo_from_counts,
        trial_blocks,
    )

    counts, bsum, bsq = _block_sums(np.random.default_rng(5), n, s)
    bsum[n // 2], bsq[n // 2] = bsum[3], bsq[3]  # a tie across shares
    shares = [share_rows(n, parts, block, k) for k in range(parts)]
    assert np.array_equal(np.sort(np.concatenate(shares)), np.arange(n))
    # two strong trials equal in blocks 0..s/2-1 (a tie in sample, not out of sample),
    # the first of them in a later share: the pick must be the first trial
    owner = np.empty(n, dtype=np.int64)
    for k, r in enumerate(shares):
        owner[r] = k
    a, b = next((i, j) for i in range(n) for j in range(i + 1, n) if owner[i] > owner[j])
    h = s // 2
    bsum[[a, b], :h] = 0.02 * counts[:h]
    bsq[[a, b], :h] = 0.0005 * counts[:h]
    bsum[b, h:] = -0.01 * counts[h:]
    whole = _pbo_from_blocks(counts, bsum, bsq)
    results = [ShareResult(r, np.zeros((r.size, 1)), trial_blocks(bsum[r], bsq[r])) for r in shares]
    splits = cscv_splits_of(counts)
    # the passes cut into ranges of splits (the first of each rebuilt from its blocks)
    ranges = split_ranges(splits.n_splits, 3)
    assert ranges[0][0] == 0 and ranges[-1][1] == splits.n_splits
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    picks = [[share_picks(counts, p, lo, hi) for p in results] for lo, hi in ranges]
    # the split where a and b tie in sample: a (the first trial, in a later share) wins
    tied = np.flatnonzero((splits.blocks == np.arange(h)).all(axis=1))
    assert concat_picks([merge_picks(p) for p in picks]).trial[tied].tolist() == [a]
    for flip in (False, True):  # merged in any order: the same picks
        order = [p[::-1] if flip else p for p in picks]
        merged = concat_picks([merge_picks(p) for p in order])
        tallies = [
            [share_counts(counts, p, lo, hi, *ps, report=True) for p in results]
            for (lo, hi), ps in zip(ranges, order, strict=True)
        ]
        for ts, ps in zip(tallies, order, strict=True):  # the merged picks, reported
            assert all(np.array_equal(t[2].trial, merge_picks(ps).trial) for t in ts)
        below = np.concatenate([np.sum([t[0] for t in ts], axis=0) for ts in tallies])
        ties = np.concatenate([np.sum([t[1] for t in ts], axis=0) for ts in tallies])
        got = pbo_from_counts(splits, merged, below, ties, n)
        for field in ("logits", "is_sharpe", "oos_sharpe"):
            np.testing.assert_array_equal(getattr(got, field), getattr(whole, field))
        assert got.pbo == whole.pbo and got.n_trials == n


@pytest.mark.parametrize(("n_splits", "parts"), [(2, 2), (70, 2), (70, 4), (12870, 2), (5, 9)])
def test_split_ranges_cover_every_split_once(n_splits: int, parts: int) -> None:
    from liqflow.backtest._dask import split_ranges

    ranges = split_ranges(n_splits, parts)
    assert 1 <= len(ranges) <= parts and ranges[0][0] == 0 and ranges[-1][1] == n_splits
    assert all(lo < hi for lo, hi in ranges)
    assert all(a[1] == b[0] and a[1] % 2 == 0 for a, b in itertools.pairwise(ranges))
