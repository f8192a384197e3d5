"""The forked worker's effect on the parent: its garbage collector left as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from liqflow._fork import WorkerError, fork_worker, forking_works

pytestmark = pytest.mark.skipif(not forking_works(), reason="the worker forks on Linux only")


def _values() -> Iterator[int]:
    yield from (1, 2)


def test_the_parents_frozen_objects_and_collector_stay_as_they_were() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        worker = fork_worker(_values, "counting", owner="test")
        try:
            # still frozen (a few may have been freed meanwhile; a thaw would leave none)
            assert frozen - 1000 < gc.get_freeze_count() <= frozen and gc.isenabled()
            assert (worker.receive(), worker.receive()) == (1, 2)
        finally:
            worker.stop()
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        worker = fork_worker(_values, "counting", owner="test")
        worker.stop()
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_a_worker_that_has_ended_names_its_owner() -> None:
    worker = fork_worker(_values, "counting", owner="test")
    assert (worker.receive(), worker.receive()) == (1, 2)
    with pytest.raises(WorkerError, match=r"^the test's worker process \(pid \d+, counting\) "):
        worker.receive()  # the values ran out: the child has exited
    worker.stop()
