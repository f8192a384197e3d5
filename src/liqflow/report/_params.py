"""The parameters-and-provenance table of the report: every setting a number depends on.

Rows are ``(group, name, value)`` strings read from the objects the report was built
with: the signal configuration (every threshold, window and lookback of each block,
the stage rules and the flags' thresholds), the report's own settings, the evidence's
seed, draws and data hash, the versions of the packages that computed it, and the range
of dates the store held for each series used (the data snapshot).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from liqflow.report._format import fmt_date
from liqflow.report.results import ReportResults, available

__all__ = ["PACKAGES", "ParamRow", "parameter_frame", "parameter_rows"]

#: Packages whose versions the numbers depend on (statistics, data handling, charts).
PACKAGES = (
    "liqflow",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "arch",
    "numba",
    "duckdb",
    "plotly",
    "jinja2",
)


@dataclass(frozen=True)
class ParamRow:
    """One setting: its group (``signals.credit``, ``evidence``, ``data``...), name and
    value as shown."""

    group: str
    name: str
    value: str


def _text(value: object) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(_text(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return fmt_date(value)
    return str(value)


def _config_rows(group: str, obj: object) -> Iterator[ParamRow]:
    """Every field of a (nested) configuration dataclass, one row per leaf."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{group}.{f.name}"
        if f.name == "rules":
            continue  # the stage rules get a row each (see _stage_rows)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from _config_rows(name, value)
        else:
            yield ParamRow(group, f.name, _text(value))


def _stage_rows(results: ReportResults) -> Iterator[ParamRow]:
    sig = results.signals
    if not available(sig):
        return
    for rule in sig.stages.config.rules:
        req = f"; required: {_text(rule.required)}" if rule.required else ""
        yield ParamRow(
            "stages.rules",
            f"stage {rule.stage}: {rule.name}",
            f"on when {rule.min_strength:.0%} of known flags hold: {_text(rule.signals)}{req}",
        )
    for spec in sig.stages.specs:
        yield ParamRow("stages.flags", spec.name, f"{spec.column} {spec.op} {spec.threshold:g}")


def _evidence_rows(results: ReportResults) -> Iterator[ParamRow]:
    ev = results.evidence
    if not available(ev):
        yield ParamRow("evidence", "evidence", "not available")
        return
    yield ParamRow("evidence", "chain", ev.chain)
    yield ParamRow("evidence", "as of", fmt_date(ev.as_of))
    yield ParamRow("evidence", "seed", str(ev.seed))
    yield ParamRow("evidence", "draws", f"{ev.draws:,} (bootstrap and placebo, per test)")
    yield ParamRow("evidence", "alpha", f"{ev.alpha:g} (Holm over {ev.n_family} tests)")
    yield ParamRow("evidence", "data hash", ev.data_hash)


def _data_rows(results: ReportResults) -> Iterator[ParamRow]:
    for s in results.series:
        stored = (
            f"{fmt_date(s.stored_first)} to {fmt_date(s.stored_last)}"
            if s.stored_first is not None
            else "not recorded"
        )
        yield ParamRow(
            "data",
            s.id,
            f"stored {stored}; public on the report date up to {fmt_date(s.last_update)}",
        )


def _package_rows() -> Iterator[ParamRow]:
    for name, v in _package_versions():
        yield ParamRow("packages", name, v)


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    """The installed version of each of :data:`PACKAGES` (read once per process: the
    package metadata is searched on disk)."""
    from liqflow import __version__

    out = []
    for name in PACKAGES:
        try:
            v = __version__ if name == "liqflow" else version(name)
        except PackageNotFoundError:
            v = "not installed"
        out.append((name, v))
    return tuple(out)


def parameter_rows(results: ReportResults) -> tuple[ParamRow, ...]:
    """Every setting behind the page: signals, stages, report, evidence, packages, data."""
    rows: list[ParamRow] = [ParamRow("report", "as of", fmt_date(results.as_of))]
    sig = results.signals
    if available(sig):
        rows += _config_rows("signals", sig.config)
        rows += _stage_rows(results)
    rows += _config_rows("report", results.config)
    rows += _evidence_rows(results)
    rows += _package_rows()
    rows += _data_rows(results)
    return tuple(rows)


def parameter_frame(results: ReportResults) -> pd.DataFrame:
    """:func:`parameter_rows` as a frame (columns ``group``, ``name``, ``value``)."""
    rows = parameter_rows(results)
    return pd.DataFrame(
        {
            "group": [r.group for r in rows],
            "name": [r.name for r in rows],
            "value": [r.value for r in rows],
        }
    )
