from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import StationaryBootstrap

from liqflow._errors import DataError
from liqflow.stats.events import (
    HORIZONS,
    decluster,
    event_study,
    excess_return_bootstrap,
    forward_returns,
    window_max_drawdown,
)


def flags_on(index: pd.DatetimeIndex, dates: list[str]) -> pd.Series:
    out = pd.Series(False, index=index)
    out[pd.DatetimeIndex(dates)] = True
    return out


def random_walk(index: pd.DatetimeIndex, seed: int, vol: float = 0.02) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0, vol, index.size))), index=index)


CAL = pd.date_range("2015-01-01", "2022-12-31", freq="D", name="date")
TDAYS = pd.bdate_range("2015-01-01", "2022-12-31", name="date")


def test_decluster_keeps_first_and_measures_from_last_kept() -> None:
    idx = pd.date_range("2020-01-01", "2020-04-30", freq="D", name="date")
    ev = flags_on(
        idx, ["2020-01-01", "2020-01-05", "2020-01-20", "2020-02-02", "2020-02-04", "2020-03-10"]
    )
    kept = decluster(ev, 30)
    assert list(kept.strftime("%Y-%m-%d")) == ["2020-01-01", "2020-02-02", "2020-03-10"]
    assert list(decluster(ev, 1)) == list(ev.index[ev])
    # a streak of daily events gives one event per window, not one per streak
    streak = pd.Series(True, index=idx)
    assert len(decluster(streak, 30)) == int(np.ceil(len(idx) / 30))


def test_forward_returns_are_as_of_and_never_peek() -> None:
    idx = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09"], name="date")  # Fri, Mon, Tue
    prices = pd.Series([100.0, 110.0, 121.0], index=idx)
    fwd = forward_returns(prices, 3)
    assert fwd[pd.Timestamp("2024-01-05")] == pytest.approx(0.10)  # as of Mon 01-08
    assert fwd[pd.Timestamp("2024-01-06")] == pytest.approx(0.21)  # Sat: Fri close -> Tue close
    assert np.isnan(fwd[pd.Timestamp("2024-01-07")])  # 01-10 is after the last price
    # point-in-time: the return at d only uses prices up to d + h
    walk = random_walk(TDAYS, seed=3)
    full = forward_returns(walk, 30)
    for d in pd.DatetimeIndex(["2016-02-10", "2018-07-01", "2021-12-25"]):
        cut = forward_returns(walk.loc[: d + pd.Timedelta(days=30)], 30)
        assert cut[d] == full[d]


def test_window_max_drawdown() -> None:
    idx = pd.date_range("2020-01-01", periods=6, freq="D", name="date")
    prices = pd.Series([100.0, 120.0, 90.0, 130.0, 125.0, 50.0], index=idx)
    assert window_max_drawdown(prices, idx[0], 3) == pytest.approx(90 / 120 - 1)
    assert window_max_drawdown(prices, idx[0], 5) == pytest.approx(50 / 130 - 1)
    assert np.isnan(window_max_drawdown(prices, pd.Timestamp("2019-12-31"), 3))


@pytest.mark.parametrize("h", [1, 10, 90])
def test_window_drawdowns_of_many_starts_equal_one_at_a_time(h: int) -> None:
    # oracle: _window_drawdown start by start; starts before, inside (on and between
    # rows, after a gap longer than the as-of limit) and after the data
    from liqflow.stats.events import _window_drawdown, _window_drawdowns

    rng = np.random.default_rng(5)
    days = pd.date_range("2020-01-01", periods=400, freq="D", name="date")
    keep = rng.random(len(days)) > 0.3
    keep[150:180] = False
    prices = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.03, keep.sum()))), index=days[keep])
    starts = pd.DatetimeIndex(
        [days[0] - pd.Timedelta(days=3), *days[::7], days[-1] + pd.Timedelta(days=2)]
    )
    fast = _window_drawdowns(prices, starts, h)
    ref = np.array([_window_drawdown(prices, d, h) for d in starts])
    np.testing.assert_array_equal(fast, ref)
    assert np.isnan(fast[0]) and np.isfinite(fast[1:-1]).sum() > 40


