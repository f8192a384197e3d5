"""The splice of several files of one (series, source) in one import (see
:mod:`liqflow.importer`): ordered by reach, refused where they disagree, each date left to
the file that reaches further."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow.catalog import REVISED, SeriesSpec
from liqflow.providers.layouts import ParsedTable, Part

#: Relative tolerance of the splice check: files must agree up to their decimal formatting.
SPLICE_RTOL = 1e-9
#: Relative price tolerance for bars of 24-hour markets captured before the day ended.
SNAPSHOT_RTOL = 0.02
_SNAPSHOT_GROUPS = ("crypto", "alt")


@dataclass(frozen=True)
class _Pending:
    table: ParsedTable
    part: Part
    spec: SeriesSpec
    source: str
    frame: pd.DataFrame
    trimmed: bool = False  # dates left to a file of the same import that reaches further


def _common_dates(a: pd.Index, b: pd.Index) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """The dates of ``a`` also in ``b`` (unique dates each), in the order of ``a``, and
    their positions in ``a`` and in ``b``: ``a.intersection(b)`` without label lookups."""
    an = pd.DatetimeIndex(a).to_numpy(dtype="datetime64[ns]")
    bn = pd.DatetimeIndex(b).to_numpy(dtype="datetime64[ns]")
    _, ia, ib = np.intersect1d(an, bn, assume_unique=True, return_indices=True)
    order = np.argsort(ia, kind="stable")
    ia, ib = ia[order], ib[order]
    return pd.DatetimeIndex(an[ia]), ia, ib


def _disagreement(base: _Pending, new: _Pending) -> str | None:
    """Why ``new`` cannot be spliced onto ``base`` (same series and source), or None."""
    if new.spec.id in REVISED:
        return None
    snapshot = new.source == "yahoo" and new.spec.group in _SNAPSHOT_GROUPS
    rtol = SNAPSHOT_RTOL if snapshot else SPLICE_RTOL
    for fld in base.frame.columns.intersection(new.frame.columns):
        if snapshot and fld == "volume":
            continue
        a = base.frame[fld].dropna()
        b = new.frame[fld].dropna()
        if fld == "volume" and new.source == "yahoo":
            # a file's last bar may have been written during its session: volume so far
            a, b = a.iloc[:-1], b.iloc[:-1]
        common, ia, ib = _common_dates(a.index, b.index)
        if not len(common):
            continue
        av, bv = a.to_numpy(dtype=np.float64)[ia], b.to_numpy(dtype=np.float64)[ib]
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
                f"splice refused: {new.spec.id} ({new.source}) field {fld!r} disagrees on "
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
        kept.extend(_later_wins(accepted))
    bad_files = {path for path, _ in refused}
    # a file is refused whole: drop every part of a file one of whose parts was refused
    return [p for p in kept if p.table.path not in bad_files], refused


def _later_wins(members: list[_Pending]) -> list[_Pending]:
    """Members ordered by reach, each without the (date, field) values a later member holds.

    They agree on those values (within the snapshot tolerance, or they are vintages of a
    re-estimated series); the file reaching further is the one written for them, so the
    store's revision rule never sees the files of one import disagree.
    """
    out = []
    for k, p in enumerate(members):
        frame = p.frame
        later = [q for q in members[k + 1 :] if any(c in q.frame.columns for c in frame.columns)]
        if not later:  # nothing to leave to a later file (the last one, a lone file)
            out.append(p)
            continue
        values = frame.to_numpy(dtype=np.float64, copy=True)
        col_at = {c: j for j, c in enumerate(frame.columns)}
        for q in later:
            _, ia, ib = _common_dates(frame.index, q.frame.index)
            for c in (c for c in q.frame.columns if c in col_at):
                held = ~np.isnan(q.frame[c].to_numpy(dtype=np.float64)[ib])
                values[ia[held], col_at[c]] = np.nan
        keep = ~np.isnan(values).all(axis=1)
        trimmed = int((~np.isnan(values)).sum()) != int(p.frame.notna().to_numpy().sum())
        if trimmed:
            frame = pd.DataFrame(values[keep], index=frame.index[keep], columns=frame.columns)
        out.append(dataclasses.replace(p, frame=frame, trimmed=True) if trimmed else p)
    return out
