"""``liqflow study`` and ``liqflow corr`` on a small synthetic store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.cli.main import app
from liqflow.store import Batch, Store

from .synthetic import synthetic_panel


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


def test_study_prints_as_of_verdicts_and_per_event_tables(store_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["study", "--store", str(store_path), "--draws", "400"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    first = out.splitlines()[0]
    assert first.startswith("as of 2026-03-31 (the last day the chain's required inputs are fresh)")
    for claim in ("chain", "lead", "breakouts", "alts_most", "precedents", "recent"):
        assert f"\n{claim} " in out
    assert "Tests (Holm across the 13 tests of one family, alpha=0.05)" in out
    assert "What followed each breakout: btc" in out
    assert "What followed each breakout: alts" in out
    assert "2016-11-14" in out
    assert "descriptive" in out and "verdicts - supported:" in out


def test_study_json_is_the_evidence_document(store_path: Path) -> None:
    args = ["study", "--store", str(store_path), "--draws", "300", "--json"]
    a = CliRunner().invoke(app, args)
    b = CliRunner().invoke(app, args)
    assert a.exit_code == 0, a.output
    doc = json.loads(a.stdout)
    assert doc["as_of"] == "2026-03-31" and doc["seed"] == 0 and doc["draws"] == 300
    assert len(doc["data_hash"]) == 64
    assert a.stdout == b.stdout


def test_study_as_of_uses_only_earlier_data(store_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["study", "--store", str(store_path), "--as-of", "2019-12-31", "--draws", "400"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("as of 2019-12-31 (as given)")
    assert "2020-11-13" not in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--draws", "100"], "draws must be an integer of at least 260"),
        (
            ["--as-of", "2030-01-01"],
            "--as-of 2030-01-01 is after the last stored data (2026-03-31)",
        ),
        (["--chain", "nope"], "unknown chain 'nope'"),
        (["--seed", "-1"], "seed must be an integer from 0 to 2**63 - 1, got -1"),
        (["--draws", "1000000000"], "draws must be an integer from 1 to 100,000, got 1000000000"),
        (["--as-of", "05/06/2021"], "--as-of must be a date like 2021-01-15, got '05/06/2021'"),
    ],
)
def test_study_refusals(
    store_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from liqflow.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["study", "--store", str(store_path), *args])
    assert exc.value.code == 1
    out = capsys.readouterr()
    assert message in (out.out + out.err).replace("\n", " ")
    assert "Traceback" not in out.out + out.err


def test_a_user_chain_gets_its_own_claims(store_path: Path, tmp_path: Path) -> None:
    toml = tmp_path / "gold.toml"
    toml.write_text(
        '[series.gold]\nprovider = "yahoo"\nsymbol = "GC=F"\nfields = ["close"]\n'
        'unit = "USD"\nfrequency = "D"\nrelease_lag = "0D"\ngroup = "macro"\n\n'
        '[chains.gold]\nstages = [["hy_spread"], ["large_caps"], ["gold"]]\n'
    )
    panel, _ = synthetic_panel(planted=True, seed=1)
    with Store(store_path) as st:
        st.write([Batch("gold", "yahoo", pd.DataFrame({"close": panel["btc"].dropna() / 20}))])
    result = CliRunner().invoke(
        app,
        ["study", "--store", str(store_path), "--catalog", str(toml), "--chain", "gold",
         "--draws", "300", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["chain"] == "gold"
    ids = [t["test_id"] for t in doc["tests"]]
    assert "chain/lead_lag:hy_spread->large_caps" in ids
    assert "chain/lead_lag:large_caps->gold" in ids
    assert "lead/lead_lag:large_caps->gold" in ids and "breakouts/event:gold+90d" in ids
    assert not any("alts" in i or "btc" in i for i in ids)


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
        (["corr", "small_caps", "btc", "--seed", "-1"], "seed must be an integer from 0"),
        (["corr", "small_caps", "ada"], "no data for 'ada' in the store"),
    ],
)
def test_corr_errors(store_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*args, "--store", str(store_path)])
    assert result.exit_code != 0
    assert message in str(result.exception)
