"""The one result of a study: every claim's tests, verdicts and the values behind them.

``liqflow study``, ``liqflow study --json``, the report (its theses, its statistics
tables and the JSON it embeds) and the Python API all render one :class:`Evidence`; none
of them computes a statistic. Its JSON document carries, at the top level, the as-of
date, the seed, the number of draws and a hash of the data it used, so two documents can
be compared for equality.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from liqflow.stats.events import EventStudyResult
from liqflow.stats.leadlag import LeadLagResult
from liqflow.study.channels import ChannelsNow
from liqflow.study.verdicts import LEGEND

__all__ = ["TEST_COLUMNS", "Evidence", "TestRow"]

TEST_COLUMNS = (
    "claim",
    "test_id",
    "test",
    "kind",
    "family",
    "target",
    "horizon",
    "effect",
    "unit",
    "ci_low",
    "ci_high",
    "confidence",
    "n",
    "n_unit",
    "p_value",
    "p_holm",
    "p_bh",
    "verdict",
    "note",
)
#: Version of the JSON document (2: each test carries its ``horizon`` in days).
EVIDENCE_FORMAT = 2


def _fmt(x: float, unit: str) -> str:
    if not isinstance(x, float | int) or not math.isfinite(x):
        return "n/a"
    if unit == "return":
        return f"{x * 100:+.1f}%"
    if unit == "weeks":
        return f"{x:+.0f}w"
    return f"{x:.2f}"


def _fmt_p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{p:.3f}"


def _jsonable(x: Any) -> Any:
    if isinstance(x, pd.Timestamp):
        return None if pd.isna(x) else x.strftime("%Y-%m-%d")
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(float(x)) else None
    return x


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _jsonable(v) for k, v in row.items()}
        for row in frame.reset_index(drop=True).to_dict("records")
    ]


@dataclass(frozen=True)
class TestRow:
    """One row of :attr:`Evidence.tests`, typed (see :data:`TEST_COLUMNS`)."""

    __test__ = False  # not a pytest class

    claim: str
    test_id: str
    test: str
    kind: str
    family: str
    target: str
    horizon: int | None
    effect: float
    unit: str
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    n_unit: str
    p_value: float
    p_holm: float
    p_bh: float
    verdict: str
    note: str

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)


@dataclass(frozen=True)
class Evidence:
    """Verdicts on a chain's claims, with the analyses behind them (one run).

    Attributes
    ----------
    as_of : Timestamp
        The date the data was public by.
    seed, draws : int
        The run's one random stream and its bootstrap/placebo draws per test.
    alpha : float
        Family-wise error rate of Holm's correction over the ``thesis`` family.
    data_hash : str
        Hash of every input value and date (:meth:`StudyInputs.data_hash`).
    chain : str
        Name of the catalogue chain the claims come from.
    claims : DataFrame
        One row per claim: ``claim``, ``claim_text``, ``verdict``, ``detail``.
    tests : DataFrame
        One row per test (:data:`TEST_COLUMNS`): the follower (``target``), the
        forward-return ``horizon`` in days of event tests (NaN for the others), the effect
        with its interval, ``n`` (weekly returns or independent events), raw, Holm and Benjamini-Hochberg p-values, the
        verdict and a note.
    per_event : DataFrame
        Every declustered breakout: ``event_date``, ``target``, ``horizon_days``,
        ``forward_return``, ``max_drawdown``, ``complete``.
    lead_lags : mapping of str to LeadLagResult
        The lead-lag analyses by test id (their correlograms feed the charts).
    event_study : EventStudyResult or None
        The one event study of the breakouts (every target and horizon).
    notes : tuple of str
    channels : ChannelsNow or None
        The fiscal, ETF and leverage theses on the as-of date
        (:mod:`liqflow.study.channels`); None for a chain without channel claims.
    """

    as_of: pd.Timestamp
    seed: int
    draws: int
    alpha: float
    data_hash: str
    chain: str
    claims: pd.DataFrame
    tests: pd.DataFrame
    per_event: pd.DataFrame
    lead_lags: Mapping[str, LeadLagResult] = field(default_factory=dict)
    event_study: EventStudyResult | None = None
    notes: tuple[str, ...] = ()
    channels: ChannelsNow | None = None

    @property
    def n_family(self) -> int:
        """Tests in the one Holm family (``thesis`` tests with a p-value)."""
        fam = self.tests[(self.tests["family"] == "thesis") & self.tests["p_value"].notna()]
        return len(fam)

    def to_frame(self) -> pd.DataFrame:
        """The per-test table (a copy)."""
        return self.tests.copy()

    def rows(self) -> list[TestRow]:
        """The per-test table as typed rows, in run order."""
        out = []
        for rec in self.tests.to_dict("records"):
            d = {str(k): v for k, v in rec.items()}
            out.append(
                TestRow(
                    **{c: str(d[c]) for c in ("claim", "test_id", "test", "kind", "family")},
                    target=str(d["target"]),
                    horizon=None if pd.isna(d["horizon"]) else int(d["horizon"]),
                    effect=float(d["effect"]),
                    unit=str(d["unit"]),
                    ci_low=float(d["ci_low"]),
                    ci_high=float(d["ci_high"]),
                    confidence=float(d["confidence"]),
                    n=int(d["n"]),
                    n_unit=str(d["n_unit"]),
                    p_value=float(d["p_value"]),
                    p_holm=float(d["p_holm"]),
                    p_bh=float(d["p_bh"]),
                    verdict=str(d["verdict"]),
                    note=str(d["note"]),
                )
            )
        return out

    def claim(self, claim: str) -> pd.DataFrame:
        """The tests of one claim (a copy); empty when the chain has no such claim."""
        return self.tests[self.tests["claim"] == claim].copy()

    def verdict(self, claim: str) -> str | None:
        """A claim's verdict, or None when the chain has no such claim."""
        hit = self.claims.loc[self.claims["claim"] == claim, "verdict"]
        return None if hit.empty else str(hit.iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (see :meth:`to_json`) as Python objects."""
        return {
            "format": EVIDENCE_FORMAT,
            "as_of": _jsonable(self.as_of),
            "seed": int(self.seed),
            "draws": int(self.draws),
            "alpha": float(self.alpha),
            "data_hash": self.data_hash,
            "chain": self.chain,
            "family": {
                "correction": "holm",
                "beside": "benjamini-hochberg",
                "n_tests": self.n_family,
            },
            "legend": dict(LEGEND),
            "claims": _records(self.claims),
            "tests": [
                {**r, "horizon": None if r["horizon"] is None else int(r["horizon"])}
                for r in _records(self.tests)
            ],
            "events": _records(self.per_event),
            "notes": list(self.notes),
            "channels_now": None if self.channels is None else self.channels.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The evidence as a JSON document; NaN is written as ``null``."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, sort_keys=False)

    def summary(self) -> str:
        """Claim verdicts, then one line per test."""
        lines = [
            f"claims of chain {self.chain!r} on data public by {self.as_of:%Y-%m-%d} "
            f"(Holm across {self.n_family} tests, alpha={self.alpha}, seed={self.seed}):"
        ]
        for c in self.claims.to_dict("records"):
            lines.append(
                f"[{c['claim']}] {c['claim_text']}: {str(c['verdict']).upper()} ({c['detail']})"
            )
        lines.append("tests:")
        for r in self.rows():
            ci = f" [{_fmt(r.ci_low, r.unit)}, {_fmt(r.ci_high, r.unit)}]" if r.has_interval else ""
            lines.append(
                f"  [{r.claim}] {r.test}: {_fmt(r.effect, r.unit)}{ci}, n={r.n} {r.n_unit}, "
                f"p={_fmt_p(r.p_value)}, Holm p={_fmt_p(r.p_holm)}: {r.verdict}"
                + (f" - {r.note}" if r.note else "")
            )
        lines.extend(self.notes)
        if self.channels is not None:
            lines += [f"channels now ({self.channels.as_of:%Y-%m-%d}):", self.channels.summary()]
        return "\n".join(lines)
