"""``liqflow report``: writes the file, prints a summary, fetches an empty store first."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liqflow.cli import report as report_cli
from liqflow.cli.main import app, main
from liqflow.fetch import FetchReport, SeriesFetch
from liqflow.store import Store

from .conftest import LIGHT, synthetic_batches

runner = CliRunner()


@pytest.fixture(autouse=True)
def _light_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast settings, and no test may reach the network: fetch fails unless replaced."""

    def no_fetch(*args: Any, **kw: Any) -> FetchReport:
        raise AssertionError("a test tried to fetch from the network")

    monkeypatch.setattr(report_cli, "CONFIG", LIGHT)
    monkeypatch.setattr(report_cli, "fetch", no_fetch)


def test_report_writes_the_file_and_a_summary(synthetic_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    shutil.copy(synthetic_path, store)
    out = tmp_path / "out" / "r.html"
    result = runner.invoke(
        app,
        ["report", "-o", str(out), "--as-of", "2021-01-15", "--store", str(store), "--offline"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and out.stat().st_size < 15e6
    text = result.stdout
    assert "report written:" in text and "r.html" in text
    assert "as of 2021-01-15: stage" in text
    assert "Small caps lead crypto by one to three months" in text
    assert text.startswith("as of 2021-01-15 (as given)")


def test_offline_with_an_empty_store_is_one_red_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "report",
                "--offline",
                "--store",
                str(tmp_path / "empty.duckdb"),
                "-o",
                str(tmp_path / "r.html"),
            ]
        )
    assert exc.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "holds none of the report's series; run `liqflow import PATH`" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_bad_date_is_one_red_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            ["report", "--as-of", "2021-13-45", "--offline", "--store", str(tmp_path / "s.duckdb")]
        )
    assert exc.value.code == 1
    assert "--as-of must be a date like 2021-01-15, got '2021-13-45'" in capsys.readouterr().err


def test_an_empty_store_is_fetched_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def fake_fetch(store: Store, catalog: Any, ids: Any, **kw: Any) -> FetchReport:
        calls.append(tuple(ids))
        added = store.write(synthetic_batches())
        return FetchReport(tuple(SeriesFetch(sid, src, n) for (sid, src), n in added.items()))

    monkeypatch.setattr(report_cli, "fetch", fake_fetch)
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "-o", str(out), "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output
    assert calls and "small_caps" in calls[0] and "spy" not in calls[0]
    assert "the store is empty: fetching the report's series first" in result.stderr
    assert out.exists()


def test_a_failed_fetch_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(store: Store, catalog: Any, ids: Any, **kw: Any) -> FetchReport:
        return FetchReport(
            tuple(SeriesFetch(sid, "fred", error=f"{sid}: cannot reach host") for sid in ids)
        )

    monkeypatch.setattr(report_cli, "fetch", no_network)
    result = runner.invoke(
        app, ["report", "--store", str(tmp_path / "s.duckdb"), "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code != 0
    assert "still empty after fetching (no network?)" in str(result.exception)
