"""Block bootstrap resampling plans, vectorised over many resamples at once.

A resample of a series of length ``n`` is a concatenation of blocks of consecutive
(circularly wrapped) positions. :class:`BlockPlan` stores the start and length of every
block of every resample, which is all the randomness a block bootstrap has. From a plan
one gets the full index matrix (:meth:`BlockPlan.indices`), how many times each position
is drawn (:meth:`BlockPlan.counts`), or the sum of any additive quantity over each
resample straight from prefix sums (:meth:`BlockPlan.sums`), which costs one operation per
block instead of one per observation and is what makes 10,000 resamples cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import RandomLike, check_positive_int, resolve_rng

__all__ = [
    "BlockPlan",
    "circular_block_bootstrap_indices",
    "circular_blocks",
    "optimal_block_length",
    "stationary_blocks",
    "stationary_bootstrap_indices",
    "stationary_bootstrap_sums",
]

KINDS = ("stationary", "circular")
_INDEX = np.int64


@dataclass(frozen=True)
class BlockPlan:
    """Blocks of ``reps`` bootstrap resamples of a series of length ``n``.

    Attributes
    ----------
    n : int
        Length of the series and of each resample.
    starts : ndarray of int64, shape (reps, m)
        First position (in ``0..n-1``) of each block.
    lengths : ndarray of int64, shape (reps, m)
        Number of positions each block contributes; they sum to ``n`` on every row.
        Rows with fewer blocks are padded with zero-length blocks.
    kind : str
        ``"stationary"`` or ``"circular"``.
    block_length : float
        Expected (stationary) or fixed (circular) block length.
    """

    n: int
    starts: np.ndarray
    lengths: np.ndarray
    kind: str
    block_length: float

    @property
    def reps(self) -> int:
        """Number of resamples."""
        return int(self.starts.shape[0])

    def indices(self) -> np.ndarray:
        """Positions drawn by each resample, shape ``(reps, n)``.

        Position ``j`` of block ``(s, L)`` is ``(s + j) % n``, so blocks wrap around the
        end of the series (circular, as in ``arch``).
        """
        lengths = self.lengths.ravel()
        starts = np.repeat(self.starts.ravel(), lengths)
        block_first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        offset = np.arange(lengths.sum(), dtype=_INDEX) - block_first
        return ((starts + offset) % self.n).reshape(self.reps, self.n)

    def counts(self) -> np.ndarray:
        """How many times each position is drawn by each resample, shape ``(reps, n)``.

        Equivalent to ``np.apply_along_axis(np.bincount, 1, plan.indices(), minlength=n)``,
        computed from the blocks with a difference array. Any additive statistic of a
        resample is then ``counts @ values``.
        """
        n, reps = self.n, self.reps
        width = 2 * n + 1
        rows = np.arange(reps, dtype=_INDEX)[:, None] * width
        keep = self.lengths > 0
        up = np.bincount((rows + self.starts)[keep], minlength=reps * width)
        down = np.bincount((rows + self.starts + self.lengths)[keep], minlength=reps * width)
        cover = np.cumsum((up - down).reshape(reps, width), axis=1)
        return cover[:, :n] + cover[:, n : 2 * n]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each resample, shape ``(reps,)`` or ``(reps, k)``.

        ``values`` has shape ``(n,)`` or ``(n, k)``. Equivalent to
        ``values[plan.indices()].sum(axis=1)`` but costs one lookup per block: every block
        sum is a difference of prefix sums of the series repeated twice.
        """
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape[0] != self.n or arr.ndim not in (1, 2):
            raise DataError(f"values must have shape ({self.n},) or ({self.n}, k), got {arr.shape}")
        cols = arr[:, None] if arr.ndim == 1 else arr
        ends = self.starts + self.lengths
        out = np.empty((self.reps, cols.shape[1]))
        for k in range(cols.shape[1]):
            # column by column: gathers from a contiguous 1-d prefix array are fastest
            prefix = np.concatenate([[0.0], np.cumsum(np.tile(cols[:, k], 2))])
            out[:, k] = (prefix[ends] - prefix[self.starts]).sum(axis=1)
        return out[:, 0] if arr.ndim == 1 else out


