"""How much of a sweep's best result is luck: PBO by CSCV (and, re-exported from
:mod:`liqflow.backtest.deflated`, the deflated Sharpe ratio).

Sharpe ratios here are **per period** (not annualised): the formulas of the papers
are stated for the Sharpe ratio of the observations they count.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError, InsufficientDataError
from liqflow.backtest._distinct import _distinct_pairs
from liqflow.backtest._kernels import (
    block_totals,
    cscv_best,
    cscv_counts,
    cscv_fused,
    cscv_logits,
    cscv_ranks,
)
from liqflow.backtest._shared import block_edges
from liqflow.backtest.deflated import (
    DeflatedSharpeResult,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
)

__all__ = [
    "DeflatedSharpeResult",
    "PBOResult",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "pbo_cscv",
    "probabilistic_sharpe_ratio",
]


@dataclass(frozen=True, eq=False)
class PBOResult:
    """Probability of backtest overfitting by combinatorially symmetric CV.

    Attributes
    ----------
    pbo : float
        Share of the splits where the in-sample best trial ranks at or below the median
        out of sample (logit <= 0).
    n_blocks, n_splits, n_trials : int
    logits : ndarray
        ``log(ω / (1 - ω))`` per split, ω the out-of-sample relative rank of the
        in-sample best trial.
    is_sharpe, oos_sharpe : ndarray
        Per-period Sharpe ratio of that trial in and out of sample, per split.
    prob_oos_loss : float
        Share of splits where that trial's out-of-sample Sharpe ratio is negative.
    """

    pbo: float
    n_blocks: int
    n_splits: int
    n_trials: int
    logits: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    prob_oos_loss: float

    def to_frame(self) -> pd.DataFrame:
        """One row per split: logit, in-sample and out-of-sample Sharpe of the pick."""
        return pd.DataFrame(
            {"logit": self.logits, "is_sharpe": self.is_sharpe, "oos_sharpe": self.oos_sharpe}
        )

    def summary(self) -> str:
        return (
            f"PBO (CSCV, {self.n_blocks} blocks, {self.n_splits} splits, {self.n_trials} "
            f"trials): {self.pbo:.3f}; the in-sample best loses out of sample in "
            f"{self.prob_oos_loss:.1%} of splits"
        )


def _split_masks(n_blocks: int) -> np.ndarray:
    """All C(S, S/2) in-sample block selections, as a boolean matrix (lexicographic order)."""
    blocks, _ = _lex_splits(n_blocks)
    masks = np.zeros((blocks.shape[0], n_blocks), dtype=np.bool_)
    masks[np.arange(blocks.shape[0])[:, None], blocks] = True
    return masks


def _split_sums(
    counts: np.ndarray, bsum: np.ndarray, bsq: np.ndarray, masks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-sample sums and sums of squares per (split, trial), and in-sample counts.

    ``bsum``/``bsq`` (N, S) are each trial's per-block sums and sums of squares. The
    blocks are added first to last, as the kernels add them (a matrix product may sum
    in another order, and rounding then splits trials that tie exactly).
    """
    s1 = np.zeros((masks.shape[0], bsum.shape[0]))
    s2 = np.zeros_like(s1)
    for b in range(masks.shape[1]):
        on = masks[:, b : b + 1]
        s1 += np.where(on, bsum[None, :, b], 0.0)
        s2 += np.where(on, bsq[None, :, b], 0.0)
    return s1, s2, masks.astype(np.float64) @ counts