def planted() -> tuple[pd.Series, pd.Series, pd.DatetimeIndex]:
    """Events every ~150 days on trading days; the target jumps +15 % ten days after each."""
    target = random_walk(CAL, seed=7, vol=0.01)
    event_days = TDAYS[60::105][:-1]  # 105 trading days ~ 150 calendar days apart
    jumps = pd.Series(0.0, index=CAL)
    for d in event_days:
        jumps[d + pd.Timedelta(days=10) :] += np.log(1.15)
    target = target * np.exp(jumps)
    target.name = "coin"
    events = flags_on(TDAYS, list(event_days.strftime("%Y-%m-%d")))
    # clustered repeats right after each event must not count as extra events
    for d in event_days:
        events[TDAYS[TDAYS.get_loc(d) + 1]] = True
    return events, target, event_days


def test_planted_effect_is_found_with_n_independent_events() -> None:
    events, target, event_days = planted()
    before = (events.copy(), target.copy())
    res = event_study(events, target, horizons=(30, 90), n_placebo=999, n_boot=999, seed=1)
    pd.testing.assert_series_equal(events, before[0])
    pd.testing.assert_series_equal(target, before[1])
    row = res.to_frame().loc[("coin", 30)]
    assert row["n_events"] == len(event_days)
    assert res.n_raw_events == 2 * len(event_days)
    assert row["mean"] == pytest.approx(0.15, abs=0.03)
    assert row["excess"] > 0.10
    assert row["excess_ci_low"] > 0
    assert row["p_value"] < 0.01
    assert row["placebo_p95"] < row["mean"]
    # per-event rows: forward return by hand for the first event
    d = event_days[0]
    first = res.per_event.query("target == 'coin' and horizon_days == 30").iloc[0]
    assert first["event_date"] == d
    assert first["forward_return"] == pytest.approx(
        target[d + pd.Timedelta(days=30)] / target[d] - 1
    )
    assert first["complete"]
    summary = res.summary()
    assert f"n={len(event_days)} independent events" in summary
    assert "coin +90d" in summary
    wide = res.per_event_table()
    assert wide.shape[0] == len(event_days)
    assert res.placebo_quantiles.shape == (2, 7)


def test_incomplete_windows_are_listed_not_counted() -> None:
    target = random_walk(CAL, seed=2)
    events = flags_on(TDAYS, ["2016-03-01", "2022-12-20"])
    res = event_study(events, target.rename("t"), horizons=(30,), n_placebo=99, n_boot=99, seed=0)
    assert res.to_frame().loc[("t", 30), "n_events"] == 1
    assert res.per_event["complete"].tolist() == [True, False]
    assert np.isnan(res.per_event["forward_return"].iloc[1])


def test_events_before_target_starts_are_ignored() -> None:
    target = random_walk(CAL[CAL >= "2018-01-01"], seed=2).rename("late")
    events = flags_on(TDAYS, ["2016-03-01", "2019-03-01"])
    res = event_study(events, target, horizons=(30,), n_placebo=9, n_boot=0, seed=0)
    assert res.per_event["event_date"].tolist() == [pd.Timestamp("2019-03-01")]
    assert np.isnan(res.to_frame().loc[("late", 30), "excess_ci_low"])  # n_boot=0


def test_no_events_gives_n_zero() -> None:
    target = random_walk(CAL, seed=2).rename("t")
    res = event_study(pd.Series(False, index=TDAYS), target, horizons=(30,), seed=0)
    row = res.to_frame().loc[("t", 30)]
    assert row["n_events"] == 0
    assert np.isnan(row["p_value"])
    assert "n=0" in res.summary()


