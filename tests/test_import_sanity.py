"""Input sanity on import: every refusal through the CLI, one line, store unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow import _sanity
from liqflow._errors import DataError
from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.importer import import_paths
from liqflow.store import Store

runner = CliRunner()
YAHOO = "Date,Open,High,Low,Close,Volume\n"
TOMORROW_2 = (pd.Timestamp.now("UTC").normalize() + pd.Timedelta(days=2)).strftime("%Y-%m-%d")

#: (case id, file name, content, extra CLI args, the refusal it must print)
CASES = [
    (
        "price zero",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,1,1,5\n2021-01-02,1,2,1,0,5\n",
        [],
        r"BTC-USD.csv:3: close 0.0 on 2021-01-02 must be a price > 0",
    ),
    (
        "price negative",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,-1,1,5\n",
        [],
        r"BTC-USD.csv:2: low -1.0 on 2021-01-01 must be a price > 0",
    ),
    (
        "inf",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,1,inf,5\n",
        [],
        r"BTC-USD.csv:2: close inf on 2021-01-01 is not a finite number below 1e\+15",
    ),
    (
        "1e308",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,1,1,5\n2021-01-02,1,2,1,1e308,5\n",
        [],
        r"BTC-USD.csv:3: close 1e\+308 on 2021-01-02 is not a finite number",
    ),
    (
        "negative volume",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,1,1,-5\n",
        [],
        r"BTC-USD.csv:2: volume -5.0 on 2021-01-01 must be >= 0",
    ),
    (
        "date 2099",
        "WALCL.csv",
        "date,value\n2021-01-06,7000000\n2099-12-30,7000000\n",
        [],
        r"WALCL.csv:3: date 2099-12-30 is outside \[1900-01-01, ",
    ),
    (
        "date after tomorrow",
        "WALCL.csv",
        f"date,value\n{TOMORROW_2},7000000\n",
        [],
        rf"WALCL.csv:2: date {TOMORROW_2} is outside",
    ),
    (
        "date 1899",
        "WALCL.csv",
        "date,value\n1899-12-31,7000000\n1900-01-07,7000000\n",
        [],
        r"WALCL.csv:2: date 1899-12-31 is outside \[1900-01-01",
    ),
    (
        "duplicate date",
        "BTC-USD.csv",
        YAHOO + "2021-01-01,1,2,1,1,5\n2021-01-02,1,2,1,1,5\n2021-01-01 12:00:00,1,2,1,1,5\n",
        [],
        r"BTC-USD.csv:4: date 2021-01-01 repeats line 2; expected one row per date",
    ),
    (
        "header names another series",
        "WALCL.csv",
        "DATE,RRPONTSYD\n2021-01-06,500\n",
        [],
        r"WALCL.csv:1: header names FRED series 'RRPONTSYD' \(catalogue series 'rrp'\), "
        r"but the file is being imported as 'fed_assets'",
    ),
    (
        "header vs --series",
        "export.csv",
        "DATE,WALCL\n2021-01-06,7000000\n",
        ["--series", "hy_spread"],
        r"export.csv:1: header names FRED series 'WALCL'",
    ),
    (
        "spread above 100 %",
        "walcl_export.csv",
        "date,value\n2021-01-06,7320590\n",
        ["--series", "hy_spread"],
        r"walcl_export.csv:2: value 7320590.0 on 2021-01-06 is not plausible for a series in "
        r"percent \(expected -100 to 100",
    ),
    (
        "x1000 off the stored level",
        "billions.csv",
        "date,value\n2021-01-06,7000\n",
        ["--series", "fed_assets"],
        r"billions.csv: its level is 0.001x the stored 'fed_assets' \(fred\) on 1 dates",
    ),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding Fed assets in USD millions (the reference of the level check)."""
    seed = tmp_path / "seed" / "WALCL.csv"
    seed.parent.mkdir()
    seed.write_text("date,value\n2021-01-06,7000000\n2021-01-13,7010000\n")
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        import_paths(store, default_catalog(), [seed])
    return path


def _state(db: Path) -> tuple[int, int, list[float]]:
    with Store(db, read_only=True) as store:
        return (
            store.row_count(),
            len(store.revisions()),
            store.read("fed_assets", "fred")["value"].tolist(),
        )


