"""Lead-lag: cross-correlation of returns at lags -L..+L with block-bootstrap inference.

Lag convention: **positive lag k means the leader at t correlates with the follower at
t + k** (the leader leads by k periods).

Method (:func:`lead_lag`)
-------------------------

**Calendars.** US equities trade 5 days a week, crypto 7. Weekly mode takes each
series' last close of the week ending Friday (``W-FRI``): the equity close on Friday
(or the last trading day before a holiday) and the crypto close at the end of
Friday UTC, about three to four hours after the equity close. Weekends and holidays
fall inside the following week's return for both, so the two weekly grids are the
same. A week without any price repeats the previous close. Daily mode keeps only
the dates on which both have a price (equity trading days); the crypto return of
a Monday then spans the weekend since Friday's close, as the equity return does.

**Estimate.** Log returns ``x`` (leader) and ``y`` (follower); for each lag
``k`` the Pearson correlation of ``x_t`` and ``y_{t+k}`` over the same rows
``t = L .. n-L-1`` for every lag.

**Null band and p-values.** The null is "the leader does not lead": the follower
depends on the leader only through the leader's innovation at the same date, and
shares its volatility. The leader is fitted an AR(1), ``x_t = m + phi x_{t-1} + e_t``
(:func:`~liqflow.stats._lagsums.leader_innovations`), and the follower is split as
``y_t = a + c e_t + v_t`` by least squares. Each null draw rebuilds both series from
that model (:func:`~liqflow.stats._lagsums._null_correlations`):

* the leader ``x*_t = phi x*_{t-1} + eta_t e_t`` from the observed start, with
  Rademacher signs ``eta_t`` (+1 or -1 with probability 1/2) in blocks of the
  innovations' own length: the recursive-design wild bootstrap of an autoregression
  (Goncalves and Kilian, 2004);
* the follower ``y*_t = c eta_t e_t + s_t v_t``, with signs ``s_t`` drawn independently,
  constant over blocks of ``null_block_length`` periods (:func:`block_signs`): the
  restricted (null-imposed) wild bootstrap of Davidson and Flachaire (2008) in the block
  form of Shao (2010).

``|eta_t e_t| = |e_t|`` and ``|s_t v_t| = |v_t|`` at every ``t``: the 2008 and 2020
volatility spikes stay where they are in *both* series, so ``sum x_t^2 y_{t+k}^2`` --
the variance of a cross-covariance under the null when volatility is shared -- is
reproduced, while the independent signs make every lagged cross-covariance zero in
expectation. Resampling the follower on its own instead (stationary bootstrap of ``y``,
independent of ``x``) moves its volatile weeks away from the leader's and rejected
13-20 % of the time at a nominal 5 % under shared stochastic volatility (46 % with the
Russell 2000's own volatility history); ``bench/calibration.py`` prints the sizes of
this one.

Why the leader is rebuilt rather than held fixed. A lagged correlation under this null
is ``c`` times the leader's correlation of ``x_{t-k}`` with its own true innovation
``e_t``, plus noise. Holding the leader fixed, the null can only use the *estimated*
innovation, which is orthogonal in sample to ``x_{t-1}``: at lag 1 it drops the chance
autocorrelation of the leader, ``c^2`` of the correlation's variance for a white-noise
leader, and with a contemporaneous correlation of 0.85 the test rejected 7.7-9.9 % at
5 % (lags 1..13, 780 weeks). At longer lags and for a persistent leader (a flow, the
funding paid) the estimation error of ``phi`` and the sample means pull the lagged
correlations below zero (the small-sample bias of Stambaugh, 1999); the rebuilt paths
carry the same error jointly with their own autocorrelations, so the null has that
offset too (flipping the whole follower centred the null at zero and the positive-lead
test rejected 2 % at 5 % with a weekly AR(1) of 0.97 over 300 weeks; see
``bench/calibration_channels.py``). The price: the null is the AR(1)'s, so a leader
whose dependence an AR(1) does not describe is described only in the innovations' sign
blocks.

The block length of ``s`` is the follower's
(:func:`~liqflow.stats._lagsums._null_block_length`): the signs must keep the
follower's autocorrelation, ``(1 - j/b)`` of it at lag ``j``, which the Bartlett (1935)
variance of a cross-correlation needs. The p-value of "the leader leads" is that of
the max statistic ``max_{k in lead_lags} strength(corr_k)`` against its null
distribution, which accounts for having looked at every lead lag (Westfall-Young
max-T); ``p_value_any`` does the same over every lag but 0, and
``familywise_threshold`` is the matching simultaneous band. The contemporaneous
correlation (lag 0) is kept by the null, so its band is centred on it; it enters no
p-value.

**Peak-lag interval.** Rows ``(x_t, y_{t-L}, .., y_{t+L})`` are resampled jointly
in stationary blocks, which keeps the lagged pairing and the dependence; the
interval is the percentile interval of the bootstrap peak lag. Sums over a resample
are sums of block sums (prefix sums), so no ``reps x n`` matrix is built.

**Missing weeks.** A week in which either series has no row gives a missing return
(never a zero); pairs with a missing value are left out of each lag's correlation.

References
----------

Wu, C. F. J. (1986). Jackknife, bootstrap and other resampling methods in regression
analysis. *Annals of Statistics*, 14(4), 1261-1295.
Liu, R. Y. (1988). Bootstrap procedures under some non-i.i.d. models. *Annals of
Statistics*, 16(4), 1696-1708.
Mammen, E. (1993). Bootstrap and wild bootstrap for high dimensional linear models.
*Annals of Statistics*, 21(1), 255-285.
Goncalves, S. and Kilian, L. (2004). Bootstrapping autoregressions with conditional
heteroskedasticity of unknown form. *Journal of Econometrics*, 123(1), 89-120.
Shao, X. (2010). The dependent wild bootstrap. *JASA*, 105(489), 218-235.
Davidson, R. and Flachaire, E. (2008). The wild bootstrap, tamed at last. *Journal of
Econometrics*, 146(1), 162-169 (Rademacher signs on residuals of the null model).
Stambaugh, R. F. (1999). Predictive regressions. *Journal of Financial Economics*,
54(3), 375-421 (the bias of a persistent regressor correlated with the response).
Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. *JASA*, 89(428).
Westfall, P. H. and Young, S. S. (1993). *Resampling-Based Multiple Testing*. Wiley.
Bartlett, M. S. (1935). Some aspects of the time-correlation problem in regard to
tests of significance. *JRSS*, 98(3), 536-543 (why autocorrelation widens the null).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._lagsums import (
    DEFAULT_MAX_LAG,
    SIDES,
    _check_side,
    _lag_sums,
    _null_block_length,
    _null_correlations,
    _pair_correlations,
    _prepare,
    _strength,
    block_signs,
    lagged_correlations,
)
from liqflow.stats._lagsums import (  # kernels re-exported (tested through this module)
    _pair_correlations_from_sums as _pair_correlations_from_sums,
)
from liqflow.stats._lagsums import (
    _pair_features as _pair_features,
)
from liqflow.stats._shared import (
    RandomLike,
    check_confidence,
    check_positive_int,
    permutation_p_value,
    resolve_rng,
)
from liqflow.stats.bootstrap import optimal_block_length
from liqflow.stats.rolling import RollingLeadLagResult, rolling_lead_lag

__all__ = [  # the kernels live in stats._lagsums, the rolling windows in stats.rolling
    "DEFAULT_MAX_LAG",
    "SIDES",
    "LeadLagResult",
    "RollingLeadLagResult",
    "block_signs",
    "lagged_correlations",
    "lead_lag",
    "rolling_lead_lag",
]


@dataclass(frozen=True)
class LeadLagResult:
    """Cross-correlation of leader and follower returns by lag, with bootstrap inference.

    Attributes
    ----------
    lags : ndarray of int
        ``-max_lag .. max_lag``; positive = leader first.
    correlations : ndarray
        Correlation of leader return at t and follower return at t + lag.
    null_low, null_high : ndarray
        Pointwise ``(1-confidence)/2`` and ``(1+confidence)/2`` quantiles of each lag's
        correlation under the null of no cross-dependence.
    familywise_threshold : float
        ``confidence`` quantile of the largest null strength over every lag but 0: a lag whose
        strength exceeds it is significant with every lag examined accounted for.
    peak_lag, peak_corr : int, float
        Lag of the strongest correlation and its value.
    peak_lag_ci : tuple of int
        Bootstrap interval of the peak lag (pairs resampled jointly in blocks).
    p_value_positive : float
        p-value of the largest strength over the lead lags ``lead_lags`` (default
        ``1..max_lag``: does the leader lead?), max-statistic corrected for all of them.
    p_value_any : float
        Same over every lag but 0 (the null keeps the contemporaneous link).
    n_obs : int
        Rows used (returns minus ``2 * max_lag``).
    """

    leader: str
    follower: str
    freq: str
    lags: np.ndarray
    correlations: np.ndarray
    null_low: np.ndarray
    null_high: np.ndarray
    familywise_threshold: float
    peak_lag: int
    peak_corr: float
    peak_lag_ci: tuple[int, int]
    p_value_positive: float
    p_value_any: float
    n_obs: int
    start: pd.Timestamp
    end: pd.Timestamp
    null_block_length: float
    boot_block_length: float
    n_null: int
    n_boot: int
    alternative: str
    confidence: float
    lead_lags: tuple[int, int] = (1, 1)

    def to_frame(self) -> pd.DataFrame:
        """One row per lag: correlation, pointwise null band, family-wise significance."""
        strength = _strength(self.correlations, self.alternative)
        return pd.DataFrame(
            {
                "correlation": self.correlations,
                "null_low": self.null_low,
                "null_high": self.null_high,
                "significant": strength > self.familywise_threshold,
            },
            index=pd.Index(self.lags, name="lag"),
        )

    def summary(self) -> str:
        """Peak lag with interval, p-values and sample size in one line."""
        unit = "weeks" if self.freq == "W" else "days"
        lo, hi = self.peak_lag_ci
        ci = "n/a" if self.n_boot == 0 else f"[{lo}, {hi}]"
        pct = round(self.confidence * 100)
        return (
            f"{self.leader} -> {self.follower} ({unit}, {self.start.date()}..{self.end.date()}): "
            f"peak corr {self.peak_corr:+.3f} at lag {self.peak_lag:+d} {unit} "
            f"({pct}% CI {ci}); leads at lags {self.lead_lags[0]}..{self.lead_lags[1]}: "
            f"p={_fmt_p(self.p_value_positive)}, "
            f"any lag: p={_fmt_p(self.p_value_any)} (max-statistic over "
            f"{self.lags.size - 1} lags but 0); n={self.n_obs}"
        )


def _fmt_p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{p:.3f}"


def lead_lag(
    leader: pd.Series,
    follower: pd.Series,
    *,
    freq: str = "W",
    max_lag: int | None = None,
    n_null: int = 999,
    n_boot: int = 999,
    block_length: float | None = None,
    alternative: str = "two-sided",
    confidence: float = 0.95,
    lead_lags: tuple[int, int] | None = None,
    seed: RandomLike = None,
) -> LeadLagResult:
    """Does ``leader`` lead ``follower``? Cross-correlation of returns at lags -L..L.

    Parameters
    ----------
    leader, follower : Series
        Price (or index level) series, positive, contract index.
    freq : {"W", "D"}
        ``"W"`` (default): weekly log returns from last closes of weeks ending Friday.
        ``"D"``: daily log returns between the dates on which both have a price.
    max_lag : int, optional
        Largest lag in periods (default 13 weeks or 63 days).
    n_null : int
        Bootstrap draws under the null (0 skips p-values and bands).
    n_boot : int
        Bootstrap draws for the peak-lag interval (0 skips it).
    block_length : float, optional
        Expected block length for both bootstraps; default
        :func:`~liqflow.stats.bootstrap.optimal_block_length` of the returns.
    alternative : {"two-sided", "positive"}
        Strength of a lag is ``|corr|`` or ``corr`` (only positive co-movement counts).
    confidence : float
        Level of bands and intervals.
    lead_lags : (int, int), optional
        Range of positive lags ``(first, last)`` the lead test looks at (default
        ``(1, max_lag)``), e.g. ``(4, 13)`` weeks for "one to three months".
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    LeadLagResult

    Notes
    -----
    The method in full is in the module's documentation: the weekly calendar of equities
    and crypto, the estimate on common rows, the null pairs rebuilt from the leader's
    AR(1) and the follower's residual with sign flips (recursive-design and restricted
    wild bootstrap), which keep shared volatility where it is,
    the max-statistic p-value over the lead lags (Westfall-Young),
    the joint pair bootstrap of the peak lag, and missing weeks (never zero returns).

    References
    ----------
    Wu (1986), Liu (1988), Mammen (1993) and Goncalves and Kilian (2004) for the wild
    bootstrap, Davidson and Flachaire (2008) for its restricted Rademacher form, Shao
    (2010) for its dependent (block) form, Stambaugh (1999) for the bias of a persistent
    leader, Politis and Romano (1994), Westfall and Young (1993), Bartlett (1935): in
    full in the module's documentation.
    """
    inputs = _lead_lag_inputs(leader, follower, freq, max_lag)
    opts = _options(inputs, n_null, n_boot, alternative, confidence, lead_lags)
    rng = resolve_rng(seed)
    sums = _lag_sums(inputs.x, inputs.y, inputs.max_lag)
    corr = sums.correlations(sums.u @ sums.design)
    null = _NullInference.skipped(corr.size)
    if opts.n_null > 0:
        b_null = _null_block_length(inputs.x, inputs.y) if block_length is None else block_length
        null = _null_inference(inputs, corr, b_null, opts, rng)
    peak = _peak(inputs, corr, block_length, opts, rng)
    return _lead_lag_result(inputs, corr, int(np.min(sums.count)), null, peak, opts)


@dataclass(frozen=True)
class _Options:
    """The checked settings of one :func:`lead_lag` call."""

    n_null: int
    n_boot: int
    alternative: str
    confidence: float
    lead_range: tuple[int, int]


def _options(
    inputs: _LeadLagInputs,
    n_null: int,
    n_boot: int,
    alternative: str,
    confidence: float,
    lead_lags: tuple[int, int] | None,
) -> _Options:
    """The settings checked, then the length of the returns and the lead lags."""
    n_null = check_positive_int("n_null", n_null, minimum=0)
    n_boot = check_positive_int("n_boot", n_boot, minimum=0)
    _check_side(alternative)
    conf = check_confidence(confidence)
    inputs.check_length()
    return _Options(n_null, n_boot, alternative, conf, inputs.lead_range(lead_lags))


def _lead_lag_result(
    inputs: _LeadLagInputs,
    corr: np.ndarray,
    n_obs: int,
    null: _NullInference,
    peak: _Peak,
    opts: _Options,
) -> LeadLagResult:
    return LeadLagResult(
        leader=inputs.names[0],
        follower=inputs.names[1],
        freq=inputs.freq,
        lags=inputs.lags,
        correlations=corr,
        null_low=null.low,
        null_high=null.high,
        familywise_threshold=null.threshold,
        peak_lag=peak.lag,
        peak_corr=float(corr[peak.index]),
        peak_lag_ci=peak.interval,
        p_value_positive=null.p_positive,
        p_value_any=null.p_any,
        n_obs=n_obs,
        start=inputs.start,
        end=inputs.end,
        null_block_length=null.block_length,
        boot_block_length=peak.block_length,
        n_null=opts.n_null,
        n_boot=opts.n_boot,
        alternative=opts.alternative,
        confidence=opts.confidence,
        lead_lags=opts.lead_range,
    )


@dataclass(frozen=True)
class _LeadLagInputs:
    """The aligned log returns of leader (``x``) and follower (``y``), checked."""

    x: np.ndarray
    y: np.ndarray
    freq: str
    max_lag: int
    names: tuple[str, str]
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def lags(self) -> np.ndarray:
        return np.arange(-self.max_lag, self.max_lag + 1)

    def check_length(self) -> None:
        """Enough common returns for ``max_lag`` either way and 30 rows (or 3 lags) more."""
        lag, n = self.max_lag, self.x.size
        if n - 2 * lag < max(30, 3 * lag):
            raise InsufficientDataError(
                f"{self.names[0]} and {self.names[1]}: max_lag={lag} {self.freq} needs at least "
                f"{2 * lag + max(30, 3 * lag)} common returns, got {n}"
            )

    def lead_range(self, lead_lags: tuple[int, int] | None) -> tuple[int, int]:
        """The lags ``(first, last)`` of the lead test, default ``(1, max_lag)``."""
        return (1, self.max_lag) if lead_lags is None else _check_lead_lags(lead_lags, self.max_lag)


def _lead_lag_inputs(
    leader: pd.Series, follower: pd.Series, freq: str, max_lag: int | None
) -> _LeadLagInputs:
    """Returns on the common calendar (their length is checked by ``check_length``)."""
    rets, lag, lname, fname = _prepare(leader, follower, freq, max_lag)
    return _LeadLagInputs(
        x=rets.iloc[:, 0].to_numpy(),
        y=rets.iloc[:, 1].to_numpy(),
        freq=freq,
        max_lag=lag,
        names=(lname, fname),
        start=pd.Timestamp(rets.index[0]),
        end=pd.Timestamp(rets.index[-1]),
    )


@dataclass(frozen=True)
class _NullInference:
    """Pointwise band, family-wise threshold and max-statistic p-values from null draws."""

    low: np.ndarray
    high: np.ndarray
    threshold: float
    p_positive: float
    p_any: float
    block_length: float

    @classmethod
    def skipped(cls, k: int) -> _NullInference:
        nan = float("nan")
        return cls(np.full(k, nan), np.full(k, nan), nan, nan, nan, nan)

    @classmethod
    def of(
        cls,
        null: np.ndarray,
        strength: np.ndarray,
        positive: np.ndarray,
        lagged: np.ndarray,
        alternative: str,
        confidence: float,
        block_length: float,
    ) -> _NullInference:
        """``positive``: the lead lags of the lead test; ``lagged``: every lag but 0."""
        alpha = 1.0 - confidence
        quantile = np.quantile if np.isfinite(null).all() else np.nanquantile  # nan: slow path
        low, high = quantile(null, [alpha / 2, 1 - alpha / 2], axis=0)
        null_strength = _strength(null, alternative)
        max_all = np.nanmax(null_strength[:, lagged], axis=1)
        return cls(
            low=low,
            high=high,
            threshold=float(np.quantile(max_all, confidence)),
            p_positive=permutation_p_value(
                float(np.nanmax(strength[positive])),
                np.nanmax(null_strength[:, positive], axis=1),
                "greater",
            ),
            p_any=permutation_p_value(float(np.nanmax(strength[lagged])), max_all, "greater"),
            block_length=block_length,
        )


def _null_inference(
    inputs: _LeadLagInputs,
    corr: np.ndarray,
    block: float,
    opts: _Options,
    rng: np.random.Generator,
) -> _NullInference:
    """Sign-flip null draws of every lag's correlation, summarised (see the module notes)."""
    draws = _null_correlations(inputs.x, inputs.y, inputs.max_lag, opts.n_null, float(block), rng)
    lags = inputs.lags
    first, last = opts.lead_range
    return _NullInference.of(
        draws,
        _strength(corr, opts.alternative),
        (lags >= first) & (lags <= last),
        lags != 0,
        opts.alternative,
        opts.confidence,
        float(block),
    )


