"""``liqflow study`` and ``liqflow corr`` on a small synthetic store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.cli.main import app
from liqflow.store import Batch, Store

from .test_claims import synthetic_panel


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted synthetic panel written as raw observations (equities on weekdays)."""
    panel, events = synthetic_panel(planted=True, seed=1)
    weekdays = panel.index.day_of_week < 5
    # the Russell close: a new all-time high exactly on each planted event day, and a
    # base below it (with distinct consecutive closes) until the next one
    sessions = panel.index[weekdays]
    steps = events.reindex(sessions, fill_value=False).cumsum().to_numpy()
    wiggle = 0.001 * (np.arange(sessions.size) % 7)
    close = pd.Series(99.0 + 10.0 * steps - wiggle, index=sessions)
    close[events.index[events]] += 1.5
    path = tmp_path_factory.mktemp("store") / "s.duckdb"
    batches = [
        Batch("small_caps", "yahoo", pd.DataFrame({"close": close})),
        Batch("large_caps", "yahoo", pd.DataFrame({"close": panel.loc[weekdays, "large_caps"]})),
        Batch("hy_spread", "fred", pd.DataFrame({"value": panel.loc[weekdays, "hy_spread"]})),
    ]
    for sid in ("btc", "eth", "xrp", "sol"):
        batches.append(Batch(sid, "yahoo", pd.DataFrame({"close": panel[sid].dropna()})))
    with Store(path) as st:
        st.write(batches)
    return path


def test_study_prints_verdicts_and_per_event_tables(store_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["study", "--store", str(store_path), "--draws", "400"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Claims on latest data (Holm across all tests, alpha=0.05)" in out
    for claim in "abcde":
        assert f"({claim})" in out
    assert "What followed each Russell 2000 breakout: btc" in out
    assert "What followed each Russell 2000 breakout: alts" in out
    assert "2016-11-14" in out and "b,c" in out
    assert "supported" in out


def test_study_as_of_uses_only_earlier_data(store_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["study", "--store", str(store_path), "--as-of", "2019-12-31", "--draws", "400"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "data public by 2019-12-31" in result.stdout
    assert "2020-11-13" not in result.stdout


def test_study_rejects_too_few_draws(store_path: Path) -> None:
    result = CliRunner().invoke(app, ["study", "--store", str(store_path), "--draws", "100"])
    assert result.exit_code != 0
    assert "--draws must be at least 340" in str(result.exception)


def test_corr_prints_periods(store_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "corr",
            "small_caps",
            "btc",
            "--periods",
            "2017-2019,2020-2021",
            "--store",
            str(store_path),
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2017-2019" in out and "2020-2021" in out
    assert "rolling 90-return correlation on" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["corr", "small_caps", "nope"], "unknown series 'nope'"),
        (["corr", "small_caps", "btc", "--periods", "17-19"], "got '17-19'"),
        (["corr", "small_caps", "ada"], "no data for 'ada' in the store"),
    ],
)
def test_corr_errors(store_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*args, "--store", str(store_path)])
    assert result.exit_code != 0
    assert message in str(result.exception)