@pytest.mark.parametrize(
    ("name", "content", "args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_bad_input_is_refused_in_one_line(
    tmp_path: Path, db: Path, name: str, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    before = _state(db)
    result = runner.invoke(app, ["import", str(path), "--store", str(db), *args])
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("refused")]
    assert len(lines) == 1, result.output
    assert re.search(message, lines[0]), lines[0]
    assert lines[0].endswith("the file was not imported"), lines[0]
    assert "1 refused" in result.output
    assert _state(db) == before


def test_force_imports_implausible_levels(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "billions.csv"
    path.write_text("date,value\n2021-01-06,7000\n2021-01-20,7100\n")
    refused = runner.invoke(
        app, ["import", str(path), "--store", str(db), "--series", "fed_assets"]
    )
    assert refused.exit_code == 1
    forced = runner.invoke(
        app, ["import", str(path), "--store", str(db), "--series", "fed_assets", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    # the level check is skipped, the revision rule is not: the stored 7,000,000 stays
    assert "1 new rows, 0 revised, 1 differing values kept as stored" in forced.output
    with Store(db, read_only=True) as store:
        assert store.read("fed_assets", "fred")["value"].tolist() == [7e6, 7.01e6, 7100.0]


def test_force_does_not_admit_impossible_values(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "BTC-USD.csv"
    path.write_text(YAHOO + "2021-01-01,1,2,1,-3,5\n")
    result = runner.invoke(app, ["import", str(path), "--store", str(db), "--force"])
    assert result.exit_code == 1
    assert "must be a price > 0" in result.output


def test_a_bad_file_in_a_folder_does_not_stop_the_others(tmp_path: Path, db: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (root / "BTC-USD.csv").write_text(YAHOO + "2021-01-01,1,2,1,0,5\n")
    (root / "WTREGEN.csv").write_text("date,value\n2021-01-06,1600000\n")
    result = runner.invoke(app, ["import", str(root), "--store", str(db)])
    assert result.exit_code == 1
    with Store(db, read_only=True) as store:
        assert store.sources("tga") == ("fred",) and store.sources("btc") == ()


def test_level_check_compares_nearby_dates_without_common_ones() -> None:
    stored = pd.Series([7e6, 7.1e6], index=pd.to_datetime(["2021-01-06", "2021-01-13"]))
    near = pd.Series([7000.0], index=pd.to_datetime(["2021-01-15"]))
    with pytest.raises(DataError, match=r"f.csv: its level is 0.000986x the stored 'x' \(fred\)"):
        _sanity.check_level_against(Path("f.csv"), near, stored, "x", "fred")
    far = pd.Series([7000.0], index=pd.to_datetime(["2023-01-15"]))
    _sanity.check_level_against(Path("f.csv"), far, stored, "x", "fred")  # nothing to compare
    same = pd.Series([7.05e6], index=pd.to_datetime(["2021-01-13"]))
    _sanity.check_level_against(Path("f.csv"), same, stored, "x", "fred")


def test_ctrl_c_during_the_write_exits_130_and_changes_nothing(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "WTREGEN.csv"
    path.write_text("date,value\n2021-01-06,1600000\n")
    original = Store._apply_plan

    def interrupted(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # after the rows went into the staged copy

    monkeypatch.setattr(Store, "_apply_plan", staticmethod(interrupted))
    before = _state(db)
    result = runner.invoke(app, ["import", str(path), "--store", str(db)])
    assert result.exit_code == 130
    assert "interrupted, nothing was changed" in result.output
    assert "Traceback" not in result.output
    assert _state(db) == before
    assert not (db.parent / (db.name + ".writing")).exists()


def test_ctrl_c_of_an_import_into_a_new_store_says_nothing_was_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "WTREGEN.csv"
    path.write_text("date,value\n2021-01-06,1600000\n")
    db = tmp_path / "new" / "s.duckdb"  # created by the command: not a write of data

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_apply_plan", staticmethod(interrupted))
    result = runner.invoke(app, ["import", str(path), "--store", str(db)])
    assert result.exit_code == 130
    assert "interrupted, nothing was changed" in result.output
    with Store(db, read_only=True) as st:
        assert st.inventory() == []


def test_a_huge_bad_line_is_named_not_echoed_whole(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "WALCL.csv"
    path.write_text("DATE,WALCL\n2020-01-01,1\n2020-01-08," + "x" * 5_000_000 + "\n")
    result = runner.invoke(app, ["import", str(path), "--store", str(db)])
    assert result.exit_code == 1
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("refused")]
    assert f"{path}:3" in line and "(4,999,854 more characters)" in line
    assert len(line) < 600
