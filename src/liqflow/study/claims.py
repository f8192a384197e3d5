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
``*_lead``     each input of :data:`CHANNELS` (``tga_lead``: a Treasury      thesis
               cash drawdown, daily TGA; ``mbs_lead``: Fed MBS holdings;
               ``etf_lead``: spot-ETF net flows; ``leverage_lead``: lower
               perpetual funding) leads each crypto target by one to three
               months: lead-lag and Granger as for ``lead``; only for a
               chain whose last stage is crypto
=============  ==========================================================  ============

The event stage is the stage that holds ``small_caps`` (the Russell 2000), else the
second-to-last stage. A stage is represented by its first credit-group series (a
spread enters as ``exp(-spread)``, so narrowing is a positive move), else its first
series; the last stage by its first series and, when it holds altcoins, the alt basket.

The precedent windows were chosen after the fact, by people who had seen the rallies: they
are reported as values, never as tests (``descriptive``). One family of tests (``thesis``)
carries the multiple-testing correction of a run.

The channel claims join that one family. They are claims of the same thesis (liquidity
added by a Treasury drawdown or MBS purchases, spot ETFs absorbing supply and lower
leverage carry crypto), and a run that tests them says more things at once: Holm over
every test of the run keeps the chance of *any* false "supported" at ``alpha``, where a
second family would allow up to ``2 alpha`` for the run. The price is a stricter bar for
every test of the run, which is the honest one.

Each channel input enters the lead-lag and Granger tests as a positive level whose
weekly log change is the channel's weekly value (:func:`channel_level`): ``exp(sign *
x / scale)`` for a level (the TGA: minus its change, so a drawdown is a rise; MBS
holdings: their change) and ``exp(sign * cumsum(x) / scale)`` for a flow (ETF flows:
the week's net flow; funding: minus the week's funding paid, so lower leverage is a
rise). The scale is a fixed constant (correlations and F statistics do not depend on
it) and the value at *t* uses only observations up to *t*: no full-sample
normalisation, so the inputs up to a date never change when later data arrive. A
channel test needs :data:`~liqflow.study.verdicts.MIN_WEEKS` weekly returns in common
with its target (spot-ETF flows start in 2024-01): below that it is not run, and its
verdict is ``unknown`` with ``n too small`` and the count (no p-value, no place in the
family).

The tests are those of the ``lead`` claims, unchanged. Their calibration carries over
because both nulls keep the leader's own autocorrelation (a flow or the funding paid,
weekly AR(1) near 0.9): the lead-lag null rebuilds the leader from its AR(1) with
sign-flipped innovations and the follower from its fit on the same-date innovation plus
its sign-flipped residual (recursive-design and restricted wild bootstrap), and the
Granger null wild-bootstraps the follower's restricted residuals with the leader kept as
it is. ``bench/calibration_channels.py`` measures the size with AR(1) leaders of 0, 0.9
and 0.97 over 300 and 550 weeks (1,000 draws each): 4.7-6.6 % for lead-lag and 3.8-5.8 %
for Granger at a nominal 5 %.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError
from liqflow.catalog import Catalog, Chain
from liqflow.study.verdicts import MIN_WEEKS

