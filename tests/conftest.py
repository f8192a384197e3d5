from __future__ import annotations

import os
from pathlib import Path

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
