"""FRED / ALFRED (Federal Reserve Bank of St. Louis) observations.

Two routes:

* with an API key (``$FRED_API_KEY``): the official web service
  ``GET https://api.stlouisfed.org/fred/series/observations`` with ``series_id``,
  ``api_key``, ``file_type=json``, ``observation_start``/``observation_end`` and, for
  ALFRED vintages, ``realtime_start``/``realtime_end=9999-12-31`` with ``output_type=1``
  (one row per observation and real-time period). ``realtime_start`` is the first
  observation date asked for (an observation cannot be published before its date, so no
  vintage of the requested observations is lost), or ``1776-07-04`` ("all vintages") for
  a full history. Results are paged with ``limit`` (at most 100000) and ``offset``;
  ``count`` gives the total. A missing value is ``"."``.
  Docs: https://fred.stlouisfed.org/docs/api/fred/series_observations.html
  and https://fred.stlouisfed.org/docs/api/fred/realtime_period.html

  ALFRED refuses a request spanning more than 2000 vintage dates (HTTP 400 "... exceeds
  the maximum number of vintage dates allowed (2000)"), which every daily series of more
  than about eight years does over its full history. So a full-history request of a daily
  series asks for the current values only; any other request refused that way (or for a
  series ALFRED does not carry) is repeated once without vintages, and the series is not
  asked for vintages again in this process. Since an incremental request starts its
  real-time period at its first observation date, it stays far below the cap.
  FRED allows 2 requests a second: requests are paced by :class:`RetryPolicy` ``pace``.
* without a key: the keyless graph download
  ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=ID&cosd=START&coed=END``,
  a two-column CSV whose header has been ``DATE,ID`` and is now ``observation_date,ID``;
  missing values are ``"."`` or empty. No vintages on this route.

The main frame holds the latest value per observation date (column ``value``); with a
key, the vintages ``date, realtime_start, value`` go to :attr:`Batch.vintages` so the
panel can be rebuilt as it was known at any past date.
"""

from __future__ import annotations

import datetime as dt
import io
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.catalog import SeriesSpec
from liqflow.config import fred_api_key
from liqflow.providers._http import (
    DEFAULT_POLICY,
    ProviderHTTPError,
    RetryPolicy,
    borrow_client,
    get,
    spec_batch,
)
from liqflow.store import Batch

__all__ = [
    "ALFRED_END",
    "ALFRED_START",
    "API_URL",
    "GRAPH_URL",
    "PAGE_LIMIT",
    "SOURCE",
    "FredQuery",
    "build_query",
    "extract",
    "fetch_spec",
    "host",
    "transform_csv",
    "transform_observations",
    "transform_vintages",
]

