"""The thesis as data, tested once: claims from the chain, one runner, one Evidence.

::

    from liqflow import Store
    from liqflow.study import load_study_inputs, run_study

    with Store() as store:
        inputs = load_study_inputs(store, catalog, "default", as_of="2026-02-20")
        evidence, _ = run_study(inputs, seed=0, store=store)
    evidence.claims          # one verdict per claim
    evidence.to_json()       # what `liqflow study --json` prints and the report embeds
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow._lazy import lazy_exports
from liqflow.study.defaults import ALPHA, DEFAULT_DRAWS, DEFAULT_SEED

if TYPE_CHECKING:
    from liqflow.study.claims import ClaimTable, TestSpec, claim_table
    from liqflow.study.evidence import Evidence, TestRow
    from liqflow.study.inputs import StudyInputs, breakout_events, load_study_inputs, study_inputs
    from liqflow.study.run import StudyRun, min_draws, run_study, study
    from liqflow.study.verdicts import LEGEND, VERDICTS

_NAMES = {
    "ClaimTable": "claims",
    "TestSpec": "claims",
    "claim_table": "claims",
    "Evidence": "evidence",
    "TestRow": "evidence",
    "StudyInputs": "inputs",
    "breakout_events": "inputs",
    "load_study_inputs": "inputs",
    "study_inputs": "inputs",
    "StudyRun": "run",
    "min_draws": "run",
    "run_study": "run",
    "study": "run",
    "LEGEND": "verdicts",
    "VERDICTS": "verdicts",
}
__getattr__, __dir__ = lazy_exports(__name__, _NAMES, globals())

__all__ = [
    "ALPHA",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "LEGEND",
    "VERDICTS",
    "ClaimTable",
    "Evidence",
    "StudyInputs",
    "StudyRun",
    "TestRow",
    "TestSpec",
    "breakout_events",
    "claim_table",
    "load_study_inputs",
    "min_draws",
    "run_study",
    "study",
    "study_inputs",
]