def _cscv_ranks_numpy(
    s1_is: np.ndarray,
    s2_is: np.ndarray,
    tot1: np.ndarray,
    tot2: np.ndarray,
    n_is: np.ndarray,
    n_all: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised reference of :func:`liqflow.backtest._kernels.cscv_ranks`."""

    def key_and_sharpe(
        a: np.ndarray, sq: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = sq - a * a / n
            ok = d > 1e-12 * sq
            key = np.where(ok, a * np.abs(a) / d, -np.inf)
            sr = np.where(ok, a / n / np.sqrt(d / (n - 1.0)), -np.inf)
        return key, sr

    n_is_col = n_is[:, None]
    key_is, sr_is = key_and_sharpe(s1_is, s2_is, n_is_col)
    key_oos, sr_oos = key_and_sharpe(tot1 - s1_is, tot2 - s2_is, n_all - n_is_col)
    best = np.argmax(key_is, axis=1)
    rows = np.arange(key_is.shape[0])
    chosen = key_oos[rows, best]
    below = (key_oos < chosen[:, None]).sum(axis=1)
    ties = (key_oos == chosen[:, None]).sum(axis=1)
    omega = (below + (ties + 1) / 2.0) / (key_is.shape[1] + 1.0)
    return np.log(omega / (1.0 - omega)), sr_is[rows, best], sr_oos[rows, best]


#: Trials per tile of the CSCV kernel (two tiles of sums and the blocks stay in L2).
CSCV_TILE = 512


@dataclass(frozen=True, eq=False)
class CSCVSplits:
    """The splits of CSCV over ``S`` blocks: shared by every chunk of trials.

    Attributes
    ----------
    blocks : int64[n_splits, S/2]
        In-sample blocks of each split, lexicographic order.
    lcp : int64[n_splits]
        Leading blocks each split shares with the one before.
    n_is : float64[n_splits]
        In-sample observations per split; ``n_all`` all of them.
    """

    blocks: np.ndarray
    lcp: np.ndarray
    n_is: np.ndarray
    n_all: float

    @property
    def n_splits(self) -> int:
        return int(self.blocks.shape[0])

    @property
    def n_blocks(self) -> int:
        return int(2 * self.blocks.shape[1])

    def part(self, lo: int, hi: int) -> CSCVSplits:
        """Splits ``lo:hi`` alone (the kernels rebuild the first one's sums from its
        blocks, so the picks and counts of the parts are those of the whole, split for
        split)."""
        return CSCVSplits(self.blocks[lo:hi], self.lcp[lo:hi], self.n_is[lo:hi], self.n_all)

    def subset(self, rows: np.ndarray) -> CSCVSplits:
        """Splits ``rows`` (increasing) alone, each sharing with the one before it in the
        subset its leading blocks (the kernels rebuild the first one's sums)."""
        blocks = self.blocks[rows]
        same = np.cumprod(blocks[1:] == blocks[:-1], axis=1).sum(axis=1)
        lcp = np.r_[0, same].astype(np.int64)
        return CSCVSplits(np.ascontiguousarray(blocks), lcp, self.n_is[rows], self.n_all)


def cscv_splits_of(counts: np.ndarray) -> CSCVSplits:
    """The :class:`CSCVSplits` of blocks of ``counts`` observations each."""
    blocks, lcp = _lex_splits(counts.size)
    n_is = _split_masks(counts.size).astype(np.float64) @ counts
    return CSCVSplits(blocks=blocks, lcp=lcp, n_is=n_is, n_all=float(counts.sum()))


@dataclass(frozen=True, eq=False)
class TrialBlocks:
    """One chunk of trials as CSCV reads them: distinct per-block sums and their totals.

    Identical trials (same per-block sums) are kept once with a weight: they have the
    same keys, so the ranks and the in-sample pick (the first of them) are unchanged.
    ``bs``/``bq`` are (S, distinct trials); ``rows`` (increasing) is the trial each
    column stands for first, as a row of the sums it was built from.
    """

    bs: np.ndarray
    bq: np.ndarray
    tot1: np.ndarray
    tot2: np.ndarray
    weights: np.ndarray
    rows: np.ndarray

    @property
    def n_trials(self) -> int:
        return int(self.weights.sum())

    @property
    def nbytes(self) -> int:
        parts = (self.bs, self.bq, self.tot1, self.tot2, self.weights, self.rows)
        return sum(int(x.nbytes) for x in parts)


def trial_blocks(
    bsum: np.ndarray, bsq: np.ndarray, weights: np.ndarray | None = None
) -> TrialBlocks:
    """The :class:`TrialBlocks` of per-block sums ``bsum``/``bsq`` (trials, S), each row
    standing for ``weights`` trials (default 1)."""
    keep, weights = _distinct_pairs(bsum, bsq, weights)
    bs = np.ascontiguousarray(bsum[keep].T)
    bq = np.ascontiguousarray(bsq[keep].T)
    tot1, tot2 = block_totals(bs, bq)
    return TrialBlocks(bs=bs, bq=bq, tot1=tot1, tot2=tot2, weights=weights, rows=keep)


@dataclass(frozen=True, eq=False)
class SplitPicks:
    """Per split, the in-sample best of some trials: its key, out-of-sample key, its
    in- and out-of-sample Sharpe ratios and its trial number (first pass of CSCV)."""

    key: np.ndarray
    chosen: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    trial: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, f).nbytes) for f in self.__dataclass_fields__)

    def __sizeof__(self) -> int:
        return self.nbytes  # what Dask's memory accounting reads (sys.getsizeof)