def _check_n(n: object) -> int:
    return check_positive_int("n", n, minimum=2)


def _check_block_length(block_length: object) -> float:
    if (
        isinstance(block_length, bool)
        or not isinstance(block_length, int | float | np.integer | np.floating)
        or not math.isfinite(float(block_length))
        or float(block_length) < 1.0
    ):
        raise DataError(f"block_length must be a finite number >= 1, got {block_length!r}")
    return float(block_length)


def stationary_blocks(
    n: int, reps: int, block_length: float, *, seed: RandomLike = None
) -> BlockPlan:
    """Blocks of the stationary bootstrap of Politis and Romano (1994).

    Parameters
    ----------
    n : int
        Length of the series.
    reps : int
        Number of resamples.
    block_length : float
        Expected block length ``1/p``; ``1`` gives the i.i.d. bootstrap.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    BlockPlan

    Notes
    -----
    Each resample is built from blocks whose starts are uniform on ``0..n-1`` and whose
    lengths are geometric with mean ``block_length`` (support 1, 2, ...), truncated so
    the total is ``n``; blocks wrap around the end of the series. This is the same law as
    ``arch.bootstrap.StationaryBootstrap``, which draws a uniform start at position 0 and,
    at every later position, starts a new uniform block with probability
    ``p = 1/block_length`` and otherwise continues with the next position: the run
    lengths between restarts are geometric(p). Here all blocks of all resamples are drawn
    in two array calls instead of ``n`` Bernoulli draws per resample.

    References
    ----------
    Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. *Journal of the
    American Statistical Association*, 89(428), 1303-1313.
    """
    n = _check_n(n)
    reps = check_positive_int("reps", reps)
    b = _check_block_length(block_length)
    starts_parts: list[np.ndarray] = []
    lengths_parts: list[np.ndarray] = []
    for rows, starts, lengths in _stationary_rounds(n, reps, b, resolve_rng(seed)):
        full_starts = np.zeros((reps, starts.shape[1]), dtype=_INDEX)
        full_lengths = np.zeros((reps, starts.shape[1]), dtype=_INDEX)
        full_starts[rows] = starts
        full_lengths[rows] = lengths
        starts_parts.append(full_starts)
        lengths_parts.append(full_lengths)
    return _truncate(
        n,
        np.concatenate(starts_parts, axis=1),
        np.concatenate(lengths_parts, axis=1),
        "stationary",
        b,
    )