__all__ = [
    "CHANNELS",
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
    "Channel",
    "ClaimTable",
    "TestSpec",
    "channel_level",
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
class Channel:
    """One input of the fiscal and market-structure channels, tested for a lead on crypto.

    Attributes
    ----------
    claim : str
        Claim id (``tga_lead``).
    key : str
        Series key of the transformed input in the tests (``tga_drawdown``).
    series : str
        Catalogue id of the input (``tga_daily``).
    transform : {"level", "flow"}
        ``level``: the weekly change of the value is the channel's weekly value;
        ``flow``: the value is a daily flow, summed over the week.
    sign : {1, -1}
        -1 where a fall adds liquidity or lowers leverage (TGA, funding).
    scale : float
        Fixed divisor before the exponential (a unit: USD tn for millions of USD).
    text : str
        The claim in words (``{targets}`` is filled in).
    """

    claim: str
    key: str
    series: str
    transform: str
    sign: int
    scale: float
    text: str


#: The channels whose lead on the chain's crypto targets is tested (see the module notes).
CHANNELS: tuple[Channel, ...] = (
    Channel(
        "tga_lead",
        "tga_drawdown",
        "tga_daily",
        "level",
        -1,
        1e6,
        "a Treasury cash drawdown (daily TGA falling: liquidity added) leads {targets} by one "
        "to three months",
    ),
    Channel(
        "mbs_lead",
        "fed_mbs_change",
        "fed_mbs",
        "level",
        1,
        1e6,
        "rising Fed MBS holdings lead {targets} by one to three months",
    ),
    Channel(
        "etf_lead",
        "etf_net_flows",
        "etf_flows",
        "flow",
        1,
        1e5,
        "spot-ETF net inflows lead {targets} by one to three months",
    ),
    Channel(
        "leverage_lead",
        "funding_lower",
        "btc_funding",
        "flow",
        -1,
        1.0,
        "lower leverage (less perpetual funding paid) leads {targets} by one to three months",
    ),
)
CHANNEL_TRANSFORMS = ("level", "flow")


def channel_level(obs: pd.Series, channel: Channel) -> pd.Series:
    """The positive level whose log changes are ``channel``'s values (see the module notes).

    ``obs`` holds the input's own observations (the days it received a new value). Each
    value uses only observations up to its date, on a fixed scale.

    Raises
    ------
    ConfigError
        ``channel.transform`` is not one of :data:`CHANNEL_TRANSFORMS`.
    """
    if channel.transform not in CHANNEL_TRANSFORMS:
        raise ConfigError(
            f"channel {channel.claim!r}: transform must be one of {CHANNEL_TRANSFORMS}, "
            f"got {channel.transform!r}"
        )
    x = obs.astype(np.float64).dropna()
    v = x.to_numpy()
    if channel.transform == "flow":
        v = np.cumsum(v)
    return pd.Series(np.exp(channel.sign * v / channel.scale), index=x.index, name=channel.key)


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
    min_n : int
        Fewest weekly returns in common for the test to run (0: no floor before it
        runs); below it the verdict is ``unknown`` (n too small), with no p-value.
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
    min_n: int = 0

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
    channels: tuple[Channel, ...] = ()

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


def _channel_tests(channels: tuple[Channel, ...], targets: tuple[str, ...]) -> list[TestSpec]:
    out: list[TestSpec] = []
    for ch in channels:
        for tgt in targets:
            out.append(
                TestSpec(
                    ch.claim,
                    f"{ch.claim}/lead_lag:{ch.key}->{tgt}",
                    "lead_lag",
                    ch.key,
                    tgt,
                    LEAD_WEEKS,
                    min_n=MIN_WEEKS,
                )
            )
            out.append(
                TestSpec(
                    ch.claim,
                    f"{ch.claim}/granger:{ch.key}=>{tgt}",
                    "granger",
                    ch.key,
                    tgt,
                    (1, MAX_LAG_WEEKS),
                    alternative="two-sided",
                    min_n=MIN_WEEKS,
                )
            )
    return out


def claim_table(
    catalog: Catalog,
    chain: str | Chain = "default",
    channels: tuple[Channel, ...] = CHANNELS,
) -> ClaimTable:
    """The claims and tests of ``chain`` (a name in ``catalog`` or a :class:`Chain`).

    ``channels`` whose input is in ``catalog`` add their lead tests when the chain's last
    stage is crypto (its first target in the catalogue group ``crypto``).

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
    used: tuple[Channel, ...] = ()
    if catalog[targets[0]].group == "crypto":
        used = tuple(c for c in channels if c.series in catalog)
    tests += _channel_tests(used, targets)
    claims += [(c.claim, c.text.format(**names)) for c in used]
    return ClaimTable(ch.name, event, targets, tuple(claims), tuple(tests), used)
