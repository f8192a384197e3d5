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
    """Catalogue entries of the fiscal and leverage series, as the catalogue will name them."""
    from liqflow.catalog import SeriesSpec

    def dts(sid: str, symbol: str, desc: str) -> SeriesSpec:
        return SeriesSpec(
            sid, "treasury", symbol, ("value",), "USD millions", "D", "1B", "liquidity", desc
        )

    dw = "deposits_withdrawals_operating_cash"
    return {
        "tga_daily": dts("tga_daily", "operating_cash_balance", "TGA closing balance (DTS)"),
        "dts_deposits": dts("dts_deposits", f"{dw}:deposits", "DTS total deposits"),
        "dts_withdrawals": dts("dts_withdrawals", f"{dw}:withdrawals", "DTS total withdrawals"),
        "tax_refunds": dts("tax_refunds", f"{dw}:individual_tax_refunds", "Individual tax refunds"),
        "cftc_btc": SeriesSpec(
            "cftc_btc",
            "cftc",
            "133741",
            (
                "lev_net",
                "lev_long",
                "lev_short",
                "am_long",
                "am_short",
                "dealer_long",
                "dealer_short",
                "open_interest",
            ),
            "contracts",
            "W",
            "3D",
            "crypto",
            "CME Bitcoin, Traders in Financial Futures",
        ),
        "btc_funding": SeriesSpec(
            "btc_funding",
            "ccxt",
            "BTC/USDT",
            ("funding_rate", "open_interest"),
            "fraction",
            "D",
            "0D",
            "crypto",
            "BTC perpetual funding",
            options={"perp_symbol": "BTC/USDT:USDT"},
        ),
        "eth_funding": SeriesSpec(
            "eth_funding",
            "ccxt",
            "ETH/USDT",
            ("funding_rate", "open_interest"),
            "fraction",
            "D",
            "0D",
            "crypto",
            "ETH perpetual funding",
            options={"perp_symbol": "ETH/USDT:USDT"},
        ),
    }