def split_picks(
    splits: CSCVSplits, trials: TrialBlocks, numbers: np.ndarray | None = None
) -> SplitPicks:
    """The in-sample best of ``trials`` in every split.

    ``numbers[i]`` is the trial number of row ``i`` of the sums ``trials`` was built
    from (default ``i``): the number ties are broken by when picks are merged.
    """
    key, chosen, is_sr, oos, best = cscv_best(
        trials.bs,
        trials.bq,
        trials.tot1,
        trials.tot2,
        splits.n_is,
        splits.n_all,
        splits.blocks,
        splits.lcp,
        CSCV_TILE,
    )
    row = trials.rows[best]
    trial = row if numbers is None else numbers[row]
    return SplitPicks(key=key, chosen=chosen, is_sharpe=is_sr, oos_sharpe=oos, trial=trial)


def fused_pass(
    splits: CSCVSplits,
    trials: TrialBlocks,
    guess: SplitPicks,
    numbers: np.ndarray | None = None,
) -> tuple[SplitPicks, np.ndarray, np.ndarray]:
    """Both CSCV passes over ``trials`` in one, against the picks ``guess`` (of some
    trials, numbered apart): the in-sample best of ``trials`` where it beats the guess
    (elsewhere a pick that loses to it when merged) and, per split, the counts of
    ``trials`` below and equal to the guess's out-of-sample key.

    Merged with ``guess``, the picks are those over all the trials; the counts are
    theirs in every split whose merged pick has the guess's out-of-sample key.
    """
    floor = np.where(guess.key > -np.inf, guess.key - (np.abs(guess.key) * 1e-9 + 1e-300), -np.inf)
    key, chosen, is_sr, oos, best, below, ties = cscv_fused(
        trials.bs,
        trials.bq,
        trials.tot1,
        trials.tot2,
        trials.weights,
        splits.n_is,
        splits.n_all,
        splits.blocks,
        splits.lcp,
        CSCV_TILE,
        floor,
        guess.chosen,
    )
    row = trials.rows[best]
    trial = row if numbers is None else numbers[row]
    picks = SplitPicks(key=key, chosen=chosen, is_sharpe=is_sr, oos_sharpe=oos, trial=trial)
    return picks, below, ties


def some_trials(
    chunks: list[TrialBlocks], numbers: list[np.ndarray], wanted: np.ndarray
) -> TrialBlocks:
    """The trials numbered ``wanted`` (each a trial some chunk's column stands for
    first, ``numbers[i][rows]`` numbering chunk ``i``'s columns), gathered from the
    chunks in the order of ``wanted``; their ``rows`` are ``0..len(wanted)-1``."""
    parts = []
    for ch, num in zip(chunks, numbers, strict=True):
        col_num = num[ch.rows]
        pos = np.searchsorted(col_num, wanted)
        pos = np.minimum(pos, col_num.size - 1)
        hit = col_num[pos] == wanted
        parts.append((hit, ch, pos))
    n_b = chunks[0].bs.shape[0]
    bs = np.empty((n_b, wanted.size))
    bq = np.empty((n_b, wanted.size))
    tot1 = np.empty(wanted.size)
    tot2 = np.empty(wanted.size)
    found = np.zeros(wanted.size, dtype=np.bool_)
    for hit, ch, pos in parts:
        take = hit & ~found
        bs[:, take] = ch.bs[:, pos[take]]
        bq[:, take] = ch.bq[:, pos[take]]
        tot1[take] = ch.tot1[pos[take]]
        tot2[take] = ch.tot2[pos[take]]
        found |= take
    if not found.all():  # pragma: no cover - picks name columns of the chunks
        raise RuntimeError("a wanted trial is in no chunk")
    ones = np.ones(wanted.size, dtype=np.int64)
    return TrialBlocks(bs, bq, tot1, tot2, ones, np.arange(wanted.size))


