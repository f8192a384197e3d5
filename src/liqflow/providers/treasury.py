"""U.S. Treasury Fiscal Data: the Daily Treasury Statement (DTS), keyless.

``GET https://api.fiscaldata.treasury.gov/services/api/fiscal_service/v1/accounting/dts/<table>``
with ``fields``, ``filter`` (``record_date:gte:2024-01-02,record_date:lte:...``,
``field:eq:value``), ``sort=record_date``, ``format=json``, ``page[number]`` (1-based)
and ``page[size]`` (at most 10000). The answer is ``{"data": [...], "meta": {"count",
"total-count", "total-pages", "labels", ...}, "links": {"self", "first", "prev", "next",
"last"}}``; every value is a string, ``"null"`` when missing; amounts are in USD millions.
Pages are followed until ``links.next`` is null or ``meta.total-pages`` is reached.
Docs: https://fiscaldata.treasury.gov/api-documentation/ and
https://fiscaldata.treasury.gov/datasets/daily-treasury-statement/

Catalogue symbols (``<table>`` or ``<table>:<measure>``):

* ``operating_cash_balance``: the Treasury General Account closing balance. The DTS
  changed format twice: to 2021-09-30 it is the ``Federal Reserve Account`` row's
  ``close_today_bal``; 2021-10-01 to 2022-04-14 the ``Treasury General Account (TGA)``
  row's ``close_today_bal``; from 2022-04-18 the ``Treasury General Account (TGA) Closing
  Balance`` row, whose value sits in ``open_today_bal`` (``close_today_bal`` is null).
* ``deposits_withdrawals_operating_cash:deposits`` / ``:withdrawals``: the day's total
  deposits or withdrawals, the sum of its Table II category rows (``transaction_today_amt``
  of ``transaction_type`` Deposits or Withdrawals; sub-total and total rows excluded, so
  nothing is counted twice).
* ``deposits_withdrawals_operating_cash:individual_tax_refunds``: the withdrawals of
  category ``Taxes - Individual Tax Refunds (EFT)`` and ``(Checks)`` (until 2012
  ``IRS Tax Refunds Individual (EFT)``), summed per day.
"""

from __future__ import annotations

import datetime as dt
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
    "HOST",
    "PAGE_SIZE",
    "SOURCE",
    "SYMBOLS",
    "TAX_REFUND_CATEGORIES",
    "TGA_ACCOUNTS",
    "TreasuryQuery",
    "build_query",
    "extract",
    "fetch_spec",
    "host",
    "transform",
]

SOURCE = "treasury"
HOST = "api.fiscaldata.treasury.gov"
API_URL = f"https://{HOST}/services/api/fiscal_service/v1/accounting/dts/{{table}}"
PAGE_SIZE = 10_000  # the API's maximum page[size]
_OCB = "operating_cash_balance"
_DW = "deposits_withdrawals_operating_cash"
SYMBOLS = (
    _OCB,
    f"{_DW}:deposits",
    f"{_DW}:withdrawals",
    f"{_DW}:individual_tax_refunds",
)
#: account_type -> the field holding the TGA closing balance, by DTS format.
TGA_ACCOUNTS: Mapping[str, str] = {
    "Federal Reserve Account": "close_today_bal",
    "Treasury General Account (TGA)": "close_today_bal",
    "Treasury General Account (TGA) Closing Balance": "open_today_bal",
}
TAX_REFUND_CATEGORIES = (
    "Taxes - Individual Tax Refunds (EFT)",
    "Taxes - Individual Tax Refunds (Checks)",
    "IRS Tax Refunds Individual (EFT)",
)
_TYPES = {
    "deposits": "Deposits",
    "withdrawals": "Withdrawals",
    "individual_tax_refunds": "Withdrawals",
}


@dataclass(frozen=True)
class TreasuryQuery:
    """One DTS table request: table, measure and the record-date range (inclusive)."""

    table: str
    measure: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    page_size: int = PAGE_SIZE

    @property
    def url(self) -> str:
        return API_URL.format(table=self.table)

    def params(self, page: int = 1) -> dict[str, str]:
        """Query-string parameters of page ``page`` (1-based)."""
        if self.table == _OCB:
            fields = "record_date,account_type,close_today_bal,open_today_bal"
        else:
            fields = (
                "record_date,account_type,transaction_type,transaction_catg,transaction_today_amt"
            )
        filters = []
        if self.start is not None:
            filters.append(f"record_date:gte:{self.start.isoformat()}")
        if self.end is not None:
            filters.append(f"record_date:lte:{self.end.isoformat()}")
        if self.measure is not None:
            filters.append(f"transaction_type:eq:{_TYPES[self.measure]}")
        out = {"fields": fields, "sort": "record_date", "format": "json"}
        if filters:
            out["filter"] = ",".join(filters)
        out["page[number]"] = str(page)
        out["page[size]"] = str(self.page_size)
        return out


