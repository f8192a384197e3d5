"""``liqflow import``: local data files into the store, matched to catalogue series.

A file's layout is recognised from its content (:func:`liqflow.providers.layouts.read_table`);
a file may hold several series (wide FRED tables, JSON caches, CFTC tables). Each part is
matched to a catalogue series by what the content says (a column's FRED id or alias, the
Fiscal Data table, the Farside layout) or else by the file name.

Splicing. Several files may bring the same (series, source): the ICE BofA OAS of
1996-2025 and FRED's three-year window of 2023-2026, or two Yahoo exports of a coin. They
are spliced into one series only where they agree on every common date and field; a file
that disagrees with what the earlier files of the same import say is refused, naming the
dates and both values. The check is within the files of one import; what happens to a
stored value that a later import changes is the store's revision rule. Agreement means equal within :data:`SPLICE_RTOL` (exact up to
the decimal formatting of the files), except for the daily bars of markets that trade
around the clock (group ``crypto``/``alt``, source ``yahoo``): an export written during a
UTC day holds that day's bar so far, so prices may differ by up to
:data:`SNAPSHOT_RTOL` and volumes are not compared. Within a (series, source) the file
that reaches further is written last, so its values win on such a day. A Yahoo file's
last bar may have been written during its session, so its volume is not compared either.

Series whose whole history is re-estimated at every release (:data:`liqflow.catalog.REVISED`:
the Chicago Fed NFCI and ANFCI) are not spliced: two files of different dates are two
vintages; the one reaching further is written last and its values replace the older ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow._errors import DataError, LiqflowError, UnsupportedLayoutError
from liqflow.catalog import FUNDS, REVISED, Catalog, SeriesSpec, is_excluded_coin
from liqflow.providers.csv import fund_source
from liqflow.providers.layouts import ParsedTable, Part, read_table
from liqflow.providers.universe_files import (
    UniverseFile,
    coin_from_ticker_file,
    read_universe_file,
    sniff_universe_layout,
)
from liqflow.store import Batch, Store

__all__ = [
    "NOT_SUPPORTED_YET",
    "SNAPSHOT_RTOL",
    "SPLICE_RTOL",
    "ImportReport",
    "ImportedFile",
    "import_paths",
]

#: What a folder scan says of a file whose layout liqflow cannot read yet.
NOT_SUPPORTED_YET = "not imported (layout not supported yet)"
#: File kinds a folder scan looks at; other files (READMEs, notebooks) are not data.
SCANNED_SUFFIXES = (".csv", ".json", ".jsonl")
#: Relative tolerance of the splice check: files must agree up to their decimal formatting.
SPLICE_RTOL = 1e-9
#: Relative price tolerance for bars of 24-hour markets captured before the day ended.
SNAPSHOT_RTOL = 0.02
_SNAPSHOT_GROUPS = ("crypto", "alt")
_TOKENS = re.compile(r"[_\s]+")


@dataclass(frozen=True)
class ImportedFile:
    """One series (``column`` of the file; ``*`` = the whole file) loaded into the store."""

    path: Path
    series_id: str
    source: str
    format: str
    rows: int
    added: int
    first: pd.Timestamp
    last: pd.Timestamp
    column: str = "*"


@dataclass(frozen=True)
class ImportReport:
    """What an import loaded, what it could not match, could not read yet, and refused.

    ``unsupported`` lists the files a folder scan found whose layout liqflow does not
    read yet (with the detail of why); they do not make the import fail. ``errors``
    lists the files refused: a file that matched a layout and failed to parse, a splice
    that disagrees, or a file named explicitly that liqflow cannot read. ``columns``
    lists, per file, the columns it holds that name no catalogue series (not an error).
    """

    loaded: tuple[ImportedFile, ...]
    unmatched: tuple[tuple[Path, str], ...]
    errors: tuple[tuple[Path, str], ...]
    unsupported: tuple[tuple[Path, str], ...] = ()
    columns: tuple[tuple[Path, str, str], ...] = ()
    notes: tuple[tuple[Path, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                (
                    str(f.path),
                    f.column,
                    f.series_id,
                    f.source,
                    f.format,
                    f.rows,
                    f.added,
                    f.first,
                    f.last,
                )
                for f in self.loaded
            ],
            columns=[
                "path",
                "column",
                "series_id",
                "source",
                "format",
                "rows",
                "added",
                "first",
                "last",
            ],
        )

    def summary(self) -> str:
        added = sum(f.added for f in self.loaded)
        series = len({f.series_id for f in self.loaded})
        files = len({f.path for f in self.loaded})
        return (
            f"{files} files -> {series} series, {added} new rows; "
            f"{len(self.unmatched)} unmatched, {len(self.unsupported)} {NOT_SUPPORTED_YET}, "
            f"{len(self.errors)} refused"
        )


def _csv_files(paths: Sequence[str | Path]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for each path; folders are scanned recursively."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            out.extend(
                (f, False)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SCANNED_SUFFIXES
            )
        elif p.is_file():
            out.append((p, True))
        else:
            raise DataError(
                f"import path {p} does not exist; give CSV files or folders that contain them"
            )
    return out


def _shares_a_field(frame: pd.DataFrame, spec: SeriesSpec) -> bool:
    cols = set(frame.columns)
    return cols == {"value"} or bool(cols & set(spec.fields))


def _by_tokens(stem: str, frame: pd.DataFrame, catalog: Catalog) -> SeriesSpec | None:
    """The series named by a run of ``_``-separated words of the stem, longest run first.

    ``marketlab_BTC_USD`` -> ``BTC-USD``; ``heliar_RUT_daily_ibkr`` -> ``RUT_daily``;
    ``btc_funding_daily_mean`` -> ``btc_funding``. Only series that store a field of the
    file are candidates; two different series named by runs of the same length: no match.
    """
    words = [w for w in _TOKENS.split(stem) if w]
    for n in range(len(words), 0, -1):
        found: dict[str, SeriesSpec] = {}
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            for name in {"_".join(run), "-".join(run)}:
                spec = catalog.match_file(name)
                if spec is not None and _shares_a_field(frame, spec):
                    found[spec.id] = spec
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            return None
    return None


def _match(table: ParsedTable, part: Part, catalog: Catalog) -> SeriesSpec | None:
    if part.series_id is not None:
        return catalog.get(part.series_id)
    stem = table.path.stem
    for name in (stem, part.hint):
        spec = catalog.match_file(name) if name else None
        if spec is not None and _shares_a_field(part.frame, spec):
            return spec
    return _by_tokens(stem, part.frame, catalog)


def _fields(frame: pd.DataFrame, spec: SeriesSpec) -> pd.DataFrame:
    if list(frame.columns) == ["value"] and spec.primary_field != "value":
        frame = frame.rename(columns={"value": spec.primary_field})
    return frame


def _source(table: ParsedTable, part: Part, spec: SeriesSpec) -> str:
    if spec.id in FUNDS and table.single is not None and table.single.format == "yahoo":
        return fund_source(table.single)
    return part.source or spec.sources[0]


def _unmatched_reason(path: Path) -> str:
    if is_excluded_coin(path.stem):
        return "stablecoin or wrapped token: excluded by rule"
    return (
        f"no catalogue series named {path.stem!r} "
        "(use --series ID, or add it with --catalog FILE.toml)"
    )


@dataclass(frozen=True)
class _Pending:
    table: ParsedTable
    part: Part
    spec: SeriesSpec
    source: str
    frame: pd.DataFrame


def _disagreement(base: _Pending, new: _Pending) -> str | None:
    """Why ``new`` cannot be spliced onto ``base`` (same series and source), or None."""
    if new.spec.id in REVISED:
        return None
    snapshot = new.source == "yahoo" and new.spec.group in _SNAPSHOT_GROUPS
    rtol = SNAPSHOT_RTOL if snapshot else SPLICE_RTOL
    for field in base.frame.columns.intersection(new.frame.columns):
        if snapshot and field == "volume":
            continue
        a = base.frame[field].dropna()
        b = new.frame[field].dropna()
        if field == "volume" and new.source == "yahoo":
            # a file's last bar may have been written during its session: volume so far
            a, b = a.iloc[:-1], b.iloc[:-1]
        common = a.index.intersection(b.index)
        if common.empty:
            continue
        av, bv = a[common].to_numpy(), b[common].to_numpy()
        scale = np.maximum(np.maximum(np.abs(av), np.abs(bv)), 1e-12)
        bad = np.flatnonzero(np.abs(av - bv) > rtol * scale)
        if bad.size:
            shown = ", ".join(
                f"{common[i]:%Y-%m-%d}: {base.part.where(base.table.path, common[i])} says "
                f"{av[i]:.10g}, {new.part.where(new.table.path, common[i])} says {bv[i]:.10g}"
                for i in bad[:3]
            )
            more = f" and {bad.size - 3} more dates" if bad.size > 3 else ""
            return (
                f"splice refused: {new.spec.id} ({new.source}) field {field!r} disagrees on "
                f"{bad.size} of {common.size} common dates (relative tolerance {rtol:g}): "
                f"{shown}{more}; the file was not imported"
            )
    return None


def _splice(pending: list[_Pending]) -> tuple[list[_Pending], list[tuple[Path, str]]]:
    """Order each (series, source) by reach and refuse parts that disagree on the overlap."""
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for p in pending:
        groups.setdefault((p.spec.id, p.source), []).append(p)
    kept: list[_Pending] = []
    refused: list[tuple[Path, str]] = []
    for members in groups.values():
        members.sort(key=lambda p: (p.frame.index[-1], p.frame.index[0]))
        accepted: list[_Pending] = []
        for p in members:
            why = next((w for b in accepted if (w := _disagreement(b, p)) is not None), None)
            if why is None:
                accepted.append(p)
            else:
                refused.append((p.table.path, why))
        kept.extend(accepted)
    bad_files = {path for path, _ in refused}
    # a file is refused whole: drop every part of a file one of whose parts was refused
    return [p for p in kept if p.table.path not in bad_files], refused


def _universe_file(
    path: Path, universe: list[UniverseFile], unmatched: list[tuple[Path, str]]
) -> bool:
    """Read ``path`` into ``universe`` when it is a crypto-universe layout (True), else False.

    Auxiliary files (ranked ticker lists without market caps) are listed in ``unmatched``
    with the reason; a universe file that fails to parse raises (it is refused).
    """
    layout = sniff_universe_layout(path)
    if layout is None:
        return False
    f = read_universe_file(path, layout)
    if f.auxiliary is not None:
        unmatched.append((path, f.auxiliary))
    else:
        universe.append(f)
    return True


def _coin_file(table: ParsedTable, universe: list[UniverseFile]) -> bool:
    """A one-series price file of a coin outside the catalogue: kept as a coin's prices."""
    if len(table.parts) != 1 or is_excluded_coin(table.path.stem):
        return False
    coin = coin_from_ticker_file(table.path, table.parts[0].frame, table.format)
    if coin is None:
        return False
    universe.append(UniverseFile(table.path, f"{table.format}_coin", prices=coin))
    return True


