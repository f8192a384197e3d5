"""The deflated Sharpe ratio: is a sweep's best Sharpe ratio more than the best of luck?

Sharpe ratios here are **per period** (not annualised): the formulas of the papers
are stated for the Sharpe ratio of the observations they count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError, InsufficientDataError

__all__ = [
    "DeflatedSharpeResult",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
]

_EULER_GAMMA = 0.5772156649015329
# The standard normal from the standard library (Wichura's AS241 quantile, ~1e-15);
# it keeps scipy out of the sweep workers' imports.
_NORMAL = NormalDist()


def expected_max_sharpe(n_trials: int, var_trials: float, mean_trials: float = 0.0) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios under the null of no skill.

    ``E[max SR] ≈ mean + sqrt(V) * ((1 - γ) Z⁻¹(1 - 1/N) + γ Z⁻¹(1 - 1/(N e)))`` with
    γ the Euler-Mascheroni constant and Z⁻¹ the standard normal quantile.

    References
    ----------
    Bailey, D. H. and López de Prado, M. (2014), "The Deflated Sharpe Ratio: Correcting
    for Selection Bias, Backtest Overfitting and Non-Normality", *Journal of Portfolio
    Management* 40(5), 94-107, eq. (2)-(3).
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 2:
        raise ConfigError(f"n_trials must be an integer >= 2, got {n_trials!r}")
    if not var_trials >= 0:
        raise ConfigError(f"var_trials must be >= 0, got {var_trials!r}")
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return float(
        mean_trials + math.sqrt(var_trials) * ((1 - _EULER_GAMMA) * z1 + _EULER_GAMMA * z2)
    )


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark`` (PSR).

    ``Z[(SR - SR*) sqrt(T - 1) / sqrt(1 - γ3 SR + (γ4 - 1) / 4 SR²)]`` with per-period
    ``SR``, skewness ``γ3`` and (non-excess) kurtosis ``γ4`` of the returns.

    References
    ----------
    Bailey, D. H. and López de Prado, M. (2012), "The Sharpe Ratio Efficient Frontier",
    *Journal of Risk* 15(2), 3-44.
    """
    if n_obs < 2:
        raise InsufficientDataError(f"n_obs must be >= 2, got {n_obs!r}")
    denom = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not denom > 0:
        raise DataError(
            f"PSR undefined: 1 - skew*SR + (kurtosis-1)/4*SR² = {denom:.4g} <= 0 "
            f"(SR={sharpe:.4g}, skew={skew:.4g}, kurtosis={kurtosis:.4g})"
        )
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom)
    return float(_NORMAL.cdf(z))


@dataclass(frozen=True)
class DeflatedSharpeResult:
    """The deflated Sharpe ratio of the best of ``n_trials`` backtests.

    Attributes
    ----------
    sharpe : float
        Per-period Sharpe ratio of the selected strategy.
    sharpe_annual : float
        The same, annualised with ``periods_per_year``.
    sr0 : float
        Expected maximum per-period Sharpe ratio of ``n_trials`` unskilled trials.
    dsr : float
        Probability that the true Sharpe ratio exceeds ``sr0`` (the DSR).
    n_trials, n_obs : int
    var_trials : float
        Variance of the per-period Sharpe ratios across trials.
    skew, kurtosis : float
        Of the selected strategy's returns (kurtosis non-excess: 3 for normal).
    periods_per_year : float
    """

    sharpe: float
    sharpe_annual: float
    sr0: float
    dsr: float
    n_trials: int
    n_obs: int
    var_trials: float
    skew: float
    kurtosis: float
    periods_per_year: float

    @property
    def significant(self) -> bool:
        """DSR >= 0.95."""
        return self.dsr >= 0.95

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])

    def summary(self) -> str:
        verdict = "significant" if self.significant else "not significant"
        return (
            f"deflated Sharpe: best Sharpe {self.sharpe_annual:.2f}/yr "
            f"({self.sharpe:.4f}/period) vs expected max of {self.n_trials} unskilled trials "
            f"{self.sr0 * math.sqrt(self.periods_per_year):.2f}/yr; DSR = {self.dsr:.3f} "
            f"({verdict} at 95%), n={self.n_obs}, skew {self.skew:.2f}, "
            f"kurtosis {self.kurtosis:.2f}"
        )


def deflated_sharpe_ratio(
    sharpe: float,
    *,
    n_trials: int,
    var_trials: float,
    n_obs: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    periods_per_year: float = 1.0,
) -> DeflatedSharpeResult:
    """Deflated Sharpe ratio: the PSR of ``sharpe`` against :func:`expected_max_sharpe`.

    Parameters
    ----------
    sharpe : float
        Per-period Sharpe ratio of the selected (best) strategy.
    n_trials : int
        Number of independent trials behind the selection. Correlated trials make this
        an overstatement and the DSR conservative.
    var_trials : float
        Variance of the per-period Sharpe ratios across trials.
    n_obs : int
        Number of return observations of the selected strategy.
    skew, kurtosis : float
        Skewness and non-excess kurtosis of its returns.
    periods_per_year : float
        Only for reporting the annualised figures.

    Returns
    -------
    DeflatedSharpeResult

    Notes
    -----
    ``DSR = Z[(SR - SR0) sqrt(T - 1) / sqrt(1 - γ3 SR + (γ4 - 1)/4 SR²)]`` where
    ``SR0 = sqrt(V[SR_n]) ((1 - γ) Z⁻¹(1 - 1/N) + γ Z⁻¹(1 - 1/(N e)))``.

    References
    ----------
    Bailey, D. H. and López de Prado, M. (2014), "The Deflated Sharpe Ratio: Correcting
    for Selection Bias, Backtest Overfitting and Non-Normality", *Journal of Portfolio
    Management* 40(5), 94-107.
    """
    sr0 = expected_max_sharpe(n_trials, var_trials)
    dsr = probabilistic_sharpe_ratio(sharpe, sr0, n_obs, skew, kurtosis)
    return DeflatedSharpeResult(
        sharpe=float(sharpe),
        sharpe_annual=float(sharpe * math.sqrt(periods_per_year)),
        sr0=sr0,
        dsr=dsr,
        n_trials=int(n_trials),
        n_obs=int(n_obs),
        var_trials=float(var_trials),
        skew=float(skew),
        kurtosis=float(kurtosis),
        periods_per_year=float(periods_per_year),
    )
