"""CFTC Traders in Financial Futures (Socrata) provider on recorded rows, no network."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.catalog import SeriesSpec
from liqflow.providers import RetryPolicy, cftc


@pytest.fixture
def policy(fake_clock) -> RetryPolicy:
    return RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)


def test_positions_of_cme_bitcoin(load_json, new_specs, policy):
    rows = load_json("cftc_tff_133741.json")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        offset, limit = int(request.url.params["$offset"]), int(request.url.params["$limit"])
        return httpx.Response(200, json=rows[offset : offset + limit])

    client = httpx.Client(transport=httpx.MockTransport(handler))
    spec = new_specs["cftc_btc"]
    # small pages: paging by $offset until a short page
    q = replace(cftc.build_query(spec, pd.Timestamp("2024-01-01")), limit=2)
    pages = cftc.extract(q, client, policy=policy)
    assert [r.url.params["$offset"] for r in seen] == ["0", "2"]
    assert seen[0].url.path == "/resource/gpe5-46if.json"
    assert seen[0].url.params["$where"] == (
        "cftc_contract_market_code='133741' AND report_date_as_yyyy_mm_dd >= '2024-01-01T00:00:00'"
    )
    frame = cftc.transform(pages)
    first = frame.loc["2024-01-02"]
    # heliar cot.csv 2024-01-02: OI 23,579, leveraged-fund shorts 13,616 (PROVENANCE.md)
    assert first["open_interest"] == 23579 and first["lev_short"] == 13616
    assert first["lev_net"] == first["lev_long"] - first["lev_short"] == 3317 - 13616
    assert list(frame.index) == list(pd.to_datetime(["2024-01-02", "2024-01-09", "2024-01-16"]))
    batch = cftc.fetch_spec(spec, None, client=client, policy=policy)
    assert list(batch.frame.columns) == list(spec.fields) and batch.source == "cftc"


def test_bad_code_and_socrata_error(new_specs, policy):
    with pytest.raises(
        ConfigError,
        match=r"cftc symbol must be a 6-character CFTC contract market code .* got 'BTC'",
    ):
        cftc.build_query(SeriesSpec("x", "cftc", "BTC", ("lev_net",)), None)
    err = {
        "code": "query.soql.no-such-column",
        "error": True,
        "message": "No such column: lev_money",
    }
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=err)))
    with pytest.raises(
        DataError, match=r"CFTC Socrata answer is not a list of rows: 'No such column: lev_money'"
    ):
        cftc.fetch_spec(new_specs["cftc_btc"], None, client=client, policy=policy)
    with pytest.raises(DataError, match=r"CFTC rows lack columns"):
        cftc.transform([{"report_date_as_yyyy_mm_dd": "2024-01-02T00:00:00.000"}])
