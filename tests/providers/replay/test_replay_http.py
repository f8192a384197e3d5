"""The httpx providers end to end through the replay server (real https:// URLs).

FRED (web service with ALFRED vintages and paging, keyless fredgraph.csv), Fiscal Data
(``meta``/``links`` paging), CFTC Socrata and CoinGecko, in their wire formats; the
scenarios of a user's runs: empty store, up to date, 429 with Retry-After, 5xx, timeouts,
truncated and HTML bodies, a refused key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from replay_harness import ReplayServer, Reply, Seen

from liqflow.align import load_panel
from liqflow.catalog import Catalog, default_catalog
from liqflow.fetch import fetch
from liqflow.providers import RetryPolicy
from liqflow.providers import fred as pfred
from liqflow.store import Batch, Store

CAT = default_catalog()
KEY = "abcdefghij0123456789abcdefghij01"
OBS = "/fred/series/observations"
GRAPH = "/graph/fredgraph.csv"
WEEKS = pd.date_range("2002-12-18", "2025-11-26", freq="7D")


@pytest.fixture
def policy(fake_clock) -> RetryPolicy:
    return RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)


def _level(d: pd.Timestamp) -> float:
    return 7e6 + float((d - WEEKS[0]).days)


class Fred:
    """FRED series/observations as documented: vintages (output_type=1), limit/offset
    paging, '.' for missing, error_message on 400. Each weekly value is first published
    the next day at ``level - 0.5`` and revised a week later to ``level``."""

    def __init__(self, dates: pd.DatetimeIndex = WEEKS) -> None:
        self.dates = dates

    def __call__(self, seen: Seen) -> Reply:
        q = seen.query
        if q.get("api_key") != KEY:
            return Reply(
                400,
                {
                    "error_code": 400,
                    "error_message": "Bad Request.  The value for variable api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
                },
            )
        dates = self.dates[self.dates >= pd.Timestamp(q.get("observation_start", "1776-07-04"))]
        rows = []
        vint = "realtime_start" in q
        for d in dates:
            first, second = d + pd.Timedelta(days=1), d + pd.Timedelta(days=8)
            if vint:
                rows.append(
                    {
                        "realtime_start": f"{first:%Y-%m-%d}",
                        "realtime_end": f"{second - pd.Timedelta(days=1):%Y-%m-%d}",
                        "date": f"{d:%Y-%m-%d}",
                        "value": f"{_level(d) - 0.5}",
                    }
                )
                rows.append(
                    {
                        "realtime_start": f"{second:%Y-%m-%d}",
                        "realtime_end": "9999-12-31",
                        "date": f"{d:%Y-%m-%d}",
                        "value": f"{_level(d)}",
                    }
                )
            else:
                rows.append(
                    {
                        "realtime_start": "2025-12-01",
                        "realtime_end": "2025-12-01",
                        "date": f"{d:%Y-%m-%d}",
                        "value": f"{_level(d)}",
                    }
                )
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 100000))
        page = rows[offset : offset + limit]
        doc = {
            "realtime_start": q.get("realtime_start", "2025-12-01"),
            "realtime_end": q.get("realtime_end", "2025-12-01"),
            "observation_start": q.get("observation_start", "1776-07-04"),
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(rows),
            "offset": offset,
            "limit": limit,
            "observations": page,
        }
        return Reply(200, doc)


def _graph_csv(seen: Seen) -> Reply:
    sid = seen.query["id"]
    start = pd.Timestamp(seen.query.get("cosd", "1900-01-01"))
    days = pd.bdate_range("2025-10-01", "2025-11-28")
    lines = [f"{d:%Y-%m-%d},{4 + i / 100:.2f}" for i, d in enumerate(days) if d >= start]
    return Reply(
        200,
        "observation_date," + sid + "\r\n" + "\r\n".join(lines) + "\r\n",
        {"Content-Type": "text/csv"},
    )


def _seed_observations(store: Store) -> None:
    """What `liqflow import` of the shared WALCL file leaves: observations, no vintages."""
    old = WEEKS[WEEKS <= "2025-10-29"]
    store.write(
        [
            Batch(
                "fed_assets",
                "fred",
                pd.DataFrame(
                    {"value": [_level(d) for d in old]}, index=pd.DatetimeIndex(old, name="date")
                ),
            )
        ]
    )


def test_with_a_key_an_incremental_fetch_never_shortens_a_series(
    replay: ReplayServer, policy, monkeypatch, tmp_path
):
    replay.route("api.stlouisfed.org", OBS, Fred())
    monkeypatch.setenv("FRED_API_KEY", KEY)
    with Store(tmp_path / "s.duckdb") as store:
        _seed_observations(store)
        before = load_panel(store, ["fed_assets"])["fed_assets"].first_valid_index()
        report = fetch(store, CAT, ["fed_assets"], policy=policy)
        assert report.ok, report.results
        panel = load_panel(store, ["fed_assets"])["fed_assets"]
        vint = store.read_vintages("fed_assets", "fred")
    seen = replay.requests("api.stlouisfed.org")
    assert len(seen) == 1 and seen[0].query["realtime_start"] == "2025-09-24"  # last - 35 days
    assert vint["date"].min() == pd.Timestamp("2025-09-24")  # vintages for the window only
    assert panel.first_valid_index() == before == pd.Timestamp("2002-12-19")
    d = pd.Timestamp("2025-11-26")
    assert panel[d + pd.Timedelta(days=1)] == _level(d) - 0.5  # the first release, next day
    assert panel[pd.Timestamp("2010-06-17")] == _level(pd.Timestamp("2010-06-16"))


def test_empty_store_pages_then_up_to_date_costs_one_request_per_series(
    replay: ReplayServer, policy, monkeypatch, tmp_path
):
    replay.route("api.stlouisfed.org", OBS, Fred())
    replay.route("fred.stlouisfed.org", GRAPH, _graph_csv)
    monkeypatch.setenv("FRED_API_KEY", KEY)
    monkeypatch.setattr(pfred, "PAGE_LIMIT", 500)  # several pages of FRED's limit/offset
    with Store(tmp_path / "s.duckdb") as store:
        first = fetch(store, CAT, ["fed_assets", "tga"], policy=policy)
        assert first.ok and first.rows_added == 2 * len(WEEKS)
        n_pages = len(replay.requests())
        assert n_pages == 2 * -(-2 * len(WEEKS) // 500)  # two vintage rows per week
        second = fetch(store, CAT, ["fed_assets", "tga"], policy=policy)
        assert second.ok and second.rows_added == 0
        assert len(replay.requests()) - n_pages == 2  # up to date: one request per series
        monkeypatch.delenv("FRED_API_KEY")
        keyless = fetch(store, CAT, ["ust10y"], policy=policy)
        assert keyless.ok and keyless.rows_added == 43
        fetch(store, CAT, ["ust10y"], policy=policy)
    assert len(replay.requests("fred.stlouisfed.org")) == 2
    assert replay.requests("fred.stlouisfed.org")[-1].query["cosd"] == "2025-11-21"


def test_429_with_retry_after_and_5xx_are_retried(
    replay: ReplayServer, fake_clock, policy, tmp_path
):
    answers = [
        Reply(
            429, {"error_code": 429, "error_message": "Too Many Requests."}, {"Retry-After": "3"}
        ),
        Reply(503, "<html>Service Unavailable</html>"),
    ]

    def flaky(seen: Seen) -> Reply:
        return answers.pop(0) if answers else _graph_csv(seen)

    replay.route("fred.stlouisfed.org", GRAPH, flaky)
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(store, CAT, ["ust10y"], policy=policy)
    assert report.ok and report.rows_added == 43
    assert fake_clock.sleeps[:2] == [3.0, 2.0]  # Retry-After, then the backoff of attempt 2
    assert len(replay.requests()) == 3


def test_a_host_that_times_out_is_skipped_for_the_rest_of_the_run(
    replay: ReplayServer, fake_clock, tmp_path
):
    replay.route("fred.stlouisfed.org", GRAPH, Reply(200, "observation_date,X\r\n", delay=0.5))
    policy = RetryPolicy(
        attempts=2, timeout=0.1, sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0
    )
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(store, CAT, ["ust10y", "ust2y", "vix"], policy=policy)
    assert len(replay.requests()) == 2  # the first series' two attempts, nothing more
    errors = [r.error or "" for r in report.results]
    assert errors[0].startswith(
        "ust10y: could not fetch from fred.stlouisfed.org after 2 attempts: timed out"
    )
    assert errors[1].startswith(
        "ust2y: skipped: fred.stlouisfed.org timed out for an earlier series"
    )


def test_truncated_and_html_bodies_and_a_refused_key_fail_in_one_line(
    replay: ReplayServer, policy, monkeypatch, tmp_path
):
    monkeypatch.setenv("FRED_API_KEY", KEY)
    full = Fred()
    replay.route(
        "api.stlouisfed.org",
        OBS,
        lambda s: Reply(200, full(s).payload(), {"Content-Type": "application/json"}, cut=300),
    )
    with Store(tmp_path / "s.duckdb") as store:
        _seed_observations(store)
        rows = store.row_count()
        cut = fetch(store, CAT, ["fed_assets"], policy=policy)
        replay.route(
            "api.stlouisfed.org",
            OBS,
            Reply(
                200,
                "<!DOCTYPE html><html><body>Maintenance</body></html>",
                {"Content-Type": "text/html"},
            ),
        )
        html = fetch(store, CAT, ["fed_assets"], policy=policy)
        monkeypatch.setenv("FRED_API_KEY", "0" * 32)
        replay.route("api.stlouisfed.org", OBS, full)
        refused = fetch(store, CAT, ["fed_assets"], policy=policy)
        assert store.row_count() == rows  # nothing stored changed
    assert (
        cut.results[0].error is not None
        and "could not fetch from api.stlouisfed.org after 4 attempts: network error"
        in cut.results[0].error
    )
    assert html.results[0].error == (
        "fed_assets: FRED answered with something that is not JSON: '<!DOCTYPE html><html><body>Maintenance</body></html>'"
    )
    err = refused.results[0].error or ""
    assert err.startswith(
        "fed_assets: api.stlouisfed.org answered HTTP 400 Bad Request: Bad Request. The value for variable api_key is not registered."
    )
    assert "0" * 32 not in err
    assert len(replay.requests()) == 4 + 1 + 1  # a refused key is not retried without vintages
    for r in (cut, html, refused):
        assert "\n" not in (r.results[0].error or "")


def test_fiscal_data_cftc_and_coingecko(
    replay: ReplayServer, new_specs, load_json, policy, tmp_path
):
    pages = load_json("fiscaldata_operating_cash_balance_pages.json")
    replay.route(
        "api.fiscaldata.treasury.gov",
        "/services/api/fiscal_service/v1/accounting/dts/operating_cash_balance",
        lambda s: Reply(200, pages[int(s.query["page[number]"]) - 1]),
    )
    rows = load_json("cftc_tff_133741.json")
    replay.route(
        "publicreporting.cftc.gov",
        "/resource/gpe5-46if.json",
        lambda s: Reply(200, rows[int(s.query["$offset"]) :]),
    )
    chart = load_json("coingecko_tether_market_chart.json")
    replay.route("api.coingecko.com", "/api/v3/coins/tether/market_chart", Reply(200, chart))
    cat = Catalog([*CAT.values(), new_specs["tga_daily"], new_specs["cftc_btc"]])
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(store, cat, ["tga_daily", "cftc_btc", "usdt_mcap"], policy=policy)
        assert report.ok, [r.error for r in report.results]
        assert store.read("tga_daily", "treasury")["value"].iloc[-1] == 841253.0
        assert store.read("cftc_btc", "cftc")["open_interest"].iloc[0] == 23579.0
    assert [s.query["page[number]"] for s in replay.requests("api.fiscaldata.treasury.gov")] == [
        "1",
        "2",
    ]
    assert (
        replay.requests("publicreporting.cftc.gov")[0].query["$where"]
        == "cftc_contract_market_code='133741'"
    )
    assert np.isfinite(report.results[2].rows_added)


def test_coingecko_429_detail_is_kept(replay: ReplayServer, policy, tmp_path):
    body = {
        "status": {
            "error_code": 429,
            "error_message": "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
        }
    }
    replay.route(
        "api.coingecko.com",
        "/api/v3/coins/tether/market_chart",
        Reply(429, body, {"Retry-After": "120"}),
    )
    with Store(tmp_path / "s.duckdb") as store:
        report = fetch(store, CAT, ["usdt_mcap"], policy=policy)
    assert "HTTP 429 Too Many Requests: You've exceeded the Rate Limit." in (
        report.results[0].error or ""
    )


@pytest.mark.realdata
def test_readme_sequence_on_the_shared_files_keeps_the_history(
    replay: ReplayServer, shared_data, policy, monkeypatch, tmp_path
):
    """Import the shared WALCL/WTREGEN files, set the key, fetch: the panel still starts in
    2002 (it shrank to about a year when the panel read the vintages alone)."""
    from liqflow.importer import import_paths

    replay.route(
        "api.stlouisfed.org", OBS, Fred(pd.date_range("2025-10-01", "2025-12-31", freq="7D"))
    )
    with Store(tmp_path / "s.duckdb") as store:
        import_paths(
            store, CAT, [shared_data / "fred" / "WALCL.csv", shared_data / "fred" / "WTREGEN.csv"]
        )
        monkeypatch.setenv("FRED_API_KEY", KEY)
        report = fetch(store, CAT, ["fed_assets", "tga"], policy=policy)
        assert report.ok, [r.error for r in report.results]
        assert len(store.read_vintages("fed_assets", "fred")) > 0
        panel = load_panel(store, ["fed_assets", "tga"])
    assert panel["fed_assets"].first_valid_index() < pd.Timestamp("2003-01-01")
    assert panel["tga"].first_valid_index() < pd.Timestamp("2003-01-01")  # blank cells before
    # the 2022-04-13 peak of the shared file (8,965,487) is still in the panel, a day later
    assert panel["fed_assets"].loc["2022-04-14"] == 8965487.0


def test_coingecko_store_older_than_365_days_is_reported_as_a_gap(
    replay: ReplayServer, load_json, policy, tmp_path
):
    replay.route(
        "api.coingecko.com",
        "/api/v3/coins/tether/market_chart",
        Reply(200, load_json("coingecko_tether_market_chart.json")),
    )
    with Store(tmp_path / "s.duckdb") as store:
        old = pd.DataFrame(
            {"market_cap": [7.8e10]}, index=pd.DatetimeIndex(["2022-01-01"], name="date")
        )
        store.write([Batch("usdt_mcap", "coingecko", old)])
        report = fetch(store, CAT, ["usdt_mcap"], policy=policy)
    assert replay.requests()[0].query["days"] == "365"  # the keyless maximum
    note = report.results[0].note or ""
    assert note.startswith("gap: stored to 2022-01-01, coingecko served from 2024-06-10")
