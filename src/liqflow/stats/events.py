"""Event study: what followed each independent event, against placebo dates.

Events come from any boolean series (e.g. Russell 2000 all-time-high breakouts). They are
declustered at each horizon so that the forward windows of the events counted never
overlap; forward returns of each target are measured as-of the event date and as-of
``h`` calendar days later; the mean forward return is compared with the unconditional
distribution of ``h``-day returns, with random placebo event dates drawn from the same
history (same count, same spacing), which also give the interval. Fewer than three
independent events give values only: no interval, no p-value.

Method (:func:`event_study`)
----------------------------

For a target and a horizon ``h``:

* **Events.** True dates on or after the target's first price, declustered with
  spacing ``h`` (:func:`decluster`). Events whose window ends after the last price
  are listed in ``per_event`` (``complete=False``) but not used.
* **Forward return** from the as-of price at the close of the event date to the
  as-of price ``h`` calendar days later (:func:`forward_returns`): actual rows
  only, never a forward-filled price.
* **Unconditional distribution**: the ``h``-day forward return from every date of
  the history with a complete window.
* **Placebo**: ``n_placebo`` sets of as many dates as there are events, drawn
  uniformly among all sets of history dates at least ``h`` days apart
  (:func:`~liqflow.stats.placebo.spaced_placebo_positions`), so the placebo events
  are as many and as independent as the real ones. The statistic is studentized:
  ``T = (mean - uncond mean) / (s / sqrt(k))`` with ``s`` the standard deviation of
  the ``k`` forward returns, the events' for the events and each placebo set's own
  for the placebo. p-value ``(1 + #{placebo T >= event T}) / (1 + n_placebo)`` for
  "greater". Studentizing matters because events are not placed like random
  dates: breakouts come after large moves, i.e. in volatile periods, and the
  forward returns of volatile periods are more dispersed, so the raw mean of the
  events has a wider spread than a placebo mean (the unstudentized test rejected
  7-8 % at 5 % under shared stochastic volatility; see ``bench/calibration.py``).
  ``placebo_p05/50/95`` show the placebo *means*, for reading.
* **Interval** for the excess return. ``"placebo"`` (default): a bootstrap-t
  interval with the placebo distribution of ``T`` as reference,
  ``[excess - t_hi s / sqrt(k), excess - t_lo s / sqrt(k)]`` where ``t_lo, t_hi``
  are the ``(1 -+ confidence) / 2`` quantiles of ``T`` over ``n_boot`` spaced
  placebo sets. It is the inversion of the studentized placebo test under a
  constant additive effect (Rosenbaum, 2002, ch. 2): it excludes zero when the
  two-sided placebo test rejects, so interval and p-value tell the same story; its
  width comes from the events' own dispersion, its shape (skewness and tails of
  ``h``-day returns) from the whole history rather than from ``k`` points
  (Hall, 1992, on bootstrap-t intervals). ``"t"``: ``excess +- t_{k-1} s / sqrt(k)``
  over the ``k`` independent events (their windows do not overlap).
* **Too few events.** With fewer than :data:`MIN_EVENTS` independent events, the
  values are shown but no interval, no placebo band and no p-value: the row's
  ``interval_reason`` says "n too small". Coverage of the intervals and size of the
  p-values are measured by ``bench/calibration.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow._series import check_series
from liqflow.stats._event_result import (
    INTERVALS,
    MIN_EVENTS,
    PLACEBO_LEVELS,
    STAT_COLUMNS,
    EventStudyResult,
)
from liqflow.stats._shared import (
    RandomLike,
    asof_prices,
    check_alternative,
    check_confidence,
    check_positive_int,
    forward_simple_returns,
    permutation_p_value,
    price_series,
    resolve_rng,
)
from liqflow.stats.bootstrap import stationary_bootstrap_sums
from liqflow.stats.placebo import spaced_placebo_positions

__all__ = [
    "HORIZONS",
    "INTERVALS",
    "MIN_EVENTS",
    "PLACEBO_LEVELS",
    "EventStudyResult",
    "decluster",
    "event_study",
    "excess_return_bootstrap",
    "forward_returns",
    "window_max_drawdown",
]

HORIZONS = (30, 60, 90)


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


def forward_returns(prices: pd.Series, horizon_days: int) -> pd.Series:
    """Simple return from day *d* to day *d + h*, as-of, on every calendar day.

    The price as of a day is the last actual row at or before it (never one older
    than :data:`~liqflow.stats._shared.MAX_ASOF_AGE_DAYS` days); the return is NaN when
    ``d + h`` is after the last row (the window is not complete yet). Nothing after
    ``d + h`` is used. This is :func:`~liqflow.stats._shared.forward_simple_returns`,
    the one definition every statistic uses.
    """
    h = check_positive_int("horizon_days", horizon_days)
    px = price_series(prices, str(prices.name or "prices"))
    days = pd.date_range(px.index[0], px.index[-1], freq="D", name="date") if len(px) else px.index
    out = pd.Series(forward_simple_returns(px, pd.DatetimeIndex(days), h), index=days)
    out.name = f"fwd_{h}d"
    return out


def window_max_drawdown(prices: pd.Series, start: pd.Timestamp, horizon_days: int) -> float:
    """Largest peak-to-trough fall of the price within ``[start, start + h]``.

    The window is the as-of price at ``start`` and the actual rows after it up to
    ``start + h``. Returns a number <= 0 (``-0.25`` is a 25 % drawdown); NaN when no
    price is known at ``start``. When the window is not complete yet, the part observed
    so far is used.
    """
    h = check_positive_int("horizon_days", horizon_days)
    return _window_drawdown(price_series(prices, "prices"), pd.Timestamp(start), h)


def _window_drawdown(prices: pd.Series, start: pd.Timestamp, h: int) -> float:
    """Drawdown over the as-of price at ``start`` and the rows in ``(start, start + h]``."""
    first = asof_prices(prices, pd.DatetimeIndex([start]))[0]
    if not np.isfinite(first):
        return float("nan")
    when = prices.index
    lo = int(when.searchsorted(start, side="right"))
    hi = int(when.searchsorted(start + pd.Timedelta(days=h), side="right"))
    window = np.concatenate([[first], prices.to_numpy(dtype=np.float64)[lo:hi]])
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


def _check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise DataError(f"interval must be one of {INTERVALS}, got {interval!r}")
    return interval


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
    interval: str = "placebo",
) -> EventStudyResult:
    """Forward returns of ``targets`` after the independent events of ``events``.

    Parameters
    ----------
    events : Series of bool
        True on event dates. Its index is the *history*: the dates on which an event
        could have happened (e.g. Russell trading days); placebo dates are drawn from it.
    targets : Series, DataFrame or mapping of Series
        Price series on their own rows (positive values; NaNs dropped per target).
    horizons : sequence of int
        Forward horizons in calendar days.
    n_placebo : int
        Placebo draws per (target, horizon) for the p-value; 0 skips it.
    n_boot : int
        Draws for the interval (spaced placebo sets for ``interval="placebo"``); 0
        skips it. Unused by ``interval="t"``.
    block_length : float, optional
        Kept for compatibility; the intervals do not resample blocks.
    alternative : {"greater", "less", "two-sided"}
        Direction of the placebo test ("greater": events are followed by higher returns).
    confidence : float
        Level of the interval.
    seed : numpy.random.Generator, int or None
        Source of randomness.
    interval : {"placebo", "t"}
        ``"placebo"`` (default): inversion of the placebo test; ``"t"``: Student t
        interval on the independent events' returns. See Notes.

    Returns
    -------
    EventStudyResult

    Notes
    -----
    The method in full is in the module's documentation: events declustered per
    horizon, forward returns on actual rows, the studentized spaced-placebo test, the
    bootstrap-t interval that inverts it, and no interval or p-value below
    :data:`MIN_EVENTS` events.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
    Economic Literature*, 35(1), 13-39.
    Rosenbaum, P. R. (2002). *Observational Studies*, 2nd ed. Springer (confidence sets
    by inverting randomization tests under an additive effect).
    Hall, P. (1992). *The Bootstrap and Edgeworth Expansion*. Springer (bootstrap-t).
    Imbens, G. W. and Rubin, D. B. (2015). *Causal Inference for Statistics, Social, and
    Biomedical Sciences*. Cambridge University Press.
    """
    flags = _event_flags(events)
    series = _targets(targets)
    hs = _horizons(horizons)
    opts = _HorizonOptions(
        n_placebo=check_positive_int("n_placebo", n_placebo, minimum=0),
        n_boot=check_positive_int("n_boot", n_boot, minimum=0),
        alternative=check_alternative(alternative),
        confidence=check_confidence(confidence),
        interval=_check_interval(interval),
        rng=resolve_rng(seed),
    )
    return _event_result(flags, hs, opts, *_each_horizon(flags, series, hs, opts))


def _event_result(
    flags: pd.Series,
    hs: tuple[int, ...],
    opts: _HorizonOptions,
    stat_rows: list[dict[str, object]],
    keys: list[tuple[str, int]],
    placebo_rows: list[np.ndarray],
    event_rows: list[dict[str, object]],
) -> EventStudyResult:
    """The result's tables from the rows of :func:`_each_horizon`."""
    index = pd.MultiIndex.from_tuples(keys, names=["target", "horizon_days"])
    stats = pd.DataFrame(stat_rows, index=index, columns=list(STAT_COLUMNS))
    stats["n_events"] = stats["n_events"].astype(np.int64)
    stats["n_history"] = stats["n_history"].astype(np.int64)
    stats["interval_reason"] = stats["interval_reason"].astype(str)
    return EventStudyResult(
        stats=stats,
        per_event=_per_event_frame(event_rows),
        placebo_quantiles=pd.DataFrame(
            np.vstack(placebo_rows), index=index, columns=list(PLACEBO_LEVELS)
        ),
        n_raw_events=int(flags.to_numpy().sum()),
        horizons=hs,
        alternative=opts.alternative,
        confidence=opts.confidence,
        n_placebo=opts.n_placebo,
        n_boot=opts.n_boot,
        interval=opts.interval,
        min_events=MIN_EVENTS,
    )


