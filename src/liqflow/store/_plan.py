"""Incoming batches as numeric long columns, and what to do with each row of them.

A write decides, against the stored values, which rows are new keys, which revise a
stored value and which equal it; several batches of one write fold in write order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow.store._schema import SAME_VALUE_RTOL, Batch, RevisionPolicy


@dataclass(frozen=True)
class _Staged:
    """Incoming observations as numeric columns (no object dtype), one row per value."""

    groups: pd.DataFrame  # g, series_id, source
    fields: pd.DataFrame  # f, field
    g: np.ndarray  # int32 group of (series, source)
    f: np.ndarray  # int16 field code
    day: np.ndarray  # int32 days since 1970-01-01
    value: np.ndarray  # float64
    batch: np.ndarray  # int32 batch number (write order)
    multi: np.ndarray  # bool per group: rows of that group may share keys


def _days(index: pd.Index) -> np.ndarray:
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.to_numpy(dtype="datetime64[D]").astype(np.int32)


def _stage(batches: Sequence[Batch]) -> _Staged:
    group_codes: dict[tuple[str, str], int] = {}
    field_codes: dict[str, int] = {}
    parts: list[tuple[np.ndarray, ...]] = []
    shared: set[int] = set()
    for k, b in enumerate(batches):
        key = (b.series_id, b.source)
        if key in group_codes or not b.frame.index.is_unique:
            shared.add(group_codes.get(key, len(group_codes)))
        gk = group_codes.setdefault(key, len(group_codes))
        if not len(b.frame.columns):
            continue
        # the frame's columns one after the other (its values column-major), as one array
        values = b.frame.to_numpy(dtype=np.float64).T.ravel()
        ok = np.isfinite(values)
        per_col = ok.reshape(len(b.frame.columns), -1).sum(axis=1)
        codes = [
            field_codes.setdefault(str(col), len(field_codes)) if n else -1
            for col, n in zip(b.frame.columns, per_col.tolist(), strict=True)
        ]
        n = int(per_col.sum())
        if n == 0:
            continue
        days = np.tile(_days(b.frame.index), len(codes))[ok]
        parts.append(
            (
                np.full(n, gk, np.int32),
                np.repeat(np.asarray(codes, dtype=np.int16), per_col),
                days,
                values[ok],
                np.full(n, k, np.int32),
            )
        )
    cols = (
        [np.concatenate([p[i] for p in parts]) for i in range(5)]
        if parts
        else [np.empty(0, t) for t in (np.int32, np.int16, np.int32, np.float64, np.int32)]
    )
    groups = pd.DataFrame(
        {
            "g": np.arange(len(group_codes), dtype=np.int32),
            "series_id": [s for s, _ in group_codes],
            "source": [s for _, s in group_codes],
        }
    )
    fields = pd.DataFrame(
        {"f": np.arange(len(field_codes), dtype=np.int16), "field": list(field_codes)}
    )
    multi = np.zeros(len(group_codes), dtype=bool)
    multi[list(shared)] = True
    g, f, day, value, batch = cols
    return _Staged(groups, fields, g, f, day, value, batch, multi)


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: a and b differ by more than :data:`SAME_VALUE_RTOL` (relative)."""
    return np.abs(a - b) > SAME_VALUE_RTOL * np.maximum(np.abs(a), np.abs(b))


@dataclass(frozen=True)
class _Plan:
    """What to do with each staged row, decided against the stored values."""

    insert: np.ndarray  # rows to insert (new keys), one per key, carrying the final value
    insert_batch: np.ndarray  # batch that first brought each inserted key
    update: np.ndarray  # rows whose value replaces the stored one
    rev_rows: np.ndarray  # rows that differ from the value current before them
    rev_old: np.ndarray  # that current value


def _plan(s: _Staged, stored: np.ndarray, policy: RevisionPolicy) -> _Plan:
    """Decide inserts, updates and revisions; ``stored`` is NaN where the key is new.

    Rows of one key are taken in batch order, as if each batch were written alone. Only
    the rows of (series, source) pairs that several batches bring (or a batch brings
    twice) need sorting; every other row is its own key.
    """
    multi = s.multi[s.g]
    one = np.flatnonzero(~multi)
    base = stored[one]
    new_key = np.isnan(base)
    differs = np.zeros(len(one), dtype=bool)
    differs[~new_key] = _differs(s.value[one][~new_key], base[~new_key])
    plan = _Plan(
        insert=one[new_key],
        insert_batch=s.batch[one[new_key]],
        update=one[differs] if policy == "apply" else one[:0],
        rev_rows=one[differs],
        rev_old=base[differs],
    )
    if not multi.any():
        return plan
    sub = np.flatnonzero(multi)
    folded = _plan_sorted(
        s.g[sub], s.f[sub], s.day[sub], s.value[sub], s.batch[sub], stored[sub], policy
    )
    return _Plan(
        insert=np.concatenate([plan.insert, sub[folded.insert]]),
        insert_batch=np.concatenate([plan.insert_batch, folded.insert_batch]),
        update=np.concatenate([plan.update, sub[folded.update]]),
        rev_rows=np.concatenate([plan.rev_rows, sub[folded.rev_rows]]),
        rev_old=np.concatenate([plan.rev_old, folded.rev_old]),
    )


def _plan_sorted(
    g: np.ndarray,
    f: np.ndarray,
    day: np.ndarray,
    value: np.ndarray,
    batch: np.ndarray,
    stored: np.ndarray,
    policy: RevisionPolicy,
) -> _Plan:
    """:func:`_plan` for rows that may share keys: sort by key then batch, fold runs."""
    n = len(value)
    order = np.lexsort((batch, day, f, g))
    gs, fs, ds = g[order], f[order], day[order]
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = (gs[1:] == gs[:-1]) & (fs[1:] == fs[:-1]) & (ds[1:] == ds[:-1])
    start = np.flatnonzero(~same)  # first row (sorted position) of each key
    run = np.cumsum(~same) - 1  # key number of each sorted position
    value = value[order]
    base = stored[order][start]  # stored value of each key (NaN: new)
    if policy == "apply":
        before = np.empty(n)
        before[~same] = base
        before[1:][same[1:]] = value[:-1][same[1:]]
        final_pos = np.append(start[1:], n) - 1  # the last row of each key wins
        final = value[final_pos]
    else:
        final = np.where(np.isnan(base), value[start], base)  # the first value stays
        before = final[run]
        before[start] = base
        final_pos = start
    has_before = ~np.isnan(before)
    rev = np.zeros(n, dtype=bool)
    rev[has_before] = _differs(value[has_before], before[has_before])
    new_key = np.isnan(base)
    changed = ~new_key
    changed[changed] = _differs(final[changed], base[changed])
    return _Plan(
        insert=order[final_pos[new_key]],
        insert_batch=batch[order[start[new_key]]],
        update=order[final_pos[changed]],
        rev_rows=order[rev],
        rev_old=before[rev],
    )
