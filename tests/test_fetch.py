"""liqflow.fetch and `liqflow fetch`: incremental ranges, isolation of failures, no network."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow._errors import CatalogError, ConfigError
from liqflow.catalog import default_catalog
from liqflow.fetch import OVERLAP_DAYS, FetchReport, SeriesFetch, fetch, fetch_start, live_ids
from liqflow.providers import RetryPolicy
from liqflow.store import Batch, Store

CAT = default_catalog()


@pytest.fixture(autouse=True)
def offline(no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real resolve/connect fails (``no_network``): nothing here may reach the network."""
    monkeypatch.delenv("FRED_API_KEY", raising=False)  # keyless CSV route


@pytest.fixture
def policy(fake_clock) -> RetryPolicy:
    return RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)


def _csv(symbol: str, dates: list[str], values: list[float]) -> str:
    rows = "".join(f"{d},{v}\n" for d, v in zip(dates, values, strict=True))
    return f"observation_date,{symbol}\n{rows}"


class FredServer:
    """A fake fredgraph.csv endpoint: ``routes`` maps a FRED id to a CSV text or a status."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.routes[request.url.params["id"]]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, int):
            return httpx.Response(item, text="Internal Server Error")
        return httpx.Response(200, text=item)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def params(self, fred_id: str) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.params["id"] == fred_id]


def _read(path, sid: str, source: str) -> pd.DataFrame:
    """Read through a fresh connection, as the next `liqflow` command would."""
    with Store(path, read_only=True) as store:
        return store.read(sid, source)


def _seed(
    store: Store, sid: str, dates: list[str], values: list[float], source: str = "fred"
) -> None:
    frame = pd.DataFrame(
        {"value": values}, index=pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    )
    store.write([Batch(sid, source, frame)])


def test_fetch_start_overlaps_by_frequency():
    last = pd.Timestamp("2024-03-31")
    assert fetch_start(last, "D") == pd.Timestamp("2024-03-24")
    assert fetch_start(last, "W") == pd.Timestamp("2024-02-25")
    assert fetch_start(last, "M") == pd.Timestamp("2023-12-22")
    assert fetch_start(None, "D") is None
    assert dict(OVERLAP_DAYS) == {"D": 7, "W": 35, "M": 100}
    with pytest.raises(
        ConfigError,
        match=r"overlap must give days for every frequency \('D', 'W', 'M'\), missing 'M'",
    ):
        fetch_start(last, "M", {"D": 1, "W": 2})


def test_live_ids_exclude_offline_only_series():
    ids = live_ids(CAT)
    assert "fed_assets" in ids and "btc" in ids and "usdt_mcap" in ids
    assert "fear_greed" not in ids  # csv
    assert "total_crypto_mcap" not in ids  # CoinGecko global chart: paid endpoint only


def test_incremental_start_from_the_store(policy, tmp_path):
    path = tmp_path / "s.duckdb"
    server = FredServer(
        {"WALCL": _csv("WALCL", ["2024-01-17", "2024-01-24", "2024-01-31"], [3.0, 4.5, 5.0])}
    )
    with Store(path) as store:
        _seed(store, "fed_assets", ["2024-01-10", "2024-01-17", "2024-01-24"], [1.0, 3.0, 4.0])
        report = fetch(store, CAT, ["fed_assets"], clients={"fred": server.client()}, policy=policy)
        # weekly: 35 days before the last stored Wednesday
        assert server.params("WALCL") == [{"id": "WALCL", "cosd": "2023-12-20"}]
        (r,) = report.results
        assert r.ok and r.source == "fred"
        assert r.rows_added == 1  # 2024-01-31 is new; 01-24 is a revision
        assert r.start == pd.Timestamp("2023-12-20")
        assert r.last_date == pd.Timestamp("2024-01-31")
    stored = _read(path, "fed_assets", "fred")["value"]
    assert stored.loc["2024-01-24"] == 4.5  # revised value replaced the old one
    assert stored.loc["2024-01-10"] == 1.0


def test_full_history_when_nothing_stored_or_full(policy):
    server = FredServer({"WALCL": _csv("WALCL", ["2024-01-24"], [4.0])})
    with Store(":memory:") as store:
        fetch(store, CAT, ["fed_assets"], clients={"fred": server.client()}, policy=policy)
        fetch(
            store, CAT, ["fed_assets"], clients={"fred": server.client()}, policy=policy, full=True
        )
    assert server.params("WALCL") == [{"id": "WALCL"}, {"id": "WALCL"}]


def test_one_failing_series_neither_stops_others_nor_touches_its_rows(policy, tmp_path):
    path = tmp_path / "s.duckdb"
    server = FredServer(
        {
            "WALCL": _csv("WALCL", ["2024-01-24", "2024-01-31"], [4.0, 5.0]),
            "WTREGEN": 503,
            "DGS10": _csv("DGS10", ["2024-01-02"], [3.95]),
        }
    )
    with Store(path) as store:
        _seed(store, "tga", ["2024-01-17", "2024-01-24"], [700000.0, 710000.0])
    before = _read(path, "tga", "fred")
    with Store(path) as store:
        report = fetch(
            store,
            CAT,
            ["fed_assets", "tga", "ust10y"],
            clients={"fred": server.client()},
            policy=policy,
        )
    pd.testing.assert_frame_equal(before, _read(path, "tga", "fred"))
    assert [r.series_id for r in report.failed] == ["tga"]
    tga = report.failed[0]
    assert tga.error is not None
    assert tga.error.startswith(
        "tga: could not fetch from fred.stlouisfed.org after 4 attempts: HTTP 503"
    )
    assert tga.last_date == pd.Timestamp("2024-01-24")
    assert report.results[0].rows_added == 2 and report.results[2].rows_added == 1
    assert len(server.params("WTREGEN")) == 4
    assert _read(path, "ust10y", "fred")["value"].tolist() == [3.95]


def test_a_malformed_payload_fails_only_that_series(policy, tmp_path):
    path = tmp_path / "s.duckdb"
    server = FredServer(
        {
            "WALCL": "<!DOCTYPE html><html>maintenance</html>",
            "DGS10": _csv("DGS10", ["2024-01-02"], [3.95]),
        }
    )
    with Store(path) as store:
        _seed(store, "fed_assets", ["2024-01-24"], [4.0])
        report = fetch(
            store, CAT, ["fed_assets", "ust10y"], clients={"fred": server.client()}, policy=policy
        )
    assert _read(path, "fed_assets", "fred")["value"].tolist() == [4.0]
    assert [r.series_id for r in report.failed] == ["fed_assets"]
    assert "FRED CSV header must be one of" in (report.failed[0].error or "")
    assert report.results[1].ok


def test_unreachable_host_fails_the_rest_at_once(policy):
    server = FredServer(
        {
            k: httpx.ConnectError("[Errno -2] Name or service not known")
            for k in ("WALCL", "WTREGEN", "DGS10")
        }
    )
    with Store(":memory:") as store:
        report = fetch(
            store,
            CAT,
            ["fed_assets", "tga", "ust10y"],
            clients={"fred": server.client()},
            policy=policy,
        )
    assert len(report.failed) == 3
    assert len(server.requests) == 1  # one attempt: an unreachable host is not retried
    for r in report.failed:
        assert r.error is not None and "\n" not in r.error
        assert r.error.startswith(f"{r.series_id}: cannot reach fred.stlouisfed.org")
        assert r.error.endswith("`liqflow import PATH`")


def test_yahoo_and_csv_series(policy, tmp_path):
    path = tmp_path / "s.duckdb"
    frame = pd.DataFrame(
        {
            "Open": [1.0, 2.0],
            "High": [1.5, 2.5],
            "Low": [0.5, 1.5],
            "Close": [1.2, 2.2],
            "Adj Close": [1.1, 2.1],
            "Volume": [10.0, 20.0],
        },
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"], name="Date").tz_localize(
            "America/New_York"
        ),
    )
    calls = []

    class Ticker:
        def __init__(self, symbol: str) -> None:
            self.symbol = symbol

        def history(self, **kw: Any) -> pd.DataFrame:
            calls.append((self.symbol, kw))
            return frame

    seen = []
    with Store(path) as store:
        report = fetch(
            store,
            CAT,
            ["spy", "fear_greed"],
            clients={"yahoo": Ticker},
            policy=policy,
            progress=lambda sid, i, n, r: seen.append((sid, i, n, r is None)),
        )
    assert _read(path, "spy", "yahoo")["adj_close"].tolist() == [1.1, 2.1]
    spy, fg = report.results
    assert spy.rows_added == 12 and spy.source == "yahoo"
    assert calls[0][0] == "SPY" and calls[0][1]["period"] == "max"
    assert (
        fg.error
        == "fear_greed: no live route (provider 'csv' has no live route); use `liqflow import PATH`"
    )
    assert seen == [
        ("spy", 0, 2, True),
        ("spy", 1, 2, False),
        ("fear_greed", 1, 2, True),
        ("fear_greed", 2, 2, False),
    ]


def test_unknown_id_is_a_catalog_error():
    with Store(":memory:") as store, pytest.raises(CatalogError, match="unknown series 'nope'"):
        fetch(store, CAT, ["nope"])


def test_report_frame_and_summary():
    report = FetchReport(
        (
            SeriesFetch("a", "fred", 3, pd.Timestamp("2024-01-31"), None),
            SeriesFetch("b", "yahoo", 0, None, pd.Timestamp("2024-01-01"), error="b: boom"),
        )
    )
    df = report.to_frame()
    assert list(df.columns) == [
        "series",
        "source",
        "rows_added",
        "start",
        "last_date",
        "error",
        "note",
    ]
    assert df["rows_added"].dtype == np.int64
    assert df["last_date"].iloc[0] == pd.Timestamp("2024-01-31") and pd.isna(
        df["last_date"].iloc[1]
    )
    assert report.summary() == "fetched 1/2 series, 3 rows added; failed: b"
    assert [r.series_id for r in report.failed] == ["b"] and not report.ok


# --- the command ------------------------------------------------------------------


def _cli(monkeypatch, policy, clients):
    import liqflow.cli.fetch as cli_fetch
    from liqflow.cli.main import app

    monkeypatch.setattr(cli_fetch, "RETRY", policy)
    monkeypatch.setattr(cli_fetch, "CLIENTS", clients)
    return app


def test_cli_without_network_prints_one_line_per_host_and_exits_1(monkeypatch, policy, tmp_path):
    server = FredServer(
        {
            k: httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
            for k in ("WALCL", "WTREGEN")
        }
    )
    app = _cli(monkeypatch, policy, {"fred": server.client()})
    result = CliRunner().invoke(
        app, ["fetch", "fed_assets", "tga", "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1  # one line for the host, naming the series it cost
    assert lines[0].startswith("cannot reach fred.stlouisfed.org (connection failed: ")
    assert "2 series not fetched (fed_assets, tga)" in lines[0]
    assert lines[0].endswith("`liqflow import PATH`")
    assert "fetched 0/2 series" in result.stdout
    assert "liqflow fetch" not in result.stdout  # no table of failures


def test_cli_success_shows_the_table(monkeypatch, policy, tmp_path):
    server = FredServer({"WALCL": _csv("WALCL", ["2024-01-24", "2024-01-31"], [4.0, 5.0])})
    app = _cli(monkeypatch, policy, {"fred": server.client()})
    result = CliRunner().invoke(app, ["fetch", "fed_assets", "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output
    assert "fed_assets" in result.stdout and "2024-01-31" in result.stdout
    assert "fetched 1/1 series, 2 rows added" in result.stdout
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.last_date("fed_assets", "fred") == pd.Timestamp("2024-01-31")


def test_cli_fetch_has_help():
    from liqflow.cli.main import app

    result = CliRunner().invoke(app, ["fetch", "--help"])
    assert result.exit_code == 0
    assert "--full" in result.stdout and "liqflow import" in result.stdout


def test_a_host_that_times_out_is_skipped_for_the_rest_of_the_run(policy):
    server = FredServer({k: httpx.ReadTimeout("timed out") for k in ("WALCL", "WTREGEN", "DGS10")})
    with Store(":memory:") as store:
        report = fetch(
            store,
            CAT,
            ["fed_assets", "tga", "ust10y"],
            clients={"fred": server.client()},
            policy=policy,
        )
    assert len(server.requests) == policy.attempts  # only the first series spent its retries
    assert [r.unreachable for r in report.failed] == ["fred.stlouisfed.org"] * 3
    assert report.failed[1].error is not None
    assert report.failed[1].error.startswith(
        "tga: skipped: fred.stlouisfed.org timed out for an earlier series"
    )


def test_a_shorter_provider_history_keeps_the_stored_rows_and_says_so(policy, tmp_path):
    """ICE BofA series on FRED hold three years: a full fetch must not shorten the store."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        _seed(store, "hy_spread", ["1996-12-31", "2020-03-23", "2023-07-03"], [3.0, 10.87, 4.0])
        server = FredServer(
            {"BAMLH0A0HYM2": _csv("BAMLH0A0HYM2", ["2023-07-03", "2023-07-05"], [4.0, 4.1])}
        )
        report = fetch(
            store, CAT, ["hy_spread"], clients={"fred": server.client()}, full=True, policy=policy
        )
    assert report.ok
    assert (
        report.results[0].note
        == "fred serves from 2023-07-03 only; the stored rows from 1996-12-31 are kept"
    )
    assert "1 with a note" in report.summary()
    stored = _read(path, "hy_spread", "fred")
    assert stored.index[0] == pd.Timestamp("1996-12-31") and len(stored) == 4


