"""One number, one place: the report embeds exactly the evidence `liqflow study --json` prints."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from liqflow.cli.main import app
from liqflow.report import build_report
from liqflow.store import Store

from .conftest import FAST

_EMBEDDED = re.compile(
    r'<script type="application/json" id="liqflow-evidence">(.*?)</script>', re.DOTALL
)


def _embedded(page: str) -> dict:  # type: ignore[type-arg]
    match = _EMBEDDED.search(page)
    assert match is not None
    return json.loads(match.group(1))


def test_study_json_equals_the_report_evidence(synthetic_path: Path) -> None:
    cfg = replace(FAST, draws=300, walk_forward=False)
    with Store(synthetic_path, read_only=True) as st:
        rep = build_report(st, config=cfg)
    out = CliRunner().invoke(
        app, ["study", "--store", str(synthetic_path), "--draws", "300", "--json"]
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    embedded = _embedded(rep.html)
    assert printed == embedded
    assert printed["as_of"] == f"{rep.as_of:%Y-%m-%d}"
    # every p-value and verdict of the claims table comes from that document
    page = html.unescape(rep.html)
    for t in printed["tests"]:
        if t["p_holm"] is not None:
            assert f"{t['p_holm']:.3f}" in page
    for c in printed["claims"]:
        assert c["claim_text"] in page


def test_the_default_date_is_the_same_for_report_and_study(synthetic_path: Path) -> None:
    with Store(synthetic_path, read_only=True) as st:
        rep = build_report(st, config=replace(FAST, claims=False, walk_forward=False))
    out = CliRunner().invoke(
        app, ["study", "--store", str(synthetic_path), "--draws", "300"], env={"COLUMNS": "200"}
    )
    assert out.stdout.startswith(f"as of {rep.as_of:%Y-%m-%d} (the last day")
    assert rep.results.freshness.describe().startswith(f"as of {rep.as_of:%Y-%m-%d} (the last day")
