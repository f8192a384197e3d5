"""FRED / ALFRED provider on recorded payloads (fixtures/fred_*.json, fredgraph_*.csv)."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.catalog import default_catalog
from liqflow.providers import fred
from liqflow.providers._http import RetryPolicy

SPEC = default_catalog()["fed_assets"]  # WALCL, weekly
DGS10 = default_catalog()["ust10y"]


def _policy(clock) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, rand=lambda: 0.0)


def test_build_query_api_params_with_vintages():
    q = fred.build_query(
        SPEC, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), api_key="k" * 32
    )
    assert q.url == "https://api.stlouisfed.org/fred/series/observations"
    assert q.params() == {
        "series_id": "WALCL",
        "api_key": "k" * 32,
        "file_type": "json",
        "observation_start": "2024-01-01",
        "observation_end": "2024-02-01",
        "realtime_start": "2024-01-01",  # the vintages of the requested observations only
        "realtime_end": "9999-12-31",
        "output_type": "1",
        "limit": "100000",
        "offset": "0",
    }
    assert "k" * 32 not in repr(q)  # the key never reaches logs


def test_build_query_keyless_csv_params():
    q = fred.build_query(SPEC, pd.Timestamp("2024-01-01"), None, api_key=None)
    assert q.url == "https://fred.stlouisfed.org/graph/fredgraph.csv"
    assert q.params() == {"id": "WALCL", "cosd": "2024-01-01"}
    assert fred.build_query(SPEC, None).params() == {"id": "WALCL"}


def test_transform_observations(load_json):
    out = fred.transform_observations(load_json("fred_walcl_observations.json"))
    assert out.index.name == "date"
    assert list(out.columns) == ["value"]
    assert out["value"].dtype == np.float64
    assert out.index.tolist() == list(
        pd.to_datetime(["2024-01-03", "2024-01-10", "2024-01-17", "2024-01-24"])
    )
    assert out.loc["2024-01-03", "value"] == 7681024.0
    assert fred.transform_vintages(load_json("fred_walcl_observations.json")) is None


def test_transform_vintages_and_latest_value(load_json):
    payload = load_json("fred_vintages.json")
    latest = fred.transform_observations(payload)
    # 2024-01-03 was revised from 7681100 to 7681024; 2024-01-17's latest vintage is "."
    assert latest["value"].to_dict() == {
        pd.Timestamp("2024-01-03"): 7681024.0,
        pd.Timestamp("2024-01-10"): 7686710.0,
        pd.Timestamp("2024-01-24"): 7677230.0,
    }
    vint = fred.transform_vintages(payload)
    assert vint is not None
    assert list(vint.columns) == ["date", "realtime_start", "value"]
    first = vint[vint["date"] == "2024-01-03"]
    assert first["realtime_start"].tolist() == list(pd.to_datetime(["2024-01-04", "2024-01-11"]))
    assert first["value"].tolist() == [7681100.0, 7681024.0]
    assert len(vint) == 5  # the "." vintage is not a value


@pytest.mark.parametrize("name", ["fredgraph_DATE.csv", "fredgraph_observation_date.csv"])
def test_transform_csv_both_headers(load_text, name):
    out = fred.transform_csv(load_text(name), "DGS10")
    assert out.index.name == "date"
    assert out.index.tolist() == list(pd.date_range("2024-01-02", "2024-01-05"))
    assert out["value"].tolist() == [3.95, 3.91, 3.99, 4.05]  # 2024-01-01 ('.' / empty) dropped


def test_transform_csv_date_value_header():
    out = fred.transform_csv("date,value\n2024-01-02,3.95\n2024-01-03,.\n")
    assert out["value"].tolist() == [3.95]


def test_transform_csv_rejects_html_and_bad_values():
    with pytest.raises(
        DataError, match=r"DGS10: FRED CSV header must be one of .*got '<!DOCTYPE html>'"
    ):
        fred.transform_csv("<!DOCTYPE html>\n<html></html>\n", "DGS10")
    with pytest.raises(
        DataError, match=r"FRED CSV has a value that is neither a number nor '\.': 'n/a'"
    ):
        fred.transform_csv("DATE,DGS10\n2024-01-02,n/a\n", "DGS10")
    with pytest.raises(
        DataError, match=r"FRED CSV has a date that is not YYYY-MM-DD: '02/01/2024'"
    ):
        fred.transform_csv("DATE,DGS10\n02/01/2024,3.9\n", "DGS10")


def test_transform_observations_rejects_other_json():
    with pytest.raises(
        DataError, match=r"FRED payload needs an 'observations' list, got keys \['error_code'\]"
    ):
        fred.transform_observations({"error_code": 400})


def test_fetch_spec_api_route_pages_and_vintages(load_json, fake_clock):
    """Two pages (count > page) are merged; the batch carries vintages and the latest values."""
    doc = load_json("fred_vintages.json")
    pages = {0: doc["observations"][:4], 4: doc["observations"][4:]}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        offset = int(request.url.params["offset"])
        body = {k: v for k, v in doc.items() if k != "observations"} | {
            "offset": offset,
            "observations": pages[offset],
            "realtime_start": request.url.params["realtime_start"],  # FRED echoes it
        }
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    batch = fred.fetch_spec(
        SPEC, pd.Timestamp("2024-01-01"), None, client, policy=_policy(fake_clock), api_key="x" * 32
    )
    assert [p["offset"] for p in seen] == ["0", "4"]
    assert seen[0]["realtime_start"] == "2024-01-01"
    assert seen[0]["observation_start"] == "2024-01-01"
    assert batch.source == "fred" and batch.series_id == "fed_assets"
    assert batch.frame["value"].tolist() == [7681024.0, 7686710.0, 7677230.0]
    assert batch.vintages is not None and len(batch.vintages) == 5
    assert "ALFRED" in batch.origin


def test_fetch_spec_falls_back_when_alfred_has_no_vintages(load_json, fake_clock):
    current = load_json("fred_walcl_observations.json")
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        if "realtime_start" in request.url.params:
            return httpx.Response(
                400,
                json={
                    "error_code": 400,
                    "error_message": "Bad Request. The series does not exist in ALFRED but may exist in FRED.",
                },
            )
        return httpx.Response(200, json=current)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    batch = fred.fetch_spec(SPEC, None, None, client, policy=_policy(fake_clock), api_key="x" * 32)
    assert len(seen) == 2
    assert batch.vintages is None
    assert len(batch.frame) == 4


def test_fetch_spec_keyless_csv_route(load_text, fake_clock, monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, text=load_text("fredgraph_observation_date.csv"))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    batch = fred.fetch_spec(
        DGS10,
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-05"),
        client,
        policy=_policy(fake_clock),
    )
    assert seen[0].host == "fred.stlouisfed.org"
    assert dict(seen[0].params) == {"id": "DGS10", "cosd": "2024-01-01", "coed": "2024-01-05"}
    assert batch.vintages is None
    assert batch.frame["value"].tolist() == [3.95, 3.91, 3.99, 4.05]
    assert fred.host() == "fred.stlouisfed.org"


def test_fetch_spec_rejects_non_json(fake_clock):
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
    )
    with pytest.raises(
        DataError, match=r"fed_assets: FRED answered with something that is not JSON: '<html>'"
    ):
        fred.fetch_spec(SPEC, None, None, client, policy=_policy(fake_clock), api_key="x" * 32)


def test_host_follows_the_key(monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "abc")
    assert fred.host() == "api.stlouisfed.org"
    monkeypatch.setenv("FRED_API_KEY", " ")
    assert fred.host() == "fred.stlouisfed.org"


def test_fixture_is_wire_format(load_json):
    """The recorded document has the fields the FRED docs list for series/observations."""
    doc = load_json("fred_vintages.json")
    assert {"realtime_start", "realtime_end", "count", "offset", "limit", "observations"} <= set(
        doc
    )
    assert set(doc["observations"][0]) == {"realtime_start", "realtime_end", "date", "value"}
    json.dumps(doc)


CAP = (
    "Bad Request.  There are 2004 vintage dates in the specified real-time period: "
    "1776-07-04 to 9999-12-31.  This exceeds the maximum number of vintage dates allowed (2000)."
)


def test_daily_full_history_skips_vintages_and_cap_is_hit_once_per_client(load_json, fake_clock):
    """ALFRED's 2000-vintage cap: a full daily history asks for current values only; a
    series refused once is not asked for vintages again by the same client (run)."""
    current = load_json("fred_walcl_observations.json")
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        if "realtime_start" in request.url.params:
            return httpx.Response(400, json={"error_code": 400, "error_message": CAP})
        return httpx.Response(200, json=current)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    policy = _policy(fake_clock)
    batch = fred.fetch_spec(DGS10, None, None, client, policy=policy, api_key="x" * 32)
    assert len(seen) == 1 and "realtime_start" not in seen[0]
    assert batch.vintages is None and len(batch.frame) == 4
    weekly_start = pd.Timestamp("2024-01-01")
    fred.fetch_spec(SPEC, weekly_start, None, client, policy=policy, api_key="x" * 32)
    assert ["realtime_start" in p for p in seen[1:]] == [True, False]  # refused, then current
    fred.fetch_spec(SPEC, weekly_start, None, client, policy=policy, api_key="x" * 32)
    assert len(seen) == 4 and "realtime_start" not in seen[3]  # no second failed request