def _read(
    files: list[tuple[Path, bool]],
    catalog: Catalog,
    forced: SeriesSpec | None,
    progress: Callable[[Path], None] | None,
    universe: list[UniverseFile],
) -> tuple[list[_Pending], dict[str, list[tuple[Path, str]]], list[tuple[Path, str, str]]]:
    pending: list[_Pending] = []
    out: dict[str, list[tuple[Path, str]]] = {"unmatched": [], "errors": [], "unsupported": []}
    columns: list[tuple[Path, str, str]] = []
    for path, explicit in files:
        if progress is not None:
            progress(path)
        try:
            if forced is None and _universe_file(path, universe, out["unmatched"]):
                continue
            table = read_table(path, catalog)
        except UnsupportedLayoutError as exc:
            out["errors" if explicit else "unsupported"].append((path, str(exc)))
            continue
        except LiqflowError as exc:
            out["errors"].append((path, str(exc)))
            continue
        columns.extend((path, col, why) for col, why in table.skipped if col != "*")
        found = []
        for part in table.parts:
            spec = forced or _match(table, part, catalog)
            if spec is not None and len(part.frame):
                frame = _fields(part.frame, spec)
                found.append(_Pending(table, part, spec, _source(table, part, spec), frame))
        if not found and forced is None and _coin_file(table, universe):
            continue
        if not found:
            whole = dict(table.skipped).get("*")
            reason = whole or (
                "no column names a catalogue series" if table.skipped else _unmatched_reason(path)
            )
            out["errors" if explicit else "unmatched"].append(
                (path, f"{path}: {reason}" if explicit else reason)
            )
            continue
        pending.extend(found)
    return pending, out, columns


