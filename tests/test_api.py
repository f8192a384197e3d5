"""liqflow.load_signals / load_stages / load_evidence / load_universe on a synthetic store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import liqflow
from liqflow._errors import DataError
from liqflow.store import Store
from report.conftest import fill_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "s.duckdb"
    with Store(path) as st:
        fill_store(st)
    return path


def test_signals_and_stages_match_and_are_point_in_time(store_path: Path) -> None:
    signals = liqflow.load_signals(store_path, as_of="2021-01-15")
    frame = signals.to_frame()
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "date"
    assert frame.index.max() == pd.Timestamp("2021-01-15")
    stages = liqflow.load_stages(str(store_path), as_of="2021-01-15")
    pd.testing.assert_frame_equal(stages, signals.stages.to_frame())
    assert signals.stage_status().as_of == pd.Timestamp("2021-01-15")
    # an open Store works too, and is left open for the caller
    with Store(store_path, read_only=True) as st:
        again = liqflow.load_stages(st, as_of="2021-01-15")
        assert st.inventory()
    pd.testing.assert_frame_equal(again, stages)


def test_evidence_is_the_study(store_path: Path) -> None:
    evidence = liqflow.load_evidence(store_path, as_of="2021-01-15", draws=260)
    assert evidence.as_of == pd.Timestamp("2021-01-15") and evidence.draws == 260
    assert list(evidence.claims["claim"])[:2] == ["chain", "lead"]
    assert {"effect", "p_holm", "verdict"} <= set(evidence.to_frame().columns)


def test_a_date_after_the_data_and_a_store_without_universe_are_clear_errors(
    store_path: Path,
) -> None:
    with pytest.raises(DataError, match="2099-01-01"):
        liqflow.load_signals(store_path, as_of="2099-01-01")
    with pytest.raises(DataError, match="no crypto-universe snapshot in the store"):
        liqflow.load_universe(store_path)


def test_the_names_are_exported_lazily() -> None:
    for name in ("load_signals", "load_stages", "load_evidence", "load_universe"):
        assert name in liqflow.__all__ and callable(getattr(liqflow, name))
