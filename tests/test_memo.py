"""The lock-free cached property (liqflow._memo)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from liqflow._memo import cached_property


@dataclass(frozen=True, eq=False)
class _Slow:
    name: str
    started: threading.Event
    release: threading.Event

    @cached_property
    def value(self) -> str:
        """Blocks until released (the first instance only)."""
        self.started.set()
        if self.name == "slow":
            assert self.release.wait(10)
        return self.name.upper()


def test_computed_once_per_instance_and_stored_on_a_frozen_dataclass() -> None:
    calls = []

    @dataclass(frozen=True)
    class Counted:
        x: int

        @cached_property
        def double(self) -> int:
            calls.append(self.x)
            return 2 * self.x

    a, b = Counted(1), Counted(2)
    assert (a.double, a.double, b.double) == (2, 2, 4)
    assert calls == [1, 2]
    assert a.__dict__["double"] == 2
    assert type(Counted.__dict__["double"]) is cached_property


def test_one_instance_computing_never_blocks_another() -> None:
    # functools.cached_property on 3.11 holds one lock per property of the class: the
    # second instance would wait for the first one's computation
    release = threading.Event()
    slow = _Slow("slow", threading.Event(), release)
    fast = _Slow("fast", threading.Event(), threading.Event())
    worker = threading.Thread(target=lambda: slow.value)
    worker.start()
    assert slow.started.wait(10)
    try:
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(fast.value))
        reader.start()
        reader.join(5)
        assert got == ["FAST"], "the other instance's property waited for the first one"
    finally:
        release.set()
        worker.join(10)
    assert slow.value == "SLOW"


def test_first_value_stored_wins_for_every_caller() -> None:
    class Racy:
        n = 0

        @cached_property
        def token(self) -> object:
            Racy.n += 1
            if Racy.n == 1:  # another caller stores its value while this one computes
                self.__dict__["token"] = "stored first"
            return f"computed {Racy.n}"

    r = Racy()
    assert r.token == "stored first"
    assert r.token == "stored first"
