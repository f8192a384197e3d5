"""The series a study reads, from the point-in-time panel, defined once.

Both ``liqflow study`` and the report call :func:`study_inputs` on their panel, so the
same store, date and chain give the same inputs, the same data hash and therefore the
same :class:`~liqflow.study.evidence.Evidence` (from the cache when it is there).

Each price enters on its own sessions only (the days it received a new observation,
:func:`liqflow.align.trading_days`): no forward-filled value of the panel reaches a
statistic. A credit spread enters as ``exp(-spread)`` so that narrowing is a rise. A
channel input (:data:`liqflow.study.claims.CHANNELS`) enters as
:func:`~liqflow.study.claims.channel_level`: a flow on the days it received a new value
(a flow repeated on two consecutive days counts once, as in the signals'
:func:`~liqflow.signals.fiscal.new_observations`), a level as known on each day from
its first to its latest release (MBS holdings unchanged for a week are a zero change,
not a missing week). The channel inputs never bound the default date: they are not in
the chain's required inputs.

The data hash (:meth:`StudyInputs.data_hash`) is of the values the inputs were computed
from, as stored and read point in time (each price's and channel's observations on its
sessions, the universe's closes and membership schedule, the breakout days), not of the
inputs themselves: computed values can differ in the last bit between processors
(NumPy's ``exp`` and ``log`` have AVX-512 routines besides the C library's), and a hash
of them would then name the same data differently on two machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from liqflow._cache import content_hash, frames_digest
from liqflow._errors import DataError
from liqflow.align import AsOf, input_freshness, join_panels, load_panel, trading_days
from liqflow.catalog import Catalog, Chain
from liqflow.signals.crypto import MIN_BASKET_COINS, AltUniverse
from liqflow.store import Store
from liqflow.study.channels import CHANNEL_COLUMNS, CHANNEL_INPUTS, channel_panel
from liqflow.study.claims import ALTS, Channel, ClaimTable, channel_level, claim_table

__all__ = [
    "ALTS_PENDING",
    "StudyInputs",
    "breakout_events",
    "inputs_before_alts",
    "load_study_inputs",
    "study_inputs",
    "with_alt_basket",
]

#: The volume series of an event series, when the catalogue has one (IWM for ^RUT).
VOLUME_OF = {"small_caps": "small_caps_volume"}


@dataclass(frozen=True)
class StudyInputs:
    """Everything the tests of a :class:`ClaimTable` read, as of one date.

    Attributes
    ----------
    as_of : Timestamp
        Last day of the panel the inputs come from.
    table : ClaimTable
    series : mapping of str to Series
        Price levels on their own sessions, keyed as in the claim table.
    events : Series of bool or None
        All-time-high breakout days of the event series, on its sessions.
    basket_coins : Series or None
        Coins in the alt basket's return each day (the basket's breadth).
    basket_coverage : Series or None
        Share of the point-in-time top-N market cap priced that day (NaN without a
        universe: today's list has no market caps to cover).
    channel_panel : DataFrame or None
        The panel's channel-signal columns (:func:`liqflow.study.channels.channel_panel`),
        for the channels now; None for a chain without channel claims.
    missing : mapping of str to str
        Why a key of the table has no series.
    freshness : AsOf or None
        How fresh the chain's required inputs are on ``as_of``.
    sources : mapping of str to Series or bytes
        The stored values each input of :attr:`series` was computed from, or for the alt
        basket their digest (:func:`liqflow._cache.frames_digest` of the universe's
        closes and schedule): what :meth:`data_hash` hashes, see the module notes; an
        input without one, given by a caller, is hashed itself.
    """

    as_of: pd.Timestamp
    table: ClaimTable
    series: Mapping[str, pd.Series]
    events: pd.Series | None
    basket_coins: pd.Series | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    freshness: AsOf | None = None
    basket_coverage: pd.Series | None = None
    channel_panel: pd.DataFrame | None = None
    sources: Mapping[str, object] = field(default_factory=dict)

    def data_hash(self) -> str:
        """A hash of every stored value and date the inputs were computed from, and of the
        claim table (the key of the evidence cache): the same on every machine for the
        same data (see the module notes)."""
        return content_hash(
            {k: self.sources.get(k, v) for k, v in self.series.items()},
            self.events if self.events is not None else "no events",
            repr(self.table),
            self.channel_panel if self.channel_panel is not None else "no channels",
        )


def _observed(panel: pd.DataFrame, column: str) -> pd.Series | None:
    """``column`` on its own sessions, as stored (None without any value)."""
    if column not in panel.columns or not panel[column].notna().any():
        return None
    return panel[column].loc[trading_days(panel, column)]


def _price(observed: pd.Series, column: str, catalog: Catalog) -> pd.Series | None:
    s = observed.astype(np.float64).dropna()
    if (
        column in catalog
        and catalog[column].group == "credit"
        and catalog[column].unit == "percent"
    ):
        s = pd.Series(np.exp(-s.to_numpy()), index=s.index)
    s = s[s > 0]
    return s.rename(column) if len(s) > 1 else None


def _channel_observed(panel: pd.DataFrame, channel: Channel) -> pd.Series | None:
    """The stored values ``channel``'s level is computed from (None without any): a flow
    once, on the day it became public; a level as known on each day to its last release
    (an unchanged week is a zero change, not a missing week)."""
    col = channel.series
    if col not in panel.columns or not panel[col].notna().any():
        return None
    days = trading_days(panel, col)
    return (
        panel[col].loc[days] if channel.transform == "flow" else panel[col].loc[days[0] : days[-1]]
    )


def _channel(observed: pd.Series, channel: Channel) -> pd.Series | None:
    level = channel_level(observed, channel)
    return level if len(level) > 1 else None


def _basket(
    panel: pd.DataFrame, catalog: Catalog, min_alts: int, universe: AltUniverse | None
) -> tuple[pd.Series | None, pd.DataFrame | None, object]:
    """THE alt basket (:func:`liqflow.signals.baskets.alt_basket`, as the signals and the
    backtest): on the point-in-time universe when there is one, else today's catalogue
    coins (survivorship-biased, and said so by the universe's absence)."""
    from liqflow.signals.baskets import alt_basket_on

    if universe is not None:
        prices = universe.close.drop(columns=["bitcoin"], errors="ignore")
        schedule = universe.schedule
    else:
        coins = [c for c in catalog.altcoins() if c in panel.columns and panel[c].notna().any()]
        prices, schedule = panel[coins], None
    # the stored values it reads, hashed once here: the inputs carry a few bytes, not the
    # universe, to wherever the evidence is assembled (a forked child of the report)
    source = frames_digest(
        prices, schedule if schedule is not None else "catalogue coins", min_alts
    )
    if prices.shape[1] == 0:
        return None, None, source
    eq = (
        universe.basket_frame(pd.DatetimeIndex(panel.index), min_alts)  # the signals' one
        if universe is not None
        else alt_basket_on(panel.index, prices, schedule, min_coins=min_alts)
    )
    level = eq["index"].where(eq["known"].astype(bool)).dropna()
    counts = eq[["count", "coverage_mcap"]]
    if len(level) < 2:
        return None, counts, source
    return level.rename(ALTS), counts, source


def breakout_events(panel: pd.DataFrame, column: str) -> pd.Series | None:
    """All-time-high breakout days of ``column`` (bool on its sessions), or None.

    The event is the first close above the prior all-time high after a base
    (:func:`liqflow.signals.breakouts`): the day it is known. Volume, when the catalogue
    pairs one with the series (:data:`VOLUME_OF`), is read on its own sessions.
    """
    from liqflow.signals import breakouts

    if column not in panel.columns or not panel[column].notna().any():
        return None
    close = panel[column].loc[trading_days(panel, column)]
    vol_col = VOLUME_OF.get(column)
    volume = None
    if vol_col is not None and vol_col in panel.columns and panel[vol_col].notna().any():
        volume = panel[vol_col].loc[trading_days(panel, vol_col)]
    daily = breakouts(close, volume).daily
    return (daily["event"] == 1).astype(bool).rename("breakout")


def study_inputs(
    panel: pd.DataFrame,
    catalog: Catalog,
    chain: str | Chain = "default",
    *,
    min_alts: int = MIN_BASKET_COINS,
    default: bool = False,
    universe: AltUniverse | None = None,
) -> StudyInputs:
    """The inputs of ``chain``'s claims from a point-in-time panel (and the point-in-time
    crypto universe, when the store holds one: :func:`liqflow.universe_store.alt_universe_from_store`).

    ``default`` says the panel's last day was chosen by the default-date rule (it is
    reported with the inputs' freshness). The same as :func:`with_alt_basket` of
    :func:`inputs_before_alts`: a caller that reads the universe meanwhile can start the
    tests that do not read the alt basket on the first (:func:`liqflow.study.staged.begin_study`).
    """
    early = inputs_before_alts(panel, catalog, chain, default=default)
    return with_alt_basket(early, panel, catalog, min_alts=min_alts, universe=universe)


#: The reason recorded for the alt basket until :func:`with_alt_basket` adds it.
ALTS_PENDING = "the alt basket is not built yet"


def inputs_before_alts(
    panel: pd.DataFrame, catalog: Catalog, chain: str | Chain = "default", *, default: bool = False
) -> StudyInputs:
    """Every input of :func:`study_inputs` but the alt basket (the only one that reads the
    crypto universe): ``missing`` gives it as :data:`ALTS_PENDING` when the table reads it.

    Raises
    ------
    DataError
        The panel has no rows.
    """
    table = claim_table(catalog, chain)
    series: dict[str, pd.Series] = {}
    sources: dict[str, object] = {}
    missing: dict[str, str] = {}
    channels = {c.key: c for c in table.channels}
    for key in table.series_keys():
        level = None
        if key in channels:
            observed = _channel_observed(panel, channels[key])
            if observed is not None:
                level = _channel(observed, channels[key])
            why = f"no {channels[key].series} data in the store"
        elif key == ALTS:
            observed, why = None, ALTS_PENDING
        else:
            observed = _observed(panel, key)
            if observed is not None:
                level = _price(observed, key, catalog)
            why = f"no {key} data in the store"
        if level is None:
            missing[key] = why
        else:
            series[key], sources[key] = level, observed
    events = breakout_events(panel, table.event_series)
    if events is None:
        missing["breakouts"] = f"no {table.event_series} data for breakout events"
    if not len(panel.index):
        raise DataError("the panel is empty: no data public on or before the as-of date")
    fresh = input_freshness(
        panel, catalog, catalog.chain(chain) if isinstance(chain, str) else chain, default=default
    )
    as_of = pd.Timestamp(panel.index[-1])
    chans = channel_panel(panel) if table.channels else None
    return StudyInputs(as_of, table, series, events, None, missing, fresh, None, chans, sources)


def with_alt_basket(
    early: StudyInputs,
    panel: pd.DataFrame,
    catalog: Catalog,
    *,
    min_alts: int = MIN_BASKET_COINS,
    universe: AltUniverse | None = None,
) -> StudyInputs:
    """``early`` (:func:`inputs_before_alts` of ``panel``) with THE alt basket added, in
    the table's order of inputs: the inputs of :func:`study_inputs`."""
    if ALTS not in early.table.series_keys():
        return early
    level, coins, source = _basket(panel, catalog, min_alts, universe)
    series, missing = dict(early.series), dict(early.missing)
    missing.pop(ALTS, None)
    if level is None:
        missing[ALTS] = f"no day with {min_alts}+ altcoins priced"
    else:
        series[ALTS] = level
    order = {k: i for i, k in enumerate(early.table.series_keys())}
    return replace(
        early,
        series=dict(sorted(series.items(), key=lambda kv: order[kv[0]])),
        missing={k: missing[k] for k in sorted(missing, key=lambda k: order.get(k, len(order)))},
        basket_coins=None if coins is None else coins["count"],
        basket_coverage=None if coins is None else coins["coverage_mcap"],
        sources={**early.sources, ALTS: source},
    )


def load_study_inputs(
    store: Store,
    catalog: Catalog,
    chain: str | Chain = "default",
    *,
    as_of: pd.Timestamp | None = None,
    min_alts: int = MIN_BASKET_COINS,
    default: bool = False,
    universe: AltUniverse | None = None,
) -> StudyInputs:
    """:func:`study_inputs` on the panel of the chain's series loaded from ``store``
    (``universe``: the crypto universe already loaded, else read from the store)."""
    ch = catalog.chain(chain) if isinstance(chain, str) else chain
    ids = {s for stage in ch.stages for s in stage}
    ids |= {v for k, v in VOLUME_OF.items() if k in ids and v in catalog}
    ids |= set(catalog.altcoins()) if any(catalog[s].group == "alt" for s in ids) else set()
    table = claim_table(catalog, ch)
    ids |= {c.series for c in table.channels}
    from liqflow.universe_store import alt_universe_from_store

    stored = {item.series_id for item in store.inventory(count_dates=False)}
    wanted = sorted(i for i in ids if i in stored)
    panel = load_panel(store, wanted, catalog=catalog, as_of=as_of, fields="primary")
    extra = sorted(i for i in CHANNEL_INPUTS if i in stored and i in catalog and table.channels)
    if extra and len(panel.index):  # the channel signals' inputs, with the fields they use
        more = load_panel(store, extra, catalog=catalog, as_of=panel.index[-1])
        cols = [c for c in CHANNEL_COLUMNS if c in more.columns and c not in panel.columns]
        panel = join_panels(panel, more[cols]) if cols else panel
    if universe is None:
        universe = alt_universe_from_store(store, catalog, as_of)
    return study_inputs(panel, catalog, ch, min_alts=min_alts, default=default, universe=universe)
