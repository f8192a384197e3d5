from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import grangercausalitytests

from liqflow._errors import DataError, InsufficientDataError
from liqflow.stats._shared import aligned_returns
from liqflow.stats.granger import _lag_fit, granger_both, granger_test, holm_adjust


def series_pair(n: int, lead: int, beta: float, seed: int) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    x = 0.01 * rng.standard_normal(n + lead)
    y = beta * x[:-lead] + 0.01 * rng.standard_normal(n)
    days = pd.bdate_range("2016-01-04", periods=n + 1, name="date")
    lead_px = pd.Series(100 * np.exp(np.r_[0, np.cumsum(x[lead:])]), index=days, name="rut")
    foll_px = pd.Series(100 * np.exp(np.r_[0, np.cumsum(y)]), index=days, name="btc")
    return lead_px, foll_px


@pytest.mark.parametrize("freq", ["D", "W"])
def test_statistics_equal_statsmodels(freq: str) -> None:
    cause, effect = series_pair(1500, 3, 0.3, seed=1)
    res = granger_test(cause, effect, freq=freq, max_lag=5)
    # oracle: statsmodels on the same aligned log returns, effect first
    rets = aligned_returns(cause, effect, freq, ("rut", "btc"))
    ref = grangercausalitytests(rets[["btc", "rut"]].to_numpy(), 5)
    for i, lag in enumerate(range(1, 6)):
        f, p, df_denom, df_num = ref[lag][0]["ssr_ftest"]
        # own QR solve per lag order vs statsmodels' two OLS fits: equal to rounding
        assert res.f_stat[i] == pytest.approx(f, rel=1e-10)
        assert res.p_values[i] == pytest.approx(p, rel=1e-8, abs=1e-300)
        assert res.df_denom[i] == df_denom
        assert res.df_num[i] == df_num
    assert res.n_obs == len(rets)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "f_stat",
        "p_value",
        "p_holm",
        "df_num",
        "df_denom",
        "p_robust",
    ]
    np.testing.assert_allclose(frame["p_holm"], multipletests(res.p_values, method="holm")[1])


def test_best_lag_and_correction() -> None:
    cause, effect = series_pair(1500, 3, 0.3, seed=2)
    classic = granger_test(cause, effect, freq="D", max_lag=6, n_boot=0)
    assert classic.best_lag == 3 or classic.best_p < 1e-6
    assert classic.adjusted_p == pytest.approx(min(1.0, classic.best_p * 6))
    assert classic.adjusted_p < 1e-6
    assert "Holm over 6 lags" in classic.summary()
    robust = granger_test(cause, effect, freq="D", max_lag=6, n_boot=199, seed=0)
    # the strongest possible bootstrap evidence with 199 draws, at every order >= 3
    assert robust.adjusted_p == pytest.approx(1 / 200)
    assert robust.p_values_robust is not None
    assert (robust.p_values_robust[2:] == 1 / 200).all()
    assert robust.adjusted_p_f == pytest.approx(classic.adjusted_p)
    assert "wild bootstrap min-p over 6 lags p=0.005" in robust.summary()
    np.testing.assert_array_equal(robust.f_stat, classic.f_stat)


def test_robust_p_values_are_uniform_under_the_null_with_few_draws() -> None:
    # no lead: the family-wise p-value is about uniform (mean 1/2), never stuck at 0 or 1
    ps = []
    for seed in range(40):
        cause, effect = series_pair(300, 1, 0.0, seed=100 + seed)
        ps.append(granger_test(cause, effect, freq="D", max_lag=4, n_boot=99, seed=seed).adjusted_p)
    assert 0.35 < float(np.mean(ps)) < 0.65
    assert min(ps) >= 0.01 and max(ps) <= 1.0


def test_both_directions() -> None:
    a, b = series_pair(1500, 2, 0.4, seed=3)
    both = granger_both(a, b, freq="D", max_lag=4, n_boot=0)
    assert both.forward.cause == "rut" and both.forward.effect == "btc"
    assert both.backward.cause == "btc" and both.backward.effect == "rut"
    assert both.forward.adjusted_p < 1e-6
    assert both.backward.adjusted_p > 0.01
    frame = both.to_frame()
    assert set(frame.index.get_level_values("direction")) == {"rut => btc", "btc => rut"}
    assert len(both.summary().splitlines()) == 2