def pbo_one_pass(
    splits: CSCVSplits,
    chunks: list[TrialBlocks],
    numbers: list[np.ndarray],
    n_trials: int,
    sample: np.ndarray,
) -> PBOResult:
    """The PBO of chunks of trials (``numbers[i][rows]`` numbering chunk ``i``'s
    columns apart), both CSCV passes over each chunk in one.

    The picks over all the trials in the splits ``sample`` name a few candidate trials;
    their picks in every split are the guess the one pass
    (:func:`fused_pass`) ranks against while it finds the trials that beat it. The
    splits whose pick over all the trials has another out-of-sample key than the
    guess are counted again (:func:`split_counts`). Same picks, counts and PBO as the
    two passes (:func:`split_picks`, then :func:`split_counts`), bit for bit.
    """
    part = splits.subset(sample)
    seen = merge_picks([split_picks(part, t, k) for t, k in zip(chunks, numbers, strict=True)])
    cands = np.unique(seen.trial)
    guess = split_picks(splits, some_trials(chunks, numbers, cands), cands)
    below = np.zeros(splits.n_splits, dtype=np.int64)
    ties = np.zeros(splits.n_splits, dtype=np.int64)
    found = [guess]
    for t, k in zip(chunks, numbers, strict=True):
        picked, bl, ti = fused_pass(splits, t, guess, k)
        found.append(picked)
        below += bl
        ties += ti
    picks = merge_picks(found)
    redo = np.flatnonzero(~(picks.chosen == guess.chosen))  # NaN: counted again
    if redo.size:
        again = splits.subset(redo)
        below[redo] = 0
        ties[redo] = 0
        for t in chunks:
            bl, ti = split_counts(again, t, picks.chosen[redo])
            below[redo] += bl
            ties[redo] += ti
    return pbo_from_counts(splits, picks, below, ties, n_trials)


def merge_picks(picks: list[SplitPicks]) -> SplitPicks:
    """The picks over several chunks of trials (in any order, numbered apart).

    The largest key wins a split, the smallest trial number on ties: the first trial
    wins ties, as within a chunk, whichever trials each chunk holds.
    """
    out = picks[0]
    for p in picks[1:]:
        win = (p.key > out.key) | ((p.key == out.key) & (p.trial < out.trial))
        out = SplitPicks(
            *(
                np.where(win, getattr(p, f), getattr(out, f))
                for f in SplitPicks.__dataclass_fields__
            )
        )
    return out


def concat_picks(picks: list[SplitPicks]) -> SplitPicks:
    """The picks of consecutive ranges of splits, end to end."""
    return SplitPicks(
        *(np.concatenate([getattr(p, f) for p in picks]) for f in SplitPicks.__dataclass_fields__)
    )


