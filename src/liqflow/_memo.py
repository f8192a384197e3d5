"""A cached property that never makes one thread wait for another.

:class:`functools.cached_property` on Python 3.11 computes under one lock per property
*of the class*, shared by every instance: while one thread computes the property of one
object, every other thread asking for it on any other object waits. The alt figures
compute the same properties of different coin panels on several threads at once (the
report's survivorship bias beside its signals), and so waited for each other. Python 3.12
removed that lock (https://github.com/python/cpython/issues/87634); :class:`cached_property`
here behaves as 3.12's: each value is computed on first access and stored in the
instance's ``__dict__`` (frozen dataclasses included), with no lock. Two threads that ask
for the same property of the same object at once may both compute it; the first value
stored is the one every caller gets, so the properties must be pure functions of the
object (they are, wherever this is used).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

__all__ = ["cached_property"]

_T = TypeVar("_T")


class cached_property(Generic[_T]):
    """Compute once per instance on first access, store in ``__dict__``; no lock."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        cache = instance.__dict__
        try:
            return cache[self.attrname]
        except KeyError:
            # setdefault: a value another thread stored meanwhile wins, for every caller
            return cache.setdefault(self.attrname, self.func(instance))
