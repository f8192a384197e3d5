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
