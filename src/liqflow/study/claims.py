"""The thesis as data: the claims of a chain and the tests that judge them.

Every claim liqflow judges is a row of a table generated from a catalogue
:class:`~liqflow.catalog.Chain`, so a user's chain (say credit -> large caps -> gold) gets
its own claims with no code. For a chain with stages ``S1 -> S2 -> ... -> Sk``:

=============  ==========================================================  ============
claim          tests                                                       family
=============  ==========================================================  ============
``chain``      weekly lead-lag between the representatives of adjacent     thesis
               stages, lead on lags 1-13 weeks
``lead``       the event stage leads each crypto / last-stage target by    thesis
               one to three months: weekly lead-lag (lags 4-13 weeks) and
               a Granger test (lags 1-13 weeks)
``breakouts``  all-time-high breakouts of the event stage are followed by  thesis
               rallies of each target within 30/60/90 days (placebo dates)
``alts_most``  the alt basket gains more than BTC after the breakouts      derived
               (read from the ``breakouts`` rows; no test of its own)
``precedents`` what followed the breakouts of 2016-17 and 2020-21          descriptive
``recent``     what followed the breakouts of mid-2025 to mid-2026         descriptive
=============  ==========================================================  ============

The event stage is the stage that holds ``small_caps`` (the Russell 2000), else the
second-to-last stage. A stage is represented by its first credit-group series (a
spread enters as ``exp(-spread)``, so narrowing is a positive move), else its first
series; the last stage by its first series and, when it holds altcoins, the alt basket.

The precedent windows were chosen after the fact, by people who had seen the rallies: they
are reported as values, never as tests (``descriptive``). One family of tests (``thesis``)
carries the multiple-testing correction of a run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from liqflow._errors import ConfigError
from liqflow.catalog import Catalog, Chain

__all__ = [
    "CLAIM_HORIZONS",
    "CLAIM_TEXT",
    "EVENT_SERIES",
    "FAMILIES",
    "LEAD_WEEKS",
    "LINK_WEEKS",
    "MAX_LAG_WEEKS",
    "PRECEDENT_WINDOWS",
    "RECENT_WINDOW",
    "TEST_KINDS",
    "ClaimTable",
    "TestSpec",
    "claim_table",
]

CLAIM_HORIZONS = (30, 60, 90)
LEAD_WEEKS = (4, 13)  # "one to three months" in weeks
LINK_WEEKS = (1, 13)
MAX_LAG_WEEKS = 13
#: Windows of the 2016/17 and 2020/21 precedents (breakouts that could have preceded the
#: alt seasons of 2017 and 2021), chosen after the fact: descriptive only.
PRECEDENT_WINDOWS = (("2016-07-01", "2017-06-30"), ("2020-07-01", "2021-06-30"))
RECENT_WINDOW = (("2025-07-01", "2026-06-30"),)
#: The series whose all-time-high breakouts are the events, when the chain holds it.
EVENT_SERIES = "small_caps"
ALTS = "alts"
TEST_KINDS = ("lead_lag", "granger", "event", "event_values")
FAMILIES = ("thesis", "derived", "descriptive")

CLAIM_TEXT = {
    "chain": "the chain's order: each stage leads the next",
    "lead": "{event} leads {targets} by one to three months",
    "breakouts": "{event} all-time-high breakouts are followed by rallies of {targets} "
    "within one to three months",
    "alts_most": "altcoins gain most after {event} breakouts (more than BTC)",
    "precedents": "the 2016/2017 and 2020/2021 {event} breakouts preceded crypto rallies",
    "recent": "what followed the {event} breakouts of mid-2025 to mid-2026",
}


@dataclass(frozen=True)
class TestSpec:
    """One test of one claim.

    Attributes
    ----------
    claim : str
        Claim id (``chain``, ``lead``, ``breakouts``, ``alts_most``, ``precedents``,
        ``recent``).
    test_id : str
        Stable id of the test within a run (``lead/lead_lag:small_caps->btc``).
    kind : str
        One of :data:`TEST_KINDS`.
    leader, follower : str
        Series keys (``alts`` is the alt basket; ``breakouts`` the event series).
    lags : tuple of int
        Lead window in weeks (lead-lag, Granger).
    horizons : tuple of int
        Forward-return horizons in days (event tests).
    alternative : str
        ``positive`` (lead-lag), ``greater`` (events), ``two-sided`` (Granger).
    family : str
        ``thesis`` (tested, corrected together), ``descriptive`` (values only).
    windows : tuple of (str, str)
        Event date windows (precedents, recent); empty for every breakout.
    """

    __test__ = False  # not a pytest class

    claim: str
    test_id: str
    kind: str
    leader: str
    follower: str
    lags: tuple[int, int] = (0, 0)
    horizons: tuple[int, ...] = ()
    alternative: str = "positive"
    family: str = "thesis"
    windows: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """Short words for tables: ``lead-lag small_caps -> btc (lags 4-13w)``."""
        if self.kind == "lead_lag":
            return f"lead-lag {self.leader} -> {self.follower} (weekly, lags {self.lags[0]}-{self.lags[1]}w)"
        if self.kind == "granger":
            return f"Granger {self.leader} => {self.follower} (weekly, lags 1-{self.lags[1]}w)"
        h = "/".join(str(x) for x in self.horizons)
        if self.kind == "event":
            return f"breakouts -> {self.follower} +{h}d (vs placebo dates)"
        return f"{self.claim} breakouts -> {self.follower} +{h}d (values)"


@dataclass(frozen=True)
class ClaimTable:
    """The claims of one chain and their tests, in run order."""

    chain: str
    event_series: str
    targets: tuple[str, ...]
    claims: tuple[tuple[str, str], ...]  # (claim id, claim in words)
    tests: tuple[TestSpec, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per test: claim, claim text, test id, kind, series, window, family."""
        text = dict(self.claims)
        return pd.DataFrame(
            [
                {
                    "claim": t.claim,
                    "claim_text": text[t.claim],
                    "test_id": t.test_id,
                    "kind": t.kind,
                    "leader": t.leader,
                    "follower": t.follower,
                    "lags": f"{t.lags[0]}-{t.lags[1]}w" if t.lags != (0, 0) else "",
                    "horizons": ",".join(str(h) for h in t.horizons),
                    "alternative": t.alternative,
                    "family": t.family,
                }
                for t in self.tests
            ]
        )

    def series_keys(self) -> tuple[str, ...]:
        """Every series the tests read (``alts`` for the basket), in first-use order."""
        keys: dict[str, None] = {}
        for t in self.tests:
            for k in (t.leader, t.follower):
                if k != "breakouts":
                    keys[k] = None
        return tuple(keys)


