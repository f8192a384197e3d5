"""The build's process-level helpers: the frozen old objects and the warm-up thread."""

from __future__ import annotations

import gc

import pytest

from liqflow.report.build import _old_objects_frozen


def test_old_objects_are_frozen_inside_and_given_back_on_exit() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with _old_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # at least the imported modules' objects
    assert gc.get_freeze_count() == 0
    with pytest.raises(ZeroDivisionError), _old_objects_frozen():
        1 / 0  # noqa: B018
    assert gc.get_freeze_count() == 0


def test_background_part_reads_and_writes_the_cache_on_the_caller() -> None:
    import threading

    import pandas as pd

    from liqflow._errors import DataError
    from liqflow.report.build import _background_part
    from liqflow.report.results import ReportConfig, Unavailable
    from liqflow.store import Store

    on: list[str] = []

    def run() -> pd.Series:
        on.append(threading.current_thread().name)
        return pd.Series([1.0, 2.0], name="x")

    config = ReportConfig(use_cache=True)
    with Store(":memory:") as store:
        first, hit1 = _background_part("part", store, "k:1", run, config)()
        again, hit2 = _background_part("part", store, "k:1", run, config)()
    assert (hit1, hit2) == (False, True) and len(on) == 1
    assert on[0] != threading.current_thread().name  # computed on a thread of its own
    pd.testing.assert_series_equal(first, again)

    def fails() -> pd.Series:
        raise DataError("no events")

    failed, hit = _background_part("event paths", None, "k:2", fails, config)()
    assert isinstance(failed, Unavailable) and not hit
    assert failed.reason == "failed on this data: DataError: no events"
