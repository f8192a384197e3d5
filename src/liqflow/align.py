"""Point-in-time alignment: stored series -> the daily panel a decision could have seen.

The panel is indexed by calendar day (crypto trades every day; equities and FRED series
are carried forward over the days they do not publish). The value in row *t* is what
was public at the end of day *t*:

1. each observation dated *d* becomes available on ``d + release_lag`` (the catalogue's
   lag; see :mod:`liqflow.catalog` for the sources of each lag), or, for FRED series
   fetched with ALFRED vintages, on each vintage's ``realtime_start`` (true
   point-in-time, revisions included). Vintages rarely cover the whole history (an
   incremental fetch stores them for its overlap window only, an import stores none):
   observation dates before the first vintage come from the stored observations, lagged
   (see :func:`available_with_vintages`), so a fetch with an API key never shortens a
   series;
2. it is as-of joined onto the calendar: the latest available observation, never a later
   one;
3. a value older than ``MAX_STALENESS`` for its frequency is dropped (NaN: unknown), so
   a series that stopped publishing is not carried forward for ever.

Because every step only looks backwards, the panel built from data truncated at *t*
equals the full-history panel up to *t* (tested as a property).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow._published import Column, asof_values, extended, published, published_by_pandas
from liqflow.catalog import Catalog, Chain, SeriesSpec, default_catalog
from liqflow.sessions import (
    EXCHANGE,
    ROWS_ATTR,
    SourceRows,
    exchange_sessions,
    join_panels,
    trading_days,
    with_exchange_days,
)
from liqflow.store import Store, StoredSeries

__all__ = [
    "EXCHANGE",
    "FOREIGN_FIELDS",
    "FRESH_WITHIN",
    "MAX_STALENESS",
    "ROWS_ATTR",
    "AsOf",
    "InputFreshness",
    "SourceRows",
    "asof_join",
    "available",
    "available_from_vintages",
    "available_with_vintages",
    "check_as_of",
    "default_as_of",
    "exchange_sessions",
    "input_freshness",
    "join_panels",
    "load_panel",
    "required_inputs",
    "resolve_as_of",
    "trading_days",
    "with_exchange_days",
]

#: Largest age (calendar days) of a carried-forward value, by catalogue frequency.
MAX_STALENESS = {"D": 10, "W": 21, "M": 100}


def available(obs: pd.Series, spec: SeriesSpec) -> pd.Series:
    """Re-index observations by the day they became public (``date + release_lag``).

    When several observations become public on the same day (a Friday and a Saturday
    value with a one-business-day lag), the latest observation wins. A volume column
    (named ``volume`` or ``*.volume``) keeps only positive values: zero volume marks a
    missing or intraday bar, not a real session. (:func:`liqflow._published.published`
    on the series' arrays.)
    """
    index = pd.DatetimeIndex(obs.index)
    volume = obs.name == "volume" or str(obs.name).endswith(".volume")
    if index.tz is not None:  # pandas adds the offset to aware times
        known = obs.dropna()
        known = known[known > 0] if volume else known
        values = known.to_numpy(dtype=np.float64)
        by_pandas = published_by_pandas(pd.DatetimeIndex(known.index), values, spec.lag_offset)
        by_pandas.name = obs.name  # a new series: named in place
        return by_pandas
    when, values = published(
        index.to_numpy(), obs.to_numpy(dtype=np.float64), spec.lag_offset, volume
    )
    if when.size == 0:
        return obs.iloc[:0]
    return pd.Series(values, index=pd.DatetimeIndex(when, name="date"), name=obs.name)


def available_from_vintages(vintages: pd.DataFrame) -> pd.Series:
    """Headline value as first published and revised, indexed by publication day.

    ``vintages`` has columns ``date, realtime_start, value`` (ALFRED). On each
    publication day the headline is the value of the latest observation date published
    so far, in its latest revision; revisions of older dates do not change the headline.
    """
    if vintages.empty:
        return pd.Series(dtype=np.float64, index=pd.DatetimeIndex([], name="date"))
    v = vintages.dropna(subset=["value"]).sort_values(["realtime_start", "date"], kind="stable")
    dates = v["date"].to_numpy()
    keep = dates >= np.maximum.accumulate(dates)
    v = v[keep]
    out = pd.Series(
        v["value"].to_numpy(dtype=np.float64),
        index=pd.DatetimeIndex(v["realtime_start"]).rename("date"),
    )
    return out[~out.index.duplicated(keep="last")]


def available_with_vintages(obs: pd.Series, vintages: pd.DataFrame, spec: SeriesSpec) -> pd.Series:
    """Vintages where they exist, the stored observations (lagged) before them.

    Parameters
    ----------
    obs : Series
        Stored observations (latest values) indexed by observation date.
    vintages : DataFrame
        ALFRED rows ``date, realtime_start, value``.
    spec : SeriesSpec
        Gives the release lag of the observations that have no vintage.

    Returns
    -------
    Series
        Headline value indexed by publication day.

    Notes
    -----
    First-release semantics: an observation dated on or after the first vintage's
    observation date enters the panel on its first ``realtime_start`` with its first
    published value, and each revision on the day it was published
    (:func:`available_from_vintages`). An observation dated before it has no recorded
    release history; it enters on ``date + release_lag`` with its stored (latest,
    possibly revised) value, as for a series fetched without a key. As in
    :func:`available_from_vintages`, a publication never moves the headline back to an
    older observation date.
    """
    v = vintages.dropna(subset=["value"])
    if v.empty:
        return available(obs, spec)
    first = pd.Timestamp(v["date"].min())
    older = obs.dropna()
    older = older[older.index < first]
    parts = [
        pd.DataFrame(
            {
                "date": pd.DatetimeIndex(older.index),
                "realtime_start": pd.DatetimeIndex(older.index) + spec.lag_offset,
                "value": older.to_numpy(dtype=np.float64),
            }
        ),
        v[["date", "realtime_start", "value"]],
    ]
    return available_from_vintages(pd.concat([p for p in parts if len(p)], ignore_index=True))


def asof_join(
    avail: pd.Series, calendar: pd.DatetimeIndex, max_age_days: int | None = None
) -> np.ndarray:
    """Values of ``avail`` as of each calendar day; NaN before the first or when too stale.

    Equivalent to ``avail.reindex(calendar, method="ffill")`` with values older than
    ``max_age_days`` set to NaN (:func:`liqflow._published.asof_values`).
    """
    column = (avail.index.to_numpy(dtype="datetime64[ns]"), avail.to_numpy(dtype=np.float64))
    return asof_values(column, calendar, max_age_days)


def _column(sid: str, spec: SeriesSpec, field: str) -> str:
    return sid if field == spec.primary_field else f"{sid}.{field}"


#: Fields a series' sources store that are not its own and never enter the panel: Yahoo's
#: ^RUT volume is the S&P 500's and Interactive Brokers' RUT bars carry volume 0 (the
#: Russell 2000's volume comes from IWM, ``small_caps_volume``).
FOREIGN_FIELDS = {"^RUT": ("volume",)}


def _is_exchange_listed(spec: SeriesSpec) -> bool:
    """US-listed equities, indices and funds (Yahoo symbols that are neither coins nor
    futures); their sessions follow the NYSE calendar."""
    if spec.provider != "yahoo" or spec.group in ("crypto", "alt"):
        return False
    return not spec.symbol.endswith(("-USD", "=F"))


def load_panel(
    store: Store,
    ids: Sequence[str] | None = None,
    *,
    catalog: Catalog | None = None,
    as_of: pd.Timestamp | str | None = None,
    start: pd.Timestamp | str | None = None,
    fields: Literal["primary", "all"] = "all",
    sources: dict[str, str] | None = None,
    inventory: Sequence[StoredSeries] | None = None,
) -> pd.DataFrame:
    """The daily point-in-time panel.

    Parameters
    ----------
    store : Store
        Where the observations are.
    ids : sequence of str, optional
        Catalogue ids to include, in any case, or FRED/Yahoo symbols (``WALCL``); the
        columns are the catalogue ids (default: every catalogue series with stored data).
    catalog : Catalog, optional
        Default: the built-in catalogue.
    as_of : date, optional
        Last decision day: the panel ends there and holds only what was public then.
    start : date, optional
        First calendar day (default: the first day any selected series is available).
    fields : {"all", "primary"}
        ``"all"`` adds ``<id>.<field>`` columns for non-primary fields (volume, market
        cap, adjusted close...), except a source's :data:`FOREIGN_FIELDS`.
    sources : dict, optional
        Override the catalogue's preferred source per id (``{"btc": "coingecko"}``).
        The primary field comes from that source; with ``fields="all"``, a field it
        lacks is taken from the next stored source that has it (BTC prices from Yahoo,
        its market cap from CoinGecko).
    inventory : sequence of StoredSeries, optional
        ``store.inventory()`` when the caller has it already (it is not read again).

    Returns
    -------
    DataFrame
        Indexed by calendar day (``date``); column ``<id>`` is the primary field in the
        catalogue's unit (``scale`` applied: RRP in USD millions). ``attrs[ROWS_ATTR]``
        holds each column's source rows (:class:`~liqflow.sessions.SourceRows`), from
        which :func:`~liqflow.sessions.trading_days` takes the sessions.
    """
    cat = catalog or default_catalog()
    if fields not in ("all", "primary"):
        raise DataError(f"fields must be 'all' or 'primary', got {fields!r}")
    stored = inventory if inventory is not None else store.inventory(count_dates=False)
    chosen, extend = _source_plan(stored, cat, ids, fields, sources)
    cutoff = pd.Timestamp(as_of).normalize() if as_of is not None else None
    pieces = _available_pieces(store, chosen, extend, fields, cutoff)
    nonempty = [when for when, _ in pieces.values() if when.size]
    if not nonempty:
        return pd.DataFrame(
            index=pd.DatetimeIndex([], name="date"), columns=list(pieces), dtype=np.float64
        )
    first = pd.Timestamp(start) if start is not None else pd.Timestamp(min(w[0] for w in nonempty))
    last = cutoff if cutoff is not None else pd.Timestamp(max(w[-1] for w in nonempty))
    calendar = pd.date_range(first, last, freq="D", name="date")
    data = {}
    for col, avail in pieces.items():
        sid = col.split(".")[0]
        data[col] = asof_values(avail, calendar, MAX_STALENESS[chosen[sid][0].frequency])
    panel = pd.DataFrame(data, index=calendar)
    exchange = frozenset(c for c in pieces if _is_exchange_listed(chosen[c.split(".")[0]][0]))
    since = first.to_datetime64()
    days = {c: pd.DatetimeIndex(w[w >= since], name="date") for c, (w, _) in pieces.items()}
    panel.attrs[ROWS_ATTR] = SourceRows(days, exchange)
    return panel


_Plan = dict[str, tuple[SeriesSpec, list[str]]]


def _source_plan(
    inventory: Sequence[StoredSeries],
    cat: Catalog,
    ids: Sequence[str] | None,
    fields: str,
    sources: dict[str, str] | None,
) -> tuple[_Plan, dict[str, list[str]]]:
    """Per series: its spec and the sources to read, the chosen (preferred) one first; and
    the sources that extend its primary field after the chosen one's last date."""
    stored = {(i.series_id, i.source) for i in inventory}
    wanted = (
        [cat.resolve(sid) for sid in ids]  # WALCL or FED_ASSETS: the column fed_assets
        if ids is not None
        else [sid for sid in cat if any(k[0] == sid for k in stored)]
    )
    chosen: _Plan = {}
    extend: dict[str, list[str]] = {}
    for sid in wanted:
        spec = cat[sid]
        prefs = (sources[sid],) if sources and sid in sources else spec.sources
        held = [s for (i, s) in sorted(stored) if i == sid]
        order = [s for s in prefs if s in held] + [s for s in held if s not in prefs]
        if order:
            chosen[sid] = (spec, order if fields == "all" else order[:1])
            extend[sid] = [s for s in spec.extend if s in held and s != order[0]]
    return chosen, extend


def _available_pieces(
    store: Store,
    chosen: _Plan,
    extend: dict[str, list[str]],
    fields: str,
    cutoff: pd.Timestamp | None,
) -> dict[str, Column]:
    """Every panel column as its values by publication day (up to ``cutoff``): dates
    (``datetime64[ns]``, sorted, unique) and values."""
    reads = {(sid, src) for sid, (_, order) in chosen.items() for src in order}
    reads |= {(sid, src) for sid, extra in extend.items() for src in extra}
    stored = store.read_columns(sorted(reads))
    with_vintages = store.vintage_keys() if any(src == "fred" for _, src in reads) else frozenset()
    pieces: dict[str, Column] = {}
    for sid, (spec, order) in chosen.items():
        main = order[0]
        foreign = FOREIGN_FIELDS.get(spec.symbol, ())
        for src in order:
            columns = stored.get((sid, src))
            if columns is None:
                continue
            held = src == "fred" and (sid, src) in with_vintages
            vint = store.read_vintages(sid, src) if held else pd.DataFrame()
            # the primary field comes from the chosen source only; other fields (volume,
            # market cap, funding rates...) from the first source in order that has them
            names = [spec.primary_field] if src == main else []
            if fields == "all":
                names += [f for f in columns if f != spec.primary_field and f not in foreign]
            for field in names:
                col = _column(sid, spec, field)
                if field not in columns or col in pieces:
                    continue
                later = (  # the chosen source's primary field, extended by later sources
                    [stored.get((sid, e), {}).get(field) for e in extend[sid]]
                    if src == main and field == spec.primary_field
                    else []
                )
                pieces[col] = _piece(columns[field], spec, field, vint, cutoff, later)
    return pieces


def _piece(
    column: Column,
    spec: SeriesSpec,
    field: str,
    vintages: pd.DataFrame,
    cutoff: pd.Timestamp | None,
    extension: Sequence[Column | None],
) -> Column:
    """One panel column by publication day: ``column`` (extended by the ``extension``
    columns after its last date), re-dated
    by its vintages (FRED's ``value`` with ALFRED rows) or release lag, cut at ``cutoff``,
    scaled to the catalogue's unit (every field of the catalogue's but volume)."""
    if field == "value" and not vintages.empty:
        obs = pd.Series(column[1], index=pd.DatetimeIndex(column[0], name="date"), name=field)
        avail = available_with_vintages(obs, vintages, spec)
        when, values = avail.index.to_numpy(dtype="datetime64[ns]"), avail.to_numpy(np.float64)
    else:
        if extension:
            column = extended(column, extension)
        when, values = published(column[0], column[1], spec.lag_offset, field == "volume")
        when = when.astype("datetime64[ns]", copy=False)
    if cutoff is not None:
        keep = when <= cutoff.to_datetime64()
        when, values = when[keep], values[keep]
    if field != "volume" and field in spec.fields:
        values = values * spec.scale
    return when, values


#: A series is *fresh* on day t while its latest public value is at most this many
#: calendar days old (a long weekend for daily series; one missed release for weekly and
#: monthly ones). Older, it is stale: the stages that need it are unknown.
FRESH_WITHIN = {"D": 5, "W": 10, "M": 45}
#: Groups of a chain that never bound the default date: coins come and go (the alt basket
#: says how many it holds), and breadth segments are optional inputs.
OPTIONAL_GROUPS = ("alt", "segment")


@dataclass(frozen=True)
class InputFreshness:
    """How fresh one required input is on a date.

    ``public_from`` is the day its latest observation became public (observation date
    plus release lag); ``age_days`` is counted from it to the date.
    """

    series_id: str
    last_observation: pd.Timestamp
    public_from: pd.Timestamp
    age_days: int
    fresh: bool


@dataclass(frozen=True)
class AsOf:
    """The date every command uses, and what is fresh on it.

    ``default`` is True when the date was chosen by the rule of :func:`resolve_as_of`
    (not given). ``missing`` lists required series with no stored data.
    """

    date: pd.Timestamp
    default: bool
    inputs: tuple[InputFreshness, ...]
    missing: tuple[str, ...]

    @property
    def stale(self) -> tuple[InputFreshness, ...]:
        """The required inputs that are stale on :attr:`date`."""
        return tuple(i for i in self.inputs if not i.fresh)

    def describe(self) -> str:
        """One line: the date, why it was chosen, and the stale or missing inputs."""
        why = "the last day the chain's required inputs are fresh" if self.default else "as given"
        out = f"as of {self.date:%Y-%m-%d} ({why})"
        if self.stale:
            out += "; stale: " + ", ".join(
                f"{i.series_id} (last {i.last_observation:%Y-%m-%d}, {i.age_days} days old)"
                for i in self.stale
            )
        if self.missing:
            out += "; no data: " + ", ".join(self.missing)
        return out


def required_inputs(catalog: Catalog, chain: str | Chain = "default") -> tuple[str, ...]:
    """The series of ``chain`` that bound the default date (all but the optional groups)."""
    ch = catalog.chain(chain) if isinstance(chain, str) else chain
    ids = dict.fromkeys(s for stage in ch.stages for s in stage)
    return tuple(s for s in ids if catalog[s].group not in OPTIONAL_GROUPS)


def default_as_of(
    store: Store,
    catalog: Catalog | None = None,
    chain: str = "default",
    *,
    inventory: Sequence[StoredSeries] | None = None,
) -> pd.Timestamp:
    """The default as-of date of every command.

    The last day on which every stored required input of ``chain``
    (:func:`required_inputs`) is fresh (:data:`FRESH_WITHIN` after its latest value
    became public), never later than the latest public value of any of them nor than
    the last stored observation; the last stored day when none of them is stored.
    ``inventory``: ``store.inventory()`` when the caller has it already.

    Raises
    ------
    DataError
        The store is empty.
    """
    cat = catalog or default_catalog()
    if inventory is None:
        inventory = store.inventory(count_dates=False)
    if not inventory:
        raise DataError("the store holds no data; run `liqflow import DIR` or `liqflow fetch`")
    last: dict[str, pd.Timestamp] = {}
    for item in inventory:
        if item.series_id in cat and item.source in cat[item.series_id].sources:
            last[item.series_id] = max(last.get(item.series_id, item.last), item.last)
    present = [s for s in required_inputs(cat, chain) if s in last]
    if not present:
        return pd.Timestamp(max(item.last for item in inventory)).normalize()
    ends = [pd.Timestamp(last[s] + cat[s].lag_offset) for s in present]
    limits = [
        e + pd.Timedelta(days=FRESH_WITHIN[cat[s].frequency])
        for s, e in zip(present, ends, strict=True)
    ]
    last_stored = max(item.last for item in inventory)  # never after the data (see check_as_of)
    return pd.Timestamp(min(min(limits), max(ends), last_stored)).normalize()


def check_as_of(
    store: Store, as_of: pd.Timestamp, *, inventory: Sequence[StoredSeries] | None = None
) -> pd.Timestamp:
    """``as_of`` normalised, refused when it is after the last stored observation."""
    if inventory is None:
        inventory = store.inventory(count_dates=False)
    if not inventory:
        raise DataError("the store holds no data; run `liqflow import DIR` or `liqflow fetch`")
    last_stored = pd.Timestamp(max(item.last for item in inventory))
    date = pd.Timestamp(as_of).normalize()
    if date > last_stored:
        raise DataError(
            f"--as-of {date:%Y-%m-%d} is after the last stored data ({last_stored:%Y-%m-%d}); "
            f"give a date on or before {last_stored:%Y-%m-%d}, or fetch newer data"
        )
    return date


def resolve_as_of(
    store: Store,
    catalog: Catalog | None = None,
    chain: str = "default",
    as_of: pd.Timestamp | str | None = None,
    *,
    inventory: Sequence[StoredSeries] | None = None,
) -> tuple[pd.Timestamp, bool]:
    """``(date, is_default)``: the given date checked, or :func:`default_as_of`
    (``inventory``: ``store.inventory()`` when the caller has it already)."""
    if as_of is None:
        return default_as_of(store, catalog, chain, inventory=inventory), True
    return check_as_of(store, pd.Timestamp(as_of), inventory=inventory), False


def input_freshness(
    panel: pd.DataFrame,
    catalog: Catalog | None = None,
    chain: str | Chain = "default",
    *,
    default: bool = False,
    ids: Sequence[str] | None = None,
) -> AsOf:
    """How fresh each required input of ``chain`` (or only those in ``ids``) is on the
    panel's last day.

    The latest public value of a series is its last session (:func:`trading_days`): the
    day its latest observation became public.
    """
    cat = catalog or default_catalog()
    date = pd.Timestamp(panel.index[-1])
    inputs, missing = [], []
    wanted = required_inputs(cat, chain)
    if ids is not None:
        wanted = tuple(s for s in wanted if s in set(ids))
    for sid in wanted:
        days = trading_days(panel, sid) if sid in panel.columns else pd.DatetimeIndex([])
        if len(days) == 0:
            missing.append(sid)
            continue
        public = pd.Timestamp(days[-1])
        age = int((date - public).days)
        last_obs = pd.Timestamp(public - cat[sid].lag_offset)
        inputs.append(
            InputFreshness(sid, last_obs, public, age, age <= FRESH_WITHIN[cat[sid].frequency])
        )
    return AsOf(date, default, tuple(inputs), tuple(missing))
