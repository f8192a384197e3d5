"""Fixtures of the replay tests: the server of replay_harness.py, only 127.0.0.1 reachable."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replay_harness import Harness, ReplayServer, serve


@pytest.fixture(scope="session")
def _harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with serve(tmp_path_factory.mktemp("replay-ca")) as harness:
        yield harness


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return host in ("127.0.0.1", "localhost", "::1")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the provider tests' ``no_network``: only 127.0.0.1 may be reached."""

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if not _loopback((host,)):
            raise OSError(f"network disabled in tests (resolving {host!r})")
        return _real_getaddrinfo(host, *args, **kw)

    def connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise OSError(f"network disabled in tests (connecting to {address!r})")
        return _real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def replay(_harness: Harness, offline: None, monkeypatch: pytest.MonkeyPatch) -> ReplayServer:
    """The replay server, routes cleared, with every client pointed at its proxy."""
    _harness.server.reset()
    for name in ("HTTPS_PROXY", "https_proxy", "LIQFLOW_CCXT_PROXY"):
        monkeypatch.setenv(name, _harness.proxy_url)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(name, str(_harness.ca))
    for name in ("FRED_API_KEY", "COINGECKO_API_KEY", "COINGECKO_PRO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return _harness.server


@pytest.fixture
def ca_file(_harness: Harness) -> Path:
    return _harness.ca
