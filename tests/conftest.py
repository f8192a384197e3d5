from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

# ../shared/data next to the checkout; LIQFLOW_SHARED_DATA points elsewhere.
SHARED_DATA = Path(
    os.environ.get("LIQFLOW_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real historical data folder (../shared/data), or skip with the reason."""
    if not (SHARED_DATA / "PROVENANCE.md").exists():
        pytest.skip(
            f"real data folder not found at {SHARED_DATA} (integration test needs ../shared/data)"
        )
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _own_liqflow_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point ``$LIQFLOW_HOME`` at an empty folder: no test reads or writes the user's own
    catalogue (``catalog.toml``) or default store."""
    monkeypatch.setenv("LIQFLOW_HOME", str(tmp_path_factory.mktemp("liqflow_home")))


@pytest.fixture(scope="session")
def shared_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the whole real data folder, imported once per test session.

    Open it read-only; a test that writes copies it first.
    """
    from liqflow.catalog import default_catalog
    from liqflow.importer import import_paths
    from liqflow.store import Store

    db = tmp_path_factory.mktemp("shared_store") / "shared.duckdb"
    with Store(db) as store:
        report = import_paths(store, default_catalog(), [shared_data])
    assert report.ok, report.errors
    return db


class FakeClock:
    """``sleep``/``clock`` pair for RetryPolicy: sleeping advances the clock, instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to resolve or connect fail, so the test cannot reach the network."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


#: Files under ../shared/data that give the chain's core series: Russell 2000 and IWM
#: volume, S&P 500, HY/IG spreads, Fed assets, TGA, reverse repo, BTC and the top coins.
REAL_CHAIN_FILES = (
    "equities/RUT_daily.csv",
    "equities/IWM_daily.csv",
    "equities/GSPC_daily.csv",
    "fred/BAMLH0A0HYM2.csv",
    "fred/BAMLC0A0CM.csv",
    "fred/WALCL.csv",
    "fred/WTREGEN.csv",
    "fred/RRPONTSYD.csv",
    "crypto/BTC_daily.csv",
    "crypto/yahoo_top_coins",
)


@pytest.fixture(scope="session")
def real_chain_files(shared_data: Path) -> list[Path]:
    """Paths of :data:`REAL_CHAIN_FILES` in the real data folder (skips without it)."""
    return [shared_data / f for f in REAL_CHAIN_FILES]
