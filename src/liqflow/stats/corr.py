"""Rolling and period correlation of daily returns between two series."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.stats._shared import (
    RandomLike,
    aligned_returns,
    check_confidence,
    check_positive_int,
    resolve_rng,
)
from liqflow.stats.bootstrap import optimal_block_length, stationary_bootstrap_sums

__all__ = ["PERIOD_FORMS", "CorrelationResult", "parse_periods", "return_correlation"]

PERIOD_FORMS = ("YYYY", "YYYY-YYYY", "YYYY-MM-DD..YYYY-MM-DD")
_YEAR = re.compile(r"^(\d{4})$")
_YEARS = re.compile(r"^(\d{4})-(\d{4})$")
_DATES = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def parse_periods(spec: str) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Parse ``"2017-2019,2020-2021"`` into labelled inclusive date ranges.

    Each comma-separated item is one of :data:`PERIOD_FORMS`: a year, a range of whole
    years, or two dates joined by ``..``.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(
            f"periods must be items like {PERIOD_FORMS} separated by commas, got {spec!r}"
        )
    out = []
    for raw in spec.split(","):
        item = raw.strip()
        if m := _YEAR.match(item):
            start, end = pd.Timestamp(f"{m[1]}-01-01"), pd.Timestamp(f"{m[1]}-12-31")
        elif m := _YEARS.match(item):
            start, end = pd.Timestamp(f"{m[1]}-01-01"), pd.Timestamp(f"{m[2]}-12-31")
        elif m := _DATES.match(item):
            try:
                start, end = pd.Timestamp(m[1]), pd.Timestamp(m[2])
            except ValueError:
                raise DataError(f"periods: {item!r} has an invalid date") from None
        else:
            raise DataError(
                f"periods: each item must be one of {PERIOD_FORMS}, got {item!r} in {spec!r}"
            )
        if end < start:
            raise DataError(f"periods: {item!r} ends before it starts")
        out.append((item, start, end))
    return out


@dataclass(frozen=True)
class CorrelationResult:
    """Correlation of daily returns of ``a`` and ``b``: overall, per period and rolling.

    Attributes
    ----------
    periods : DataFrame
        One row per period (first row ``"all"``): ``start``, ``end``, ``n`` (common
        daily returns), ``correlation`` and its stationary-bootstrap interval.
    rolling : Series
        Correlation over the last ``window`` common returns, at each date.
    """

    a: str
    b: str
    window: int
    confidence: float
    periods: pd.DataFrame
    rolling: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The per-period table (a copy)."""
        return self.periods.copy()

    def summary(self) -> str:
        """One line per period with interval and n."""
        pct = round(self.confidence * 100)
        lines = [f"correlation of daily returns, {self.a} vs {self.b} ({pct}% bootstrap CI):"]
        for label, row in self.periods.iterrows():
            if not math.isfinite(row["correlation"]):
                lines.append(f"  {label}: n/a (n={int(row['n'])})")
                continue
            lines.append(
                f"  {label}: {row['correlation']:+.3f} [{row['ci_low']:+.3f}, "
                f"{row['ci_high']:+.3f}] (n={int(row['n'])})"
            )
        return "\n".join(lines)


def _corr_with_ci(
    x: np.ndarray,
    y: np.ndarray,
    n_boot: int,
    block_length: float | None,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    nan = float("nan")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan, nan, nan
    est = float(np.corrcoef(x, y)[0, 1])
    if n_boot == 0 or x.size < 9:
        return est, nan, nan
    xc, yc = x - x.mean(), y - y.mean()
    feats = np.column_stack([xc, yc, xc * xc, yc * yc, xc * yc])
    b = optimal_block_length(feats[:, [0, 1, 4]]) if block_length is None else block_length
    s = stationary_bootstrap_sums(feats, n_boot, b, seed=rng)
    t = x.size
    cov = s[:, 4] - s[:, 0] * s[:, 1] / t
    var = (s[:, 2] - s[:, 0] ** 2 / t) * (s[:, 3] - s[:, 1] ** 2 / t)
    ok = var > 0
    draws = cov[ok] / np.sqrt(var[ok])
    alpha = 1.0 - confidence
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return est, float(lo), float(hi)


def _period_table(
    rets: pd.DataFrame,
    spans: list[tuple[str, pd.Timestamp, pd.Timestamp]],
    n_boot: int,
    block_length: float | None,
    conf: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per period ("all" first): its span, n, correlation and interval."""
    x, y = rets.iloc[:, 0].to_numpy(), rets.iloc[:, 1].to_numpy()
    rows = []
    labels = ["all"]
    all_span = (pd.Timestamp(rets.index[0]), pd.Timestamp(rets.index[-1]))
    for label, start, end in [("all", *all_span), *spans]:
        mask = (rets.index >= start) & (rets.index <= end)
        est, lo, hi = _corr_with_ci(x[mask], y[mask], n_boot, block_length, conf, rng)
        rows.append(
            {
                "start": start,
                "end": end,
                "n": int(mask.sum()),
                "correlation": est,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
        if label != "all":
            labels.append(label)
    return pd.DataFrame(rows, index=pd.Index(labels, name="period"))


def return_correlation(
    a: pd.Series,
    b: pd.Series,
    *,
    periods: str | None = None,
    window: int = 90,
    n_boot: int = 999,
    block_length: float | None = None,
    confidence: float = 0.95,
    seed: RandomLike = None,
) -> CorrelationResult:
    """Correlation of daily log returns of two price series on their common dates.

    Parameters
    ----------
    a, b : Series
        Price series (positive, contract index).
    periods : str, optional
        Sub-periods, e.g. ``"2017-2019,2020-2021"`` (see :func:`parse_periods`).
    window : int
        Rolling window in common daily returns.
    n_boot : int
        Stationary-bootstrap resamples for the intervals (0 skips them).
    block_length : float, optional
        Expected block length; default
        :func:`~liqflow.stats.bootstrap.optimal_block_length` of the returns and their
        product (whose dependence drives the variance of a correlation).
    confidence : float
        Interval level.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    CorrelationResult

    Notes
    -----
    Returns are taken between the dates on which *both* series have a price, so for an
    equity and a coin the coin's weekend move is in its Monday return, like the equity's.
    A period keeps the returns whose end date falls in it. Intervals are percentile
    intervals of the correlation over stationary-bootstrap resamples of the return
    pairs, which allow for volatility clustering and autocorrelation (a Fisher-z
    interval assumes i.i.d. normal pairs).

    References
    ----------
    Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. *JASA*, 89(428).
    """
    names = (str(a.name or "a"), str(b.name or "b"))
    if names[0] == names[1]:
        names = (names[0] + " (a)", names[1] + " (b)")
    win = check_positive_int("window", window, minimum=3)
    n_boot = check_positive_int("n_boot", n_boot, minimum=0)
    conf = check_confidence(confidence)
    rng = resolve_rng(seed)
    spans = parse_periods(periods) if periods is not None else []
    rets = aligned_returns(a, b, "D", names)
    x, y = rets.iloc[:, 0], rets.iloc[:, 1]
    table = _period_table(rets, spans, n_boot, block_length, conf, rng)
    rolling = x.rolling(win).corr(y).dropna()
    rolling.name = f"corr_{win}"
    return CorrelationResult(
        a=names[0],
        b=names[1],
        window=win,
        confidence=conf,
        periods=table,
        rolling=rolling,
    )