def _each_horizon(
    flags: pd.Series, series: Mapping[str, pd.Series], hs: tuple[int, ...], opts: _HorizonOptions
) -> tuple[
    list[dict[str, object]], list[tuple[str, int]], list[np.ndarray], list[dict[str, object]]
]:
    """Per (target, horizon): the statistics row, its key, the placebo quantiles and the
    per-event records."""
    history = pd.DatetimeIndex(flags.index)
    stat_rows: list[dict[str, object]] = []
    keys: list[tuple[str, int]] = []
    placebo_rows: list[np.ndarray] = []
    event_rows: list[dict[str, object]] = []
    for name, prices in series.items():
        in_span = flags.loc[flags.index >= prices.index[0]]
        for h in hs:
            fwd = forward_simple_returns(prices, history, h)
            ok = np.isfinite(fwd)
            kept = decluster(in_span, h)
            kept_fwd = forward_simple_returns(prices, kept, h)
            complete = np.isfinite(kept_fwd)
            event_rows.extend(_event_records(name, h, prices, kept, kept_fwd))
            row, placebo = _horizon_stats(
                history[ok], fwd[ok], kept[complete], kept_fwd[complete], h, opts
            )
            stat_rows.append(row)
            placebo_rows.append(placebo)
            keys.append((name, h))
    return stat_rows, keys, placebo_rows, event_rows


