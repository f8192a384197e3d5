"""Fiscal Data (Daily Treasury Statement) provider on recorded payloads, no network."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.catalog import SeriesSpec
from liqflow.providers import RetryPolicy, treasury


@pytest.fixture
def policy(fake_clock) -> RetryPolicy:
    return RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)


def _server(pages: list[dict], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = int(request.url.params["page[number]"])
        return httpx.Response(200, json=pages[number - 1])

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_tga_closing_balance_across_both_format_changes(load_json, new_specs, policy):
    seen: list[httpx.Request] = []
    client = _server(load_json("fiscaldata_operating_cash_balance_pages.json"), seen)
    batch = treasury.fetch_spec(new_specs["tga_daily"], None, client=client, policy=policy)
    assert batch.source == "treasury"
    # 2021-09-30 'Federal Reserve Account' close; 2021-10-01 and 2022-04-14 'Treasury
    # General Account (TGA)' close; 2022-04-18 the 'Closing Balance' row's open_today_bal
    expected = {
        "2021-09-30": 215160.0,
        "2021-10-01": 132452.0,
        "2022-04-14": 602292.0,
        "2022-04-18": 841253.0,
    }
    assert batch.frame["value"].to_dict() == {pd.Timestamp(k): v for k, v in expected.items()}
    assert batch.frame.index.name == "date" and batch.frame["value"].dtype == np.float64
    assert [r.url.params["page[number]"] for r in seen] == ["1", "2"]  # links.next followed
    assert seen[0].url.params["page[size]"] == "10000"
    assert seen[0].url.params["sort"] == "record_date"
    assert seen[0].url.path.endswith("/v1/accounting/dts/operating_cash_balance")


def test_incremental_request_filters_on_record_date(new_specs):
    q = treasury.build_query(
        new_specs["tax_refunds"], pd.Timestamp("2024-04-01"), pd.Timestamp("2024-04-30")
    )
    p = q.params()
    assert (
        p["filter"]
        == "record_date:gte:2024-04-01,record_date:lte:2024-04-30,transaction_type:eq:Withdrawals"
    )
    assert q.url.endswith("/dts/deposits_withdrawals_operating_cash")


def test_deposits_withdrawals_and_individual_tax_refunds(load_json, new_specs):
    rows = load_json("fiscaldata_deposits_withdrawals.json")["data"]
    dw = "deposits_withdrawals_operating_cash"
    dep = treasury.transform(rows, f"{dw}:deposits")["value"]
    wd = treasury.transform(rows, f"{dw}:withdrawals")["value"]
    refunds = treasury.transform(rows, f"{dw}:individual_tax_refunds")["value"]
    day1, day2 = pd.Timestamp("2024-04-15"), pd.Timestamp("2024-04-16")
    assert dep[day1] == 31502 + 140127  # the sub-total row is not counted again
    assert dep[day2] == 25011  # a "null" amount is missing, not zero and not an error
    assert wd[day1] == 5237 + 412 + 301 + 120044
    assert refunds.to_dict() == {day1: 5237.0 + 412.0, day2: 2980.0}  # business refunds excluded


def test_unknown_symbol_and_bad_payloads(new_specs, load_json, policy):
    bad = SeriesSpec("x", "treasury", "debt_to_penny", ("value",))
    with pytest.raises(
        ConfigError, match=r"series 'x': treasury symbol must be one of .*got 'debt_to_penny'"
    ):
        treasury.build_query(bad, None)
    with pytest.raises(DataError, match=r"Fiscal Data amount is not a number: 'n/a'"):
        treasury.transform(
            [
                {
                    "record_date": "2024-01-02",
                    "account_type": "Federal Reserve Account",
                    "close_today_bal": "n/a",
                    "open_today_bal": "1",
                }
            ],
            "operating_cash_balance",
        )
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, text="<html>Service Unavailable</html>")
        )
    )
    with pytest.raises(
        DataError, match=r"tga_daily: Fiscal Data answered with something that is not JSON .*<html>"
    ):
        treasury.fetch_spec(new_specs["tga_daily"], None, client=client, policy=policy)
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"error": "x"}))
    )
    with pytest.raises(DataError, match=r"Fiscal Data JSON needs a 'data' list, got \['error'\]"):
        treasury.fetch_spec(new_specs["tga_daily"], None, client=client, policy=policy)
    assert json.dumps(load_json("fiscaldata_deposits_withdrawals.json")["links"]["next"]) == "null"
