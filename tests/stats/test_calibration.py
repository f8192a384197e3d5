"""Size, coverage and power of the verdict tests on few draws (``bench/calibration.py``
runs the full version). Fixed seeds; bands wide enough for the Monte Carlo error."""

from __future__ import annotations

import numpy as np
import pytest

from liqflow.stats.events import event_study
from liqflow.stats.granger import granger_test
from liqflow.stats.leadlag import lead_lag
from liqflow.testing import NULLS, event_market, lead_market, stored_volatility_profile


def _lead_lag_p(null: str, seed: int, lead: int = 0, corr: float = 0.0) -> float:
    rng = np.random.default_rng([seed, 1])
    m = lead_market(null, 416, lead=lead, lead_correlation=corr, seed=rng)
    res = lead_lag(
        m.leader, m.follower, max_lag=13, n_null=99, n_boot=0, alternative="positive", seed=rng
    )
    return res.p_value_positive


@pytest.mark.slow
@pytest.mark.parametrize("null", ["sv", "realvol"])
def test_lead_lag_size_under_shared_volatility(null: str) -> None:
    # nominal 5 %; the former null (follower resampled alone) rejected 13-46 % here.
    # 150 draws: s.d. 1.8 %; [0.5 %, 11 %] is over 3 s.d. from 5 % either way
    p = np.array([_lead_lag_p(null, 10_000 + i) for i in range(150)])
    hits = int((p <= 0.05).sum())
    assert 1 <= hits <= 16, hits


@pytest.mark.slow
def test_lead_lag_power_against_a_planted_eight_week_lead() -> None:
    p = np.array([_lead_lag_p("sv", 20_000 + i, lead=8, corr=0.25) for i in range(30)])
    assert float((p <= 0.05).mean()) >= 0.7


@pytest.mark.slow
def test_granger_robust_size_under_garch() -> None:
    hits = 0
    for i in range(150):
        rng = np.random.default_rng([30_000 + i, 2])
        m = lead_market("garch", 520, seed=rng)
        res = granger_test(m.leader, m.follower, max_lag=8, n_boot=99, seed=rng)
        hits += res.adjusted_p <= 0.05
    # 150 draws: s.d. 1.8 %; [0.5 %, 11 %] is over 3 s.d. from 5 %
    assert 1 <= hits <= 16, hits


@pytest.mark.slow
def test_event_study_size_and_interval_coverage_under_stochastic_volatility() -> None:
    p, covered = [], []
    for i in range(150):
        rng = np.random.default_rng([40_000 + i, 3])
        m = event_market("sv", 4000, seed=rng)
        row = event_study(
            m.events, m.target, horizons=(30,), n_placebo=99, n_boot=99, seed=rng
        ).stats.iloc[0]
        p.append(row["p_value"])
        covered.append(row["excess_ci_low"] <= 0.0 <= row["excess_ci_high"])
    assert float(np.mean(np.array(p) <= 0.05)) <= 0.11
    # 90 % nominal, s.d. 2.4 % at 150 draws: [80 %, 98 %] is over 3 s.d. from 90 %
    assert 0.80 <= float(np.mean(covered)) <= 0.98


def test_synthetic_markets_have_the_planted_answer() -> None:
    m = lead_market("iid", 3000, lead=4, lead_correlation=0.5, seed=1)
    x = np.diff(np.log(m.leader.to_numpy()))
    y = np.diff(np.log(m.follower.to_numpy()))
    assert np.corrcoef(x[:-4], y[4:])[0, 1] == pytest.approx(0.5, abs=0.05)
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.06
    c = lead_market("corr85", 3000, seed=2)
    xc, yc = (np.diff(np.log(s.to_numpy())) for s in (c.leader, c.follower))
    assert np.corrcoef(xc, yc)[0, 1] == pytest.approx(0.85, abs=0.05)
    # shared volatility: |returns| of the two series move together
    assert np.corrcoef(np.abs(xc), np.abs(yc))[0, 1] > 0.3
    e = event_market("iid", 3000, drift=0.1, horizon=30, seed=3)
    assert e.planted.size >= 3 and e.events.index.day_of_week.max() < 5
    assert e.target.index.freqstr == "D"
    assert set(NULLS) >= {"iid", "garch", "sv", "t3", "corr30", "corr60", "corr85", "realvol"}
    prof = stored_volatility_profile(1000)
    assert prof.max() > 2.5 * np.median(prof)  # the two crisis spikes
