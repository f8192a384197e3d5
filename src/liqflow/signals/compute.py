"""Every signal and the stage timeline from one point-in-time panel.

The panel (see :func:`liqflow.align.load_panel`) is a calendar-day frame: column ``<id>``
is a series' primary field, ``<id>.<field>`` its other fields, each value what was
public at the end of that day. Equity signals are computed on each index's own sessions
(:func:`liqflow.align.trading_days`), FRED daily spreads on weekdays, liquidity and
crypto on the calendar, and everything is carried back onto the calendar as of each
day. Each block's columns are prefixed with its link of the chain (``liquidity.``,
``credit.``, ``large_caps.``, ``small_caps.``, ``crypto.``, ``traits.``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow._series import check_series
from liqflow.align import trading_days
from liqflow.catalog import SEGMENTS, Catalog, default_catalog, is_excluded_coin
from liqflow.signals._flags import (
    _credit_flags,
    _crypto_flags,
    _equity_flags,
    _fiscal_flags,
    _liquidity_flags,
    _market_flags,
)
from liqflow.signals._result import MISSING, OK, input_status
from liqflow.signals._windows import to_calendar
from liqflow.signals.breakout import BreakoutConfig, BreakoutResult, breakouts, empty_daily
from liqflow.signals.credit import CreditConfig, credit_signals
from liqflow.signals.crypto import AltUniverse, CryptoConfig, crypto_signals
from liqflow.signals.equities import (
    RelativeStrengthConfig,
    TrendConfig,
    relative_strength,
    trend_signals,
)
from liqflow.signals.fiscal import FiscalConfig, fiscal_signals
from liqflow.signals.liquidity import LiquidityConfig, liquidity_signals
from liqflow.signals.market_structure import MarketStructureConfig, market_structure_signals
from liqflow.signals.regime import (
    FlagSpec,
    StageConfig,
    StageStatus,
    StageTimeline,
    stage_timeline,
)
from liqflow.signals.traits import TraitsConfig, traits_signals

__all__ = [
    "ChannelValues",
    "SignalConfig",
    "SignalSet",
    "channel_values",
    "compute_signals",
    "default_flags",
]

#: Days a session's signals are carried onto the calendar before they become unknown.
MAX_SESSION_AGE = 10


@dataclass(frozen=True)
class SignalConfig:
    """Settings of every signal block and of the stage classifier.

    Attributes
    ----------
    liquidity, credit, large_caps, small_caps, relative_strength, breakout, crypto,
    traits, fiscal, market, stages :
        The block configurations (see each class for its documented defaults).
    segments : tuple of str
        Panel columns of small-cap segment series for breakout breadth (default: the
        catalogue's :data:`~liqflow.catalog.SEGMENTS`, KRE, PSCI and XBI; breadth is
        unknown while none of them has data).
    """

    liquidity: LiquidityConfig = field(default_factory=LiquidityConfig)
    credit: CreditConfig = field(default_factory=CreditConfig)
    large_caps: TrendConfig = field(default_factory=TrendConfig)
    small_caps: TrendConfig = field(default_factory=TrendConfig)
    relative_strength: RelativeStrengthConfig = field(default_factory=RelativeStrengthConfig)
    breakout: BreakoutConfig = field(default_factory=BreakoutConfig)
    crypto: CryptoConfig = field(default_factory=CryptoConfig)
    traits: TraitsConfig = field(default_factory=TraitsConfig)
    fiscal: FiscalConfig = field(default_factory=FiscalConfig)
    market: MarketStructureConfig = field(default_factory=MarketStructureConfig)
    stages: StageConfig = field(default_factory=StageConfig)
    segments: tuple[str, ...] = SEGMENTS


def default_flags(config: SignalConfig | None = None) -> tuple[FlagSpec, ...]:
    """The flags the default stage rules read, with thresholds taken from ``config``."""
    cfg = config or SignalConfig()
    return (
        *_liquidity_flags(cfg.liquidity),
        *_fiscal_flags(cfg.fiscal),
        *_credit_flags(cfg.credit),
        *_equity_flags(cfg.large_caps, cfg.small_caps, cfg.breakout, cfg.relative_strength),
        *_crypto_flags(cfg.crypto),
        *_market_flags(cfg.market),
    )


@dataclass(frozen=True)
class SignalSet:
    """Every signal, the flags, the breakout events and the stage timeline.

    Attributes
    ----------
    frame : DataFrame
        Calendar-day signals, columns prefixed by block (``credit.spread`` ...).
    breakouts : BreakoutResult or None
        Russell 2000 breakout events (None when the panel has no ``small_caps`` column;
        no events while it has no data).
    stages : StageTimeline
    status : mapping
        Status of each input (``"ok"``, ``"unknown: ..."``, fallback notes).
    config : SignalConfig
    """

    frame: pd.DataFrame
    breakouts: BreakoutResult | None
    stages: StageTimeline
    status: Mapping[str, str]
    config: SignalConfig

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", MappingProxyType(dict(self.status)))

    def to_frame(self) -> pd.DataFrame:
        """A copy of the calendar-day signal frame."""
        return self.frame.copy()

    @property
    def flags(self) -> pd.DataFrame:
        """The stage flags per day (1/0/NaN)."""
        return self.stages.flags

    def stage_status(self, as_of: pd.Timestamp | str | None = None) -> StageStatus:
        """Each stage and flag on ``as_of`` (default: the last day)."""
        return self.stages.status(as_of)

    def summary(self) -> str:
        """Current stage, breakouts and the inputs that are unknown or substituted."""
        lines = [self.stages.status().summary()]
        if self.breakouts is not None:
            lines.append(self.breakouts.summary())
        notes = [f"  {k}: {v}" for k, v in self.status.items() if v != OK]
        if notes:
            lines += ["inputs:", *notes]
        return "\n".join(lines)


def _column(panel: pd.DataFrame, column: str) -> pd.Series | None:
    """``column`` as float64, or None when the panel has no such column.

    Blocks depend on which columns the panel *has*, never on whether they hold data yet,
    so a panel truncated at *t* computes the same columns as the full panel.
    """
    return panel[column].astype(np.float64) if column in panel.columns else None


def _sessions(panel: pd.DataFrame, column: str) -> pd.Series | None:
    """``column`` on its sessions (possibly none yet), or None when absent."""
    if column not in panel.columns:
        return None
    return panel[column].astype(np.float64).loc[trading_days(panel, column)]


def _weekdays(panel: pd.DataFrame, column: str) -> pd.Series | None:
    """A FRED daily column on the weekdays it has a value, or None when absent."""
    s = _column(panel, column)
    if s is None:
        return None
    weekday = pd.DatetimeIndex(panel.index).day_of_week < 5
    return s[weekday & s.notna().to_numpy()]


def _carry(frame: pd.DataFrame, calendar: pd.DatetimeIndex, prefix: str) -> pd.DataFrame:
    return to_calendar(frame, calendar, MAX_SESSION_AGE).add_prefix(prefix)


def _alt_columns(panel: pd.DataFrame, catalog: Catalog) -> list[str]:
    cols = []
    for sid, spec in catalog.items():
        if spec.group == "alt" and sid in panel.columns and not is_excluded_coin(spec.symbol):
            cols.append(sid)
    return cols


def _credit_and_liquidity(
    panel: pd.DataFrame,
    cfg: SignalConfig,
    cal: pd.DatetimeIndex,
    status: dict[str, str],
    blocks: list[pd.DataFrame],
) -> None:
    """Stage 1: liquidity and fiscal (calendar) and credit (weekdays) blocks."""
    # stage 1: liquidity (calendar) and credit (weekdays)
    lq = liquidity_signals(
        _column(panel, "fed_assets"),
        _column(panel, "tga"),
        _column(panel, "rrp"),
        _column(panel, "fed_bills"),
        cfg.liquidity,
        index=cal,
    )
    blocks.append(lq.frame.add_prefix("liquidity."))
    status.update({f"liquidity.{k}": v for k, v in lq.status.items()})
    _fiscal(panel, cfg, cal, status, blocks)
    hy, ig, baa = (_weekdays(panel, c) for c in ("hy_spread", "ig_spread", "baa_spread"))
    if hy is None and ig is None and baa is None:
        status["credit"] = "unknown: none of hy_spread, ig_spread, baa_spread in the panel"
    else:
        cr = credit_signals(hy, ig, baa, cfg.credit, index=cal)
        blocks.append(cr.frame.add_prefix("credit."))
        status.update({f"credit.{k}": v for k, v in cr.status.items()})


def _fiscal(
    panel: pd.DataFrame,
    cfg: SignalConfig,
    cal: pd.DatetimeIndex,
    status: dict[str, str],
    blocks: list[pd.DataFrame],
) -> None:
    """The fiscal block (calendar): Treasury cash, daily net liquidity, refunds, MBS."""
    fs = fiscal_signals(
        _column(panel, "tga_daily"),
        _column(panel, "fed_assets"),
        _column(panel, "rrp"),
        _column(panel, "tax_refunds"),
        _column(panel, "fed_mbs"),
        _column(panel, "mortgage_rate"),
        cfg.fiscal,
        index=cal,
    )
    blocks.append(fs.frame.add_prefix("fiscal."))
    status.update({f"fiscal.{k}": v for k, v in fs.status.items()})


def _equities(
    panel: pd.DataFrame,
    cfg: SignalConfig,
    cal: pd.DatetimeIndex,
    status: dict[str, str],
    blocks: list[pd.DataFrame],
) -> BreakoutResult | None:
    """Stages 2 and 3: large and small caps on their sessions, relative strength and the breakouts (returned)."""
    # stage 2: large caps on their sessions
    large = _sessions(panel, "large_caps")
    if large is not None:
        lc = trend_signals(large, cfg.large_caps)
        blocks.append(_carry(lc.frame, cal, "large_caps."))
        status["large_caps"] = lc.status["close"]
    else:
        status["large_caps"] = MISSING

    # stage 3: small caps: trend, relative strength, breakouts
    small = _sessions(panel, "small_caps")
    bo_result: BreakoutResult | None = None
    if small is not None:
        sc = trend_signals(small, cfg.small_caps)
        status["small_caps"] = sc.status["close"]
        blocks.append(_carry(sc.frame, cal, "small_caps."))
        if large is not None:
            rs = relative_strength(small, large, cfg.relative_strength).frame
            blocks.append(_carry(rs, cal, "small_caps."))
        vol = _sessions(panel, "small_caps_volume")
        status["small_caps_volume"] = input_status(vol)
        segs = {}
        for sid in cfg.segments:
            seg = _sessions(panel, sid)
            status[f"segment.{sid}"] = input_status(seg)
            if seg is not None:
                segs[sid] = seg
        if not cfg.segments:
            status["breadth"] = "unknown: no small-cap segment series configured"
        elif not segs:
            status["breadth"] = (
                f"unknown: no small-cap segment series in the data ({', '.join(cfg.segments)}); "
                "`liqflow fetch` them for breadth"
            )
        if small.notna().any():
            bo_result = breakouts(small, vol, segs, cfg.breakout)
            daily = bo_result.daily.drop(columns=["close"])
        else:  # the column exists but has no data yet: no events, every state unknown
            bo_result = BreakoutResult((), empty_daily(), cfg.breakout, None)
            daily = bo_result.daily.drop(columns=["close"])
        live = daily["live"] == 1.0
        daily = daily.assign(
            live_volume_ratio=daily["event_volume_ratio"].where(live),
            live_breadth=daily["event_breadth"].where(live),
        )
        names = {c: (c if c.startswith("live_") else f"breakout_{c}") for c in daily.columns}
        blocks.append(_carry(daily.rename(columns=names), cal, "small_caps."))
    else:
        status["small_caps"] = MISSING
    return bo_result


def _crypto(
    panel: pd.DataFrame,
    cfg: SignalConfig,
    cat: Catalog,
    universe: AltUniverse | None,
    status: dict[str, str],
    blocks: list[pd.DataFrame],
) -> None:
    """Stage 4: crypto and the supercycle traits on the calendar."""
    # stage 4: crypto and the supercycle traits on the calendar
    btc = _column(panel, "btc")
    alt_cols = _alt_columns(panel, cat)
    alts = panel[alt_cols].astype(np.float64) if alt_cols else None
    if btc is not None:
        cy = crypto_signals(
            btc,
            alts,
            _column(panel, "btc.market_cap"),
            _column(panel, "total_crypto_mcap"),
            cfg.crypto,
            universe=universe,
        )
        funding = [c for c in panel.columns if c.endswith(".funding_rate")]
        oi = [c for c in panel.columns if c.endswith(".open_interest")]
        tr = traits_signals(
            btc,
            alts,
            panel[funding] if funding else None,
            panel[oi] if oi else None,
            cfg.traits,
        )
        blocks.append(cy.frame.add_prefix("crypto."))
        blocks.append(tr.frame.add_prefix("traits."))
        status.update({f"crypto.{k}": v for k, v in cy.status.items()})
        status.update({f"traits.{k}": v for k, v in tr.status.items()})
    else:
        status["crypto.btc"] = MISSING


def _market(
    panel: pd.DataFrame,
    cfg: SignalConfig,
    cal: pd.DatetimeIndex,
    status: dict[str, str],
    blocks: list[pd.DataFrame],
) -> None:
    """Market structure: ETF flows, perpetual funding and open interest, CFTC positions."""
    perps = [c for c in ("btc_funding", "eth_funding") if c in panel.columns]
    perp_oi = [f"{c}.open_interest" for c in perps if f"{c}.open_interest" in panel.columns]
    ms = market_structure_signals(
        _column(panel, "etf_flows"),
        _column(panel, "btc"),
        panel[perps].astype(np.float64) if perps else None,
        panel[perp_oi].astype(np.float64) if perp_oi else None,
        _column(panel, "cftc_btc"),
        _column(panel, "cftc_btc.open_interest"),
        cfg.market,
        index=cal,
    )
    blocks.append(ms.frame.add_prefix("market."))
    status.update({f"market.{k}": v for k, v in ms.status.items()})


def _calendar(panel: pd.DataFrame) -> pd.DatetimeIndex:
    """The calendar of a checked panel (a non-empty calendar-day frame of float columns)."""
    if not isinstance(panel, pd.DataFrame):
        raise DataError(f"panel must be a DataFrame, got {type(panel).__name__}")
    check_series(panel, "panel")
    if panel.empty:
        raise DataError("panel has no rows; load a panel with data first")
    return pd.DatetimeIndex(panel.index, name="date")


@dataclass(frozen=True)
class _PanelBlocks:
    """The blocks of :func:`compute_signals` that read neither the catalogue nor the
    crypto universe: liquidity, fiscal, credit, large and small caps (with the
    breakouts) before the crypto blocks, the market structure after them, with their
    inputs' statuses in order (:func:`_panel_blocks`)."""

    before: tuple[pd.DataFrame, ...]
    after: tuple[pd.DataFrame, ...]
    breakouts: BreakoutResult | None
    status_before: Mapping[str, str]
    status_after: Mapping[str, str]


