"""The build's process-level helpers: the frozen old objects and the warm-up thread."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from liqflow.report.compute import _old_objects_frozen


def test_old_objects_are_frozen_inside_and_given_back_on_exit() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    with _old_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # at least the imported modules' objects
        assert gc.get_threshold() == (max(before[0], 10_000), *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    with pytest.raises(ZeroDivisionError), _old_objects_frozen():
        1 / 0  # noqa: B018
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


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


@pytest.mark.realdata
def test_bias_on_a_thread_is_the_universe_and_bias_one(shared_store: Path) -> None:
    import pandas as pd

    from liqflow.catalog import default_catalog
    from liqflow.report.compute import _universe_and_bias_start
    from liqflow.store import Store
    from liqflow.universe_store import universe_and_bias

    cat, day = default_catalog(), pd.Timestamp("2025-06-30")
    with Store(shared_store, read_only=True) as st:
        universe, start = _universe_and_bias_start(st, cat, day)
        ref_universe, ref_bias = universe_and_bias(st, cat, day)
    bias = start()()
    assert universe is not None and ref_universe is not None
    pd.testing.assert_frame_equal(universe.close, ref_universe.close, check_exact=True)
    pd.testing.assert_frame_equal(universe.schedule, ref_universe.schedule, check_exact=True)
    assert bias is not None and ref_bias is not None
    pd.testing.assert_frame_equal(bias.to_frame(), ref_bias.to_frame(), check_exact=True)


def test_a_failed_universe_read_fails_the_build_and_starts_no_evidence(
    synthetic_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import liqflow.report.compute as compute
    from liqflow.report.results import ReportConfig
    from liqflow.store import Store

    def broken(*args: object) -> None:
        raise OSError("the universe could not be read")

    monkeypatch.setattr(compute, "_universe_and_bias_start", broken)
    with Store(synthetic_path, read_only=True) as st, pytest.raises(OSError, match="universe"):
        compute.compute_results(st, config=ReportConfig(use_cache=False))
    # read beside the panel, it fails before the evidence begins: no study, no reader left
    left = [t.name for t in threading.enumerate() if t.name.startswith("liqflow-")]
    assert not [name for name in left if name.startswith(("liqflow-study", "liqflow-universe"))]


def test_a_failed_panel_waits_for_the_universe_read_beside_it(
    synthetic_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    import liqflow.report.compute as compute
    from liqflow.report.results import ReportConfig
    from liqflow.store import Store

    reading = threading.Event()
    done: list[bool] = []
    slow_universe = compute._universe_and_bias_start

    def universe(*args: object) -> object:
        reading.set()
        time.sleep(0.3)  # still reading when the panel fails
        out = slow_universe(*args)  # type: ignore[arg-type]
        done.append(True)
        return out

    def no_panel(*args: object, **kwargs: object) -> None:
        assert reading.wait(10)
        raise OSError("the panel could not be read")

    monkeypatch.setattr(compute, "_universe_and_bias_start", universe)
    monkeypatch.setattr(compute, "load_panel", no_panel)
    with Store(synthetic_path, read_only=True) as st:
        with pytest.raises(OSError, match="panel"):
            compute.compute_results(st, config=ReportConfig(use_cache=False))
        assert done == [True]  # waited for, before the view's connection closed
        assert st.inventory(count_dates=False)  # the handle reads on
    assert not [t for t in threading.enumerate() if t.name.startswith("liqflow-universe")]
