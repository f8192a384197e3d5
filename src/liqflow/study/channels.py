"""The fiscal and market-structure channels now: three theses judged from the signals.

Where :mod:`liqflow.study.claims` tests whether the channels *lead* crypto, this module
says whether each channel is *on* at the as-of date, from the signals of
:mod:`liqflow.signals.fiscal` and :mod:`liqflow.signals.market_structure` on that day:

``fiscal``
    "Fiscal easing adds liquidity": the DTS Treasury cash drawn down over 20 days, the
    daily net liquidity up over 20 days, individual tax refunds above the same days of
    earlier years, Fed MBS holdings up and the 30-year mortgage rate down over 13 weeks.
``etf``
    "Spot ETFs absorb supply": spot-ETF net buying over 20 days above the BTC mined
    over those days (3.125 BTC a block after the halving of 2024-04-20); the 5-day
    multiple and the flows in BTC and USD are shown beside it.
``leverage``
    "Leverage is lower": perpetual funding (7-day mean) below the median of its
    trailing year (percentile < 0.5), open interest falling over 30 days, and the CME
    leveraged funds' net position rising over 4 weeks (a shrinking net short: less
    basis-trade leverage); the funding level and the CME net position are shown beside.

Each voting reading is ``value op threshold`` on the as-of date, with the threshold of
the stage classifier's flag where one exists (:func:`liqflow.signals.default_flags`: one
definition). The verdict uses the one vocabulary of :mod:`liqflow.study.verdicts`:
``unknown`` when no voting reading is known (its inputs are missing, or stale: the
signals are NaN then), ``inconclusive`` when fewer than half of them are known (one
known condition of three says little), else ``supported`` when every known one is met,
``not supported`` when none is, ``inconclusive`` otherwise. Readings shown beside never vote
(``descriptive``).

Both ``liqflow study`` (and ``--json``) and the report render one
:class:`ChannelsNow`, carried by the :class:`~liqflow.study.Evidence` of the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from liqflow.study.verdicts import (
    DESCRIPTIVE,
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    UNKNOWN,
)

if TYPE_CHECKING:
    from liqflow.signals.compute import ChannelValues, SignalSet

    #: What the channels read: a whole :class:`SignalSet` or its channel blocks alone.
    SignalValues = SignalSet | ChannelValues

__all__ = [
    "CHANNEL_CLAIMS",
    "CHANNEL_COLUMNS",
    "CHANNEL_INPUTS",
    "ChannelReading",
    "ChannelThesis",
    "ChannelsNow",
    "channel_panel",
    "channel_signals",
    "channels_now",
]

#: Catalogue ids the channel signals read (with all their fields).
CHANNEL_INPUTS = (
    "tga_daily",
    "fed_assets",
    "rrp",
    "tax_refunds",
    "fed_mbs",
    "mortgage_rate",
    "etf_flows",
    "btc",
    "btc_funding",
    "eth_funding",
    "cftc_btc",
)
#: Panel columns the channel signals read: the inputs and the fields they use.
CHANNEL_COLUMNS = (
    *CHANNEL_INPUTS,
    "btc_funding.open_interest",
    "eth_funding.open_interest",
    "cftc_btc.open_interest",
)
CHANNEL_CLAIMS = {
    "fiscal": "Fiscal easing adds liquidity (Treasury cash drawdown, tax refunds, MBS "
    "purchases, lower mortgage rates)",
    "etf": "Spot ETFs absorb supply (net buying above the newly mined BTC)",
    "leverage": "Leverage is lower (perpetual funding, open interest, CME leveraged funds)",
}
#: Open interest falling: no classifier flag has it, so its threshold is declared here.
OI_FALLING = ("<", 0.0)
_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


def _text(x: float, unit: str, signed: bool = True) -> str:
    if not math.isfinite(x):
        return "unknown"
    sign = "+" if signed else ""
    if unit == "usd_bn":
        return f"{x:{sign},.1f} USD bn"
    if unit == "pct":
        return f"{x * 100:{sign}.1f}%"
    if unit == "pp":
        return f"{x:{sign}.2f} pp"
    if unit == "x":
        return f"x{x:.2f}"
    if unit == "count":
        return f"{x:{sign},.0f}"
    return f"{x:.3g}"


@dataclass(frozen=True)
class ChannelReading:
    """One signal on the as-of date and the threshold it is judged against.

    Attributes
    ----------
    label : str
    column : str
        Signal column (``fiscal.tga_daily_chg_20d``).
    value : float
        NaN when unknown.
    unit : str
        ``usd_bn``, ``pct`` (a fraction), ``pp``, ``x`` (a multiple), ``count`` or ``""``.
    op, threshold : str and float, or None
        The condition (None for a reading shown beside, which does not vote).
    met : bool or None
        None when unknown or not voting.
    note : str
        Why the value is unknown, when it is.
    """

    label: str
    column: str
    value: float
    unit: str
    op: str | None = None
    threshold: float | None = None
    met: bool | None = None
    note: str = ""

    @property
    def votes(self) -> bool:
        return self.op is not None

    def value_text(self) -> str:
        """The value in its unit (``-62.9 USD bn``, ``97.5%``, ``x4.34``), or ``unknown``."""
        return _text(self.value, self.unit)

    def condition_text(self) -> str:
        """``< 0 USD bn``, or empty for a reading shown beside."""
        if self.op is None or self.threshold is None:
            return ""
        return f"{self.op} {_text(self.threshold, self.unit, signed=False)}"

    @property
    def known(self) -> bool:
        return math.isfinite(self.value)


@dataclass(frozen=True)
class ChannelThesis:
    """A channel's verdict on the as-of date, with its readings and one line of why."""

    key: str
    claim: str
    verdict: str
    readings: tuple[ChannelReading, ...]
    why: str


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class ChannelsNow:
    """The three channel theses as of one date (see the module docstring)."""

    as_of: pd.Timestamp
    theses: tuple[ChannelThesis, ...]

    def thesis(self, key: str) -> ChannelThesis:
        """The thesis ``key`` (``fiscal``, ``etf``, ``leverage``).

        Raises
        ------
        KeyError
            No such thesis.
        """
        for t in self.theses:
            if t.key == key:
                return t
        raise KeyError(f"no channel thesis {key!r}; known: {[t.key for t in self.theses]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per reading: thesis, verdict, label, column, value, condition, met."""
        rows = [
            {
                "thesis": t.key,
                "verdict": t.verdict,
                "label": r.label,
                "column": r.column,
                "value": r.value,
                "unit": r.unit,
                "op": r.op or "",
                "threshold": np.nan if r.threshold is None else r.threshold,
                "met": r.met,
                "note": r.note,
            }
            for t in self.theses
            for r in t.readings
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (NaN as None), as ``liqflow study --json`` prints it."""
        return {
            "as_of": f"{self.as_of:%Y-%m-%d}",
            "theses": [
                {
                    "key": t.key,
                    "claim": t.claim,
                    "verdict": t.verdict,
                    "why": t.why,
                    "readings": [
                        {
                            "label": r.label,
                            "column": r.column,
                            "value": _num(r.value),
                            "unit": r.unit,
                            "op": r.op,
                            "threshold": r.threshold,
                            "met": r.met,
                            "verdict": DESCRIPTIVE if not r.votes else None,
                            "note": r.note,
                        }
                        for r in t.readings
                    ],
                }
                for t in self.theses
            ],
        }

    def summary(self) -> str:
        """One line per thesis: ``[key] claim: VERDICT (why)``."""
        return "\n".join(f"[{t.key}] {t.claim}: {t.verdict.upper()} ({t.why})" for t in self.theses)


def channel_panel(panel: pd.DataFrame) -> pd.DataFrame | None:
    """The panel's :data:`CHANNEL_COLUMNS`, from the first day any of them is known (None
    without any): the same frame whatever else the panel holds and wherever it starts."""
    cols = [c for c in CHANNEL_COLUMNS if c in panel.columns]
    if not cols:
        return None
    sub = panel[cols]
    known = sub.notna().any(axis=1).to_numpy()
    if not known.any():
        return None
    return sub.iloc[int(np.argmax(known)) :]


def channel_signals(panel: pd.DataFrame) -> ChannelValues:
    """The fiscal and market-structure signals of a :func:`channel_panel`
    (:func:`liqflow.signals.compute.channel_values`): the same values ``liqflow status``
    shows for each day, without the blocks and stages the channels do not read."""
    from liqflow.signals.compute import channel_values

    return channel_values(panel)


def _why_unknown(frame: pd.DataFrame, column: str, status: Mapping[str, str]) -> str:
    if column not in frame.columns:
        return f"signal {column} is not computed"
    valid = frame.index[frame[column].notna().to_numpy()]
    if len(valid):
        return f"last known {valid[-1]:%Y-%m-%d}; its input is stale"
    for k, v in status.items():  # the input the column is named after (fiscal.tga_daily...)
        if v.startswith("unknown") and column.startswith(k):
            return f"{k}: {v}"
    return "never known: its input is not in the store"


def _reading(
    signals: SignalValues,
    column: str,
    label: str,
    unit: str,
    cond: tuple[str, float] | None = None,
    scale: float = 1.0,
) -> ChannelReading:
    frame = signals.frame
    raw = float(frame[column].iloc[-1]) if column in frame.columns and len(frame) else math.nan
    if not math.isfinite(raw):
        note = _why_unknown(frame, column, signals.status)
        op, thr = cond if cond is not None else (None, None)
        return ChannelReading(label, column, math.nan, unit, op, thr, None, note)
    value = raw * scale
    if cond is None:
        return ChannelReading(label, column, value, unit)
    op, thr = cond
    return ChannelReading(label, column, value, unit, op, thr, bool(_OPS[op](value, thr)))


def _flag_cond(signals: SignalValues, flag: str, scale: float = 1.0) -> tuple[str, float]:
    from liqflow.signals.compute import default_flags  # the flags of compute_signals' stages

    spec = next(s for s in default_flags(signals.config) if s.name == flag)
    return spec.op, float(spec.threshold) * scale


def _verdict(readings: Sequence[ChannelReading]) -> str:
    voting = [r for r in readings if r.votes]
    known = [r.met for r in voting if r.met is not None]
    if not known:
        return UNKNOWN
    if 2 * len(known) < len(voting):  # one known condition of three says little
        return INCONCLUSIVE
    if all(known):
        return SUPPORTED
    if not any(known):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _thesis(key: str, readings: tuple[ChannelReading, ...]) -> ChannelThesis:
    verdict = _verdict(readings)
    voting = [r for r in readings if r.votes]
    known = [r for r in voting if r.met is not None]
    met = [r for r in known if r.met]
    unknown = [r for r in voting if r.met is None]
    if not known:
        why = (
            "no condition known on the as-of date ("
            + "; ".join(f"{r.label}: {r.note}" for r in unknown)
            + ")"
        )
    else:
        why = f"{len(met)} of {len(known)} known conditions met: " + ", ".join(
            f"{r.label} {r.value_text()}" for r in known
        )
        if unknown:
            why += f"; unknown: {', '.join(r.label for r in unknown)}"
    return ChannelThesis(key, CHANNEL_CLAIMS[key], verdict, readings, why)


def _fiscal(signals: SignalValues) -> ChannelThesis:
    fc = signals.config.fiscal
    lg, w, bn = fc.long_days, fc.weeks, 1e-3  # USD millions -> USD bn
    return _thesis(
        "fiscal",
        (
            _reading(
                signals,
                f"fiscal.tga_daily_chg_{lg}d",
                f"Treasury cash (DTS TGA) {lg}-day change",
                "usd_bn",
                _flag_cond(signals, "fiscal.tga_daily_drawdown", bn),
                bn,
            ),
            _reading(
                signals,
                f"fiscal.net_liquidity_daily_chg_{lg}d",
                f"daily net liquidity {lg}-day change",
                "usd_bn",
                _flag_cond(signals, "fiscal.net_liquidity_daily_rising", bn),
                bn,
            ),
            _reading(
                signals,
                "fiscal.tax_refunds_vs_prior",
                f"tax refunds ({fc.refund_days} days) vs the same days of {fc.refund_years} "
                "earlier years",
                "pct",
                _flag_cond(signals, "fiscal.tax_refunds_above_prior"),
            ),
            _reading(
                signals,
                f"fiscal.fed_mbs_chg_{w}w",
                f"Fed MBS holdings {w}-week change",
                "usd_bn",
                _flag_cond(signals, "fiscal.mbs_rising", bn),
                bn,
            ),
            _reading(
                signals,
                f"fiscal.mortgage_rate_chg_{w}w",
                f"30-year mortgage rate {w}-week change",
                "pp",
                _flag_cond(signals, "fiscal.mortgage_rate_falling"),
            ),
        ),
    )


def _etf(signals: SignalValues) -> ChannelThesis:
    mc = signals.config.market
    s, lg = mc.short_days, mc.long_days
    return _thesis(
        "etf",
        (
            _reading(
                signals,
                f"market.etf_supply_multiple_{lg}d",
                f"spot-ETF net buying over {lg} days, multiple of the BTC mined",
                "x",
                _flag_cond(signals, "market.etf_absorbing_supply"),
            ),
            _reading(
                signals,
                f"market.etf_supply_multiple_{s}d",
                f"the same over {s} days",
                "x",
            ),
            _reading(
                signals, f"market.etf_flow_{lg}d_btc", f"ETF net flow over {lg} days, BTC", "count"
            ),
            _reading(
                signals,
                f"market.etf_flow_{lg}d",
                f"ETF net flow over {lg} days, USD bn",
                "usd_bn",
                scale=1e-3,
            ),
        ),
    )


def _leverage(signals: SignalValues) -> ChannelThesis:
    mc = signals.config.market
    return _thesis(
        "leverage",
        (
            _reading(
                signals,
                "market.funding_pct",
                f"perpetual funding percentile in its trailing {mc.percentile_days} days",
                "pct",
                _flag_cond(signals, "market.funding_below_median"),
            ),
            _reading(
                signals,
                "market.oi_chg",
                f"perpetual open interest {mc.oi_days}-day change",
                "pct",
                OI_FALLING,
            ),
            _reading(
                signals,
                "market.cme_lev_net_chg",
                f"CME leveraged funds' net position {mc.cot_weeks}-week change, contracts",
                "count",
                _flag_cond(signals, "market.cme_lev_net_rising"),
            ),
            _reading(
                signals,
                "market.funding",
                f"perpetual funding, {mc.funding_days}-day mean (fraction per day)",
                "",
            ),
            _reading(
                signals,
                "market.cme_lev_net",
                "CME leveraged funds' net position, contracts",
                "count",
            ),
        ),
    )


def channels_now(signals: SignalValues) -> ChannelsNow:
    """The fiscal, ETF and leverage theses on the last day of ``signals``.

    Parameters
    ----------
    signals : SignalSet or ChannelValues
        From :func:`liqflow.signals.compute_signals`, or :func:`channel_signals` (the
        same readings: the channels read only its fiscal and market-structure blocks).

    Returns
    -------
    ChannelsNow
    """
    as_of = pd.Timestamp(signals.frame.index[-1])
    return ChannelsNow(as_of, (_fiscal(signals), _etf(signals), _leverage(signals)))