SOURCE = "fred"
API_URL = "https://api.stlouisfed.org/fred/series/observations"
GRAPH_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
ALFRED_START = "1776-07-04"  # earliest real-time date the API accepts: "all vintages"
ALFRED_END = "9999-12-31"
PAGE_LIMIT = 100_000  # the API's maximum ``limit``
_DATE_HEADERS = ("DATE", "observation_date", "date")
#: Per client (one per fetch run): series ALFRED refused vintages for (cap, not carried).
_NO_VINTAGES: weakref.WeakKeyDictionary[httpx.Client, set[str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class FredQuery:
    """One FRED request: the series, the observation range and the route.

    ``api_key`` None selects the keyless CSV route; ``vintages`` asks ALFRED for every
    real-time period (API route only).
    """

    series_id: str
    start: dt.date | None = None
    end: dt.date | None = None
    api_key: str | None = field(default=None, repr=False)
    vintages: bool = True

    @property
    def realtime_start(self) -> str:
        """First real-time date of a vintage request: the first observation date, or all."""
        return ALFRED_START if self.start is None else self.start.isoformat()

    @property
    def url(self) -> str:
        return API_URL if self.api_key else GRAPH_URL

    def params(self, offset: int = 0) -> dict[str, str]:
        """Query-string parameters of the request (page ``offset`` on the API route)."""
        if not self.api_key:
            out = {"id": self.series_id}
            if self.start is not None:
                out["cosd"] = self.start.isoformat()
            if self.end is not None:
                out["coed"] = self.end.isoformat()
            return out
        out = {"series_id": self.series_id, "api_key": self.api_key, "file_type": "json"}
        if self.start is not None:
            out["observation_start"] = self.start.isoformat()
        if self.end is not None:
            out["observation_end"] = self.end.isoformat()
        if self.vintages:
            out |= {
                "realtime_start": self.realtime_start,
                "realtime_end": ALFRED_END,
                "output_type": "1",
            }
        out |= {"limit": str(PAGE_LIMIT), "offset": str(offset)}
        return out


def host(spec: SeriesSpec | None = None) -> str:
    """The host the live route of ``spec`` talks to (depends on whether a key is set)."""
    return "api.stlouisfed.org" if fred_api_key() else "fred.stlouisfed.org"


def build_query(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    *,
    api_key: str | None = None,
    vintages: bool = True,
) -> FredQuery:
    """The request for ``spec`` between ``start`` and ``end`` (inclusive; None = open).

    Vintages are not asked for a full history of a daily series (beyond ALFRED's
    2000-vintage cap).
    """
    if start is None and spec.frequency == "D":
        vintages = False
    return FredQuery(
        spec.symbol,
        None if start is None else pd.Timestamp(start).date(),
        None if end is None else pd.Timestamp(end).date(),
        api_key=api_key or None,
        vintages=vintages,
    )


def extract(
    query: FredQuery,
    client: httpx.Client,
    *,
    series: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> dict[str, Any] | str:
    """Download the observations: the JSON document (all pages merged) or the CSV text.

    A series that ALFRED does not carry, or whose real-time period spans more than 2000
    vintage dates, answers the vintage request with HTTP 400; the request is then repeated
    once for the current vintage only, and the series is remembered by ``client`` (one
    per fetch run): it is not asked for vintages again with that client.
    """
    name = series or query.series_id
    if not query.api_key:
        return get(client, query.url, query.params(), series=name, policy=policy).text
    if query.series_id in _NO_VINTAGES.get(client, ()):
        query = replace(query, vintages=False)
    try:
        return _pages(query, client, name, policy)
    except ProviderHTTPError as exc:
        if query.vintages and exc.status == 400 and _about_vintages(str(exc)):
            _NO_VINTAGES.setdefault(client, set()).add(query.series_id)
            return _pages(replace(query, vintages=False), client, name, policy)
        raise


def _about_vintages(message: str) -> bool:
    """True for ALFRED's refusals of a vintage request (cap exceeded, series not in ALFRED)."""
    return "vintage" in message.lower() or "alfred" in message.lower()


def _pages(
    query: FredQuery, client: httpx.Client, name: str, policy: RetryPolicy
) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    observations: list[Any] = []
    while True:
        resp = get(client, query.url, query.params(len(observations)), series=name, policy=policy)
        try:
            page = resp.json()
        except ValueError:
            raise DataError(
                f"{name}: FRED answered with something that is not JSON: {resp.text[:120]!r}"
            ) from None
        if not isinstance(page, dict) or not isinstance(page.get("observations"), list):
            raise DataError(
                f"{name}: FRED JSON has no 'observations' list; keys: {sorted(page)[:10]}"
                if isinstance(page, dict)
                else f"{name}: FRED JSON is a {type(page).__name__}, expected an object"
            )
        doc = {k: v for k, v in page.items() if k != "observations"}
        observations.extend(page["observations"])
        count = int(page.get("count", len(observations)))
        if not page["observations"] or len(observations) >= count:
            break
    doc["observations"] = observations
    return doc


def _rows(payload: Mapping[str, Any]) -> pd.DataFrame:
    obs = payload.get("observations")
    if not isinstance(obs, list):
        raise DataError(
            f"FRED payload needs an 'observations' list, got keys {sorted(payload)[:10]}"
        )
    if not obs:
        return pd.DataFrame(
            {
                "date": pd.DatetimeIndex([]),
                "realtime_start": pd.DatetimeIndex([]),
                "value": np.array([], dtype=np.float64),
            }
        )
    raw = pd.DataFrame.from_records(obs)
    missing = {"date", "value", "realtime_start"} - set(raw.columns)
    if missing:
        raise DataError(f"FRED observations lack fields {sorted(missing)}; got {list(raw.columns)}")
    return pd.DataFrame(
        {
            "date": pd.to_datetime(raw["date"], format="%Y-%m-%d").astype("datetime64[ns]"),
            "realtime_start": pd.to_datetime(raw["realtime_start"], format="%Y-%m-%d").astype(
                "datetime64[ns]"
            ),
            # "." marks a missing value
            "value": pd.to_numeric(raw["value"].astype(str), errors="coerce").astype(np.float64),
        }
    )


def transform_observations(payload: Mapping[str, Any]) -> pd.DataFrame:
    """The latest value per observation date from a ``series/observations`` JSON document.

    With vintages in the payload, the row with the latest ``realtime_start`` per date wins
    (a date whose latest vintage is ``"."`` is missing).
    """
    rows = _rows(payload).sort_values(["date", "realtime_start"], kind="stable")
    latest = rows.drop_duplicates("date", keep="last").dropna(subset=["value"])
    out = pd.DataFrame(
        {"value": latest["value"].to_numpy(dtype=np.float64)},
        index=pd.DatetimeIndex(latest["date"], name="date"),
    )
    return out


def transform_vintages(
    payload: Mapping[str, Any], realtime_start: str = ALFRED_START
) -> pd.DataFrame | None:
    """ALFRED vintages ``date, realtime_start, value``, or None if the payload has none.

    A payload has vintages when its real-time period starts at ``realtime_start``, the
    start of the vintage request (a current-values payload starts today).
    """
    if payload.get("realtime_start") != realtime_start:
        return None
    rows = _rows(payload).dropna(subset=["value"])
    return rows.sort_values(["date", "realtime_start"], kind="stable").reset_index(drop=True)


def transform_csv(text: str, series_id: str | None = None) -> pd.DataFrame:
    """Frame ``value`` from a fredgraph CSV (``DATE,ID``, ``observation_date,ID`` or ``date,value``)."""
    label = series_id or "fredgraph.csv"
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{label}: FRED CSV cannot be parsed: {exc}") from None
    cols = [str(c).strip() for c in raw.columns]
    if len(cols) != 2 or cols[0] not in _DATE_HEADERS:
        raise DataError(
            f"{label}: FRED CSV header must be one of 'DATE,<ID>', 'observation_date,<ID>' or "
            f"'date,value', got {','.join(cols)[:80]!r}"
        )
    dates = pd.to_datetime(raw.iloc[:, 0].str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        bad = raw.iloc[:, 0][dates.isna()].iloc[0]
        raise DataError(f"{label}: FRED CSV has a date that is not YYYY-MM-DD: {bad!r}")
    # "." (old files) or an empty cell (current files) marks a missing value
    cells = raw.iloc[:, 1].str.strip()
    missing = cells.isin([".", ""])
    values = pd.to_numeric(cells.where(~missing, "nan"), errors="coerce")
    bad_values = values.isna() & ~missing
    if bad_values.any():
        raise DataError(
            f"{label}: FRED CSV has a value that is neither a number nor '.': "
            f"{cells[bad_values].iloc[0]!r}"
        )
    out = pd.DataFrame(
        {"value": values.to_numpy(dtype=np.float64)},
        index=pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date"),
    )
    out = out.dropna()
    return out[~out.index.duplicated(keep="last")].sort_index()


def fetch_spec(
    spec: SeriesSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None = None,
    client: httpx.Client | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    api_key: str | None = None,
) -> Batch:
    """Fetch ``spec`` from FRED between ``start`` and ``end`` as a :class:`Batch`.

    ``api_key`` defaults to ``$FRED_API_KEY``; without one the keyless CSV route is used.
    """
    key = api_key if api_key is not None else fred_api_key()
    query = build_query(spec, start, end, api_key=key)
    with borrow_client(client) as http:
        if query.series_id in _NO_VINTAGES.get(http, ()):
            query = replace(query, vintages=False)
        payload = extract(query, http, series=spec.id, policy=policy)
    if isinstance(payload, str):
        frame, vintages = transform_csv(payload, spec.symbol), None
        origin = f"{GRAPH_URL}?id={spec.symbol}"
    else:
        frame = transform_observations(payload)
        vintages = transform_vintages(payload, query.realtime_start) if query.vintages else None
        origin = f"{API_URL}?series_id={spec.symbol}" + (
            " (ALFRED vintages)" if vintages is not None else ""
        )
    return spec_batch(spec, SOURCE, frame, origin=origin, vintages=vintages)
