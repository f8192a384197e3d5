"""The README's "What the real data says" is the evidence on the shared data, current."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqflow.catalog import default_catalog
from liqflow.store import Store
from liqflow.study import study
from liqflow.study.text import BEGIN, END, findings, replace_block

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.realdata
def test_readme_findings_are_generated_from_the_evidence(shared_store: Path) -> None:
    with Store(shared_store, read_only=True) as st:
        run = study(st, default_catalog())
    text = README.read_text(encoding="utf-8")
    want = replace_block(text, findings(run.evidence))
    assert text == want, (
        "README findings are stale: run `liqflow import ../shared/data --store S` and "
        "`python -m liqflow.study.text README.md --store S`"
    )


def test_replace_block_keeps_the_rest() -> None:
    text = f"head\n{BEGIN}\nold\n{END}\ntail\n"
    assert replace_block(text, "new\n") == f"head\n{BEGIN}\nnew\n{END}\ntail\n"
    with pytest.raises(ValueError, match="the file has no findings block"):
        replace_block("no block", "x")
