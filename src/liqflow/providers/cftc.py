"""CFTC Commitments of Traders: Traders in Financial Futures (futures only), keyless.

The CFTC Public Reporting Environment is a Socrata (SODA 2) service:
``GET https://publicreporting.cftc.gov/resource/gpe5-46if.json`` (dataset ``gpe5-46if``:
TFF, futures only) with ``$select``, ``$where`` (SoQL:
``cftc_contract_market_code='133741' AND report_date_as_yyyy_mm_dd >= '2024-01-02T00:00:00'``),
``$order``, ``$limit`` and ``$offset``. The answer is a JSON array of rows whose values are
strings; ``report_date_as_yyyy_mm_dd`` is a floating timestamp
(``2024-01-02T00:00:00.000``), the Tuesday the positions refer to (published the
following Friday, 3:30 pm ET). An error is a JSON object with ``message``. Pages of
:data:`PAGE_LIMIT` rows are requested until one comes back short.
Docs: https://publicreporting.cftc.gov/stories/s/r4w3-av2u and
https://dev.socrata.com/docs/queries/

The catalogue symbol is the CFTC contract market code (``133741``: BITCOIN - CHICAGO
MERCANTILE EXCHANGE, 5 bitcoin a contract). Fields (contracts): ``lev_long``/``lev_short``
(``lev_money_positions_long``/``_short``, leveraged funds), ``lev_net`` (their
difference), ``am_long``/``am_short`` (``asset_mgr_positions_long``/``_short``),
``dealer_long``/``dealer_short`` (``dealer_positions_long_all``/``_short_all``) and
``open_interest`` (``open_interest_all``). Only the dealer and open-interest columns carry
the ``_all`` suffix in this dataset.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.catalog import SeriesSpec
from liqflow.providers._http import (
    DEFAULT_POLICY,
    RetryPolicy,
    borrow_client,
    get_json,
    spec_batch,
)
from liqflow.store import Batch

__all__ = [
    "API_URL",
    "COLUMNS",
    "DATASET",
    "HOST",
    "PAGE_LIMIT",
    "SOURCE",
    "CftcQuery",
    "build_query",
    "extract",
    "fetch_spec",
    "host",
    "transform",
]

SOURCE = "cftc"
HOST = "publicreporting.cftc.gov"
DATASET = "gpe5-46if"  # Traders in Financial Futures, futures only
API_URL = f"https://{HOST}/resource/{DATASET}.json"
PAGE_LIMIT = 5000
_DATE = "report_date_as_yyyy_mm_dd"
#: liqflow field -> Socrata column of the TFF dataset.
COLUMNS: Mapping[str, str] = {
    "lev_long": "lev_money_positions_long",
    "lev_short": "lev_money_positions_short",
    "am_long": "asset_mgr_positions_long",
    "am_short": "asset_mgr_positions_short",
    "dealer_long": "dealer_positions_long_all",
    "dealer_short": "dealer_positions_short_all",
    "open_interest": "open_interest_all",
}


@dataclass(frozen=True)
class CftcQuery:
    """One SoQL query: contract market code and report-date range (inclusive)."""

    code: str
    start: dt.date | None = None
    end: dt.date | None = None
    limit: int = PAGE_LIMIT

    def params(self, offset: int = 0) -> dict[str, str]:
        """SODA parameters of the page starting at row ``offset``."""
        where = [f"cftc_contract_market_code='{self.code}'"]
        if self.start is not None:
            where.append(f"{_DATE} >= '{self.start.isoformat()}T00:00:00'")
        if self.end is not None:
            where.append(f"{_DATE} <= '{self.end.isoformat()}T00:00:00'")
        return {
            "$select": ",".join([_DATE, "cftc_contract_market_code", *COLUMNS.values()]),
            "$where": " AND ".join(where),
            "$order": f"{_DATE} ASC",
            "$limit": str(self.limit),
            "$offset": str(offset),
        }


def host(spec: SeriesSpec | None = None) -> str:
    """The CFTC public reporting host."""
    return HOST


def build_query(
    spec: SeriesSpec, start: pd.Timestamp | None, end: pd.Timestamp | None = None
) -> CftcQuery:
    """The query of contract ``spec.symbol`` between ``start`` and ``end``."""
    if not re.fullmatch(r"[0-9A-Z+]{6}", spec.symbol):
        raise ConfigError(
            f"series {spec.id!r}: cftc symbol must be a 6-character CFTC contract market "
            f"code such as '133741' (CME Bitcoin), got {spec.symbol!r}"
        )
    return CftcQuery(
        spec.symbol,
        None if start is None else pd.Timestamp(start).date(),
        None if end is None else pd.Timestamp(end).date(),
    )


def extract(
    query: CftcQuery,
    client: httpx.Client,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[dict[str, Any]]:
    """Every row of the query, paged by ``$offset`` until a short page."""
    name = series or query.code
    rows: list[dict[str, Any]] = []
    while True:
        page = get_json(
            client, API_URL, query.params(len(rows)), series=name, what="CFTC", policy=policy
        )
        if not isinstance(page, list):
            detail = page.get("message") if isinstance(page, dict) else type(page).__name__
            raise DataError(f"{name}: CFTC Socrata answer is not a list of rows: {detail!r}")
        rows.extend(page)
        if len(page) < query.limit:
            return rows


def transform(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Weekly positions (contracts) indexed by the report's Tuesday, plus ``lev_net``."""
    fields = ["lev_net", *COLUMNS]
    if not rows:
        return pd.DataFrame(
            {f: np.array([], dtype=np.float64) for f in fields},
            index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="date"),
        )
    raw = pd.DataFrame.from_records(list(rows))
    missing = {_DATE, *COLUMNS.values()} - set(raw.columns)
    if missing:
        raise DataError(f"CFTC rows lack columns {sorted(missing)}; got {list(raw.columns)}")
    dates = pd.to_datetime(raw[_DATE].astype(str).str[:10], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise DataError(f"CFTC {_DATE} is not a date: {raw[_DATE][dates.isna()].iloc[0]!r}")
    out = pd.DataFrame(
        {
            f: pd.to_numeric(raw[c], errors="coerce").to_numpy(dtype=np.float64)
            for f, c in COLUMNS.items()
        },
        index=pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date"),
    )
    out.insert(0, "lev_net", out["lev_long"] - out["lev_short"])
    out = out[~out.index.duplicated(keep="last")].sort_index()
    return out[fields]


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: httpx.Client | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Batch:
    """Fetch the TFF positions of contract ``spec.symbol`` (the fields ``spec`` lists)."""
    query = build_query(spec, start, end)
    with borrow_client(client) as http:
        rows = extract(query, http, series=spec.id, policy=policy)
    frame = transform(rows)
    keep = [f for f in spec.fields if f in frame.columns]
    return spec_batch(
        spec, SOURCE, frame[keep], origin=f"{API_URL} (TFF futures only, code {spec.symbol})"
    )
