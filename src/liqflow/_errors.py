"""Error hierarchy.

Every error a user can cause derives from :class:`LiqflowError` and from the builtin
that matches it, so ``except ValueError`` keeps working for library callers while the
CLI catches the single base class and prints its message without a traceback.
Messages name the input, the value received and what would be accepted.
"""

from __future__ import annotations

__all__ = [
    "MAX_ECHO",
    "CatalogError",
    "ConfigError",
    "DataError",
    "InsufficientDataError",
    "LiqflowError",
    "ProviderError",
    "StoreError",
    "UnsupportedLayoutError",
    "clip_text",
]


class LiqflowError(Exception):
    """Base class of every error liqflow raises on purpose."""


class DataError(LiqflowError, ValueError):
    """Input data is malformed: a bad file, a bad series, a value out of range."""


class UnsupportedLayoutError(DataError):
    """A file's layout (header or format) is not one liqflow can read yet.

    Distinct from a file that matched a layout and then failed to parse: a folder scan
    lists such files as not imported and goes on, while a file named explicitly is refused.
    """


class InsufficientDataError(DataError):
    """Not enough observations to compute what was asked (too short, too few events)."""


class CatalogError(LiqflowError, KeyError):
    """A series id or catalogue entry is unknown or invalid."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class ConfigError(LiqflowError, ValueError):
    """A configuration value or file is invalid."""


class ProviderError(LiqflowError, ConnectionError):
    """A remote provider could not be reached or answered with an error."""


class StoreError(LiqflowError, OSError):
    """The local store could not be opened, read or written."""


#: Longest unbroken run of characters echoed from an input (a cell, a line, a name).
MAX_ECHO = 200


def clip_text(message: str) -> str:
    """``message`` with every unbroken run over ``MAX_ECHO`` characters shortened, so a
    5 MB bad line is named, not echoed whole."""
    import re

    def short(m: re.Match[str]) -> str:
        run = m.group(0)
        return f"{run[:80]}...({len(run) - 160:,} more characters)...{run[-80:]}"

    return re.sub(rf"\S{{{MAX_ECHO + 1},}}", short, message)