def _panel_blocks(panel: pd.DataFrame, cfg: SignalConfig, cal: pd.DatetimeIndex) -> _PanelBlocks:
    """The blocks of :func:`compute_signals` that read only the panel."""
    status: dict[str, str] = {}
    before: list[pd.DataFrame] = []
    _credit_and_liquidity(panel, cfg, cal, status, before)
    bo_result = _equities(panel, cfg, cal, status, before)
    later: dict[str, str] = {}
    after: list[pd.DataFrame] = []
    _market(panel, cfg, cal, later, after)
    return _PanelBlocks(tuple(before), tuple(after), bo_result, status, later)


def compute_signals(
    panel: pd.DataFrame,
    config: SignalConfig | None = None,
    *,
    catalog: Catalog | None = None,
    universe: AltUniverse | None = None,
) -> SignalSet:
    """Compute every signal and the stage timeline from a point-in-time panel.

    Parameters
    ----------
    panel : DataFrame
        Calendar-day panel (:func:`liqflow.align.load_panel`): ``fed_assets``,
        ``fed_bills``, ``tga``, ``rrp``, ``hy_spread``, ``ig_spread``, ``baa_spread``,
        ``large_caps``, ``small_caps``, ``small_caps_volume``, ``btc``,
        ``btc.market_cap``, ``total_crypto_mcap``, the altcoins and any
        ``<coin>.funding_rate`` / ``<coin>.open_interest``; for the fiscal block
        ``tga_daily``, ``tax_refunds``, ``fed_mbs``, ``mortgage_rate``; for the market
        structure ``etf_flows``, ``btc_funding``/``eth_funding`` (and their
        ``.open_interest``), ``cftc_btc`` and ``cftc_btc.open_interest``. Missing columns
        make their signals unknown.
    config : SignalConfig, optional
    catalog : Catalog, optional
        Decides the altcoin universe (group ``alt`` minus stablecoins and wrapped
        tokens); default the built-in catalogue.
    universe : AltUniverse, optional
        The point-in-time crypto universe (``liqflow.universe_store.alt_universe_from_store``):
        the alt basket, the season index and the beaten-down alts then run on it
        (survivorship-free); without it they run on the catalogue's coins (today's list).

    Returns
    -------
    SignalSet

    Raises
    ------
    DataError
        ``panel`` is not a calendar-day frame of float columns, or has no rows.

    Notes
    -----
    Row *t* of every output uses only panel rows up to *t* (tested as the point-in-time
    invariance property); breakout event statuses are as of the panel's last day.
    """
    cfg = config or SignalConfig()
    cat = catalog or default_catalog()
    part = _panel_blocks(panel, cfg, _calendar(panel))
    status = dict(part.status_before)
    blocks = list(part.before)
    _crypto(panel, cfg, cat, universe, status, blocks)
    status.update(part.status_after)
    frame = pd.concat([*blocks, *part.after], axis=1)
    timeline = stage_timeline(frame, default_flags(cfg), cfg.stages)
    return SignalSet(frame, part.breakouts, timeline, status, cfg)