def test_several_targets_from_a_frame() -> None:
    events, target, _ = planted()
    frame = pd.DataFrame({"a": target, "b": random_walk(CAL, seed=11)})
    res = event_study(events, frame, horizons=HORIZONS, n_placebo=99, n_boot=99, seed=3)
    assert list(res.to_frame().index) == [(t, h) for t in ("a", "b") for h in HORIZONS]


def test_excess_bootstrap_matches_arch_loop() -> None:
    rng = np.random.default_rng(4)
    n, reps, block = 600, 3000, 25.0
    fwd = np.convolve(rng.normal(0, 0.02, n + 29), np.ones(30), "valid")  # overlapping 30-day sums
    flags = np.zeros(n)
    flags[rng.choice(n, 12, replace=False)] = 1.0
    mine = excess_return_bootstrap(flags, fwd, reps, block, seed=1)
    bs = StationaryBootstrap(block, flags, fwd, seed=np.random.default_rng(2))
    ref = []
    for (f, r), _ in bs.bootstrap(reps):
        k = f.sum()
        ref.append((f @ r) / k - r.mean() if k > 0 else np.nan)
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    mine_q = np.nanquantile(mine, q)
    ref_q = np.nanquantile(np.array(ref), q)
    # 4 Monte Carlo s.e. of a difference of quantiles (normal approximation, see test_bootstrap)
    sd = np.nanstd(np.array(ref))
    tol = 4 * np.sqrt(2) * np.sqrt(0.05 * 0.95 / reps) * sd / 0.103
    np.testing.assert_allclose(mine_q, ref_q, atol=tol)


@pytest.mark.slow
def test_placebo_p_values_are_calibrated_under_the_null() -> None:
    # Random events on a random walk: P(p <= 0.10) should be about 0.10. 200 studies,
    # binomial s.d. 2.1 %: accept [3.5 %, 16.5 %] (about 3.1 s.d.; 400 studies with
    # other seeds give 10.5 %, bench/calibration.py the full picture).
    pvals = []
    rng = np.random.default_rng(123)
    cal = pd.date_range("2010-01-01", periods=2000, freq="D", name="date")
    for i in range(200):
        target = random_walk(cal, seed=1000 + i).rename("t")
        ev = pd.Series(rng.random(cal.size) < 0.01, index=cal)
        res = event_study(ev, target, horizons=(30,), n_placebo=199, n_boot=0, seed=rng)
        pvals.append(res.to_frame()["p_value"].iloc[0])
    rate = np.mean(np.array(pvals) <= 0.10)
    assert 0.035 <= rate <= 0.165, rate


def test_errors() -> None:
    target = random_walk(CAL, seed=1).rename("t")
    ev = pd.Series(False, index=TDAYS)
    with pytest.raises(DataError, match=r"events: values must be boolean .* got dtype float64"):
        event_study(ev.astype(float), target)
    with pytest.raises(DataError, match=r"events: expected a boolean pandas Series, got list"):
        event_study([True], target)  # type: ignore[arg-type]
    with pytest.raises(
        DataError, match=r"horizons must be distinct positive day counts, got \(30, 30\)"
    ):
        event_study(ev, target, horizons=(30, 30))
    with pytest.raises(DataError, match=r"horizon must be an integer >= 1, got -5"):
        event_study(ev, target, horizons=(-5,))
    with pytest.raises(DataError, match=r"n_placebo must be an integer >= 0, got -1"):
        event_study(ev, target, n_placebo=-1)
    with pytest.raises(DataError, match=r"alternative must be one of"):
        event_study(ev, target, alternative="bigger")
    with pytest.raises(DataError, match=r"targets must be a Series, a DataFrame or a mapping"):
        event_study(ev, [1.0])  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"t: prices must be positive, got -1\.0 on 2015-01-06"):
        event_study(ev, target.where(target.index != CAL[5], -1.0))
    with pytest.raises(DataError, match=r"confidence must be a number in \(0, 1\), got 1\.5"):
        event_study(ev, target, confidence=1.5)


