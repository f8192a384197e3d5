"""The start of the last run (:func:`liqflow.signals._runs._last_run_start`) against
:func:`liqflow.signals._windows.run_start`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow.signals._runs import _last_run_start
from liqflow.signals._windows import run_start


def _columns(seed: int) -> list[pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2020-01-01", periods=60, freq="D", name="date")
    flags = rng.choice([0.0, 1.0, np.nan], size=60, p=[0.4, 0.4, 0.2])
    runs = np.repeat(rng.choice([1.0, 2.0, np.nan], size=6), 10)
    states = pd.array(rng.choice(["up", "down", None], size=60), dtype="string")
    labels = pd.Series(rng.choice(["a", "b"], size=60), index=idx, dtype="str")
    tail_nan = flags.copy()
    tail_nan[-7:] = np.nan
    same = np.full(60, 3.0)
    return [
        pd.Series(flags, index=idx),
        pd.Series(runs, index=idx),
        pd.Series(states, index=idx),
        labels,
        pd.Series(tail_nan, index=idx),
        pd.Series(same, index=idx),
        pd.Series(rng.integers(0, 2, 60), index=idx),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_last_run_start_equals_run_start(seed: int) -> None:
    for col in _columns(seed):
        expected = pd.Timestamp(run_start(col).iloc[-1])
        assert col.index[_last_run_start(col)] == expected, col.dtype
