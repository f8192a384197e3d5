"""Tables as JSON, CSV or Parquet: the commands' ``--json``/``--csv`` and ``liqflow export``.

Every export reads through the library function the matching command uses (the panel
through :func:`liqflow.align.load_panel`, the signals through
:func:`liqflow.signals.compute_signals`, the evidence through
:func:`liqflow.study.run.study`, the universe through
:func:`liqflow.universe_store.universe_view`), so an exported number is the number the
command prints.

JSON documents have one shape: the metadata (``as_of`` and whatever else describes the
table), ``columns`` and ``rows`` (one object per row; dates as ``YYYY-MM-DD``, missing
values as ``null``). CSV is the same table with a header row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError

if TYPE_CHECKING:
    from liqflow.catalog import Catalog
    from liqflow.store import Store

__all__ = [
    "FORMATS",
    "TABLES",
    "ExportTable",
    "export_table",
    "frame_csv",
    "frame_json",
    "jsonable",
    "write_table",
]

#: What ``liqflow export`` writes.
TABLES = ("panel", "signals", "stages", "events", "evidence", "universe")
#: The formats it writes them in.
FORMATS = ("csv", "parquet", "json")


def jsonable(value: object) -> object:
    """``value`` as a JSON-ready Python object (dates as ``YYYY-MM-DD``, NaN as None)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return f"{value:%Y-%m-%d}"
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a named index as a column (a default RangeIndex is dropped)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def frame_json(frame: pd.DataFrame, meta: Mapping[str, object] | None = None) -> str:
    """One JSON document: ``meta``'s keys, then ``columns`` and ``rows`` of ``frame``.

    A named index (``date``) becomes the first column.
    """
    flat = _flat(frame)
    cols = [str(c) for c in flat.columns]
    rows = [
        {c: jsonable(v) for c, v in zip(cols, rec, strict=True)}
        for rec in flat.itertuples(index=False, name=None)
    ]
    doc: dict[str, object] = {str(k): jsonable(v) for k, v in (meta or {}).items()}
    doc["columns"] = cols
    doc["rows"] = rows
    return json.dumps(doc, indent=2, allow_nan=False)


def frame_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with a header row (a named index is the first column)."""
    return str(_flat(frame).to_csv(index=False, date_format="%Y-%m-%d"))


@dataclass(frozen=True)
class ExportTable:
    """A table to export, with what describes it (``as_of`` and the like).

    ``document``: the table's own JSON document when it has one (the evidence's, the
    one ``liqflow study --json`` prints), written instead of :func:`frame_json`'s.
    """

    name: str
    frame: pd.DataFrame
    meta: Mapping[str, object]
    document: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table."""
        return self.frame.copy()

    def summary(self) -> str:
        when = self.meta.get("as_of")
        return f"{self.name}: {len(self.frame)} rows, {self.frame.shape[1]} columns" + (
            f", as of {jsonable(when)}" if when is not None else ""
        )


def write_table(table: ExportTable, fmt: str, path: Path | None = None) -> str | None:
    """Write ``table`` as ``fmt`` to ``path``; without a path, return the text.

    Raises
    ------
    ConfigError
        ``fmt`` is not one of :data:`FORMATS`, or Parquet without a path.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {FORMATS}, got {fmt!r}")
    if fmt == "parquet":
        if path is None:
            raise ConfigError("--format parquet writes a binary file: give -o PATH")
        flat = _flat(table.frame).copy()
        flat.attrs = {}  # provenance objects in attrs are not Parquet metadata
        flat.to_parquet(path, index=False)
        return None
    if fmt == "csv":
        text = frame_csv(table.frame)
    else:
        text = (table.document or frame_json(table.frame, table.meta)) + "\n"
    if path is None:
        return text
    path.write_text(text, encoding="utf-8")
    return None


def _when(store: Store, catalog: Catalog, as_of: pd.Timestamp | None) -> pd.Timestamp:
    from liqflow.align import resolve_as_of

    return resolve_as_of(store, catalog, "default", as_of)[0]


def _panel(store: Store, catalog: Catalog, when: pd.Timestamp) -> pd.DataFrame:
    from liqflow.align import load_panel

    panel = load_panel(store, catalog=catalog, as_of=when)
    if panel.empty:
        raise DataError(
            f"the store has no data up to {when:%Y-%m-%d}; run `liqflow import DIR` or "
            "`liqflow fetch` first"
        )
    return panel


def _signal_tables(store: Store, catalog: Catalog, when: pd.Timestamp, name: str) -> ExportTable:
    from liqflow.signals import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    panel = _panel(store, catalog, when)
    universe = alt_universe_from_store(store, catalog, when)
    signals = compute_signals(panel, catalog=catalog, universe=universe)
    meta: dict[str, object] = {"as_of": when, "table": name}
    if name == "signals":
        return ExportTable(name, signals.to_frame(), meta)
    if name == "stages":
        return ExportTable(name, signals.stages.to_frame(), meta)
    events = signals.breakouts.to_frame() if signals.breakouts is not None else pd.DataFrame()
    return ExportTable(name, events, meta)


def export_table(
    store: Store,
    catalog: Catalog,
    name: str,
    *,
    as_of: pd.Timestamp | None = None,
    seed: int = 0,
    draws: int | None = None,
) -> ExportTable:
    """The table ``name`` (one of :data:`TABLES`) as of a date.

    Parameters
    ----------
    store, catalog
    name : str
        ``panel`` (the point-in-time panel, every field), ``signals`` (every signal per
        day), ``stages`` (the stage timeline per day), ``events`` (the Russell 2000
        breakout events), ``evidence`` (every test of the study, as ``liqflow study``),
        ``universe`` (the crypto universe in force).
    as_of : Timestamp, optional
        Decision date, checked against the store (default: the default date of every
        command, :func:`liqflow.align.default_as_of`). The universe uses the snapshot in
        force on that date.
    seed, draws
        The study's seed and draws (``evidence`` only).

    Raises
    ------
    ConfigError
        ``name`` is not one of :data:`TABLES`.
    """
    if name not in TABLES:
        raise ConfigError(f"the table must be one of {TABLES}, got {name!r}")
    if name == "evidence":
        from liqflow.study import study
        from liqflow.study.defaults import ALPHA, DEFAULT_DRAWS

        run = study(
            store,
            catalog,
            "default",
            as_of=as_of,
            seed=seed,
            draws=draws or DEFAULT_DRAWS,
            alpha=ALPHA,
        )
        ev = run.evidence
        meta = {"as_of": run.as_of.date, "seed": ev.seed, "draws": ev.draws, "data": ev.data_hash}
        return ExportTable(name, ev.to_frame(), meta, ev.to_json())
    if name == "universe":
        from liqflow.universe_store import universe_view

        view = universe_view(store, catalog, as_of=as_of)
        return ExportTable(name, view.to_frame(), {"as_of": as_of, "table": name})
    when = _when(store, catalog, as_of)
    if name == "panel":
        return ExportTable(name, _panel(store, catalog, when), {"as_of": when, "table": name})
    return _signal_tables(store, catalog, when, name)
