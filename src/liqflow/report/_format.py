"""Number and date formatting shared by the theses, the charts and the HTML page.

Every function returns plain text (never markup) and writes ``n/a`` for a missing or
non-finite value, so a table cell can never show ``nan``.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["fmt_date", "fmt_num", "fmt_p", "fmt_pct", "fmt_pp", "is_finite"]

NA = "n/a"


def is_finite(x: object) -> bool:
    """True for a real finite number (bools excluded)."""
    if isinstance(x, bool) or x is None:
        return False
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_pct(x: object, digits: int = 1, *, signed: bool = True) -> str:
    """A fraction as a percentage (``0.123`` -> ``+12.3%``)."""
    if not is_finite(x):
        return NA
    v = float(x) * 100  # type: ignore[arg-type]
    return f"{v:+.{digits}f}%" if signed else f"{v:.{digits}f}%"


def fmt_pp(x: object, digits: int = 2) -> str:
    """A change of a rate in percentage points (``-0.35`` -> ``-0.35 pp``)."""
    return NA if not is_finite(x) else f"{float(x):+.{digits}f} pp"  # type: ignore[arg-type]


def fmt_p(p: object) -> str:
    """A p-value: three decimals, ``<0.001`` below that."""
    if not is_finite(p):
        return NA
    v = float(p)  # type: ignore[arg-type]
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def fmt_num(x: object, unit: str = "") -> str:
    """A level with a sensible precision and thousands separators, plus its unit."""
    if not is_finite(x):
        return NA
    v = float(x)  # type: ignore[arg-type]
    mag = abs(v)
    if mag >= 1e4:
        text = f"{v:,.0f}"
    elif mag >= 100:
        text = f"{v:,.1f}"
    elif mag >= 1 or mag == 0:
        text = f"{v:,.2f}"
    else:
        text = f"{v:.3g}"
    return f"{text} {unit}".rstrip() if unit else text


def fmt_date(ts: object) -> str:
    """``YYYY-MM-DD`` or ``n/a``."""
    if ts is None or ts is pd.NaT:
        return NA
    try:
        t = pd.Timestamp(ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NA
    return NA if t is pd.NaT else f"{t:%Y-%m-%d}"
