"""Shared helpers of the provider tests: recorded payloads, a fake clock, no network."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def load_json() -> Any:
    """Loader of a recorded JSON payload in tests/providers/fixtures."""
    return lambda name: json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def load_text() -> Any:
    """Loader of a recorded text payload (bytes kept, CRLF included)."""
    return lambda name: (FIXTURES / name).read_bytes().decode("utf-8")


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


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to resolve or connect fail, so no test can reach the network."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
