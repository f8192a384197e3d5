"""No network at all: `liqflow fetch` of the whole catalogue answers at once, one line a host."""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from liqflow.catalog import default_catalog
from liqflow.fetch import live_ids
from liqflow.providers import RetryPolicy


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once closed: connections are refused


@pytest.mark.usefixtures("offline")
def test_offline_fetch_is_fast_and_says_it_once_per_host(monkeypatch, tmp_path, fake_clock):
    import yfinance as yf

    import liqflow.cli.fetch as cli_fetch
    from liqflow.cli.main import app

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "LIQFLOW_CCXT_PROXY"):
        monkeypatch.setenv(name, dead)  # every client's only way out is refused
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    policy = RetryPolicy(sleep=fake_clock.sleep, clock=fake_clock.clock, rand=lambda: 0.0)
    monkeypatch.setattr(cli_fetch, "RETRY", policy)
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["fetch", "--store", str(tmp_path / "s.duckdb")])
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    n = len(live_ids(default_catalog()))
    from liqflow.providers import get_provider

    cat = default_catalog()
    hosts = {get_provider(cat[sid].provider).host(cat[sid]) for sid in live_ids(cat)}
    assert len(lines) <= len(hosts), lines
    assert sum(int(ln.split(" series not fetched")[0].rsplit(": ", 1)[1]) for ln in lines) == n
    assert all("no network?" in ln or "cannot reach" in ln for ln in lines)
    assert f"fetched 0/{n} series" in result.stdout
    assert fake_clock.sleeps == []  # nothing waited for a retry
    assert elapsed < 15  # a few seconds at most even on a loaded machine (was 20 s and 178 lines)
