"""Every command without --as-of prints the same date and the same stage."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.cli.main import app
from liqflow.store import Batch, Store

from .synthetic import synthetic_panel

STAGE_LINE = re.compile(r"^as of (\d{4}-\d{2}-\d{2}): (stage .*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study's synthetic market (chain planted) as raw observations, with IWM volume."""
    panel, _ = synthetic_panel(planted=True, seed=3)
    weekdays = panel.index.day_of_week < 5
    rng = np.random.default_rng(3)
    volume = pd.Series(rng.lognormal(17.0, 0.3, int(weekdays.sum())), index=panel.index[weekdays])
    batches = [
        Batch("small_caps", "yahoo", pd.DataFrame({"close": panel.loc[weekdays, "small_caps"]})),
        Batch("small_caps_volume", "yahoo", pd.DataFrame({"volume": volume})),
        Batch("large_caps", "yahoo", pd.DataFrame({"close": panel.loc[weekdays, "large_caps"]})),
        Batch("hy_spread", "fred", pd.DataFrame({"value": panel.loc[weekdays, "hy_spread"]})),
    ]
    for sid in ("btc", "eth", "xrp", "sol"):
        batches.append(Batch(sid, "yahoo", pd.DataFrame({"close": panel[sid].dropna()})))
    path = tmp_path_factory.mktemp("one_date") / "s.duckdb"
    with Store(path) as st:
        st.write(batches)
    return path


def test_every_command_prints_the_same_date_and_stage(store_path: Path, tmp_path: Path) -> None:
    rule = tmp_path / "rule.toml"
    rule.write_text('[rule]\nsignal = "breakout"\nasset = "btc"\nfallback = "cash"\n')
    store = ["--store", str(store_path)]
    commands = {
        "status": ["status", *store],
        "breakouts": ["breakouts", *store],
        "study": ["study", *store, "--draws", "300"],
        "backtest": ["backtest", *store, "--rule", str(rule)],
        "report": ["report", *store, "--offline", "--output", str(tmp_path / "r.html")],
    }
    seen, first = {}, {}
    for name, args in commands.items():
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, f"{name}: {result.output}"
        lines = STAGE_LINE.findall(result.stdout)
        assert lines, f"{name} printed no stage line:\n{result.stdout}"
        seen[name] = lines[-1]
        first[name] = result.stdout.split("\n", 1)[0]
    assert len(set(seen.values())) == 1, seen
    assert len(set(first.values())) == 1, first  # the same as-of line, printed first
    date, stage = seen["status"]
    assert date == "2026-03-31"  # the default date: the last day every input is fresh
    assert stage.startswith("stage ")
