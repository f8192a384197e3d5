"""One row per test of a claim table: run the test (lead-lag, Granger, event study) or
read its values, and turn the result into the row the evidence tables are built from
(:mod:`liqflow.study.run` runs them and judges the family)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.stats.events import EventStudyResult
from liqflow.stats.leadlag import LeadLagResult
from liqflow.study.claims import ALTS, TestSpec
from liqflow.study.inputs import StudyInputs
from liqflow.study.verdicts import (
    INCONCLUSIVE,
    MIN_EVENTS,
    MIN_WEEKS,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
)

NAN = float("nan")

#: Weekly returns in common of a (leader, follower) pair, shared by a study's tests.
_Common = dict[tuple[str, str], int]


@dataclass
class _Row:
    spec: TestSpec
    effect: float = NAN
    unit: str = ""
    ci_low: float = NAN
    ci_high: float = NAN
    confidence: float = NAN
    n: int = 0
    n_unit: str = ""
    p_value: float = NAN
    supports: bool = False
    contradicts: bool = False
    min_n: int = 1
    available: bool = False
    note: str = ""


def _pair(
    spec: TestSpec, inputs: StudyInputs, row: _Row, common: _Common | None = None
) -> tuple[pd.Series, pd.Series] | None:
    """The leader and follower of ``spec``, or None with why in ``row.note``."""
    a, b = inputs.series.get(spec.leader), inputs.series.get(spec.follower)
    if a is None or b is None:
        row.note = inputs.missing.get(spec.leader if a is None else spec.follower, "missing")
        return None
    if spec.min_n and _too_short(spec, a, b, row, common):
        return None
    return a, b


def _too_short(
    spec: TestSpec, a: pd.Series, b: pd.Series, row: _Row, common: _Common | None = None
) -> bool:
    """True (and ``row`` says "n too small") when the pair has under ``spec.min_n``
    weekly returns in common: the test is not run, and its verdict is unknown.
    ``common``: the counts of the pairs already seen in this study (a pair's lead-lag
    and Granger tests count the same returns)."""
    from liqflow.stats._shared import aligned_returns

    key = (spec.leader, spec.follower)
    n = common.get(key) if common is not None else None
    if n is None:
        try:
            n = int(aligned_returns(a, b, "W").notna().all(axis=1).sum())
        except DataError:
            n = 0
        if common is not None:
            common[key] = n
    if n >= spec.min_n:
        return False
    row.n = n
    row.note = (
        f"n too small: {n} weekly returns in common ({a.index[0]:%Y-%m-%d} to "
        f"{a.index[-1]:%Y-%m-%d} for {spec.leader}); the test needs {spec.min_n}"
    )
    return True


def _below_floor(spec: TestSpec, n: int, row: _Row) -> bool:
    """True (``row`` unknown, "n too small") when a test used fewer than ``spec.min_n``
    observations: its p-value is not reported and stays out of the family."""
    if not spec.min_n or n >= spec.min_n:
        return False
    row.n = n
    row.note = f"n too small: {n} weekly returns in the test; it needs {spec.min_n}"
    return True


class _Sized(Protocol):
    """A test result: how many observations it used."""

    @property
    def n_obs(self) -> int: ...


_R = TypeVar("_R", bound=_Sized)


def _pair_result(
    spec: TestSpec,
    inputs: StudyInputs,
    row: _Row,
    common: _Common | None,
    run: Callable[[pd.Series, pd.Series], _R],
) -> _R | None:
    """``run(leader, follower)`` on the pair of ``spec``, or None with why in ``row``: a
    missing or too short pair (:func:`_pair`), data the test refuses, or fewer
    observations than the test needs (:func:`_below_floor`)."""
    pair = _pair(spec, inputs, row, common)
    if pair is None:
        return None
    try:
        res = run(*pair)
    except DataError as exc:
        row.note = str(exc)
        return None
    return None if _below_floor(spec, res.n_obs, row) else res


def _lead_lag_row(
    spec: TestSpec,
    inputs: StudyInputs,
    draws: int,
    conf: float,
    rng: np.random.Generator,
    out: dict[str, LeadLagResult],
    common: _Common | None = None,
) -> _Row:
    from liqflow.stats.leadlag import lead_lag

    row = _Row(spec, unit="weeks", n_unit="weekly returns", min_n=MIN_WEEKS)
    res = _pair_result(
        spec,
        inputs,
        row,
        common,
        lambda a, b: lead_lag(
            a,
            b,
            freq="W",
            max_lag=spec.lags[1],
            n_null=draws,
            n_boot=draws,
            alternative="positive",
            lead_lags=spec.lags,
            confidence=conf,
            seed=rng,
        ),
    )
    if res is None:
        return row
    out[spec.test_id] = res
    lo, hi = res.peak_lag_ci
    row.effect, row.ci_low, row.ci_high, row.confidence = float(res.peak_lag), lo, hi, conf
    row.n, row.p_value, row.available = res.n_obs, res.p_value_positive, True
    row.supports = spec.lags[0] <= lo and hi <= spec.lags[1]
    row.contradicts = hi < spec.lags[0] or lo > spec.lags[1]
    row.note = f"peak corr {res.peak_corr:+.3f} at {res.peak_lag:+d}w"
    return row


def _granger_row(
    spec: TestSpec,
    inputs: StudyInputs,
    draws: int,
    rng: np.random.Generator,
    common: _Common | None = None,
) -> _Row:
    from liqflow.stats.granger import granger_test

    row = _Row(spec, unit="F", n_unit="weekly returns", min_n=MIN_WEEKS)
    res = _pair_result(
        spec,
        inputs,
        row,
        common,
        lambda a, b: granger_test(a, b, freq="W", max_lag=spec.lags[1], n_boot=draws, seed=rng),
    )
    if res is None:
        return row
    row.effect = float(res.f_stat[res.lags == res.best_lag][0])
    row.n, row.p_value, row.available, row.supports = res.n_obs, res.adjusted_p, True, True
    row.note = f"best lag {res.best_lag}w (raw p={res.best_p:.3f}, Holm over lags)"
    return row


def _event_study(
    inputs: StudyInputs,
    specs: Sequence[TestSpec],
    draws: int,
    conf: float,
    rng: np.random.Generator,
) -> EventStudyResult | None:
    from liqflow.stats.events import event_study

    targets = {t.follower: inputs.series[t.follower] for t in specs if t.follower in inputs.series}
    if inputs.events is None or not targets:
        return None
    horizons = sorted({h for t in specs for h in t.horizons})
    return event_study(
        inputs.events,
        targets,
        horizons,
        n_placebo=draws,
        n_boot=draws,
        alternative="greater",
        confidence=conf,
        seed=rng,
    )


def _event_row(spec: TestSpec, inputs: StudyInputs, es: EventStudyResult | None) -> _Row:
    row = _Row(spec, unit="return", n_unit="independent events", min_n=MIN_EVENTS)
    h = spec.horizons[0]
    stats = None if es is None else es.stats
    if es is None or stats is None or (spec.follower, h) not in stats.index:
        row.note = inputs.missing.get(
            spec.follower, inputs.missing.get("breakouts", "no breakout events")
        )
        return row
    r = cast(pd.Series, stats.loc[(spec.follower, h)])
    n = int(r["n_events"])
    row.available, row.n, row.confidence = n > 0, n, float(es.confidence)
    row.effect = float(r["excess"])
    if n == 0:
        row.note = "no independent event with a complete window"
    elif n < MIN_EVENTS:
        row.note = f"n too small ({n} independent events): values only, no interval or p-value"
    else:
        row.ci_low, row.ci_high = float(r["excess_ci_low"]), float(r["excess_ci_high"])
        row.p_value = float(r["p_value"])
        row.supports, row.contradicts = row.effect > 0, row.ci_high < 0
        row.note = f"mean {r['mean'] * 100:+.1f}% vs unconditional {r['uncond_mean'] * 100:+.1f}%"
    return row


def _in_windows(dates: pd.Series, windows: Sequence[tuple[str, str]]) -> np.ndarray:
    keep = np.zeros(len(dates), dtype=bool)
    for start, end in windows:
        keep |= ((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))).to_numpy()
    return keep


def _values_row(spec: TestSpec, inputs: StudyInputs, per_event: pd.DataFrame) -> _Row:
    row = _Row(spec, unit="return", n_unit="events", min_n=1)
    if per_event.empty or spec.follower not in inputs.series:
        row.note = inputs.missing.get(spec.follower, "no breakout events")
        return row
    ev = per_event[
        (per_event["target"] == spec.follower) & (per_event["horizon_days"] == spec.horizons[0])
    ]
    ev = ev[_in_windows(ev["event_date"], spec.windows)]
    done = ev[ev["complete"].astype(bool)]
    row.n, row.available = len(done), len(ev) > 0
    if len(done):
        row.effect = float(done["forward_return"].mean())
    parts = [
        f"{d:%Y-%m-%d}: " + (f"{r * 100:+.1f}%" if ok else "window open")
        for d, r, ok in zip(ev["event_date"], ev["forward_return"], ev["complete"], strict=True)
    ]
    row.note = "; ".join(parts) if parts else "no breakout in the window(s)"
    return row


def _alts_most_rows(rows: Sequence[_Row]) -> list[_Row]:
    """Alts' excess minus BTC's after the breakouts, per horizon (derived, no p-value)."""
    by = {(r.spec.follower, r.spec.horizons[0]): r for r in rows if r.spec.kind == "event"}
    out = []
    for (tgt, h), alts in sorted(by.items()):
        btc = next((r for (t, hh), r in by.items() if hh == h and t != ALTS), None)
        if tgt != ALTS or btc is None:
            continue
        spec = TestSpec(
            "alts_most",
            f"alts_most/derived:{btc.spec.follower}+{h}d",
            "derived",
            ALTS,
            btc.spec.follower,
            horizons=(h,),
            alternative="greater",
            family="derived",
        )
        row = _Row(spec, unit="return", n_unit="independent events", min_n=MIN_EVENTS)
        ok = alts.available and btc.available and math.isfinite(alts.effect + btc.effect)
        row.available, row.n = ok, min(alts.n, btc.n)
        if ok:
            row.effect = alts.effect - btc.effect
            row.supports, row.contradicts = row.effect > 0, row.effect <= 0
            row.note = f"alts excess {alts.effect * 100:+.1f}% vs BTC {btc.effect * 100:+.1f}%"
        out.append(row)
    return out


def _derived_verdict(row: _Row, alts_verdict: str) -> str:
    if not row.available:
        return UNKNOWN
    if row.n < row.min_n:
        return INCONCLUSIVE
    if row.contradicts:
        return NOT_SUPPORTED
    return SUPPORTED if alts_verdict == SUPPORTED else INCONCLUSIVE


def _label(row: _Row) -> str:
    if row.spec.kind == "derived":
        return f"alts minus {row.spec.follower} excess after breakouts +{row.spec.horizons[0]}d"
    return row.spec.label