@dataclass(frozen=True)
class _Peak:
    """The strongest lag (position ``index`` in the lags), its interval and block length."""

    index: int
    lag: int
    interval: tuple[int, int]
    block_length: float


def _peak(
    inputs: _LeadLagInputs,
    corr: np.ndarray,
    block_length: float | None,
    opts: _Options,
    rng: np.random.Generator,
) -> _Peak:
    """The peak lag and its pair-bootstrap interval (the peak itself without draws)."""
    ipk = int(np.nanargmax(_strength(corr, opts.alternative)))
    lag = int(inputs.lags[ipk])
    if opts.n_boot == 0:
        return _Peak(ipk, lag, (lag, lag), float("nan"))
    x, y = inputs.x, inputs.y
    block = _boot_block_length(x, y) if block_length is None else float(block_length)
    ci = _peak_interval(
        x, y, inputs.max_lag, opts.n_boot, block, rng, opts.alternative, opts.confidence
    )
    return _Peak(ipk, lag, ci or (lag, lag), block)


def _boot_block_length(x: np.ndarray, y: np.ndarray) -> float:
    xy = np.column_stack([x, y])
    return optimal_block_length(xy[np.isfinite(xy).all(axis=1)])


def _peak_interval(
    x: np.ndarray,
    y: np.ndarray,
    lag: int,
    reps: int,
    block: float,
    rng: np.random.Generator,
    alternative: str,
    confidence: float,
) -> tuple[int, int] | None:
    """Percentile interval of the peak lag over pair-bootstrap resamples (None if none)."""
    alpha = 1.0 - confidence
    lags = np.arange(-lag, lag + 1)
    boot = _strength(_pair_correlations(x, y, lag, reps, block, rng), alternative)
    ok = np.isfinite(boot).all(axis=1)
    peaks = lags[np.argmax(boot[ok], axis=1)]
    if not peaks.size:
        return None
    return (
        int(np.quantile(peaks, alpha / 2, method="lower")),
        int(np.quantile(peaks, 1 - alpha / 2, method="higher")),
    )


def _check_lead_lags(lead_lags: tuple[int, int], max_lag: int) -> tuple[int, int]:
    ok = (
        isinstance(lead_lags, tuple | list)
        and len(lead_lags) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in lead_lags)
        and 1 <= lead_lags[0] <= lead_lags[1] <= max_lag
    )
    if not ok:
        raise DataError(
            f"lead_lags must be (first, last) with 1 <= first <= last <= max_lag={max_lag}, "
            f"got {lead_lags!r}"
        )
    return int(lead_lags[0]), int(lead_lags[1])