def stationary_bootstrap_sums(
    values: np.ndarray, reps: int, block_length: float, *, seed: RandomLike = None
) -> np.ndarray:
    """Sum of ``values`` over each of ``reps`` stationary-bootstrap resamples.

    Parameters
    ----------
    values : ndarray, shape (n,) or (n, k)
        The series (rows are time). Several columns are resampled jointly.
    reps : int
        Number of resamples.
    block_length : float
        Expected block length.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    ndarray, shape (reps,) or (reps, k)

    Notes
    -----
    Equal (to rounding) to ``stationary_blocks(n, reps, block_length, seed=seed)
    .sums(values)`` for the same seed: the same blocks are drawn, and each block adds a
    difference of prefix sums. The per-block loop runs in a numba kernel
    (:func:`_accumulate_block_sums`, pure-Python twin tested against it), so the cost
    is one small step per block and nothing of size ``reps * n`` is built. Any
    statistic that is a function of column sums (means, ratios of means, variances,
    correlations) follows from the result.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] < 2:
        raise DataError(f"values must have shape (n,) or (n, k) with n >= 2, got {arr.shape}")
    cols = np.ascontiguousarray(arr[:, None] if arr.ndim == 1 else arr)
    n = cols.shape[0]
    reps = check_positive_int("reps", reps)
    b = _check_block_length(block_length)
    prefix = np.zeros((2 * n + 1, cols.shape[1]))
    np.cumsum(np.concatenate([cols, cols]), axis=0, out=prefix[1:])
    acc = np.zeros((reps, cols.shape[1]))
    pos = np.zeros(reps, dtype=_INDEX)
    for rows, starts, lengths in _stationary_rounds(n, reps, b, resolve_rng(seed)):
        _accumulate_block_sums(rows, starts, lengths, prefix, n, pos, acc)
    return acc[:, 0] if arr.ndim == 1 else acc


def _accumulate_block_sums_python(
    rows: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    prefix: np.ndarray,
    n: int,
    pos: np.ndarray,
    acc: np.ndarray,
) -> None:
    """Add block sums to ``acc`` in place; pure-Python twin of :func:`_accumulate_block_sums`.

    For resample ``rows[i]``, blocks ``(starts[i, j], lengths[i, j])`` are taken in
    order until ``pos`` (positions filled so far) reaches ``n``; the last one is cut.
    Block ``(s, L)`` adds ``prefix[s + L] - prefix[s]`` where ``prefix`` is the prefix
    sum of the series repeated twice, i.e. ``values[(s + arange(L)) % n].sum(axis=0)``.
    """
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(starts.shape[1]):
            if pos[r] >= n:
                break
            length = min(lengths[i, j], n - pos[r])
            s = starts[i, j]
            for c in range(prefix.shape[1]):
                acc[r, c] += prefix[s + length, c] - prefix[s, c]
            pos[r] += length


_accumulate_block_sums = numba.njit(cache=True, nogil=True)(_accumulate_block_sums_python)


def _stationary_rounds(
    n: int, reps: int, b: float, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Draw stationary-bootstrap blocks in rounds: ``(rows, starts, lengths)``.

    The first round gives every resample about as many blocks as it needs on average
    (the number of blocks is 1 + Binomial(n - 1, p)) plus one standard deviation; each
    later round gives more blocks only to the resamples whose blocks do not yet cover
    ``n`` positions. Blocks past ``n`` are cut by the consumer. Lengths are drawn before
    starts in each round, so every consumer of the same seed sees the same blocks.
    """
    p = 1.0 / b
    mean_blocks = 1.0 + (n - 1) * p
    sd_blocks = math.sqrt((n - 1) * p * (1.0 - p))
    m = min(n, math.ceil(mean_blocks + sd_blocks + 2.0))
    extra = min(n, math.ceil(3.0 * sd_blocks + 4.0))
    rows = np.arange(reps, dtype=_INDEX)
    covered = np.zeros(reps, dtype=_INDEX)
    while rows.size:
        lengths = _geometric(rng, p, (rows.size, m))
        starts = rng.integers(0, n, size=(rows.size, m), dtype=_INDEX)
        yield rows, starts, lengths
        covered[rows] += lengths.sum(axis=1)
        rows = rows[covered[rows] < n]
        m = extra


def _geometric(rng: np.random.Generator, p: float, size: tuple[int, int]) -> np.ndarray:
    """Geometric(p) draws on 1, 2, ... by inversion: ``P(floor(log U / log(1-p)) >= k) = (1-p)^k``.

    Same law as ``rng.geometric(p, size)``, about twice as fast for large arrays.
    """
    if p >= 1.0:
        return np.ones(size, dtype=_INDEX)
    u = rng.random(size)
    np.subtract(1.0, u, out=u)  # in (0, 1]
    np.log(u, out=u)
    u *= 1.0 / math.log1p(-p)  # >= 0, so the cast below is a floor
    out = u.astype(_INDEX)
    out += 1
    return out


