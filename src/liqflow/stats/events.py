"""Event study: what followed each independent event, against placebo dates.

Events come from any boolean series (e.g. Russell 2000 all-time-high breakouts). They are
declustered at each horizon so that the forward windows of the events counted never
overlap; forward returns of each target are measured as-of the event date and as-of
``h`` calendar days later; the mean forward return is compared with the unconditional
distribution of ``h``-day returns, with random placebo event dates drawn from the same
history (same count, same spacing), and with a stationary block bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow._series import check_series
from liqflow.stats._shared import (
    RandomLike,
    check_alternative,
    check_confidence,
    check_positive_int,
    permutation_p_value,
    price_series,
    resolve_rng,
)
from liqflow.stats.bootstrap import optimal_block_length, stationary_bootstrap_sums
from liqflow.stats.placebo import spaced_placebo_positions

__all__ = [
    "HORIZONS",
    "PLACEBO_LEVELS",
    "EventStudyResult",
    "decluster",
    "event_study",
    "excess_return_bootstrap",
    "forward_returns",
    "window_max_drawdown",
]

HORIZONS = (30, 60, 90)
PLACEBO_LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
STAT_COLUMNS = (
    "n_events",
    "mean",
    "median",
    "hit_rate",
    "uncond_mean",
    "uncond_median",
    "uncond_hit_rate",
    "excess",
    "excess_ci_low",
    "excess_ci_high",
    "placebo_p05",
    "placebo_median",
    "placebo_p95",
    "p_value",
    "n_history",
    "block_length",
)


def _event_flags(events: pd.Series, name: str = "events") -> pd.Series:
    if not isinstance(events, pd.Series):
        raise DataError(f"{name}: expected a boolean pandas Series, got {type(events).__name__}")
    check_series(events, name)
    if events.dtype == bool:
        return events
    if str(events.dtype) == "boolean":
        return events.fillna(False).astype(bool)
    raise DataError(f"{name}: values must be boolean (bool or 'boolean'), got dtype {events.dtype}")


def decluster(events: pd.Series, min_gap_days: int) -> pd.DatetimeIndex:
    """Dates of independent events: the first of each cluster.

    Parameters
    ----------
    events : Series of bool
        True on event dates (contract index).
    min_gap_days : int
        An event less than ``min_gap_days`` calendar days after the last *kept* event
        belongs to that event's cluster and is dropped.

    Returns
    -------
    DatetimeIndex
        Kept event dates, every two at least ``min_gap_days`` apart.

    Notes
    -----
    Measuring from the last kept event (not from the previous raw event) makes the
    forward windows ``[t, t + min_gap_days)`` of the kept events disjoint, which is what
    makes their forward returns count as independent observations; a long streak of
    daily events yields one event per window, not one per streak.
    """
    flags = _event_flags(events)
    gap = check_positive_int("min_gap_days", min_gap_days)
    days = flags.index[flags.to_numpy()].values.astype("datetime64[D]").astype(np.int64)
    kept: list[int] = []
    last = None
    for i, d in enumerate(days):
        if last is None or d - last >= gap:
            kept.append(i)
            last = d
    return pd.DatetimeIndex(flags.index[flags.to_numpy()][kept], name="date")


def _calendar(prices: pd.Series) -> pd.Series:
    """Daily calendar grid of as-of values (last value at or before each day)."""
    return prices.resample("D").last().ffill()


def forward_returns(prices: pd.Series, horizon_days: int) -> pd.Series:
    """Simple return from day *d* to day *d + h*, as-of, on every calendar day.

    ``prices`` values as of each day are the last observation at or before it; the
    return is NaN when ``d + h`` is after the last observation (the window is not
    complete yet). Nothing after ``d + h`` is used.
    """
    h = check_positive_int("horizon_days", horizon_days)
    daily = _calendar(price_series(prices, str(prices.name or "prices")))
    out = daily.shift(-h) / daily - 1.0
    out.name = f"fwd_{h}d"
    return out


def window_max_drawdown(prices: pd.Series, start: pd.Timestamp, horizon_days: int) -> float:
    """Largest peak-to-trough fall of the as-of price within ``[start, start + h]``.

    Returns a number <= 0 (``-0.25`` is a 25 % drawdown); NaN when no price is known at
    ``start``. When the window is not complete yet, the part observed so far is used.
    """
    h = check_positive_int("horizon_days", horizon_days)
    return _window_drawdown(_calendar(price_series(prices, "prices")), start, h)


def _window_drawdown(daily: pd.Series, start: pd.Timestamp, h: int) -> float:
    """Drawdown on the calendar grid ``daily`` (one row per day) over ``[start, start + h]``."""
    i = int(daily.index.searchsorted(start))
    if i >= daily.size or daily.index[i] != start:
        return float("nan")
    window = daily.to_numpy()[i : i + h + 1]
    if not np.isfinite(window[0]):
        return float("nan")
    window = window[np.isfinite(window)]
    return float((window / np.maximum.accumulate(window) - 1.0).min())


def excess_return_bootstrap(
    flags: np.ndarray,
    forward: np.ndarray,
    n_boot: int,
    block_length: float,
    *,
    seed: RandomLike = None,
) -> np.ndarray:
    """Stationary-bootstrap draws of the event excess return.

    The statistic, on a series of rows ``t`` (dates of the history) with event flag
    ``f_t`` and forward return ``r_t``, is ``sum(f r) / sum(f) - mean(r)``: the mean
    forward return after events minus the mean over all dates. Rows are resampled in
    stationary blocks (pairs ``(f_t, r_t)`` move together). Equal to, for each of
    ``n_boot`` ``arch.bootstrap.StationaryBootstrap(block_length, flags, forward)``
    resamples ``(f*, r*)``: ``(f* * r*).sum() / f*.sum() - r*.mean()``; resamples without
    an event give NaN.
    """
    f = np.asarray(flags, dtype=np.float64)
    r = np.asarray(forward, dtype=np.float64)
    sums = stationary_bootstrap_sums(
        np.column_stack([f, f * r, r]), n_boot, block_length, seed=seed
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums[:, 1] / sums[:, 0] - sums[:, 2] / r.size
    out[sums[:, 0] == 0] = np.nan
    return out


@dataclass(frozen=True)
class EventStudyResult:
    """Forward returns after independent events, with placebo and bootstrap inference.

    Attributes
    ----------
    stats : DataFrame
        One row per ``(target, horizon_days)``: ``n_events`` (independent events with a
        complete window), ``mean``/``median``/``hit_rate`` of their forward returns, the
        same over every date of the history (``uncond_*``), ``excess`` = mean - uncond
        mean with its stationary-bootstrap interval, the placebo band (5 %, 50 %, 95 %
        quantiles of the placebo mean), the placebo ``p_value``, ``n_history`` (dates a
        placebo event could fall on) and the bootstrap ``block_length``.
    per_event : DataFrame
        One row per ``(event_date, target, horizon_days)`` of the declustered events:
        ``forward_return``, ``max_drawdown`` in the window, and ``complete`` (False when
        the window runs past the data; those rows are not in ``stats``).
    placebo_quantiles : DataFrame
        Quantiles (columns :data:`PLACEBO_LEVELS`) of the placebo mean per row of ``stats``.
    n_raw_events : int
        True values in the event series before declustering.
    """

    stats: pd.DataFrame
    per_event: pd.DataFrame
    placebo_quantiles: pd.DataFrame
    n_raw_events: int
    horizons: tuple[int, ...]
    alternative: str
    confidence: float
    n_placebo: int
    n_boot: int

    def to_frame(self) -> pd.DataFrame:
        """The per-(target, horizon) statistics (a copy)."""
        return self.stats.copy()

    def per_event_table(self) -> pd.DataFrame:
        """Wide per-event table: one row per event date, return and drawdown per target/horizon."""
        if self.per_event.empty:
            return pd.DataFrame(index=pd.DatetimeIndex([], name="event_date"))
        wide = self.per_event.pivot_table(
            index="event_date",
            columns=["target", "horizon_days"],
            values=["forward_return", "max_drawdown"],
            aggfunc="first",
        )
        return wide.sort_index()

    def summary(self) -> str:
        """One line per (target, horizon), with the number of independent events."""
        pct = round(self.confidence * 100)
        lines = [
            f"event study: {self.n_raw_events} raw events; placebo p-values "
            f"({self.alternative}, {self.n_placebo} draws), {pct}% bootstrap intervals"
        ]
        for key, row in self.stats.iterrows():
            target, h = cast(tuple[str, int], key)
            n = int(row["n_events"])
            if n == 0:
                lines.append(f"{target} +{h}d: no independent event with a complete window (n=0)")
                continue
            lines.append(
                f"{target} +{h}d: mean {_pct(row['mean'])} vs unconditional "
                f"{_pct(row['uncond_mean'])} (excess {_pct(row['excess'])}, {pct}% CI "
                f"[{_pct(row['excess_ci_low'])}, {_pct(row['excess_ci_high'])}]); placebo "
                f"5-95% [{_pct(row['placebo_p05'])}, {_pct(row['placebo_p95'])}], "
                f"p={_p(row['p_value'])}; n={n} independent events"
            )
        return "\n".join(lines)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x * 100:+.1f}%"


def _p(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3f}"


def _targets(targets: pd.Series | pd.DataFrame | Mapping[str, pd.Series]) -> dict[str, pd.Series]:
    if isinstance(targets, pd.Series):
        items = {str(targets.name or "target"): targets}
    elif isinstance(targets, pd.DataFrame):
        items = {str(c): targets[c] for c in targets.columns}
    elif isinstance(targets, Mapping):
        items = {str(k): v for k, v in targets.items()}
    else:
        raise DataError(
            f"targets must be a Series, a DataFrame or a mapping of Series, "
            f"got {type(targets).__name__}"
        )
    if not items:
        raise DataError("targets: got no series")
    return {name: price_series(s, name) for name, s in items.items()}


def _horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    out = tuple(check_positive_int("horizon", h) for h in horizons)
    if not out or len(set(out)) != len(out):
        raise DataError(f"horizons must be distinct positive day counts, got {tuple(horizons)!r}")
    return out


def event_study(
    events: pd.Series,
    targets: pd.Series | pd.DataFrame | Mapping[str, pd.Series],
    horizons: Sequence[int] = HORIZONS,
    *,
    n_placebo: int = 2000,
    n_boot: int = 2000,
    block_length: float | None = None,
    alternative: str = "greater",
    confidence: float = 0.90,
    seed: RandomLike = None,
) -> EventStudyResult:
    """Forward returns of ``targets`` after the independent events of ``events``.

    Parameters
    ----------
    events : Series of bool
        True on event dates. Its index is the *history*: the dates on which an event
        could have happened (e.g. Russell trading days); placebo dates are drawn from it.
    targets : Series, DataFrame or mapping of Series
        Price series (positive values; NaNs dropped per target).
    horizons : sequence of int
        Forward horizons in calendar days.
    n_placebo : int
        Placebo draws per (target, horizon); 0 skips the placebo test.
    n_boot : int
        Stationary-bootstrap resamples for the excess-return interval; 0 skips it.
    block_length : float, optional
        Expected block length of the bootstrap; default
        :func:`~liqflow.stats.bootstrap.optimal_block_length` of the forward returns.
    alternative : {"greater", "less", "two-sided"}
        Direction of the placebo test ("greater": events are followed by higher returns).
    confidence : float
        Level of the bootstrap interval.
    seed : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    EventStudyResult

    Notes
    -----
    For a target and a horizon ``h``:

    * **Events.** True dates on or after the target's first price, declustered with
      spacing ``h`` (:func:`decluster`). Events whose window ends after the last price
      are listed in ``per_event`` (``complete=False``) but not used.
    * **Forward return** from the as-of price at the close of the event date to the
      as-of price ``h`` calendar days later (:func:`forward_returns`).
    * **Unconditional distribution**: the ``h``-day forward return from every date of
      the history with a complete window.
    * **Placebo**: ``n_placebo`` sets of as many dates as there are events, drawn
      uniformly among all sets of history dates at least ``h`` days apart
      (:func:`~liqflow.stats.placebo.spaced_placebo_positions`), so the placebo events
      are as many and as independent as the real ones. p-value
      ``(1 + #{placebo mean >= event mean}) / (1 + n_placebo)`` for "greater".
    * **Interval** for the excess return: percentile interval of
      :func:`excess_return_bootstrap` (stationary bootstrap of the history rows; the
      default block length reflects the overlap of ``h``-day returns).

    With few independent events (often fewer than ten) intervals are wide and p-values
    coarse; ``n_events`` is printed next to every figure for that reason.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature*, 35(1), 13-39.
    Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. *JASA*, 89(428).
    """
    flags = _event_flags(events)
    series = _targets(targets)
    hs = _horizons(horizons)
    n_placebo = check_positive_int("n_placebo", n_placebo, minimum=0)
    n_boot = check_positive_int("n_boot", n_boot, minimum=0)
    check_alternative(alternative)
    conf = check_confidence(confidence)
    rng = resolve_rng(seed)
    history = pd.DatetimeIndex(flags.index)
    raw_dates = flags.index[flags.to_numpy()]

    stat_rows: list[dict[str, float]] = []
    keys: list[tuple[str, int]] = []
    placebo_rows: list[np.ndarray] = []
    event_rows: list[dict[str, object]] = []
    for name, prices in series.items():
        daily = _calendar(prices)
        in_span = flags.loc[flags.index >= prices.index[0]]
        for h in hs:
            fwd = (daily.shift(-h) / daily - 1.0).reindex(history)
            ok = fwd.notna().to_numpy()
            hist_dates = history[ok]
            hist_fwd = fwd.to_numpy()[ok]
            kept = decluster(in_span, h)
            kept_fwd = fwd.reindex(kept).to_numpy()
            complete = np.isfinite(kept_fwd)
            for d, r, c in zip(kept, kept_fwd, complete, strict=True):
                event_rows.append(
                    {
                        "event_date": d,
                        "target": name,
                        "horizon_days": h,
                        "forward_return": float(r),
                        "max_drawdown": _window_drawdown(daily, d, h),
                        "complete": bool(c),
                    }
                )
            row, placebo = _horizon_stats(
                hist_dates,
                hist_fwd,
                kept[complete],
                kept_fwd[complete],
                h,
                n_placebo=n_placebo,
                n_boot=n_boot,
                block_length=block_length,
                alternative=alternative,
                confidence=conf,
                rng=rng,
            )
            stat_rows.append(row)
            placebo_rows.append(placebo)
            keys.append((name, h))

    index = pd.MultiIndex.from_tuples(keys, names=["target", "horizon_days"])
    stats = pd.DataFrame(stat_rows, index=index, columns=list(STAT_COLUMNS))
    stats["n_events"] = stats["n_events"].astype(np.int64)
    stats["n_history"] = stats["n_history"].astype(np.int64)
    placebo_q = pd.DataFrame(np.vstack(placebo_rows), index=index, columns=list(PLACEBO_LEVELS))
    per_event = pd.DataFrame(
        event_rows,
        columns=[
            "event_date",
            "target",
            "horizon_days",
            "forward_return",
            "max_drawdown",
            "complete",
        ],
    )
    per_event["event_date"] = pd.to_datetime(per_event["event_date"])
    per_event = per_event.sort_values(["target", "horizon_days", "event_date"], kind="stable")
    return EventStudyResult(
        stats=stats,
        per_event=per_event.reset_index(drop=True),
        placebo_quantiles=placebo_q,
        n_raw_events=int(raw_dates.size),
        horizons=hs,
        alternative=alternative,
        confidence=conf,
        n_placebo=n_placebo,
        n_boot=n_boot,
    )


def _horizon_stats(
    hist_dates: pd.DatetimeIndex,
    hist_fwd: np.ndarray,
    event_dates: pd.DatetimeIndex,
    event_fwd: np.ndarray,
    h: int,
    *,
    n_placebo: int,
    n_boot: int,
    block_length: float | None,
    alternative: str,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[dict[str, float], np.ndarray]:
    nan = float("nan")
    k = int(event_fwd.size)
    row: dict[str, float] = dict.fromkeys(STAT_COLUMNS, nan)
    row["n_events"] = k
    row["n_history"] = int(hist_fwd.size)
    placebo_q = np.full(len(PLACEBO_LEVELS), nan)
    if hist_fwd.size:
        row["uncond_mean"] = float(hist_fwd.mean())
        row["uncond_median"] = float(np.median(hist_fwd))
        row["uncond_hit_rate"] = float((hist_fwd > 0).mean())
    if k == 0:
        return row, placebo_q
    mean = float(event_fwd.mean())
    row["mean"] = mean
    row["median"] = float(np.median(event_fwd))
    row["hit_rate"] = float((event_fwd > 0).mean())
    row["excess"] = mean - row["uncond_mean"]
    if n_placebo > 0:
        pos = spaced_placebo_positions(hist_dates, k, h, n_placebo, seed=rng)
        placebo = hist_fwd[pos].mean(axis=1)
        placebo_q = np.quantile(placebo, PLACEBO_LEVELS)
        row["placebo_p05"], row["placebo_median"], row["placebo_p95"] = np.quantile(
            placebo, [0.05, 0.5, 0.95]
        )
        row["p_value"] = permutation_p_value(mean, placebo, alternative)
    if n_boot > 0 and hist_fwd.size >= 9:
        b = optimal_block_length(hist_fwd) if block_length is None else float(block_length)
        flags = np.isin(hist_dates, event_dates)
        draws = excess_return_bootstrap(flags, hist_fwd, n_boot, b, seed=rng)
        draws = draws[np.isfinite(draws)]
        if draws.size:
            alpha = 1.0 - confidence
            row["excess_ci_low"], row["excess_ci_high"] = np.quantile(
                draws, [alpha / 2, 1 - alpha / 2]
            )
        row["block_length"] = b
    return row, placebo_q
