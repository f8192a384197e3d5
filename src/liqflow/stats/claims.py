"""The seed's claims, put to the test: one verdict table with Holm correction across claims.

Claims (from the thesis in ``DESIGN.md``):

(a) small caps lead crypto by one to three months (lead-lag and Granger, ^RUT -> BTC
    and -> the equal-weight alt basket);
(b) Russell 2000 all-time-high breakouts are followed by crypto rallies within one to
    three months (event study against placebo dates);
(c) the 2016/2017 and 2020/2021 precedents (forward returns after those breakouts);
(d) the late-2025 / early-2026 breakouts: what followed (out of sample for the claim);
(e) the chain's order: credit -> large caps -> small caps -> crypto (lead-lag between
    adjacent links).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.signals.crypto import MIN_BASKET_COINS, alt_basket
from liqflow.stats._shared import RandomLike, resolve_rng
from liqflow.stats.events import EventStudyResult, event_study
from liqflow.stats.granger import GrangerResult, granger_test, holm_adjust
from liqflow.stats.leadlag import LeadLagResult, lead_lag

__all__ = [
    "CHAIN",
    "CLAIMS",
    "CLAIM_HORIZONS",
    "LEAD_WEEKS",
    "N_TESTS",
    "PRECEDENT_WINDOWS",
    "RECENT_WINDOW",
    "VERDICTS",
    "ClaimsResult",
    "assess_claims",
]

CLAIMS = {
    "a": "small caps lead crypto by 1-3 months",
    "b": "Russell ATH breakouts are followed by crypto rallies within 1-3 months",
    "c": "the 2016/2017 and 2020/2021 breakouts preceded crypto rallies",
    "d": "what followed the late-2025 / early-2026 breakouts",
    "e": "the chain's order: credit -> large caps -> small caps -> crypto",
}
VERDICTS = ("supported", "not supported", "inconclusive")
CLAIM_HORIZONS = (30, 60, 90)
LEAD_WEEKS = (4, 13)  # "one to three months" in weeks
CHAIN = (("credit", "large_caps"), ("large_caps", "small_caps"), ("small_caps", "btc"))
# Breakouts that could have preceded the 2017 and 2021 alt seasons: mid-2016 to mid-2017
# and mid-2020 to mid-2021 (a breakout in late 2021 came after the 2021 season began and
# is in claim (b) with every other breakout).
PRECEDENT_WINDOWS = (
    ("2016-07-01", "2017-06-30"),
    ("2020-07-01", "2021-06-30"),
)
RECENT_WINDOW = ("2025-07-01", "2026-06-30")
N_TESTS = 17  # rows of the table: (a) 4, (b) 6, (c) 2, (d) 2, (e) 3
MIN_WEEKS = 104  # lead-lag/Granger need two years of weekly returns
# Fewer independent events than this: inconclusive whatever the p-value. Claims (c) and
# (d) are about named episodes, so they need 2 and 1 (the placebo test stays exact).
MIN_EVENTS = 3
NOT_SUPPORTED_P = 0.5  # raw p above this: the estimate sits on the null side of its median

_COLUMNS = [
    "claim",
    "test",
    "effect",
    "unit",
    "ci_low",
    "ci_high",
    "n",
    "p_value",
    "p_holm",
    "verdict",
    "note",
]


@dataclass(frozen=True)
class ClaimsResult:
    """Verdicts on the claims, with the analyses behind them.

    Attributes
    ----------
    table : DataFrame
        One row per test: ``claim``, ``test``, ``effect`` (``unit``), interval
        ``ci_low``..``ci_high``, ``n`` (weekly returns or independent events),
        ``p_value``, ``p_holm`` (Holm across every test in the table), ``verdict``
        and ``note``.
    claim_verdicts : DataFrame
        One row per claim: its overall verdict and how many tests support it.
    lead_lags : mapping of str to LeadLagResult
    granger : mapping of str to GrangerResult
    events : mapping of str to EventStudyResult
        ``"b"`` (all breakouts), ``"c"`` (precedents), ``"d"`` (recent breakouts).
    """

    table: pd.DataFrame
    claim_verdicts: pd.DataFrame
    lead_lags: Mapping[str, LeadLagResult]
    granger: Mapping[str, GrangerResult]
    events: Mapping[str, EventStudyResult]
    as_of: pd.Timestamp | None
    alpha: float
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The per-test verdict table (a copy)."""
        return self.table.copy()

    def per_event(self, claim: str) -> pd.DataFrame:
        """Per-event forward returns behind claim ``"b"``, ``"c"`` or ``"d"`` (wide)."""
        if claim not in self.events:
            raise DataError(
                f"claim must be one of {tuple(sorted(self.events))} for per-event tables, "
                f"got {claim!r}"
            )
        return self.events[claim].per_event_table()

    def summary(self) -> str:
        """Claim verdicts, then one line per test."""
        when = "latest data" if self.as_of is None else f"data public by {self.as_of.date()}"
        lines = [
            f"claims on {when} (Holm across {int(self.table['p_value'].notna().sum())} tests, alpha={self.alpha}):"
        ]
        for claim, row in self.claim_verdicts.iterrows():
            lines.append(
                f"({claim}) {CLAIMS[str(claim)]}: {row['verdict'].upper()} ({row['detail']})"
            )
        lines.append("tests:")
        for _, r in self.table.iterrows():
            lines.append(
                f"  ({r['claim']}) {r['test']}: {_fmt(r['effect'], r['unit'])} "
                f"[{_fmt(r['ci_low'], r['unit'])}, {_fmt(r['ci_high'], r['unit'])}], "
                f"n={int(r['n'])}, p={_fmt_p(r['p_value'])}, Holm p={_fmt_p(r['p_holm'])}: "
                f"{r['verdict']}" + (f" - {r['note']}" if r["note"] else "")
            )
        lines.extend(self.notes)
        return "\n".join(lines)


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


