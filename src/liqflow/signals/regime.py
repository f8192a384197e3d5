"""The four-stage classifier: where the market is in the liquidity chain, day by day.

Each stage is judged from named boolean **flags** (a signal value compared with a
threshold, see :class:`FlagSpec`). For a stage on day *t*:

* ``strength`` = share of its flags that are on, among those that are known (0-1; NaN
  when none is known: unknown flags are left out, never counted as on or off);
* ``on`` = every ``required`` flag is on **and** ``strength >= min_strength``;
* ``held`` = the stage was on at least once in the ``lookback_days`` calendar days
  ending on *t*.

The **current stage** is the furthest stage *k* that is on while every earlier stage
held within the lookback (the chain ran in order: liquidity, then large caps, then
small caps, then crypto, within the window); 0 when no stage qualifies. A change of
stage is reported once it has lasted ``confirm_days`` days. Everything is
computed from rows up to *t*, so the timeline passes the point-in-time invariance
property.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError, DataError
from liqflow.signals._result import format_value
from liqflow.signals._runs import _confirmed, _decided, _since
from liqflow.signals._windows import flag, positive_int

__all__ = [
    "DEFAULT_RULES",
    "STAGE_NAMES",
    "FlagSpec",
    "SignalState",
    "StageConfig",
    "StageRule",
    "StageState",
    "StageStatus",
    "StageTimeline",
    "StageTransition",
    "evaluate_flags",
    "stage_timeline",
]

#: Names of the stages of the default chain (0: no stage qualifies).
STAGE_NAMES = {
    0: "none",
    1: "liquidity & credit",
    2: "large caps",
    3: "small caps",
    4: "crypto",
}


@dataclass(frozen=True)
class FlagSpec:
    """A named on/off signal: ``values[column] <op> threshold``.

    Attributes
    ----------
    name : str
        Flag name (``credit.hy_narrowing``).
    column : str
        Column of the signal frame compared with the threshold.
    op : str
        One of ``>``, ``>=``, ``<``, ``<=``.
    threshold : float
    description : str
        What the flag means, for tables and reports.
    display : str or None
        Column shown as the flag's value instead of ``column`` (a state label).
    """

    name: str
    column: str
    op: str
    threshold: float
    description: str = ""
    display: str | None = None

    def __post_init__(self) -> None:
        if self.op not in (">", ">=", "<", "<="):
            raise ConfigError(
                f"flag {self.name!r}: op must be one of ('>', '>=', '<', '<='), got {self.op!r}"
            )

    @property
    def condition(self) -> str:
        """Human form of the rule, e.g. ``spread_chg_13w < 0``."""
        return f"{self.column.split('.', 1)[-1]} {self.op} {format_value(float(self.threshold))}"


@dataclass(frozen=True)
class StageRule:
    """How one stage is judged from flags.

    Attributes
    ----------
    stage : int
        1 to 4 (order in the chain).
    name : str
    signals : tuple of str
        Flag names whose share sets the stage's strength.
    required : tuple of str
        Flags that must be on for the stage to be on (a subset of ``signals``).
    min_strength : float, default 0.5
        Strength needed for the stage to be on.
    """

    stage: int
    name: str
    signals: tuple[str, ...]
    required: tuple[str, ...] = ()
    min_strength: float = 0.5

    def __post_init__(self) -> None:
        if not self.signals:
            raise ConfigError(f"stage {self.stage} ({self.name}): signals must not be empty")
        extra = sorted(set(self.required) - set(self.signals))
        if extra:
            raise ConfigError(
                f"stage {self.stage} ({self.name}): required flags {extra} are not among its "
                f"signals {list(self.signals)}"
            )
        if not 0 <= self.min_strength <= 1:
            raise ConfigError(
                f"stage {self.stage} ({self.name}): min_strength must be in [0, 1], got "
                f"{self.min_strength!r}"
            )


#: The default stage rules (flag names are built by :func:`liqflow.signals.default_flags`).
#: Stage 1 reads the fiscal channel (daily TGA, refunds, MBS, mortgage rates) beside the
#: H.4.1 liquidity flags; stage 4 reads the market structure (ETF absorption, funding,
#: CME leveraged funds). A flag whose input is unknown does not count in the strength.
DEFAULT_RULES: tuple[StageRule, ...] = (
    StageRule(
        1,
        STAGE_NAMES[1],
        (
            "liquidity.net_liquidity_rising",
            "liquidity.fed_bills_rising",
            "liquidity.tga_drawdown",
            "fiscal.net_liquidity_daily_rising",
            "fiscal.tga_daily_drawdown",
            "fiscal.tax_refunds_above_prior",
            "fiscal.mbs_rising",
            "fiscal.mortgage_rate_falling",
            "credit.hy_narrowing",
            "credit.ig_narrowing",
        ),
        required=("credit.hy_narrowing",),
    ),
    StageRule(
        2,
        STAGE_NAMES[2],
        ("large_caps.above_ma", "large_caps.momentum"),
        required=("large_caps.above_ma",),
    ),
    StageRule(
        3,
        STAGE_NAMES[3],
        (
            "small_caps.breakout_live",
            "small_caps.breakout_volume",
            "small_caps.breakout_breadth",
            "small_caps.rs_rising",
            "small_caps.above_ma",
        ),
        required=("small_caps.breakout_live",),
    ),
    StageRule(
        4,
        STAGE_NAMES[4],
        (
            "crypto.btc_above_ma",
            "crypto.alts_outperform",
            "crypto.alt_season",
            "crypto.dominance_falling",
            "crypto.beaten_outperform",
            "market.etf_absorbing_supply",
            "market.funding_below_median",
            "market.cme_lev_net_rising",
        ),
        required=("crypto.alts_outperform",),
    ),
)


@dataclass(frozen=True)
class StageConfig:
    """Stage rules and the lookback that chains them.

    Attributes
    ----------
    lookback_days : int, default 91
        Calendar days (about 3 months) within which each earlier stage must have held
        for a later stage to be the current one.
    rules : tuple of StageRule
        One per stage, stages numbered 1..n in order (default :data:`DEFAULT_RULES`).
    confirm_days : int, default 5
        The reported stage changes only once the new stage has been the raw stage for
        this many consecutive days (about a trading week), so a flag flickering around
        its threshold does not produce a transition every other day; 1 reports every
        change. Causal: it delays a change, never anticipates one.
    """

    lookback_days: int = 91
    rules: tuple[StageRule, ...] = DEFAULT_RULES
    confirm_days: int = 5

    def __post_init__(self) -> None:
        positive_int(self.lookback_days, "StageConfig.lookback_days")
        positive_int(self.confirm_days, "StageConfig.confirm_days")
        stages = [r.stage for r in self.rules]
        if stages != list(range(1, len(stages) + 1)):
            raise ConfigError(f"StageConfig.rules must be stages 1..n in order, got {stages}")


@dataclass(frozen=True)
class StageTransition:
    """The current stage changed on ``date`` from ``from_stage`` to ``to_stage``."""

    date: pd.Timestamp
    from_stage: int
    to_stage: int

    def summary(self) -> str:
        return (
            f"{self.date:%Y-%m-%d}: stage {self.from_stage} ({STAGE_NAMES.get(self.from_stage, '?')})"
            f" -> {self.to_stage} ({STAGE_NAMES.get(self.to_stage, '?')})"
        )


@dataclass(frozen=True)
class SignalState:
    """One flag on one day: its value, rule, state and since when.

    ``since`` is the first day of the flag's current run (on, off or unknown); None when
    the flag has never been known up to that day.
    """

    name: str
    description: str
    value: object
    condition: str
    on: bool | None
    since: pd.Timestamp | None
    required: bool


@dataclass(frozen=True)
class StageState:
    """One stage on one day (``since``: start of its current on/off run, counting days
    with no known flag as unknown; None when the stage has never been known)."""

    stage: int
    name: str
    on: bool
    strength: float
    held: bool
    since: pd.Timestamp | None
    signals: tuple[SignalState, ...]
    known: bool = True


@dataclass(frozen=True)
class StageStatus:
    """Every stage and signal on one day, and the current stage with its start date."""

    as_of: pd.Timestamp
    stage: int
    stage_name: str
    since: pd.Timestamp | None
    stages: tuple[StageState, ...]
    known: bool = True

    @property
    def label(self) -> str:
        """``stage 3 (small caps) since 2025-09-22``, or why the stage is unknown."""
        if not self.known:
            which = [str(st.stage) for st in self.stages if not st.known]
            last = (
                ""
                if self.since is None
                else f"; last confirmed {self.stage} since {format_value(self.since)}"
            )
            return (
                "stage unknown (required inputs of stage "
                + ", ".join(which or ["?"])
                + " are stale or missing)"
                + last
            )
        return f"stage {self.stage} ({self.stage_name}) since {format_value(self.since)}"

    def to_frame(self) -> pd.DataFrame:
        """One row per (stage, signal)."""
        rows = [
            {
                "stage": st.stage,
                "stage_name": st.name,
                "stage_on": st.on,
                "stage_strength": st.strength,
                "signal": sg.name,
                "value": sg.value,
                "condition": sg.condition,
                "on": sg.on,
                "since": sg.since,
                "required": sg.required,
            }
            for st in self.stages
            for sg in st.signals
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """The current stage and each stage's state."""
        lines = [f"as of {self.as_of:%Y-%m-%d}: {self.label}"]
        for st in self.stages:
            state = "on" if st.on else "off"
            lines.append(
                f"  stage {st.stage} {st.name}: {state}, strength {format_value(st.strength)}, "
                f"since {format_value(st.since)}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class StageTimeline:
    """Stages per day and the transitions of the current stage.

    Attributes
    ----------
    frame : DataFrame
        Per day: ``stage{k}_on``, ``stage{k}_strength``, ``stage{k}_held`` for each
        stage, ``raw_stage`` (the rule's stage that day) and ``stage`` (the current
        stage after ``confirm_days``; 0 = none).
    flags : DataFrame
        Per day, each flag as 1/0/NaN (unknown).
    values : DataFrame
        The signal columns the flags read (and their display columns).
    specs : tuple of FlagSpec
    config : StageConfig
    transitions : tuple of StageTransition
    """

    frame: pd.DataFrame
    flags: pd.DataFrame
    values: pd.DataFrame
    specs: tuple[FlagSpec, ...]
    config: StageConfig
    transitions: tuple[StageTransition, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-day stage frame."""
        return self.frame.copy()

    def current(self, as_of: pd.Timestamp | str | None = None) -> tuple[int, pd.Timestamp | None]:
        """The current stage on ``as_of`` (default: the last day) and the day it began.

        Without a transition up to ``as_of`` the stage has been 0 since the first day any
        stage's strength was known; None when none ever was (nothing to date it from:
        the panel's first row, possibly decades before any input, is not a start).
        """
        pos = self._pos(as_of)
        stage = int(self.frame["stage"].iloc[pos])
        starts = [t.date for t in self.transitions if t.date <= self.frame.index[pos]]
        if starts:
            return stage, starts[-1]
        cols = [f"stage{r.stage}_strength" for r in self.config.rules]
        cols = [c for c in cols if c in self.frame.columns]
        known = self.frame[cols].iloc[: pos + 1].notna().any(axis=1).to_numpy()
        return stage, (pd.Timestamp(self.frame.index[int(known.argmax())]) if known.any() else None)

    def _pos(self, as_of: pd.Timestamp | str | None) -> int:
        if self.frame.empty:
            raise DataError("the stage timeline is empty; the panel had no rows")
        if as_of is None:
            return len(self.frame) - 1
        ts = pd.Timestamp(as_of)
        pos = int(self.frame.index.searchsorted(ts, side="right")) - 1
        if pos < 0:
            raise DataError(
                f"as_of {ts:%Y-%m-%d} is before the first day of the timeline "
                f"({self.frame.index[0]:%Y-%m-%d})"
            )
        return pos

    def status(self, as_of: pd.Timestamp | str | None = None) -> StageStatus:
        """Each stage and flag on ``as_of``: value, rule, on/off and since when."""
        pos = self._pos(as_of)
        day = self.frame.index[pos]
        specs = {s.name: s for s in self.specs}
        stages = []
        for rule in self.config.rules:
            on_col = self.frame[f"stage{rule.stage}_on"].iloc[: pos + 1]
            sigs = []
            for name in rule.signals:
                spec = specs[name]
                col = self.flags[name].iloc[: pos + 1]
                val = col.iloc[-1]
                shown_col = spec.display or spec.column
                shown = self.values[shown_col].iloc[pos] if shown_col in self.values else np.nan
                sigs.append(
                    SignalState(
                        name=name,
                        description=spec.description,
                        value=shown,
                        condition=spec.condition,
                        on=None if np.isnan(val) else bool(val),
                        since=_since(col),
                        required=name in rule.required,
                    )
                )
            stages.append(
                StageState(
                    stage=rule.stage,
                    name=rule.name,
                    on=bool(on_col.iloc[-1]),
                    strength=float(self.frame[f"stage{rule.stage}_strength"].iloc[pos]),
                    held=bool(self.frame[f"stage{rule.stage}_held"].iloc[pos]),
                    since=_since(
                        on_col.astype(np.float64).where(
                            self.frame[f"stage{rule.stage}_strength"].iloc[: pos + 1].notna()
                        )
                    ),
                    signals=tuple(sigs),
                    known=bool(self.frame[f"stage{rule.stage}_known"].iloc[pos])
                    if f"stage{rule.stage}_known" in self.frame
                    else True,
                )
            )
        stage, since = self.current(day)
        known = bool(self.frame["stage_known"].iloc[pos]) if "stage_known" in self.frame else True
        name = STAGE_NAMES.get(stage, str(stage)) if known else "unknown"
        return StageStatus(day, stage, name, since, tuple(stages), known)

    def summary(self) -> str:
        """Current stage, time spent in each stage and the last transitions."""
        if self.frame.empty:
            return "StageTimeline: no data"
        stage, since = self.current()
        counts = self.frame["stage"].value_counts().sort_index()
        share = ", ".join(f"{k}: {v / len(self.frame):.0%}" for k, v in counts.items())
        lines = [
            f"StageTimeline {self.frame.index[0]:%Y-%m-%d}..{self.frame.index[-1]:%Y-%m-%d}: "
            f"stage {stage} ({STAGE_NAMES.get(stage, '?')}) since {format_value(since)}",
            f"  share of days per stage: {share}",
            f"  {len(self.transitions)} transitions; last ones:",
            *(f"    {t.summary()}" for t in self.transitions[-5:]),
        ]
        return "\n".join(lines)


def evaluate_flags(values: pd.DataFrame, specs: Sequence[FlagSpec]) -> pd.DataFrame:
    """Each flag of ``specs`` on ``values`` (1/0, NaN when the value is unknown).

    A flag whose column is absent from ``values`` is unknown on every day.
    """
    out = {}
    for spec in specs:
        if spec.column in values.columns:
            out[spec.name] = flag(values[spec.column].astype(np.float64), spec.op, spec.threshold)
        else:
            out[spec.name] = pd.Series(np.nan, index=values.index)
    return pd.DataFrame(out, index=values.index)


def stage_timeline(
    values: pd.DataFrame,
    specs: Sequence[FlagSpec],
    config: StageConfig | None = None,
) -> StageTimeline:
    """Classify every day of ``values`` into the stages of the chain.

    Parameters
    ----------
    values : DataFrame
        Daily signal frame (calendar index) holding the columns the flags read.
    specs : sequence of FlagSpec
        Every flag a rule names.
    config : StageConfig, optional

    Returns
    -------
    StageTimeline
    """
    cfg = config or StageConfig()
    if not isinstance(values.index, pd.DatetimeIndex):
        raise DataError(
            f"stage_timeline: values must have a DatetimeIndex, got {type(values.index).__name__}"
        )
    by_name: Mapping[str, FlagSpec] = {s.name: s for s in specs}
    needed = [n for r in cfg.rules for n in r.signals]
    missing = sorted(set(needed) - set(by_name))
    if missing:
        raise ConfigError(
            f"stage rules name flags without a FlagSpec: {missing}; known flags: {sorted(by_name)}"
        )
    used = [by_name[n] for n in dict.fromkeys(needed)]
    flags = evaluate_flags(values, used)
    index = values.index
    frame = pd.DataFrame(index=index)
    ons = []
    helds = []
    knowns: list[np.ndarray] = []
    window = f"{cfg.lookback_days}D"
    for rule in cfg.rules:
        f = flags[list(rule.signals)]
        known = f.notna().sum(axis=1)
        strength = (f.sum(axis=1, skipna=True) / known.where(known > 0)).astype(np.float64)
        req = (
            flags[list(rule.required)].eq(1.0).all(axis=1)
            if rule.required
            else pd.Series(True, index=index)
        )
        on = req & (strength >= rule.min_strength).fillna(False)
        held = on.astype(np.float64).rolling(window, min_periods=1).max().astype(bool)
        # a stage whose required flags are not all known (stale or missing inputs) is unknown
        known_k = flags[list(rule.required)].notna().all(axis=1) if rule.required else known > 0
        frame[f"stage{rule.stage}_known"] = known_k
        knowns.append(known_k.to_numpy())
        frame[f"stage{rule.stage}_on"] = on
        frame[f"stage{rule.stage}_strength"] = strength
        frame[f"stage{rule.stage}_held"] = held
        ons.append(on.to_numpy())
        helds.append(held.to_numpy())
    stage = np.zeros(len(index), dtype=np.int64)
    chain_ok = np.ones(len(index), dtype=bool)  # every earlier stage held within lookback
    for k, (on_k, held_k) in enumerate(zip(ons, helds, strict=True), start=1):
        stage = np.where(on_k & chain_ok, k, stage)
        chain_ok &= held_k
    frame["raw_stage"] = stage
    frame["stage_known"] = _decided(stage, np.column_stack(knowns)) if knowns else True
    stage = _confirmed(stage, cfg.confirm_days)
    frame["stage"] = stage
    change = np.flatnonzero(stage[1:] != stage[:-1]) + 1
    transitions = tuple(
        StageTransition(index[int(i)], int(stage[i - 1]), int(stage[i])) for i in change
    )
    shown = {s.column for s in used} | {s.display for s in used if s.display}
    vals = values[[c for c in values.columns if c in shown]].copy()
    return StageTimeline(frame, flags, vals, tuple(used), cfg, transitions)