def _representative(stage: tuple[str, ...], catalog: Catalog) -> str:
    for sid in stage:
        if catalog[sid].group == "credit":
            return sid
    return stage[0]


def _targets(stage: tuple[str, ...], catalog: Catalog) -> tuple[str, ...]:
    first = next((s for s in stage if catalog[s].group != "alt"), stage[0])
    has_alts = any(catalog[s].group == "alt" for s in stage)
    return (first, ALTS) if has_alts and first != ALTS else (first,)


def _event_stage(chain: Chain) -> int:
    for i, stage in enumerate(chain.stages):
        if EVENT_SERIES in stage:
            return min(i, len(chain.stages) - 2)  # the last stage is the one that follows
    return len(chain.stages) - 2


def _lead_tests(event: str, targets: tuple[str, ...]) -> list[TestSpec]:
    out: list[TestSpec] = []
    for tgt in targets:
        out.append(
            TestSpec("lead", f"lead/lead_lag:{event}->{tgt}", "lead_lag", event, tgt, LEAD_WEEKS)
        )
        out.append(
            TestSpec(
                "lead",
                f"lead/granger:{event}=>{tgt}",
                "granger",
                event,
                tgt,
                (1, MAX_LAG_WEEKS),
                alternative="two-sided",
            )
        )
    return out


def _event_tests(targets: tuple[str, ...]) -> list[TestSpec]:
    out = [
        TestSpec(
            "breakouts",
            f"breakouts/event:{tgt}+{h}d",
            "event",
            "breakouts",
            tgt,
            horizons=(h,),
            alternative="greater",
        )
        for tgt in targets
        for h in CLAIM_HORIZONS
    ]
    for claim, windows in (("precedents", PRECEDENT_WINDOWS), ("recent", RECENT_WINDOW)):
        out.extend(
            TestSpec(
                claim,
                f"{claim}/values:{tgt}+90d",
                "event_values",
                "breakouts",
                tgt,
                horizons=(90,),
                family="descriptive",
                windows=windows,
            )
            for tgt in targets
        )
    return out


def claim_table(catalog: Catalog, chain: str | Chain = "default") -> ClaimTable:
    """The claims and tests of ``chain`` (a name in ``catalog`` or a :class:`Chain`).

    Raises
    ------
    ConfigError
        A chain with fewer than two stages (there is no link to test).
    """
    ch = catalog.chain(chain) if isinstance(chain, str) else chain
    if len(ch.stages) < 2:
        raise ConfigError(
            f"chain {ch.name!r} has {len(ch.stages)} stage(s); a chain needs at least 2 "
            "stages to have a link to test"
        )
    reps = [_representative(stage, catalog) for stage in ch.stages]
    targets = _targets(ch.stages[-1], catalog)
    reps[-1] = targets[0]
    ei = _event_stage(ch)
    event = reps[ei]
    tests = [
        TestSpec("chain", f"chain/lead_lag:{a}->{b}", "lead_lag", a, b, LINK_WEEKS)
        for a, b in itertools.pairwise(reps)
    ]
    tests += _lead_tests(event, targets)
    tests += _event_tests(targets)
    names = {"event": event, "targets": " and ".join(targets)}
    claims = [(c, CLAIM_TEXT[c].format(**names)) for c in ("chain", "lead", "breakouts")]
    if ALTS in targets and len(targets) > 1:
        claims.append(("alts_most", CLAIM_TEXT["alts_most"].format(**names)))
    claims += [(c, CLAIM_TEXT[c].format(**names)) for c in ("precedents", "recent")]
    return ClaimTable(ch.name, event, targets, tuple(claims), tuple(tests))
