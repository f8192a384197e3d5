"""Shared helpers of the provider tests: recorded payloads, no network.

``fake_clock`` and ``no_network`` come from tests/conftest.py.
"""

from __future__ import annotations

import json
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


@pytest.fixture(autouse=True)
def offline(no_network: None) -> None:
    """Every provider test runs with the network refused (``no_network``, tests/conftest.py)."""


@pytest.fixture(scope="session")
def new_specs() -> dict[str, Any]:
    """Catalogue entries of the fiscal and leverage series (from the built-in catalogue)."""
    from liqflow.catalog import default_catalog

    cat = default_catalog()
    ids = ("tga_daily", "dts_deposits", "dts_withdrawals", "tax_refunds", "cftc_btc")
    return {sid: cat[sid] for sid in (*ids, "btc_funding", "eth_funding")}
