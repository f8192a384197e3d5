"""What ``liqflow import`` reports: the series loaded from each file, and the files not loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: What a folder scan says of a file whose layout liqflow cannot read yet.
NOT_SUPPORTED_YET = "not imported (layout not supported yet)"


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
    revised: int = 0
    unchanged: bool = False


_REVISION_COLUMNS = ["series_id", "source", "field", "date", "old_value", "new_value", "origin"]


@dataclass(frozen=True)
class ImportReport:
    """What an import loaded, what it could not match, could not read yet, and refused.

    ``unsupported`` lists the files a folder scan found whose layout liqflow does not
    read yet (with the detail of why); they do not make the import fail. ``errors``
    lists the files refused: a file that matched a layout and failed to parse or a check,
    a splice that disagrees, or a file named explicitly that liqflow cannot read.
    ``columns`` lists, per file, the columns it holds that name no catalogue series (not
    an error). ``revisions`` lists the values that differed from the stored ones;
    ``revisions_applied`` says whether they became current (``--revise``) or the stored
    values were kept.
    """

    loaded: tuple[ImportedFile, ...]
    unmatched: tuple[tuple[Path, str], ...]
    errors: tuple[tuple[Path, str], ...]
    unsupported: tuple[tuple[Path, str], ...] = ()
    columns: tuple[tuple[Path, str, str], ...] = ()
    notes: tuple[tuple[Path, str], ...] = ()
    revisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REVISION_COLUMNS))
    revisions_applied: bool = False

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
                    f.revised,
                    f.unchanged,
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
                "revised",
                "unchanged",
                "first",
                "last",
            ],
        )

    def summary(self) -> str:
        added = sum(f.added for f in self.loaded)
        series = len({f.series_id for f in self.loaded})
        files = len({f.path for f in self.loaded})
        n_rev = len(self.revisions)
        revised = f"{n_rev if self.revisions_applied else 0} revised"
        if n_rev and not self.revisions_applied:
            revised += f", {n_rev} differing values kept as stored (--revise applies them)"
        unchanged = len({f.path for f in self.loaded if f.unchanged})
        skipped = f" ({unchanged} unchanged since the last import)" if unchanged else ""
        return (
            f"{files} files{skipped} -> {series} series, {added} new rows, {revised}; "
            f"{len(self.unmatched)} unmatched, {len(self.unsupported)} {NOT_SUPPORTED_YET}, "
            f"{len(self.errors)} refused"
        )
