"""A study begun before its alt basket: the same evidence as the whole run, cached alike,
and an abandoned run leaves nothing running."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time

import pandas as pd
import pytest

from liqflow._errors import ConfigError
from liqflow._fork import WorkerError, forking_works
from liqflow.catalog import default_catalog
from liqflow.store import Store
from liqflow.study import run_study, study_inputs
from liqflow.study.claims import ALTS
from liqflow.study.inputs import ALTS_PENDING, inputs_before_alts, with_alt_basket
from liqflow.study.staged import _added, _rebuilt, begin_study

from .synthetic import synthetic_panel


def _stages(as_of: str = "2019-12-31") -> tuple[pd.DataFrame, object, object]:
    panel, events = synthetic_panel(planted=True, seed=1)
    panel, events = panel.loc[:as_of], events.loc[:as_of].rename("breakout")
    early = dataclasses.replace(inputs_before_alts(panel, default_catalog()), events=events)
    return panel, early, dataclasses.replace(study_inputs(panel, default_catalog()), events=events)


def test_the_inputs_in_two_steps_are_the_inputs() -> None:
    panel, early, whole = _stages()
    assert ALTS not in early.series and early.missing[ALTS] == ALTS_PENDING
    full = with_alt_basket(early, panel, default_catalog())
    assert list(full.series) == list(whole.series)  # the table's order, the basket in place
    assert full.data_hash() == whole.data_hash()
    assert dict(full.missing) == dict(whole.missing)
    pd.testing.assert_series_equal(full.basket_coins, whole.basket_coins)


FORKS = forking_works()
needs_fork = pytest.mark.skipif(not FORKS, reason="a forked child process needs Linux")


@pytest.mark.parametrize(
    ("workers", "process"),
    [(1, False), (2, False), (1, pytest.param(True, marks=needs_fork)), (2, None)],
)
def test_staged_study_is_the_run_study_evidence(workers: int, process: bool | None) -> None:
    panel, early, whole = _stages()
    ref, _ = run_study(whole, seed=7, draws=299, workers=workers)
    run = begin_study(early, seed=7, draws=299, workers=workers, process=process)
    time.sleep(0.05)  # the tests of the other inputs are under way meanwhile
    evidence, hit = run.complete(with_alt_basket(early, panel, default_catalog()))()
    assert not hit
    assert evidence.to_json() == ref.to_json()
    assert list(evidence.lead_lags) == list(ref.lead_lags)


@pytest.mark.parametrize("process", [False, pytest.param(True, marks=needs_fork)])
def test_staged_study_reads_and_fills_the_cache_of_run_study(process: bool) -> None:
    _, early, whole = _stages()
    with Store(":memory:") as store:
        run = begin_study(early, seed=7, draws=299, store=store, process=process)
        first, hit1 = run.complete(whole)()
        again, hit2 = run_study(whole, seed=7, draws=299, store=store)
        run = begin_study(early, seed=7, draws=299, store=store, process=process)
        third, hit3 = run.complete(whole)()
    assert (hit1, hit2, hit3) == (False, True, True)
    assert first.to_json() == again.to_json() == third.to_json()


def _study_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("liqflow-study")]


def _no_study_thread_within(seconds: float) -> bool:
    end = time.monotonic() + seconds
    while _study_threads() and time.monotonic() < end:
        time.sleep(0.02)
    return not _study_threads()


def test_an_abandoned_study_stops_and_too_few_draws_abandon_it() -> None:
    assert _no_study_thread_within(30.0)
    _, early, whole = _stages()
    begin_study(early, seed=7, draws=299, process=False).abandon()  # failed before complete
    assert _no_study_thread_within(30.0)  # the basket's tests never wait for inputs
    with pytest.raises(ConfigError, match=r"alpha and confidence must be in \(0, 1\), got 2"):
        begin_study(early, seed=7, draws=299, alpha=2.0)  # checked before it starts
    run = begin_study(early, seed=7, draws=20, process=False)  # enough for no test: refused
    with pytest.raises(ConfigError, match=r"draws must be an integer of at least \d+"):
        run.complete(whole)
    assert _no_study_thread_within(30.0)


def test_what_the_whole_inputs_add_rebuilds_them() -> None:
    panel, early, _ = _stages()
    full = with_alt_basket(early, panel, default_catalog())
    added = _added(early, full)
    assert set(added) <= {"series", "missing", "basket_coins", "basket_coverage", "sources"}
    order, new = added.get("series", (list(early.series), {}))
    assert list(new) == [k for k in full.series if k not in early.series]  # only the basket
    assert order == list(full.series)
    _, new_sources = added["sources"]
    assert list(new_sources) == [ALTS]  # what the basket was computed from, alone
    again = _rebuilt(early, added)
    assert again.data_hash() == full.data_hash() and list(again.series) == list(full.series)
    assert dict(again.missing) == dict(full.missing)
    pd.testing.assert_series_equal(again.basket_coins, full.basket_coins)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@needs_fork
def test_a_forked_study_is_stopped_when_abandoned_and_its_death_is_one_line() -> None:
    _, early, whole = _stages()
    run = begin_study(early, seed=7, draws=299, process=True)
    pid = run._run._worker.pid
    assert _alive(pid)
    run.abandon()  # killed and reaped: no process left behind
    assert not _alive(pid)
    run = begin_study(early, seed=7, draws=299, process=True)
    pid = run._run._worker.pid
    os.kill(pid, signal.SIGKILL)  # a child that dies (out of memory, say)
    wait = run.complete(whole)  # the inputs cannot reach it: said by the wait
    killed = r"^the study.s worker process \(pid \d+, running the tests\) was killed by signal 9"
    with pytest.raises(WorkerError, match=killed):
        wait()
    assert not _alive(pid)


@needs_fork
def test_a_test_error_in_the_child_is_raised_as_itself() -> None:
    _, early, whole = _stages()
    broken = dataclasses.replace(whole, series={**whole.series, ALTS: "not a series"})
    run = begin_study(early, seed=7, draws=299, process=True)
    with pytest.raises(AttributeError):
        run.complete(broken)()


@needs_fork
def test_no_process_to_start_runs_the_tests_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import liqflow.study.staged as staged

    def no_fork(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(staged, "fork_worker", no_fork)
    _, early, whole = _stages()
    ref, _ = run_study(whole, seed=7, draws=299)
    run = begin_study(early, seed=7, draws=299, workers=2)  # the default forks: falls back
    assert isinstance(run._run, staged._OnThreads)
    assert run.complete(whole)()[0].to_json() == ref.to_json()
    with pytest.raises(BlockingIOError):
        begin_study(early, seed=7, draws=299, process=True)  # asked for: said