@dataclass
class _Row:
    claim: str
    test: str
    effect: float
    unit: str
    ci_low: float
    ci_high: float
    n: int
    p_value: float
    supports: bool  # effect in the claimed direction / window
    contradicts: bool  # interval excludes the claimed effect
    min_n: int
    note: str = ""


def _price(panel: pd.DataFrame, column: str) -> pd.Series | None:
    if column not in panel.columns:
        return None
    s = panel[column].astype(np.float64).dropna()
    s = s[s > 0]
    return s.rename(column) if len(s) else None


def _missing_row(claim: str, test: str, unit: str, why: str) -> _Row:
    nan = float("nan")
    return _Row(claim, test, nan, unit, nan, nan, 0, nan, False, False, 1, why)


def _lead_lag_row(
    claim: str,
    leader: pd.Series | None,
    follower: pd.Series | None,
    name: str,
    lead_weeks: tuple[int, int],
    n_null: int,
    n_boot: int,
    rng: np.random.Generator,
    results: dict[str, LeadLagResult],
    missing: str = "series missing from the panel",
) -> _Row:
    test = f"lead-lag {name} (weekly, lead {lead_weeks[0]}-{lead_weeks[1]}w)"
    if leader is None or follower is None:
        return _missing_row(claim, test, "weeks", missing)
    try:
        res = lead_lag(
            leader,
            follower,
            freq="W",
            max_lag=13,
            n_null=n_null,
            n_boot=n_boot,
            alternative="positive",
            lead_lags=lead_weeks,
            seed=rng,
        )
    except DataError as exc:  # too short on this sample
        return _missing_row(claim, test, "weeks", str(exc))
    results[f"{claim}:{name}"] = res
    lo, hi = res.peak_lag_ci
    return _Row(
        claim,
        test,
        float(res.peak_lag),
        "weeks",
        float(lo),
        float(hi),
        res.n_obs,
        res.p_value_positive,
        supports=lead_weeks[0] <= lo and hi <= lead_weeks[1],
        contradicts=hi < lead_weeks[0] or lo > lead_weeks[1],
        min_n=MIN_WEEKS,
        note=f"peak corr {res.peak_corr:+.3f} at {res.peak_lag:+d}w",
    )


