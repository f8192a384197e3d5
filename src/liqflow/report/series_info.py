"""The report's table of series: what the panel held on its last day, per series."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from liqflow.catalog import Catalog
from liqflow.report.results import SeriesInfo
from liqflow.sessions import trading_days

__all__ = ["series_table"]


def series_table(
    panel: pd.DataFrame,
    catalog: Catalog,
    stored_sources: dict[str, list[str]],
    stored_range: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]] | None = None,
) -> tuple[SeriesInfo, ...]:
    """One :class:`SeriesInfo` per catalogue series present in the panel.

    Counts and dates are taken from the panel, so they are what was public on its last
    day (release lags applied), not what the store holds today; ``stored_range`` (first
    and last stored observation per series) is the store's snapshot beside them.
    """
    ranges = stored_range or {}
    if panel.empty:
        return ()
    as_of = panel.index[-1]
    rows = []
    for sid, spec in catalog.items():
        if sid not in panel.columns or not panel[sid].notna().any():
            continue
        held = stored_sources.get(sid, [])
        source = next((s for s in spec.sources if s in held), held[0] if held else "")
        days = trading_days(panel, sid)
        first = pd.Timestamp(panel.index[int(np.argmax(panel[sid].notna().to_numpy()))])
        last = pd.Timestamp(days[-1]) if len(days) else None
        rows.append(
            SeriesInfo(
                id=sid,
                description=spec.description,
                group=spec.group,
                source=source,
                symbol=spec.symbol,
                unit=spec.unit,
                frequency=spec.frequency,
                release_lag=spec.release_lag,
                first=first,
                last_update=last,
                updates=len(days),
                stale_days=None if last is None else int((as_of - last).days),
                stored_first=ranges[sid][0] if sid in ranges else None,
                stored_last=ranges[sid][1] if sid in ranges else None,
            )
        )
    return tuple(rows)