def test_a_gap_between_stored_and_fetched_dates_is_reported(policy, tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        _seed(store, "ust10y", ["2023-01-03"], [3.79])
        server = FredServer({"DGS10": _csv("DGS10", ["2024-03-01"], [4.18])})
        report = fetch(store, CAT, ["ust10y"], clients={"fred": server.client()}, policy=policy)
    assert report.results[0].note == (
        "gap: stored to 2023-01-03, fred served from 2024-03-01 (423 days missing; import a file to fill them)"
    )


def test_a_dividend_rebased_yahoo_series_is_fetched_again_whole(policy, tmp_path):
    """Stored adjusted closes and fetched ones differ by a constant factor on the overlap
    (a dividend since the last fetch): the full history is fetched in the new basis."""
    days = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="Date")
    new_basis = [99.0, 99.99, 100.98]  # old closes 100, 101, 102 times 0.99

    class Ticker:
        calls: ClassVar[list[dict[str, Any]]] = []

        def __init__(self, symbol: str) -> None:
            pass

        def history(self, **kw: Any) -> pd.DataFrame:
            Ticker.calls.append(kw)
            return pd.DataFrame(  # the overlap asks for the stored days again
                {"Close": new_basis, "Volume": [1.0] * 3},
                index=days.tz_localize("America/New_York"),
            )

    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        old = pd.DataFrame({"close": [100.0, 101.0]}, index=days[:2].rename("date"))
        store.write([Batch("spy", "yahoo", old)])
        report = fetch(
            store,
            CAT,
            ["spy"],
            clients={"yahoo": Ticker},
            policy=policy,
        )
    assert [("start" in kw, kw.get("period")) for kw in Ticker.calls] == [
        (True, None),
        (False, "max"),
    ]
    assert (
        report.results[0].note
        == "adjusted closes re-based by a dividend: full history fetched again"
    )
    assert _read(path, "spy", "yahoo")["close"].tolist() == new_basis