def test_holm_adjust_matches_statsmodels_and_keeps_nan() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan, 0.005])
    got = holm_adjust(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(got[ok], multipletests(p[ok], method="holm")[1])
    assert np.isnan(got[4])
    assert np.isnan(holm_adjust([np.nan])).all()


def test_errors() -> None:
    a, b = series_pair(40, 1, 0.2, seed=4)
    with pytest.raises(InsufficientDataError, match=r"rut => btc: max_lag=13 needs more than 40"):
        granger_test(a, b, freq="D", max_lag=13)
    with pytest.raises(DataError, match=r"freq must be one of \('W', 'D'\), got 'Q'"):
        granger_test(a, b, freq="Q")
    flat = pd.Series(1.0, index=a.index, name="flat")
    with pytest.raises(DataError, match=r"flat => btc: Granger test not computable"):
        granger_test(flat, b, freq="D", max_lag=2)


def test_wild_bootstrap_f_equals_statsmodels_on_the_same_signs() -> None:
    # oracle: statsmodels OLS of the bootstrap effect (restricted fit + signs * HC3
    # residuals) on the restricted and the full design, F from the two SSRs
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    cause, effect = rng.standard_normal(400), rng.standard_normal(400)
    effect[1:] += 0.2 * effect[:-1]
    p = 4
    fit = _lag_fit(effect, cause, p, ("a", "b"))
    rows = np.arange(p, 400)
    own = np.column_stack([effect[rows - j] for j in range(1, p + 1)])
    other = np.column_stack([cause[rows - j] for j in range(1, p + 1)])
    restricted = sm.add_constant(own)
    full = np.column_stack([restricted, other])
    base = sm.OLS(effect[rows], restricted).fit()
    lev = np.minimum(sm.OLS(effect[rows], full).fit().get_influence().hat_matrix_diag, 0.99)
    np.testing.assert_allclose(fit.restricted_residuals(), base.resid / (1 - lev), rtol=1e-10)
    signs = np.where(rng.random((3, rows.size)) < 0.5, -1.0, 1.0)
    boot = fit.f_stats(signs * fit.restricted_residuals())
    for r in range(3):
        w = base.fittedvalues + signs[r] * fit.restricted_residuals()
        f_ref, _, _ = sm.OLS(w, full).fit().compare_f_test(sm.OLS(w, restricted).fit())
        assert boot[r] == pytest.approx(f_ref, rel=1e-10)


def test_wild_bootstrap_in_one_product_equals_the_order_by_order_reference() -> None:
    # oracle: _wild_f_reference, fit.f_stats(signs[:, rows] * residuals) per lag order; the
    # sample has gaps (rows dropped per order) and spans two chunks of draws (n * reps > 2e6)
    from liqflow.stats.granger import _wild_f, _wild_f_reference

    rng = np.random.default_rng(11)
    n = 2500
    cause, effect = rng.standard_normal(n), rng.standard_normal(n) * np.linspace(0.5, 2.0, n)
    effect[1:] += 0.3 * cause[:-1]
    cause[[40, 41, 900]] = np.nan
    effect[[7, 1500]] = np.nan
    fits = [_lag_fit(effect, cause, p, ("a", "b")) for p in range(1, 6)]
    assert any(fit.rows.size < n - fit.p for fit in fits)
    fast = _wild_f(fits, n, 1001, np.random.default_rng(2))
    ref = _wild_f_reference(fits, n, 1001, np.random.default_rng(2))
    assert fast.shape == ref.shape == (1001, 5)
    np.testing.assert_allclose(fast, ref, rtol=1e-9)


def test_granger_p_values_unchanged_by_the_one_product_bootstrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the bootstrap p-values are counts of draws: the same with the reference bootstrap
    import liqflow.stats.granger as granger

    cause, effect = series_pair(1200, 2, 0.15, seed=8)
    fast = granger_test(cause, effect, freq="W", max_lag=8, n_boot=499, seed=3)
    monkeypatch.setattr(granger, "_wild_f", granger._wild_f_reference)
    ref = granger_test(cause, effect, freq="W", max_lag=8, n_boot=499, seed=3)
    assert ref.p_values_robust is not None and fast.p_values_robust is not None
    np.testing.assert_array_equal(fast.p_values_robust, ref.p_values_robust)
    assert (fast.adjusted_p, fast.best_lag, fast.best_p) == (
        ref.adjusted_p,
        ref.best_lag,
        ref.best_p,
    )
