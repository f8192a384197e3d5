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

from liqflow.study.claims import ClaimTable, TestSpec, claim_table
from liqflow.study.evidence import Evidence
from liqflow.study.inputs import StudyInputs, breakout_events, load_study_inputs, study_inputs
from liqflow.study.run import DEFAULT_DRAWS, StudyRun, min_draws, run_study, study
from liqflow.study.verdicts import LEGEND, VERDICTS

__all__ = [
    "DEFAULT_DRAWS",
    "LEGEND",
    "VERDICTS",
    "ClaimTable",
    "Evidence",
    "StudyInputs",
    "StudyRun",
    "TestSpec",
    "breakout_events",
    "claim_table",
    "load_study_inputs",
    "min_draws",
    "run_study",
    "study",
    "study_inputs",
]
