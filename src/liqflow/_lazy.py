"""Lazy re-exports for package ``__init__`` modules (PEP 562 ``__getattr__``).

A package lists ``{name: submodule}``; a name is imported from its submodule on first
access, so importing the package (or one of its submodules) does not import the rest.
Type checkers see the names through the package's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` exporting ``names``.

    ``names`` maps each exported name to the submodule (relative to ``package``) that
    defines it; ``namespace`` is the package's ``globals()``, where each name is cached
    once imported.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
