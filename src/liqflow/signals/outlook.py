"""What the stage timeline says next: the pending change and what would confirm or deny.

One function, :func:`stage_outlook`, reads a :class:`~liqflow.signals.SignalSet` on a
day and returns the current stage, a stage change that is waiting for its confirmation
(the classifier reports a new stage only once it has been the raw stage for
``StageConfig.confirm_days`` consecutive days, see :mod:`liqflow.signals.regime`), the
conditions that would confirm the next stage and those that would end the current one.
``liqflow status`` and the report both render this one object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.signals._result import OK, format_value

if TYPE_CHECKING:
    from liqflow.align import AsOf
    from liqflow.catalog import Catalog
    from liqflow.signals.compute import SignalSet
    from liqflow.signals.regime import SignalState, StageState, StageStatus
    from liqflow.store import Store

__all__ = [
    "ChainStatus",
    "Condition",
    "PendingStage",
    "StageOutlook",
    "chain_status",
    "stage_outlook",
]


def _pct(x: float) -> str:
    return "unknown" if not math.isfinite(x) else f"{x:.0%}"


def _date(x: pd.Timestamp | None) -> str:
    return "n/a" if x is None else f"{x:%Y-%m-%d}"


@dataclass(frozen=True)
class Condition:
    """One condition of the outlook, in two lengths.

    Attributes
    ----------
    text : str
        The full sentence (the signal's description, its rule and its value now).
    brief : str
        The same in a few words, for an 80-column screen ("" when another condition's
        brief form already names it).
    required : bool
        A required signal of its stage (it alone can switch the stage on or off).
    """

    text: str
    brief: str
    required: bool = False


@dataclass(frozen=True)
class PendingStage:
    """A change of stage waiting for its confirmation.

    The raw stage (the rule's stage that day) has been ``stage`` for ``days``
    consecutive days since ``since``; it becomes the reported stage once ``days``
    reaches ``needed`` (``StageConfig.confirm_days``).
    """

    stage: int
    name: str
    days: int
    needed: int
    since: pd.Timestamp

    def describe(self) -> str:
        """``stage 4 (crypto) on 3 of 5 days (since 2017-12-13)``."""
        return (
            f"stage {self.stage} ({self.name}) on {self.days} of {self.needed} days "
            f"(since {self.since:%Y-%m-%d}); reported once it lasts {self.needed}"
        )


@dataclass(frozen=True)
class StageOutlook:
    """The current stage, since when, and what would confirm or deny the next stage.

    Attributes
    ----------
    as_of : Timestamp
    stage : int
        The current (confirmed) stage; 0 when none qualifies.
    name : str
        Its name, ``unknown`` when the inputs that decide it are stale or missing.
    since : Timestamp or None
    next_stage : int or None
        ``stage + 1`` (None after the last stage).
    next_name : str
    confirm_items, deny_items : tuple of Condition
        What would switch the next stage on; what would end the current one.
    known : bool
        False when the stage is unknown (see :attr:`label`).
    label : str
        ``stage 3 (small caps) since 2025-09-18``, or why the stage is unknown.
    pending : PendingStage or None
        A change of stage not yet confirmed.
    unknown_inputs : tuple of str
        Inputs whose signals are unknown (not supplied, no data); the input status of
        the signal set says why.
    """

    as_of: pd.Timestamp
    stage: int
    name: str
    since: pd.Timestamp | None
    next_stage: int | None
    next_name: str
    confirm_items: tuple[Condition, ...]
    deny_items: tuple[Condition, ...]
    known: bool = True
    label: str = ""
    pending: PendingStage | None = None
    unknown_inputs: tuple[str, ...] = ()

    @property
    def confirm(self) -> tuple[str, ...]:
        """The full sentences of :attr:`confirm_items`."""
        return tuple(c.text for c in self.confirm_items)

    @property
    def deny(self) -> tuple[str, ...]:
        """The full sentences of :attr:`deny_items`."""
        return tuple(c.text for c in self.deny_items)

    def to_frame(self) -> pd.DataFrame:
        """One row per condition: ``kind`` (confirm/deny), ``required``, ``text``, ``brief``."""
        rows = [
            {"kind": kind, "required": c.required, "text": c.text, "brief": c.brief}
            for kind, items in (("confirm", self.confirm_items), ("deny", self.deny_items))
            for c in items
        ]
        return pd.DataFrame(rows, columns=["kind", "required", "text", "brief"])

    def summary(self) -> str:
        lines = [
            f"as of {_date(self.as_of)}: stage {self.stage} ({self.name}) since {_date(self.since)}"
        ]
        if self.pending is not None:
            lines.append(f"  pending: {self.pending.describe()}")
        if self.next_stage is not None:
            lines.append(f"  stage {self.next_stage} ({self.next_name}) would be confirmed by:")
            lines += [f"    - {c}" for c in self.confirm]
        if self.deny:
            lines.append("  the current stage would be denied by:")
            lines += [f"    - {d}" for d in self.deny]
        return "\n".join(lines)


def _short(sig: SignalState) -> str:
    return sig.name.split(".", 1)[-1]


def _signal_text(sig: SignalState) -> str:
    return f"{sig.description}: needs {sig.condition}, now {format_value(sig.value)}"


def _signal_brief(sig: SignalState) -> str:
    return f"{_short(sig)} ({sig.condition}, now {format_value(sig.value)})"


def _strength_brief(target: StageState, min_strength: float) -> str:
    """How many more of the stage's known signals must turn on to reach ``min_strength``."""
    known = [s for s in target.signals if s.on is not None]
    on = sum(bool(s.on) for s in known)
    need = max(0, math.ceil(min_strength * len(known) - 1e-12) - on)
    head = (
        f"strength >= {min_strength:.0%} (now {_pct(target.strength)}, {on} of {len(known)} "
        "known on)"
    )
    off = [_short(s) for s in known if not s.on and not s.required]
    if need == 0 or not off:
        return head
    return f"{head}: {need} more of {', '.join(off)}"


def _confirm(
    status: StageStatus, nxt: int, signals: SignalSet, pending: PendingStage | None
) -> tuple[Condition, ...]:
    stages = {s.stage: s for s in status.stages}
    rule = {r.stage: r for r in signals.stages.config.rules}[nxt]
    target = stages[nxt]
    # the brief form names only the required signals; the strength line names the others
    items = [
        Condition(
            ("(required) " if sig.required else "") + _signal_text(sig),
            _signal_brief(sig) if sig.required else "",
            sig.required,
        )
        for sig in sorted(target.signals, key=lambda s: not s.required)
        if sig.on is not True
    ]
    items.append(
        Condition(
            f"strength >= {rule.min_strength:.0%} of its known signals (now "
            f"{_pct(target.strength)})",
            _strength_brief(target, rule.min_strength),
        )
    )
    days = signals.stages.config.lookback_days
    for k in range(1, nxt):
        if not stages[k].held:
            text = f"stage {k} ({stages[k].name}) must hold again within {days} days"
            items.append(Condition(text, text))
    if pending is not None and pending.stage >= nxt:
        left = pending.needed - pending.days
        text = (
            f"stage {pending.stage} ({pending.name}) staying on {left} more day"
            f"{'s' if left != 1 else ''} ({pending.days} of the {pending.needed} it needs so far)"
        )
        items.insert(0, Condition(text, text))
    return tuple(items)


def _deny(status: StageStatus, signals: SignalSet) -> tuple[Condition, ...]:
    stages = {s.stage: s for s in status.stages}
    if status.stage not in stages:
        return ()
    cur = stages[status.stage]
    rule = {r.stage: r for r in signals.stages.config.rules}[status.stage]
    items = [
        Condition(
            f"{_signal_text(sig)} turning off",
            f"{_short(sig)} turning off (now {format_value(sig.value)})",
            True,
        )
        for sig in cur.signals
        if sig.required and sig.on
    ]
    text = (
        f"stage {status.stage} strength falling below {rule.min_strength:.0%} "
        f"(now {_pct(cur.strength)})"
    )
    items.append(Condition(text, text))
    return tuple(items)


def _pending(signals: SignalSet, day: pd.Timestamp) -> PendingStage | None:
    """The raw stage's current run, when it differs from the reported stage."""
    from liqflow.signals.regime import STAGE_NAMES

    frame = signals.stages.frame
    pos = int(frame.index.searchsorted(day, side="right")) - 1
    raw = frame["raw_stage"].to_numpy()[: pos + 1]
    if pos < 0 or raw[-1] == int(frame["stage"].iloc[pos]):
        return None
    changed = np.flatnonzero(raw != raw[-1])
    start = int(changed[-1]) + 1 if changed.size else 0
    k = int(raw[-1])
    return PendingStage(
        k,
        STAGE_NAMES.get(k, str(k)),
        pos - start + 1,
        signals.stages.config.confirm_days,
        pd.Timestamp(frame.index[start]),
    )


def stage_outlook(signals: SignalSet, as_of: pd.Timestamp | str | None = None) -> StageOutlook:
    """Current stage, a pending change, and what would confirm or deny the next stage.

    Parameters
    ----------
    signals : SignalSet
    as_of : Timestamp or str, optional
        The day read (default: the last day of the timeline).

    Returns
    -------
    StageOutlook

    Notes
    -----
    Confirm: the signals of the next stage that are not on (required ones first), its
    strength against ``min_strength`` and any earlier stage that has not held within the
    lookback. Deny: the required signals of the current stage, which end it if they turn
    off, and its strength. Pending: the raw stage differs from the reported one and has
    not yet lasted ``confirm_days`` days.
    """
    st = signals.stage_status(as_of)
    stages = {s.stage: s for s in st.stages}
    nxt = st.stage + 1 if st.stage + 1 in stages else None
    unknown = tuple(
        dict.fromkeys(
            k.split(".", 1)[-1]
            for k, v in signals.status.items()
            if v != OK and v.startswith(("unknown", "unavail"))
        )
    )
    pending = _pending(signals, pd.Timestamp(st.as_of))
    return StageOutlook(
        as_of=pd.Timestamp(st.as_of),
        stage=int(st.stage),
        name=st.stage_name,
        since=st.since,
        next_stage=nxt,
        next_name=stages[nxt].name if nxt is not None else "",
        confirm_items=_confirm(st, nxt, signals, pending) if nxt is not None else (),
        deny_items=_deny(st, signals),
        known=st.known,
        label=st.label,
        pending=pending,
        unknown_inputs=unknown,
    )


@dataclass(frozen=True)
class ChainStatus:
    """Everything ``liqflow status`` shows: the date and its freshness, the signals, the
    stage status and its outlook.

    Attributes
    ----------
    fresh : AsOf
        The date, whether it is the default one, and the stale or missing inputs.
    signals : SignalSet
    status : StageStatus
    outlook : StageOutlook
    """

    fresh: AsOf
    signals: SignalSet
    status: StageStatus
    outlook: StageOutlook

    def to_frame(self) -> pd.DataFrame:
        """One row per (stage, signal): :meth:`StageStatus.to_frame`."""
        return self.status.to_frame()

    def summary(self) -> str:
        return f"{self.fresh.describe()}\n{self.outlook.summary()}"


def chain_status(store: Store, catalog: Catalog, as_of: pd.Timestamp | None = None) -> ChainStatus:
    """The chain's status on ``as_of`` (checked against the store) or the default date.

    Reads the point-in-time panel (every field) and the crypto universe in force, computes
    the signals and reads the stage on that date.

    Raises
    ------
    DataError
        The store has no data up to the date, or ``as_of`` is after its last data.
    """
    from liqflow.align import input_freshness, load_panel, resolve_as_of
    from liqflow.signals.compute import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    when, default = resolve_as_of(store, catalog, "default", as_of)
    panel = load_panel(store, catalog=catalog, as_of=when)
    if panel.empty:
        raise DataError(
            f"the store has no data up to {when:%Y-%m-%d}; run `liqflow import DIR` or "
            "`liqflow fetch` first"
        )
    universe = alt_universe_from_store(store, catalog, when)
    fresh = input_freshness(panel, catalog, default=default)
    signals = compute_signals(panel, catalog=catalog, universe=universe)
    return ChainStatus(fresh, signals, signals.stage_status(), stage_outlook(signals))