def import_paths(
    store: Store,
    catalog: Catalog,
    paths: Sequence[str | Path],
    *,
    series_id: str | None = None,
    progress: Callable[[Path], None] | None = None,
) -> ImportReport:
    """Import data files (or folders of them) into ``store``.

    Each series a file holds is matched to a catalogue series by its content (a wide
    column's FRED id or alias, a layout that names its series) or by the file name (id,
    symbol or alias, or a run of its ``_``-separated words); ``series_id`` forces the
    series for every file given. A malformed file is refused whole and reported, and so
    is a file whose values disagree with another file of the same (series, source) on
    their overlap (see the module notes); the files accepted are written together in one
    transaction.
    """
    files = _csv_files(paths)
    if not files:
        raise DataError(f"no .csv or .json files found under {', '.join(str(p) for p in paths)}")
    forced = catalog[series_id] if series_id is not None else None
    universe: list[UniverseFile] = []
    pending, out, columns = _read(files, catalog, forced, progress, universe)
    pending, refused = _splice(pending)
    errors = out["errors"] + refused
    loaded: list[ImportedFile] = []
    if pending:
        batches = [
            Batch(
                p.spec.id,
                p.source,
                p.frame,
                p.spec.symbol,
                p.spec.unit,
                p.spec.frequency,
                str(p.table.path) + ("" if p.part.column == "*" else f" [{p.part.column}]"),
            )
            for p in pending
        ]
        results = store.write_each(batches)
        for p, added in zip(pending, results, strict=True):
            loaded.append(
                ImportedFile(
                    p.table.path,
                    p.spec.id,
                    p.source,
                    p.table.format,
                    len(p.frame),
                    added,
                    p.frame.index[0],
                    p.frame.index[-1],
                    p.part.column,
                )
            )
    notes = [(f.path, n) for f in universe for n in f.notes]
    if universe:
        from liqflow.universe_store import write_universe_files

        for w in write_universe_files(store, universe):
            loaded.append(
                ImportedFile(
                    w.path, w.series_id, w.source, w.layout, w.rows, w.added, w.first, w.last
                )
            )
    return ImportReport(
        tuple(loaded),
        tuple(out["unmatched"]),
        tuple(errors),
        tuple(out["unsupported"]),
        tuple(columns),
        tuple(notes),
    )
