"""``liqflow doctor``: store soundness, source disagreements, keys, command needs, network."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow import doctor
from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.store import Batch, Store

runner = CliRunner()
WIDE = {"COLUMNS": "400"}


def _close(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"close": values}, index=pd.date_range("2021-01-01", periods=len(values), name="date")
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """BTC from two sources that disagree by 10 % on one day, and one kept conflict."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.write(
            [
                Batch("btc", "yahoo", _close([100.0, 110.0, 120.0]), origin="a.csv"),
                Batch("btc", "coingecko", _close([100.0, 121.0, 120.0])),
            ]
        )
        store.write(
            [Batch("btc", "yahoo", _close([100.0, 111.0]), origin="b.csv")], on_revision="keep"
        )
    return path


def test_doctor_reports_disagreements_and_keys_without_values(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRED_API_KEY", "sekret-fred-0123")
    monkeypatch.delenv("COINGECKO_API_KEY", raising=False)
    monkeypatch.delenv("COINGECKO_DEMO_API_KEY", raising=False)
    result = runner.invoke(app, ["doctor", "--store", str(db)], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "sekret" not in out
    assert "FRED_API_KEY is set" in out
    assert "COINGECKO_API_KEY / COINGECKO_DEMO_API_KEY not set" in out
    assert (
        "coingecko vs yahoo: 3 common dates, median difference 0.00%, 1 beyond 1%, "
        "worst 10.0% on 2021-01-02" in out
    )
    assert "1 imported values differ from the stored ones on 1 date (2021-01-02..2021-01-02)" in out
    assert "lacks fed_assets, fed_bills, tga" in out  # status has no liquidity data
    assert "0 non-finite values, 0 dates outside [1900-01-01" in out


def test_doctor_tolerance_option(db: Path) -> None:
    report = doctor.run_doctor(db, default_catalog(), tolerance=0.2)
    (pair,) = [c for c in report.checks if c.name == "btc close"]
    assert pair.status == "ok" and "0 beyond 20%" in pair.detail


def test_doctor_fails_cleanly_on_a_missing_or_damaged_store(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["doctor", "--store", str(tmp_path / "none.duckdb")], env=WIDE)
    assert missing.exit_code == 1
    assert "does not exist yet" in missing.output and "Traceback" not in missing.output
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 1000)
    damaged = runner.invoke(app, ["doctor", "--store", str(junk)], env=WIDE)
    assert damaged.exit_code == 1
    assert "fail" in damaged.output and "Traceback" not in damaged.output


def test_doctor_sees_a_write_in_progress(db: Path) -> None:
    from liqflow.store import _WriterLock

    with _WriterLock(db, 0.0):
        checks = doctor.run_doctor(db, default_catalog()).checks
    (writer,) = [c for c in checks if c.name == "writer"]
    assert writer.status == "warn" and "in progress" in writer.detail


@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_network_checks_only_when_asked(
    db: Path, local_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    monkeypatch.setattr(doctor, "PROVIDER_URLS", {"local": local_server, "closed": closed})
    quiet = runner.invoke(app, ["doctor", "--store", str(db)], env=WIDE)
    assert "answered HTTP" not in quiet.output and "unreachable" not in quiet.output
    loud = runner.invoke(app, ["doctor", "--store", str(db), "--network"], env=WIDE)
    assert loud.exit_code == 0, loud.output
    assert f"{local_server} answered HTTP 204" in loud.output
    assert f"{closed} unreachable: ConnectError" in loud.output
