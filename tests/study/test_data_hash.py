"""The evidence's data hash names the stored data, not the values computed from it: the
same on a machine whose ``exp`` or ``log`` differs in the last bit, different as soon as
one stored value differs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from liqflow._cache import frames_digest
from liqflow.catalog import default_catalog
from liqflow.study import study_inputs
from liqflow.study.claims import ALTS

from .synthetic import synthetic_panel


def _panel() -> pd.DataFrame:
    panel, _ = synthetic_panel(planted=True, seed=2)
    return panel.loc[:"2022-12-31"]  # sol listed: a basket of three coins


def test_the_hash_ignores_a_last_bit_difference_in_computed_inputs() -> None:
    inputs = study_inputs(_panel(), default_catalog())
    assert ALTS in inputs.series and "hy_spread" in inputs.series  # exp(-spread), the basket
    nudged = {
        k: pd.Series(np.nextafter(v.to_numpy(), np.inf), index=v.index, name=v.name)
        for k, v in inputs.series.items()
    }
    other = dataclasses.replace(inputs, series=nudged)
    assert all((other.series[k] != inputs.series[k]).all() for k in nudged)
    assert other.data_hash() == inputs.data_hash()


def test_the_hash_changes_with_one_stored_value() -> None:
    panel = _panel()
    base = study_inputs(panel, default_catalog()).data_hash()
    for column in ("hy_spread", "small_caps", "sol"):  # a spread, a price, a basket coin
        changed = panel.copy()
        day = changed[column].last_valid_index()
        changed.loc[day, column] = changed.loc[day, column] * 1.001
        assert study_inputs(changed, default_catalog()).data_hash() != base, column


def test_a_frames_digest_is_of_the_values_and_their_labels() -> None:
    days = pd.date_range("2020-01-01", periods=3, name="date")
    a = pd.DataFrame({"x": [1.0, np.nan, -0.0], "y": [2.0, 3.0, 4.0]}, index=days)
    other_nan = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), np.float64)[0]
    b = a.copy()
    b.iloc[1, 0], b.iloc[2, 0] = other_nan, 0.0  # equal values, other bits
    assert frames_digest(a) == frames_digest(b)
    for changed in (
        a * (1 + 2**-40),
        a.rename(columns={"x": "z"}),
        a.iloc[:, ::-1],
        a.set_axis(days + pd.Timedelta("1D")),
        a.astype("float32"),
        a.astype({"y": "int64"}),  # equal values, one column of another dtype
    ):
        assert frames_digest(changed) != frames_digest(a)
    assert frames_digest(a.astype(object)) != frames_digest(a)  # hashed as a cache key
