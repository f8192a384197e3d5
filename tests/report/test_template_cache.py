"""The report template's compiled form is kept in liqflow's directory (best effort)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from liqflow.report.html import _bytecode_cache


def test_the_compiled_template_is_written_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQFLOW_HOME", str(tmp_path))
    loader = jinja2.PackageLoader("liqflow.report", "templates")
    cache = _bytecode_cache()
    assert cache is not None
    first = jinja2.Environment(loader=loader, bytecode_cache=cache, autoescape=True)
    first.get_template("report.html.j2")
    written = list((tmp_path / "templates").iterdir())
    assert len(written) == 1 and written[0].stat().st_size > 0
    again = jinja2.Environment(loader=loader, bytecode_cache=_bytecode_cache(), autoescape=True)
    assert again.get_template("report.html.j2").name == "report.html.j2"
    assert list((tmp_path / "templates").iterdir()) == written


def test_a_directory_that_cannot_be_made_skips_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LIQFLOW_HOME", str(blocker))
    assert _bytecode_cache() is None


def test_a_cache_that_cannot_be_written_still_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQFLOW_HOME", str(tmp_path))
    cache = _bytecode_cache()
    assert cache is not None
    (tmp_path / "templates").rmdir()  # gone before the write: the write is skipped
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("liqflow.report", "templates"), bytecode_cache=cache
    )
    assert env.get_template("report.html.j2").name == "report.html.j2"