def _window_drawdowns(prices: pd.Series, starts: pd.DatetimeIndex, h: int) -> np.ndarray:
    """:func:`_window_drawdown` of each of ``starts`` (equal to it, tested), with one
    as-of lookup and one pair of binary searches for them all."""
    starts = pd.DatetimeIndex(starts)
    firsts = asof_prices(prices, starts)
    when = prices.index
    values = prices.to_numpy(dtype=np.float64)
    lo = when.searchsorted(starts, side="right")
    hi = when.searchsorted(starts + pd.Timedelta(days=h), side="right")
    out = np.full(len(starts), np.nan)
    for k in np.flatnonzero(np.isfinite(firsts)):
        window = np.concatenate([[firsts[k]], values[lo[k] : hi[k]]])
        out[k] = float((window / np.maximum.accumulate(window) - 1.0).min())
    return out


def _event_records(
    name: str, h: int, prices: pd.Series, kept: pd.DatetimeIndex, kept_fwd: np.ndarray
) -> list[dict[str, object]]:
    drawdowns = _window_drawdowns(prices, kept, h)
    return [
        {
            "event_date": d,
            "target": name,
            "horizon_days": h,
            "forward_return": float(r),
            "max_drawdown": float(dd),
            "complete": bool(np.isfinite(r)),
        }
        for d, r, dd in zip(kept, kept_fwd, drawdowns, strict=True)
    ]