@dataclass(frozen=True)
class ChannelValues:
    """The fiscal and market-structure blocks of :func:`compute_signals`, alone.

    Attributes
    ----------
    frame : DataFrame
        Calendar-day ``fiscal.*`` and ``market.*`` columns, the same values as those
        columns of :attr:`SignalSet.frame` on the same panel.
    status : mapping
        Status of each of their inputs, keyed as in :attr:`SignalSet.status`.
    config : SignalConfig
    """

    frame: pd.DataFrame
    status: Mapping[str, str]
    config: SignalConfig

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", MappingProxyType(dict(self.status)))


def channel_values(panel: pd.DataFrame, config: SignalConfig | None = None) -> ChannelValues:
    """The fiscal and market-structure signals of ``panel`` without the other blocks and
    the stage timeline (what the fiscal, ETF and leverage channels read).

    The blocks are computed by the same functions, on the same calendar, as in
    :func:`compute_signals`: each column equals that column of its frame.

    Raises
    ------
    DataError
        ``panel`` is not a calendar-day frame of float columns, or has no rows.
    """
    cfg = config or SignalConfig()
    cal = _calendar(panel)
    status: dict[str, str] = {}
    blocks: list[pd.DataFrame] = []
    _fiscal(panel, cfg, cal, status, blocks)
    _market(panel, cfg, cal, status, blocks)
    return ChannelValues(pd.concat(blocks, axis=1), status, cfg)
