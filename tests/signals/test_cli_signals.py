"""``liqflow status`` and ``liqflow breakouts`` on a small synthetic store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.cli.main import app, main
from liqflow.store import Batch, Store

from .conftest import synthetic_panel


def _planted(sessions: pd.DatetimeIndex) -> pd.Series:
    """An all-time high on session 49, a base at 90, a breakout to 101 on session 130."""
    c = np.empty(len(sessions))
    c[:50] = np.linspace(50.0, 100.0, 50)
    c[50:130] = 90.0 + 0.001 * np.arange(80)  # distinct closes: unchanged ones are not sessions
    c[130:] = 101.0 + np.arange(len(sessions) - 130) * 0.1
    return pd.Series(c, index=sessions)


def _store(tmp_path: Path) -> Path:
    """Write the synthetic panel's equity and crypto columns as raw observations."""
    panel = synthetic_panel(1, n=500)
    path = tmp_path / "s.duckdb"
    weekdays = panel.index.day_of_week < 5
    batches = [
        Batch("large_caps", "yahoo", pd.DataFrame({"close": panel.loc[weekdays, "large_caps"]}))
    ]
    batches.append(
        Batch("small_caps", "yahoo", pd.DataFrame({"close": _planted(panel.index[weekdays])}))
    )
    vol = pd.DataFrame({"volume": panel.loc[weekdays, "small_caps_volume"]})
    batches.append(Batch("small_caps_volume", "yahoo", vol))
    for sid in ("btc", "eth", "xrp", "sol", "ada"):
        batches.append(Batch(sid, "yahoo", pd.DataFrame({"close": panel[sid].dropna()})))
    hy = pd.DataFrame({"value": panel.loc[weekdays, "hy_spread"]})
    batches.append(Batch("hy_spread", "fred", hy))
    with Store(path) as st:
        st.write(batches)
    return path


def test_status_prints_a_table_per_stage_and_the_current_stage(tmp_path: Path) -> None:
    path = _store(tmp_path)
    args = ["status", "--store", str(path), "--as-of", "2021-03-01", "--verbose"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    for k, name in enumerate(("liquidity & credit", "large caps", "small caps", "crypto"), start=1):
        assert f"Stage {k}: {name}" in out
    first, second = out.split("\n")[:2]
    assert first.startswith("as of 2021-03-01 (as given)") and second.startswith(
        "as of 2021-03-01: stage "
    )
    assert "hy_narrowing" in out and "alt_season" in out
    flat = " ".join(out.split())
    assert "liquidity.fed_assets: unknown: not supplied" in flat


def test_breakouts_lists_events_with_the_rule(tmp_path: Path) -> None:
    path = _store(tmp_path)
    result = CliRunner().invoke(app, ["breakouts", "--store", str(path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Russell 2000 all-time-high breakouts as of" in result.stdout
    assert "base of >= 60" in result.stdout
    day = synthetic_panel(1, n=500).index
    breakout_day = day[day.day_of_week < 5][130]
    line = next(ln for ln in result.stdout.splitlines() if f"{breakout_day:%Y-%m-%d}" in ln)
    assert "101.00" in line and "100.00" in line and "confirmed" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["status", "--as-of", "not-a-date"],
            "--as-of must be a date like 2021-01-15, got 'not-a-date'",
        ),
        (["status", "--as-of", "1990-01-01"], "the store has no data up to 1990-01-01"),
        (
            ["breakouts", "--as-of", "1990-01-01"],
            "no small_caps (^RUT) data in the store up to 1990-01-01",
        ),
    ],
)
def test_user_errors_are_one_red_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = _store(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main([*args, "--store", str(path)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_commands_have_help() -> None:
    for cmd in ("status", "breakouts"):
        result = CliRunner().invoke(app, [cmd, "--help"])
        assert result.exit_code == 0 and "--as-of" in result.stdout