def _per_event_frame(event_rows: list[dict[str, object]]) -> pd.DataFrame:
    columns = ["event_date", "target", "horizon_days", "forward_return", "max_drawdown"]
    per_event = pd.DataFrame(event_rows, columns=[*columns, "complete"])
    per_event["event_date"] = pd.to_datetime(per_event["event_date"])
    per_event = per_event.sort_values(["target", "horizon_days", "event_date"], kind="stable")
    return per_event.reset_index(drop=True)


@dataclass(frozen=True)
class _HorizonOptions:
    n_placebo: int
    n_boot: int
    alternative: str
    confidence: float
    interval: str
    rng: np.random.Generator


def _placebo_t(sets: np.ndarray, uncond: float) -> np.ndarray:
    """Studentized excess of each placebo set (rows): ``(mean - uncond) / (s / sqrt(k))``."""
    k = sets.shape[1]
    scale = sets.std(axis=1, ddof=1) / np.sqrt(k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (sets.mean(axis=1) - uncond) / scale, np.nan)


def _horizon_stats(
    hist_dates: pd.DatetimeIndex,
    hist_fwd: np.ndarray,
    event_dates: pd.DatetimeIndex,
    event_fwd: np.ndarray,
    h: int,
    opts: _HorizonOptions,
) -> tuple[dict[str, object], np.ndarray]:
    nan = float("nan")
    k = int(event_fwd.size)
    row: dict[str, object] = dict.fromkeys(STAT_COLUMNS, nan)
    row["n_events"] = k
    row["n_history"] = int(hist_fwd.size)
    row["interval_reason"] = ""
    placebo_q = np.full(len(PLACEBO_LEVELS), nan)
    uncond = float(hist_fwd.mean()) if hist_fwd.size else nan
    if hist_fwd.size:
        row["uncond_mean"] = uncond
        row["uncond_median"] = float(np.median(hist_fwd))
        row["uncond_hit_rate"] = float((hist_fwd > 0).mean())
    if k == 0:
        row["interval_reason"] = "no independent event"
        return row, placebo_q
    mean = float(event_fwd.mean())
    row["mean"] = mean
    row["median"] = float(np.median(event_fwd))
    row["hit_rate"] = float((event_fwd > 0).mean())
    row["excess"] = excess = mean - uncond
    if k < MIN_EVENTS:
        row["interval_reason"] = f"n too small ({k} < {MIN_EVENTS} independent events)"
        return row, placebo_q
    scale = float(event_fwd.std(ddof=1)) / np.sqrt(k)
    t_event = excess / scale if scale > 0 else float("nan")
    if opts.n_placebo > 0:
        pos = spaced_placebo_positions(hist_dates, k, h, opts.n_placebo, seed=opts.rng)
        placebo = hist_fwd[pos].mean(axis=1)
        placebo_q = np.quantile(placebo, PLACEBO_LEVELS)
        row["placebo_p05"], row["placebo_median"], row["placebo_p95"] = np.quantile(
            placebo, [0.05, 0.5, 0.95]
        )
        row["p_value"] = permutation_p_value(
            t_event, _placebo_t(hist_fwd[pos], uncond), opts.alternative
        )
    alpha = 1.0 - opts.confidence
    if opts.interval == "t":
        from scipy.stats import t as student_t  # deferred: scipy.stats is slow to import

        half = float(student_t.ppf(1 - alpha / 2, k - 1)) * scale
        row["excess_ci_low"], row["excess_ci_high"] = excess - half, excess + half
    elif opts.n_boot > 0 and scale > 0:
        pos = spaced_placebo_positions(hist_dates, k, h, opts.n_boot, seed=opts.rng)
        t_lo, t_hi = np.nanquantile(_placebo_t(hist_fwd[pos], uncond), [alpha / 2, 1 - alpha / 2])
        row["excess_ci_low"], row["excess_ci_high"] = excess - t_hi * scale, excess - t_lo * scale
    return row, placebo_q
