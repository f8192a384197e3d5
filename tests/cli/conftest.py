"""A small synthetic store shared by the CLI tests (the report tests' synthetic market)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqflow.store import Store
from report.conftest import fill_store


@pytest.fixture(scope="session")
def market_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with the synthetic market of 2014-2021 (do not write to it)."""
    path = tmp_path_factory.mktemp("cli_market") / "store.duckdb"
    with Store(path) as st:
        fill_store(st)
    return path