def _granger_row(
    claim: str,
    cause: pd.Series | None,
    effect: pd.Series | None,
    name: str,
    results: dict[str, GrangerResult],
    missing: str = "series missing from the panel",
) -> _Row:
    test = f"Granger {name} (weekly, lags 1-13, Holm over lags)"
    if cause is None or effect is None:
        return _missing_row(claim, test, "F", missing)
    try:
        res = granger_test(cause, effect, freq="W", max_lag=13)
    except DataError as exc:
        return _missing_row(claim, test, "F", str(exc))
    results[f"{claim}:{name}"] = res
    nan = float("nan")
    return _Row(
        claim,
        test,
        float(res.f_stat[res.lags == res.best_lag][0]),
        "F",
        nan,
        nan,
        res.n_obs,
        res.adjusted_p,
        supports=True,
        contradicts=False,
        min_n=MIN_WEEKS,
        note=f"best lag {res.best_lag}w (raw p={res.best_p:.3f})",
    )


def _event_rows(
    claim: str, res: EventStudyResult, horizons: Sequence[int], label: str, min_n: int
) -> list[_Row]:
    rows = []
    stats = res.to_frame()
    for key, r in stats.iterrows():
        target, h = cast(tuple[str, int], key)
        if h not in horizons:
            continue
        n = int(r["n_events"])
        lo, hi, excess = float(r["excess_ci_low"]), float(r["excess_ci_high"]), float(r["excess"])
        note = (
            f"mean {_fmt(r['mean'], 'return')} vs unconditional {_fmt(r['uncond_mean'], 'return')}"
            if n
            else "no independent event with a complete window"
        )
        rows.append(
            _Row(
                claim,
                f"{label} -> {target} +{h}d (vs placebo)",
                excess,
                "return",
                lo,
                hi,
                n,
                float(r["p_value"]),
                supports=excess > 0,
                contradicts=hi < 0,
                min_n=min_n,
                note=note,
            )
        )
    return rows


def _verdict(row: _Row, p_holm: float, alpha: float) -> str:
    if not math.isfinite(row.p_value) or row.n < row.min_n:
        return "inconclusive"
    if p_holm <= alpha and row.supports and not row.contradicts:
        return "supported"
    if row.contradicts or row.p_value > NOT_SUPPORTED_P:
        return "not supported"
    return "inconclusive"


def _in_windows(events: pd.Series, windows: Sequence[tuple[str, str]]) -> pd.Series:
    keep = np.zeros(len(events), dtype=bool)
    for start, end in windows:
        keep |= (events.index >= pd.Timestamp(start)) & (events.index <= pd.Timestamp(end))
    return events & pd.Series(keep, index=events.index)