def split_counts(
    splits: CSCVSplits, trials: TrialBlocks, chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per split, how many of ``trials`` have an out-of-sample key below and equal to
    ``chosen`` (second pass of CSCV); sums over chunks of trials are the ranks."""
    return cscv_counts(
        trials.bs,
        trials.bq,
        trials.tot1,
        trials.tot2,
        trials.weights,
        splits.n_is,
        splits.n_all,
        splits.blocks,
        splits.lcp,
        CSCV_TILE,
        chosen,
    )


def pbo_from_counts(
    splits: CSCVSplits, picks: SplitPicks, below: np.ndarray, ties: np.ndarray, n_trials: int
) -> PBOResult:
    """The :class:`PBOResult` of the merged picks and the summed counts of all trials."""
    lg = cscv_logits(below, ties, n_trials)
    return PBOResult(
        pbo=float(np.mean(lg <= 0)),
        n_blocks=splits.n_blocks,
        n_splits=splits.n_splits,
        n_trials=int(n_trials),
        logits=lg,
        is_sharpe=picks.is_sharpe,
        oos_sharpe=picks.oos_sharpe,
        prob_oos_loss=float(np.mean(picks.oos_sharpe < 0)),
    )


@functools.lru_cache(maxsize=8)
def _lex_splits(n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """In-sample blocks of every split in lexicographic order (the order of
    :func:`_split_masks`), and how many leading blocks each shares with the previous.

    Cached (read-only arrays): a sweep builds them once, not once per call."""
    h = n_blocks // 2
    flat = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(n_blocks), h)),
        dtype=np.int64,
    )
    blocks = flat.reshape(-1, h)
    same = np.cumprod(blocks[1:] == blocks[:-1], axis=1).sum(axis=1)
    lcp = np.r_[0, same].astype(np.int64)
    blocks.flags.writeable = False
    lcp.flags.writeable = False
    return blocks, lcp


def _pbo_from_blocks(
    counts: np.ndarray, bsum: np.ndarray, bsq: np.ndarray, chunk: int | None = None
) -> PBOResult:
    """CSCV from per-block sums ``bsum``/``bsq`` (N, S) in chunks of ``chunk`` trials."""
    splits = cscv_splits_of(counts)
    n = bsum.shape[0]
    size = chunk or n
    los = range(0, n, size)
    chunks = [trial_blocks(bsum[lo : lo + size], bsq[lo : lo + size]) for lo in los]
    numbers = [np.arange(lo, min(lo + size, n)) for lo in los]
    picks = merge_picks([split_picks(splits, c, k) for c, k in zip(chunks, numbers, strict=True)])
    below = np.zeros(splits.n_splits, dtype=np.int64)
    ties = np.zeros(splits.n_splits, dtype=np.int64)
    for c in chunks:
        bl, ti = split_counts(splits, c, picks.chosen)
        below += bl
        ties += ti
    return pbo_from_counts(splits, picks, below, ties, n)


def _pbo_from_blocks_reference(
    counts: np.ndarray, bsum: np.ndarray, bsq: np.ndarray, chunk: int = 512
) -> PBOResult:
    """The matrix form of CSCV (splits x trials per chunk): the oracle of the kernel."""
    n_trials, n_blocks = bsum.shape
    masks = _split_masks(n_blocks)
    t1, t2, n_full = _split_sums(counts, bsum, bsq, np.ones((1, n_blocks), dtype=np.bool_))
    tot1, tot2, n_all = t1[0], t2[0], float(n_full[0])
    parts = []
    for lo in range(0, masks.shape[0], chunk):
        s1, s2, n_is = _split_sums(counts, bsum, bsq, masks[lo : lo + chunk])
        parts.append(cscv_ranks(s1, s2, tot1, tot2, n_is, n_all))
    lg, is_best, oos = (np.concatenate(x) for x in zip(*parts, strict=True))
    return PBOResult(
        pbo=float(np.mean(lg <= 0)),
        n_blocks=int(n_blocks),
        n_splits=int(masks.shape[0]),
        n_trials=int(n_trials),
        logits=lg,
        is_sharpe=is_best,
        oos_sharpe=oos,
        prob_oos_loss=float(np.mean(oos < 0)),
    )


def _check_blocks(n_blocks: int, n_obs: int) -> None:
    if (
        isinstance(n_blocks, bool)
        or not isinstance(n_blocks, int | np.integer)
        or n_blocks < 2
        or n_blocks % 2
        or n_blocks > 24
    ):
        raise ConfigError(f"n_blocks must be an even integer in 2..24, got {n_blocks!r}")
    if n_obs < 2 * n_blocks:
        raise InsufficientDataError(
            f"CSCV with {n_blocks} blocks needs at least {2 * n_blocks} observations, got {n_obs}"
        )


def pbo_cscv(returns: np.ndarray | pd.DataFrame, n_blocks: int = 16) -> PBOResult:
    """Probability of backtest overfitting of a matrix of trial returns (CSCV).

    Parameters
    ----------
    returns : array (T, N) or DataFrame
        One column of per-period returns per trial, same dates for all.
    n_blocks : int, default 16
        Even number S of contiguous row blocks; every choice of S/2 blocks is an
        in-sample set and its complement the out-of-sample set (C(S, S/2) splits).

    Returns
    -------
    PBOResult

    Notes
    -----
    The performance statistic is the per-period Sharpe ratio. For each split the trial
    with the best in-sample Sharpe ratio is taken (the first on ties); ω is its
    out-of-sample rank among the N trials (mid-rank on ties) divided by N + 1, and the
    logit is ``log(ω / (1 - ω))``. PBO is the share of logits <= 0. Trials with zero
    variance (always in cash) rank last.

    The splits are evaluated in tiles of trials from per-block sums
    (:func:`liqflow.backtest._kernels.cscv_best` then ``cscv_counts``): memory grows with
    N x S, not with the number of splits x N, and identical trials are ranked once with
    their count. Chunks of trials can be evaluated apart (a sweep's workers do): the
    picks merge by largest key, the counts add.

    References
    ----------
    Bailey, D. H., Borwein, J., López de Prado, M. and Zhu, Q. J. (2017), "The
    Probability of Backtest Overfitting", *Journal of Computational Finance* 20(4),
    39-69.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise DataError(f"returns must be a (T, N) matrix with N >= 2 trials, got {m.shape}")
    if np.isnan(m).any():
        raise DataError("returns must not contain NaN")
    _check_blocks(n_blocks, m.shape[0])
    edges = block_edges(0, m.shape[0], n_blocks)
    counts = np.diff(edges).astype(np.float64)
    bsum = np.add.reduceat(m, edges[:-1], axis=0).T
    bsq = np.add.reduceat(m * m, edges[:-1], axis=0).T
    return _pbo_from_blocks(counts, bsum, bsq)