def host(spec: SeriesSpec | None = None) -> str:
    """The Fiscal Data API host."""
    return HOST


def build_query(
    spec: SeriesSpec, start: pd.Timestamp | None, end: pd.Timestamp | None = None
) -> TreasuryQuery:
    """The request of ``spec`` (symbol one of :data:`SYMBOLS`) between ``start`` and ``end``."""
    if spec.symbol not in SYMBOLS:
        raise ConfigError(
            f"series {spec.id!r}: treasury symbol must be one of {SYMBOLS}, got {spec.symbol!r}"
        )
    table, _, measure = spec.symbol.partition(":")
    return TreasuryQuery(
        table,
        measure or None,
        None if start is None else pd.Timestamp(start).date(),
        None if end is None else pd.Timestamp(end).date(),
    )


def extract(
    query: TreasuryQuery,
    client: httpx.Client,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[dict[str, Any]]:
    """Every ``data`` row of the query, all pages followed."""
    name = series or query.table
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        doc = get_json(
            client, query.url, query.params(page), series=name, what="Fiscal Data", policy=policy
        )
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            keys = sorted(doc)[:10] if isinstance(doc, dict) else type(doc).__name__
            raise DataError(f"{name}: Fiscal Data JSON needs a 'data' list, got {keys}")
        rows.extend(doc["data"])
        meta = doc.get("meta")
        links = doc.get("links")
        pages = int(meta.get("total-pages") or 1) if isinstance(meta, dict) else 1
        more = bool(links.get("next")) if isinstance(links, dict) else page < pages
        if not doc["data"] or page >= pages or not more:
            return rows
        page += 1


def _amounts(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.replace(",", "", regex=False)
    out = pd.to_numeric(text.where(~text.isin(["null", "", "None", "nan"])), errors="coerce")
    bad = out.isna() & ~text.isin(["null", "", "None", "nan"])
    if bad.any():
        raise DataError(f"Fiscal Data amount is not a number: {values[bad].iloc[0]!r}")
    return out.to_numpy(dtype=np.float64)


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(
        {name: np.array([], dtype=np.float64)},
        index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="date"),
    )


def transform(rows: Sequence[Mapping[str, Any]], symbol: str, field: str = "value") -> pd.DataFrame:
    """Daily frame with one column ``field`` from the ``data`` rows of ``symbol``'s table."""
    if not rows:
        return _empty(field)
    raw = pd.DataFrame.from_records(list(rows))
    need = {"record_date", "account_type"} | (
        {"close_today_bal", "open_today_bal"}
        if symbol == _OCB
        else {"transaction_type", "transaction_catg", "transaction_today_amt"}
    )
    missing = need - set(raw.columns)
    if missing:
        raise DataError(f"Fiscal Data rows lack fields {sorted(missing)}; got {list(raw.columns)}")
    dates = pd.to_datetime(raw["record_date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        bad = raw["record_date"][dates.isna()].iloc[0]
        raise DataError(f"Fiscal Data record_date is not YYYY-MM-DD: {bad!r}")
    raw["date"] = dates.astype("datetime64[ns]")
    if symbol == _OCB:
        picked = raw[raw["account_type"].isin(list(TGA_ACCOUNTS))]
        col = picked["account_type"].map(TGA_ACCOUNTS)
        values = np.where(
            col == "open_today_bal",
            _amounts(picked["open_today_bal"]),
            _amounts(picked["close_today_bal"]),
        )
        s = pd.Series(values, index=pd.DatetimeIndex(picked["date"], name="date"))
        s = s.dropna().groupby(level="date").last()
    else:
        measure = symbol.partition(":")[2]
        typ = raw["transaction_type"].astype(str)
        catg = raw["transaction_catg"].astype(str).str.strip()
        keep = typ.eq(_TYPES[measure])
        if measure == "individual_tax_refunds":
            keep &= catg.isin(list(TAX_REFUND_CATEGORIES))
        else:
            total = catg.str.lower().str.startswith(("sub-total", "total", "null"))
            keep &= ~total & ~raw["account_type"].astype(str).str.contains("Total")
        picked = raw[keep]
        amounts = pd.Series(
            _amounts(picked["transaction_today_amt"]),
            index=pd.DatetimeIndex(picked["date"], name="date"),
        )
        s = amounts.groupby(level="date").sum(min_count=1).dropna()
    out = pd.DataFrame({field: s.to_numpy(dtype=np.float64)}, index=pd.DatetimeIndex(s.index))
    out.index = out.index.astype("datetime64[ns]").rename("date")
    return out.sort_index()


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: httpx.Client | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Batch:
    """Fetch the DTS series ``spec`` (USD millions, one value per statement day)."""
    query = build_query(spec, start, end)
    with borrow_client(client) as http:
        rows = extract(query, http, series=spec.id, policy=policy)
    frame = transform(rows, spec.symbol, spec.primary_field)
    return spec_batch(spec, SOURCE, frame, origin=f"{query.url} ({spec.symbol})")