def assess_claims(
    panel: pd.DataFrame,
    breakout_events: pd.Series,
    *,
    alt_columns: Sequence[str] | None = None,
    min_alts: int = MIN_BASKET_COINS,
    credit_column: str = "hy_spread",
    as_of: pd.Timestamp | str | None = None,
    alpha: float = 0.05,
    n_null: int = 999,
    n_boot: int = 999,
    n_placebo: int = 1999,
    seed: RandomLike = 0,
) -> ClaimsResult:
    """Test claims (a)-(e) on a panel and a breakout-event series.

    Parameters
    ----------
    panel : DataFrame
        Daily panel with columns ``small_caps``, ``large_caps``, ``btc``, the credit
        spread (``credit_column``, percent) and alt coins (as from
        :func:`liqflow.align.load_panel`; equity columns may be forward-filled over
        weekends, weekly returns are unaffected).
    breakout_events : Series of bool
        True on Russell 2000 all-time-high breakout sessions; its index (the Russell
        sessions) is the history from which placebo dates are drawn.
    alt_columns : sequence of str, optional
        Coins of the alt basket (default: the catalogue's alt universe found in
        ``panel``).
    min_alts : int, default 3
        Fewest coins with a return on a day for the basket to be known that day
        (:data:`liqflow.signals.crypto.MIN_BASKET_COINS`, as in the report); on days
        with fewer it is NaN, so breakouts on those days have no alt data.
    credit_column : str
        Spread column for the credit link.
    as_of : date, optional
        Use only rows up to this date (the panel should already be point-in-time).
    alpha : float
        Family-wise error rate for the Holm correction across all tests.
    n_null, n_boot, n_placebo : int
        Bootstrap/placebo draws (lead-lag null, intervals, event placebos).
    seed : numpy.random.Generator, int or None
        Source of randomness (default 0: the table is reproducible).

    Returns
    -------
    ClaimsResult

    Notes
    -----
    **Tests.** (a) weekly lead-lag with ``alternative="positive"`` and the lead test on
    lags 4-13 weeks (one to three months), and Granger (lags 1-13 weeks, p Holm-adjusted
    over lags), from ``small_caps`` to ``btc`` and to the alt basket
    (:func:`liqflow.signals.crypto.alt_basket`: equal weight over the coins priced each
    day, so coins count while they traded and no survivorship enters; unknown on days
    with fewer than ``min_alts`` coins, when it would be one or two coins rather than
    a basket). (b) event study of all breakouts, targets BTC and the alt
    basket at 30/60/90 days, placebo p-value ("greater"). (c) the same restricted to
    breakouts in :data:`PRECEDENT_WINDOWS`, (d) to :data:`RECENT_WINDOW`, 90 days
    (placebos still drawn from the whole history). (e) weekly lead-lag between the
    adjacent links of :data:`CHAIN`, lead test on lags 1-13 weeks; credit enters as
    ``exp(-spread)``, whose log return is minus the spread change, so narrowing counts
    as a positive move and every link expects positive co-movement.

    **Multiplicity.** All p-values of the table form one family; ``p_holm`` is Holm's
    adjustment over them (valid under any dependence between tests, e.g. (c) reuses
    events of (b)).

    **Verdicts.** ``supported``: Holm p <= ``alpha`` and the effect lies where the
    claim puts it (peak-lag interval inside the lead window; positive excess return).
    ``not supported``: the interval excludes the claimed effect (peak lag outside the
    window, excess-return interval below zero) or the raw p-value exceeds
    :data:`NOT_SUPPORTED_P` (the statistic is on the null side of its median).
    ``inconclusive``: anything else, and always when the sample is below
    :data:`MIN_WEEKS` weekly returns or :data:`MIN_EVENTS` independent events (2 for
    the two precedents of (c), 1 for the recent breakouts of (d)). A
    claim is supported when at least one of its tests is and none is not supported,
    not supported when none is supported and one is not, inconclusive otherwise.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    if not isinstance(panel, pd.DataFrame):
        raise DataError(f"panel must be a DataFrame, got {type(panel).__name__}")
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be in (0, 1), got {alpha!r}")
    if isinstance(min_alts, bool) or not isinstance(min_alts, int | np.integer) or min_alts < 1:
        raise DataError(f"min_alts must be a positive integer, got {min_alts!r}")
    # a Monte Carlo p-value is at least 1/(draws + 1); Holm needs p <= alpha / N_TESTS
    need = math.ceil(N_TESTS / alpha)
    if min(n_null, n_placebo) < need:
        raise DataError(
            f"n_null and n_placebo must be at least {need} so that a bootstrap p-value can "
            f"pass Holm over {N_TESTS} tests at alpha={alpha}, got n_null={n_null}, "
            f"n_placebo={n_placebo}"
        )
    rng = resolve_rng(seed)
    cut = None if as_of is None else pd.Timestamp(as_of)
    if cut is not None:
        panel = panel.loc[panel.index <= cut]
        breakout_events = breakout_events.loc[breakout_events.index <= cut]
    if alt_columns is None:
        from liqflow.catalog import default_catalog

        alt_columns = [c for c in default_catalog().altcoins() if c in panel.columns]
    small, large, btc = (_price(panel, c) for c in ("small_caps", "large_caps", "btc"))
    alts = None
    coins_priced = None
    usable_alts = [c for c in alt_columns if c in panel.columns and panel[c].notna().any()]
    if usable_alts:
        # equal weight over the coins priced each day (no survivorship), as in the signals;
        # unknown while fewer than min_alts coins trade (one or two coins are not a basket)
        basket = alt_basket(panel[usable_alts])
        coins_priced = basket["count"]
        level = basket["index"].where(coins_priced >= min_alts).dropna()
        alts = level.rename("alts") if len(level) else None
    credit = None
    if credit_column in panel.columns and panel[credit_column].notna().any():
        spread = panel[credit_column].astype(np.float64).dropna()
        credit = pd.Series(np.exp(-spread.to_numpy()), index=spread.index, name="credit")
    series = {"small_caps": small, "large_caps": large, "btc": btc, "credit": credit}

    lls: dict[str, LeadLagResult] = {}
    gcs: dict[str, GrangerResult] = {}
    evs: dict[str, EventStudyResult] = {}
    rows: list[_Row] = []
    # (a)
    missing = "series missing from the panel"
    for target, tseries in (("btc", btc), ("alts", alts)):
        why = (
            f"no day with {min_alts}+ altcoins priced"
            if target == "alts" and usable_alts and small is not None
            else missing
        )
        rows.append(
            _lead_lag_row(
                "a",
                small,
                tseries,
                f"small_caps -> {target}",
                LEAD_WEEKS,
                n_null,
                n_boot,
                rng,
                lls,
                why,
            )
        )
        rows.append(_granger_row("a", small, tseries, f"small_caps => {target}", gcs, why))
    # (b), (c), (d)
    targets = {k: v for k, v in (("btc", btc), ("alts", alts)) if v is not None}
    notes = []
    if not targets:
        notes.append("no BTC or alt prices in the panel: claims (b)-(d) not tested")
    else:
        plan = (
            ("b", breakout_events, CLAIM_HORIZONS, "breakouts", MIN_EVENTS),
            (
                "c",
                _in_windows(breakout_events, PRECEDENT_WINDOWS),
                (90,),
                "2016-17/2020-21 breakouts",
                2,
            ),
            (
                "d",
                _in_windows(breakout_events, [RECENT_WINDOW]),
                (90,),
                "late-2025/2026 breakouts",
                1,
            ),
        )
        for claim, ev, hs, label, min_n in plan:
            res = event_study(
                ev,
                targets,
                CLAIM_HORIZONS,
                n_placebo=n_placebo,
                n_boot=n_boot,
                alternative="greater",
                seed=rng,
            )
            evs[claim] = res
            rows.extend(_event_rows(claim, res, hs, label, min_n))
    # (e)
    for a, b in CHAIN:
        rows.append(
            _lead_lag_row(
                "e", series[a], series[b], f"{a} -> {b}", (1, 13), n_null, n_boot, rng, lls
            )
        )

    if coins_priced is not None and "b" in evs:
        # the basket is only as broad as the data: say how many coins it held at each event
        dates = sorted(set(evs["b"].per_event["event_date"]))
        held = coins_priced.reindex(pd.DatetimeIndex(dates)).fillna(0).astype(int)
        if len(held):
            notes.append(
                "alt basket coins with returns on each breakout day: "
                + ", ".join(f"{d:%Y-%m-%d}: {k}" for d, k in held.items())
            )
    p = np.array([r.p_value for r in rows])
    p_holm = holm_adjust(p)
    verdicts = [_verdict(r, ph, alpha) for r, ph in zip(rows, p_holm, strict=True)]
    table = pd.DataFrame(
        [
            [r.claim, r.test, r.effect, r.unit, r.ci_low, r.ci_high, r.n, r.p_value, ph, v, r.note]
            for r, ph, v in zip(rows, p_holm, verdicts, strict=True)
        ],
        columns=_COLUMNS,
    )
    return ClaimsResult(
        table=table,
        claim_verdicts=_claim_verdicts(table),
        lead_lags=lls,
        granger=gcs,
        events=evs,
        as_of=cut,
        alpha=alpha,
        notes=tuple(notes),
    )


def _claim_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for claim in CLAIMS:
        v = table.loc[table["claim"] == claim, "verdict"]
        sup, nos = int((v == "supported").sum()), int((v == "not supported").sum())
        if sup and not nos:
            verdict = "supported"
        elif nos and not sup:
            verdict = "not supported"
        else:
            verdict = "inconclusive"
        out.append(
            {
                "claim": claim,
                "verdict": verdict,
                "detail": f"{sup} supported, {nos} not supported, "
                f"{len(v) - sup - nos} inconclusive of {len(v)} tests",
            }
        )
    return pd.DataFrame(out).set_index("claim")
