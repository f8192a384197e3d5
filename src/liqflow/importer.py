"""``liqflow import``: local CSV files into the store, matched to catalogue series."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from liqflow._errors import DataError, LiqflowError, UnsupportedLayoutError
from liqflow.catalog import Catalog, SeriesSpec, is_excluded_coin
from liqflow.providers.csv import ParsedFile, read_csv_file
from liqflow.providers.universe_files import (
    UniverseFile,
    coin_from_ticker_file,
    read_universe_file,
    sniff_universe_layout,
)
from liqflow.store import Batch, Store

__all__ = ["NOT_SUPPORTED_YET", "ImportReport", "ImportedFile", "import_paths"]

#: What a folder scan says of a file whose layout liqflow cannot read yet.
NOT_SUPPORTED_YET = "not imported (layout not supported yet)"
#: File kinds a folder scan looks at; other files (READMEs, notebooks) are not data.
SCANNED_SUFFIXES = (".csv", ".json", ".jsonl")


@dataclass(frozen=True)
class ImportedFile:
    """One file loaded into the store."""

    path: Path
    series_id: str
    source: str
    format: str
    rows: int
    added: int
    first: pd.Timestamp
    last: pd.Timestamp


@dataclass(frozen=True)
class ImportReport:
    """What an import loaded, what it could not match, could not read yet, and refused.

    ``unsupported`` lists the files a folder scan found whose layout liqflow does not
    read yet (with the detail of why); they do not make the import fail. ``errors``
    lists the files refused: a file that matched a layout and failed to parse, or a
    file named explicitly that liqflow cannot read.
    """

    loaded: tuple[ImportedFile, ...]
    unmatched: tuple[tuple[Path, str], ...]
    errors: tuple[tuple[Path, str], ...]
    unsupported: tuple[tuple[Path, str], ...] = ()
    notes: tuple[tuple[Path, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                (str(f.path), f.series_id, f.source, f.format, f.rows, f.added, f.first, f.last)
                for f in self.loaded
            ],
            columns=["path", "series_id", "source", "format", "rows", "added", "first", "last"],
        )

    def summary(self) -> str:
        added = sum(f.added for f in self.loaded)
        series = len({f.series_id for f in self.loaded})
        return (
            f"{len(self.loaded)} files -> {series} series, {added} new rows; "
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


def _match(parsed: ParsedFile, catalog: Catalog) -> SeriesSpec | None:
    spec = catalog.match_file(parsed.path.stem)
    if spec is None and parsed.series_hint:
        spec = catalog.match_file(parsed.series_hint)
    return spec


def _fields(parsed: ParsedFile, spec: SeriesSpec) -> pd.DataFrame:
    frame = parsed.frame
    if list(frame.columns) == ["value"] and spec.primary_field != "value":
        frame = frame.rename(columns={"value": spec.primary_field})
    return frame


def import_paths(
    store: Store,
    catalog: Catalog,
    paths: Sequence[str | Path],
    *,
    series_id: str | None = None,
    progress: Callable[[Path], None] | None = None,
) -> ImportReport:
    """Import CSV files (or folders of them) into ``store``.

    Each file is matched to a catalogue series by its name (id, symbol or alias) or, for
    FRED ``DATE,<ID>`` files, by the id in its header; ``series_id`` forces the series
    for every file given. A malformed file is refused whole and reported; the files that
    parse are written together in one transaction.
    """
    files = _csv_files(paths)
    if not files:
        raise DataError(f"no .csv or .json files found under {', '.join(str(p) for p in paths)}")
    forced = catalog[series_id] if series_id is not None else None
    batches: list[Batch] = []
    matched: list[tuple[ParsedFile, SeriesSpec, str]] = []
    unmatched: list[tuple[Path, str]] = []
    errors: list[tuple[Path, str]] = []
    unsupported: list[tuple[Path, str]] = []
    universe: list[UniverseFile] = []
    for path, explicit in files:
        if progress is not None:
            progress(path)
        try:
            if forced is None and _universe_file(path, universe, unmatched):
                continue
            if path.suffix.lower() != ".csv":
                raise UnsupportedLayoutError(
                    f"{path}: {path.suffix} files are not a layout liqflow imports yet; "
                    "expected a .csv file"
                )
            parsed = read_csv_file(path)
        except UnsupportedLayoutError as exc:
            (errors if explicit else unsupported).append((path, str(exc)))
            continue
        except LiqflowError as exc:
            errors.append((path, str(exc)))
            continue
        spec = forced or _match(parsed, catalog)
        coin = None if spec else coin_from_ticker_file(path, parsed.frame, parsed.format)
        if coin is not None and not is_excluded_coin(path.stem):
            universe.append(UniverseFile(path, f"{parsed.format}_coin", prices=coin))
            continue
        if spec is None:
            reason = (
                "stablecoin or wrapped token: excluded by rule"
                if is_excluded_coin(path.stem)
                else f"no catalogue series named {path.stem!r} (use --series ID, or add it with --catalog FILE.toml)"
            )
            (errors if explicit else unmatched).append(
                (path, reason if not explicit else f"{path}: {reason}")
            )
            continue
        source = parsed.source or spec.sources[0]
        frame = _fields(parsed, spec)
        batches.append(
            Batch(spec.id, source, frame, spec.symbol, spec.unit, spec.frequency, str(path))
        )
        matched.append((parsed, spec, source))
    loaded: list[ImportedFile] = []
    if batches:
        results = store.write_each(batches)
        for (parsed, spec, source), added in zip(matched, results, strict=True):
            loaded.append(
                ImportedFile(
                    parsed.path,
                    spec.id,
                    source,
                    parsed.format,
                    len(parsed.frame),
                    added,
                    parsed.frame.index[0],
                    parsed.frame.index[-1],
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
        tuple(loaded), tuple(unmatched), tuple(errors), tuple(unsupported), tuple(notes)
    )


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