def test_fewer_than_three_events_give_values_but_no_interval_and_no_p() -> None:
    # one event with a huge planted jump: the value is shown, never "[+437 %, +488 %]"
    target = random_walk(CAL, seed=5, vol=0.01).rename("coin")
    jump = pd.Series(np.where(pd.Timestamp("2018-05-10") <= CAL, np.log(5.7), 0.0), index=CAL)
    target = (target * np.exp(jump)).rename("coin")
    for dates in (["2018-05-01"], ["2018-05-01", "2020-03-02"]):
        res = event_study(
            flags_on(TDAYS, dates), target, horizons=(30,), n_placebo=99, n_boot=99, seed=0
        )
        row = res.to_frame().loc[("coin", 30)]
        assert row["n_events"] == len(dates)
        assert np.isfinite(row["mean"]) and np.isfinite(row["excess"])
        assert np.isnan(row["excess_ci_low"]) and np.isnan(row["excess_ci_high"])
        assert np.isnan(row["p_value"]) and np.isnan(row["placebo_p95"])
        assert row["interval_reason"] == f"n too small ({len(dates)} < 3 independent events)"
        line = res.summary().splitlines()[1]
        assert "n too small" in line and "CI" not in line and "p=" not in line
    assert res.min_events == 3


def test_placebo_interval_agrees_with_the_two_sided_placebo_test() -> None:
    # the interval is the inversion of the placebo test: it excludes zero exactly when the
    # two-sided placebo p-value (from the same draws) is below 1 - confidence
    events, target, _ = planted()
    for seed in range(3):
        res = event_study(
            events, target, horizons=(30, 60), n_placebo=0, n_boot=999, seed=seed
        ).to_frame()
        assert (res["excess_ci_low"] > 0).all()  # the planted +15 % jump
        assert (res["excess_ci_high"] > res["excess"]).all()
    quiet = random_walk(CAL, seed=21).rename("q")
    res = event_study(events, quiet, horizons=(30,), n_placebo=0, n_boot=999, seed=1)
    row = res.to_frame().iloc[0]
    assert row["excess_ci_low"] < row["excess"] < row["excess_ci_high"]


def test_t_interval_on_independent_events() -> None:
    events, target, _ = planted()
    res = event_study(events, target, horizons=(30,), n_placebo=0, n_boot=0, interval="t", seed=0)
    row = res.to_frame().iloc[0]
    fwd = res.per_event.query("horizon_days == 30")["forward_return"].to_numpy()
    from scipy.stats import t as student_t

    half = student_t.ppf(0.95, fwd.size - 1) * fwd.std(ddof=1) / np.sqrt(fwd.size)
    assert row["excess_ci_low"] == pytest.approx(row["excess"] - half)
    assert row["excess_ci_high"] == pytest.approx(row["excess"] + half)
    assert res.interval == "t"
    with pytest.raises(DataError, match=r"interval must be one of \('placebo', 't'\), got 'boot'"):
        event_study(events, target, interval="boot")


def test_forward_returns_are_not_taken_from_forward_filled_days() -> None:
    # a target that stops: nothing after its last row, and a long gap is missing data
    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-20", "2024-02-05"], name="date")
    px = pd.Series([100.0, 101.0, 120.0, 130.0], index=idx, name="t")
    fwd = forward_returns(px, 3)
    assert fwd[pd.Timestamp("2024-01-01")] == pytest.approx(0.01)  # 01-04: as of 01-02
    assert np.isnan(fwd[pd.Timestamp("2024-01-15")])  # start as of 01-02: 13 days old
    assert np.isnan(fwd[pd.Timestamp("2024-02-02")])  # start as of 01-20: 13 days old
    assert fwd[pd.Timestamp("2024-01-20")] == pytest.approx(0.0)  # 01-23: as of 01-20
    assert fwd.index[-1] == idx[-1] and np.isnan(fwd.iloc[-1])