def circular_blocks(
    n: int, reps: int, block_length: float, *, seed: RandomLike = None
) -> BlockPlan:
    """Blocks of the circular block bootstrap of Politis and Romano (1992).

    Parameters
    ----------
    n : int
        Length of the series.
    reps : int
        Number of resamples.
    block_length : float
        Block length, rounded to the nearest integer (at least 1).
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    BlockPlan

    Notes
    -----
    ``ceil(n / b)`` blocks of ``b`` consecutive positions with uniform starts, wrapping
    around the end; the last block is cut so the resample has length ``n``. Same law as
    ``arch.bootstrap.CircularBlockBootstrap``.

    References
    ----------
    Politis, D. N. and Romano, J. P. (1992). A circular block-resampling procedure for
    stationary data. In *Exploring the Limits of Bootstrap*, Wiley, 263-270.
    """
    n = _check_n(n)
    reps = check_positive_int("reps", reps)
    b = max(1, round(_check_block_length(block_length)))
    b = min(b, n)
    rng = resolve_rng(seed)
    m = math.ceil(n / b)
    starts = rng.integers(0, n, size=(reps, m), dtype=_INDEX)
    lengths = np.full((reps, m), b, dtype=_INDEX)
    return _truncate(n, starts, lengths, "circular", float(b))


def _truncate(n: int, starts: np.ndarray, lengths: np.ndarray, kind: str, b: float) -> BlockPlan:
    ends = np.cumsum(lengths, axis=1)
    np.minimum(ends, n, out=ends)
    # Blocks needed by the longest row: those starting before position n.
    used = int((ends < n).sum(axis=1).max()) + 1
    ends = ends[:, :used]
    eff = ends.copy()
    eff[:, 1:] -= ends[:, :-1]
    # Zero-length padding blocks start at 0 so prefix lookups stay in range.
    starts = np.where(eff > 0, starts[:, :used], 0)
    return BlockPlan(n=n, starts=starts, lengths=eff, kind=kind, block_length=b)


def stationary_bootstrap_indices(
    n: int, reps: int, block_length: float, *, seed: RandomLike = None
) -> np.ndarray:
    """Index matrix ``(reps, n)`` of the stationary bootstrap (see :func:`stationary_blocks`).

    ``x[idx[r]]`` is resample ``r`` of a series ``x``; the law equals that of
    ``arch.bootstrap.StationaryBootstrap(block_length, x).bootstrap(reps)``.
    """
    return stationary_blocks(n, reps, block_length, seed=seed).indices()


def circular_block_bootstrap_indices(
    n: int, reps: int, block_length: float, *, seed: RandomLike = None
) -> np.ndarray:
    """Index matrix ``(reps, n)`` of the circular block bootstrap (see :func:`circular_blocks`).

    The law equals that of ``arch.bootstrap.CircularBlockBootstrap(block_length, x)``.
    """
    return circular_blocks(n, reps, block_length, seed=seed).indices()


def optimal_block_length(
    data: np.ndarray | pd.Series | pd.DataFrame, kind: str = "stationary"
) -> float:
    """Data-driven block length, the largest over columns, at least 1.

    Parameters
    ----------
    data : array, Series or DataFrame
        One series, or several as columns (the block must suit all of them).
    kind : {"stationary", "circular"}
        Which of the two estimates to return.

    Returns
    -------
    float

    Notes
    -----
    Wraps ``arch.bootstrap.optimal_block_length`` (Politis and White's rule with the
    correction of Patton, Politis and White). Missing values are dropped per column.

    References
    ----------
    Politis, D. N. and White, H. (2004). Automatic block-length selection for the
    dependent bootstrap. *Econometric Reviews*, 23(1), 53-70.
    Patton, A., Politis, D. N. and White, H. (2009). Correction to "Automatic
    block-length selection for the dependent bootstrap". *Econometric Reviews*, 28(4).
    """
    if kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, got {kind!r}")
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"data must be 1- or 2-dimensional, got {arr.ndim} dimensions")
    from arch.bootstrap import optimal_block_length as _arch_optimal_block_length

    best = 1.0
    for col in arr.T:
        col = col[np.isfinite(col)]
        if col.size < 9:
            raise InsufficientDataError(
                f"data: optimal block length needs at least 9 observations, got {col.size}"
            )
        if np.ptp(col) == 0.0:
            continue
        est = float(_arch_optimal_block_length(col)[kind].iloc[0])
        if math.isfinite(est):
            best = max(best, est)
    return best
