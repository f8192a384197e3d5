"""The crypto universe in the store: writing imported files, reading it back point in time.

Snapshots go to the store's ``universe`` table, the coin aliases to its ``coins`` table,
and daily coin prices to observations under ``coin_<id>`` (one row per source: which
source priced each coin on each day stays recorded). Coins of the catalogue (``xrp``,
``ada``...) keep their own series and are read from there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._universe_write import (
    UniversePrep,
    UniverseWrite,
    _rows_by_symbol,
    prepare_universe,
    write_universe_files,
    write_universe_prices,
)
from liqflow.signals.baskets import MIN_COVERAGE
from liqflow.signals.crypto import AltUniverse
from liqflow.signals.survivorship import SurvivorshipBias, survivorship_bias
from liqflow.store import Store
from liqflow.universe import (
    Members,
    membership,
    membership_schedule,
    resolve_among,
    ticker_base,
)

__all__ = [
    "PRICE_SOURCES",
    "CoinPriceTable",
    "UniverseData",
    "UniversePrep",
    "UniverseView",
    "UniverseWrite",
    "alt_universe_from_store",
    "catalog_coin_ids",
    "default_top_n",
    "load_coin_prices",
    "load_snapshots",
    "load_universe",
    "prepare_universe",
    "schedule_from_store",
    "survivorship_bias_from_store",
    "universe_and_bias",
    "universe_view",
    "write_universe_files",
    "write_universe_prices",
]

#: Daily price sources in order of preference, and the shift (days) that puts each on the
#: close-of-day convention of the panel (a CoinGecko 00:00 UTC snapshot of day D is the
#: close of D-1; its 12:00 UTC top-100 capture is a price of D).
PRICE_SOURCES: dict[str, int] = {"yahoo": 0, "coingecko": -1, "coingecko_top100": 0}


def load_snapshots(store: Store, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The stored snapshot table up to ``as_of`` (all of it by default)."""
    return store.read_universe(end=as_of)


@dataclass(frozen=True)
class CoinPriceTable:
    """Daily closes of every coin (columns = coin ids) and the source of each value."""

    close: pd.DataFrame
    source: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.close.copy()


def load_coin_prices(
    store: Store,
    *,
    end: pd.Timestamp | None = None,
    catalog_coins: dict[str, str] | None = None,
) -> CoinPriceTable:
    """Daily closes per coin id from every price source, spliced by preference.

    Parameters
    ----------
    store : Store
    end : Timestamp, optional
        Last date read (point in time: nothing after it).
    catalog_coins : dict, optional
        Catalogue series id -> coin id (e.g. ``{"xrp": "ripple"}``) whose stored series
        are read as well (their sources join the same preference order).

    Returns
    -------
    CoinPriceTable
        On each day the first source of :data:`PRICE_SOURCES` with a price gives the
        value (shifted onto the close-of-day convention); ``source`` says which.
    """
    coin_of = {k: str(sym or k[0][len("coin_") :]) for k, sym in store.coin_price_symbols()}
    held = store.sources_of(list(catalog_coins or {}))
    for sid, cid in (catalog_coins or {}).items():
        for src in held.get(sid, ()):
            coin_of[(sid, src)] = cid
    days0 = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]")
    empty = pd.DataFrame(index=days0, dtype=np.float64)
    if not coin_of:
        return CoinPriceTable(empty, empty.astype(object))
    # a source stamped a day late (CoinGecko 00:00 UTC) is read one day further, then shifted
    ahead = max(-d for d in PRICE_SOURCES.values())
    order = list(PRICE_SOURCES)
    keys = sorted(coin_of)
    coins = list(dict.fromkeys(coin_of[k] for k in keys))
    target = {c: i for i, c in enumerate(coins)}
    parts = pd.DataFrame(
        {
            "series_id": [k[0] for k in keys],
            "source": [k[1] for k in keys],
            "target": [target[coin_of[k]] for k in keys],
            # the preferred source first; ties (two series of one coin from one source,
            # or sources outside PRICE_SOURCES) in (series, source) order
            "priority": [
                (order.index(k[1]) if k[1] in order else len(order)) * len(keys) + i
                for i, k in enumerate(keys)
            ],
            "shift": [PRICE_SOURCES.get(k[1], 0) for k in keys],
        }
    )
    last = None if end is None else pd.Timestamp(end) + pd.Timedelta(days=ahead)
    rows, has = store.read_spliced(parts, "close", end=last)
    # columns: every coin with a stored close, in the order of its first (series, source)
    listed = list(dict.fromkeys(coin_of[k] for k, ok in zip(keys, has, strict=True) if ok))
    if not listed:
        return CoinPriceTable(empty, empty.astype(object))
    days, day_pos = np.unique(rows["date"], return_inverse=True)
    col_of = np.full(len(coins), -1, dtype=np.int64)
    col_of[[target[c] for c in listed]] = np.arange(len(listed))
    cols = col_of[rows["target"]]
    close = np.full((len(days), len(listed)), np.nan)
    close[day_pos, cols] = rows["value"]
    names = np.full((len(days), len(listed)), np.nan, dtype=object)
    names[day_pos, cols] = parts["source"].to_numpy(dtype=object)[rows["part"]]
    # a gapless range is a daily one, as the union of the coins' dates inferred it
    gapless = len(days) > 2 and bool((np.diff(days) == np.timedelta64(1, "D")).all())
    index = (
        pd.DatetimeIndex(days, name="date", freq="D")
        if gapless
        else pd.DatetimeIndex(days, name="date")
    )
    columns = pd.Index(listed)
    table = pd.DataFrame(close, index=index, columns=columns)
    which = pd.DataFrame(names, index=index, columns=columns, dtype=object)
    if end is not None:  # the day read past ``end`` for the shifted sources
        keep = table.index <= pd.Timestamp(end)
        table, which = table.loc[keep], which.loc[keep]
    return CoinPriceTable(table, which)


def schedule_from_store(
    store: Store, top_n: int | None = None, *, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """:func:`liqflow.universe.membership_schedule` of the stored snapshots up to ``end``."""
    return membership_schedule(store.read_universe(end=end), top_n, end=end)


def catalog_coin_ids(store: Store, catalog: object) -> dict[str, str]:
    """Catalogue crypto series id -> coin id (``xrp`` -> ``ripple``), from the coin table."""
    from liqflow.catalog import Catalog

    assert isinstance(catalog, Catalog)
    aliases = store.coin_table()
    rows_of = _rows_by_symbol(aliases)
    out = {}
    for sid, spec in catalog.items():
        if spec.group not in ("alt", "crypto") or not spec.symbol.upper().endswith("-USD"):
            continue
        sym = ticker_base(spec.symbol)
        cid = resolve_among(aliases.iloc[rows_of.get(sym, [])], sym) if len(aliases) else None
        if cid:
            out[sid] = cid
    return out


@dataclass(frozen=True)
class UniverseData:
    """What the alt figures need: coin closes, their sources and the membership schedule."""

    prices: CoinPriceTable
    schedule: pd.DataFrame
    top_n: int | None
    todays_coins: tuple[str, ...]

    @property
    def close(self) -> pd.DataFrame:
        return self.prices.close


def load_universe(
    store: Store,
    catalog: object | None = None,
    *,
    as_of: pd.Timestamp | None = None,
    top_n: int | None = None,
    snapshots: pd.DataFrame | None = None,
) -> UniverseData | None:
    """The point-in-time universe and coin prices up to ``as_of``; None when no snapshot
    is stored (import ``crypto/universe`` first). ``snapshots``: the stored snapshots up
    to ``as_of`` when the caller has read them already."""
    from liqflow.catalog import default_catalog

    cat = catalog or default_catalog()
    snaps = store.read_universe(end=as_of) if snapshots is None else snapshots
    if snaps.empty:
        return None
    mapping = catalog_coin_ids(store, cat)
    prices = load_coin_prices(store, end=as_of, catalog_coins=mapping)
    schedule = membership_schedule(snaps, top_n, end=as_of)
    today = tuple(
        dict.fromkeys(mapping[s] for s in cat.altcoins() if s in mapping)  # type: ignore[attr-defined]
    )
    return UniverseData(prices, schedule, top_n, today)


def default_top_n(snapshots: pd.DataFrame) -> int | None:
    """How many ranks the snapshots support over their whole span: the usual depth of the
    source with the most snapshots (the CoinMarketCap weekly top 18 on the shared data)."""
    if snapshots.empty:
        return None
    per = snapshots.groupby(["source", "date"]).size().rename("depth").reset_index()
    busiest = per["source"].value_counts().idxmax()
    return int(per.loc[per["source"] == busiest, "depth"].median())


def _load(
    store: Store, catalog: object | None, as_of: pd.Timestamp | None, top_n: int | None
) -> tuple[UniverseData | None, int | None]:
    snaps = store.read_universe(end=as_of)
    n = top_n if top_n is not None else default_top_n(snaps)
    return load_universe(store, catalog, as_of=as_of, top_n=n, snapshots=snaps), n


def _alt_universe(data: UniverseData, n: int | None) -> AltUniverse:
    return AltUniverse(data.close, data.schedule, f"point-in-time top {n}")


def _bias(data: UniverseData, weighting: str) -> SurvivorshipBias | None:
    if "bitcoin" not in data.close.columns:
        return None
    return survivorship_bias(
        data.close.drop(columns=["bitcoin"]),
        data.close["bitcoin"],
        data.schedule,
        data.todays_coins,
        weighting=weighting,
    )


def alt_universe_from_store(
    store: Store,
    catalog: object | None = None,
    as_of: pd.Timestamp | None = None,
    top_n: int | None = None,
) -> AltUniverse | None:
    """The point-in-time universe for the signals, the claims and the backtest, or None
    when the store holds no snapshot. ``top_n`` defaults to :func:`default_top_n`."""
    data, n = _load(store, catalog, as_of, top_n)
    return None if data is None else _alt_universe(data, n)


def universe_and_bias(
    store: Store,
    catalog: object | None = None,
    as_of: pd.Timestamp | None = None,
    top_n: int | None = None,
) -> tuple[AltUniverse | None, SurvivorshipBias | None]:
    """:func:`alt_universe_from_store` and :func:`survivorship_bias_from_store` (equal
    weight) from one read of the stored universe, for callers that need both."""
    data, n = _load(store, catalog, as_of, top_n)
    if data is None:
        return None, None
    return _alt_universe(data, n), _bias(data, "equal")


@dataclass(frozen=True)
class UniverseView:
    """The universe as of one date with, for each member, whether it has a price that day.

    Attributes
    ----------
    members : Members
        The snapshot in force and its top-N coins.
    frame : DataFrame
        ``rank, coin_id, symbol, name, market_cap, excluded, priced, price_source, close``.
    coverage : float
        Share of the altcoin members (not BTC, not excluded) with a price on ``as_of``.
    coverage_mcap : float
        The same share weighted by snapshot market cap (NaN when the snapshot has none).
    top_n_default : bool
        True when ``top_n`` was not asked for (as many ranks as the snapshot has).
    """

    members: Members
    frame: pd.DataFrame
    coverage: float
    coverage_mcap: float
    top_n_default: bool

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def to_json(self) -> dict[str, object]:
        m = self.members
        return {
            "as_of": f"{m.as_of:%Y-%m-%d}",
            "snapshot_date": None if m.snapshot_date is None else f"{m.snapshot_date:%Y-%m-%d}",
            "source": m.source,
            "top_n": m.top_n,
            "top_n_default": self.top_n_default,
            "depth": m.depth,
            "publication": "a snapshot is public at the end of its date",
            "coverage": _num(self.coverage),
            "coverage_mcap": _num(self.coverage_mcap),
            "min_coverage": MIN_COVERAGE,
            "members": [
                {k: _num(v) if isinstance(v, float) else v for k, v in row.items()}
                for row in self.frame.to_dict(orient="records")
            ],
        }

    def summary(self) -> str:
        known = "known" if self.coverage >= MIN_COVERAGE else "unknown (below threshold)"
        cap = "n/a" if not np.isfinite(self.coverage_mcap) else f"{self.coverage_mcap:.0%}"
        how = " (default: every rank of the snapshot)" if self.top_n_default else ""
        return (
            f"{self.members.summary()}{how}; altcoins priced on {self.members.as_of:%Y-%m-%d}: "
            f"{self.coverage:.0%} by count, {cap} by market cap; alt figures need "
            f"{MIN_COVERAGE:.0%} coverage: {known}"
        )


def _num(v: object) -> object:
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    return v


def universe_view(
    store: Store,
    catalog: object | None = None,
    *,
    as_of: pd.Timestamp | None = None,
    top_n: int | None = None,
) -> UniverseView:
    """Members of the universe as of ``as_of`` (default: the last stored snapshot date),
    with their price on that day and the source of it."""
    from liqflow._errors import DataError
    from liqflow.catalog import default_catalog

    snaps = store.read_universe(end=as_of)
    if snaps.empty:
        when = "" if as_of is None else f" on or before {as_of:%Y-%m-%d}"
        raise DataError(
            f"no crypto-universe snapshot in the store{when}; run `liqflow import` on the "
            "crypto/universe folder first"
        )
    day = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(snaps["date"].max())
    members = membership(snaps, day, top_n)
    mapping = catalog_coin_ids(store, catalog or default_catalog())
    prices = load_coin_prices(store, end=day, catalog_coins=mapping)
    f = members.frame.copy()
    aliases = store.coin_table()
    named = aliases[(aliases["name"] != "") & (aliases["first"] <= day)].sort_values("last")
    latest_name = named.groupby("coin_id")["name"].last()
    blank = f["name"].fillna("") == ""
    f.loc[blank, "name"] = f.loc[blank, "coin_id"].map(latest_name).fillna("").to_numpy()
    row_close = prices.close.loc[day] if day in prices.close.index else pd.Series(dtype=float)
    row_src = prices.source.loc[day] if day in prices.source.index else pd.Series(dtype=object)
    close = row_close.reindex(f["coin_id"]).to_numpy(dtype=np.float64)
    f["priced"] = np.isfinite(close)
    f["price_source"] = [
        str(s) if ok and isinstance(s, str) else ""
        for s, ok in zip(row_src.reindex(f["coin_id"]).to_numpy(), f["priced"], strict=True)
    ]
    f["close"] = close
    alt = (f["excluded"] == "") & (f["coin_id"] != "bitcoin")
    n = int(alt.sum())
    cov = float(f.loc[alt, "priced"].mean()) if n else float("nan")
    caps = f.loc[alt, "market_cap"].fillna(0.0)
    cap_cov = (
        float(caps[f.loc[alt, "priced"]].sum() / caps.sum()) if caps.sum() > 0 else float("nan")
    )
    f = f[["rank", "coin_id", "symbol", "name", "market_cap", "excluded", "priced",
           "price_source", "close"]]  # fmt: skip
    return UniverseView(members, f.reset_index(drop=True), cov, cap_cov, top_n is None)


def survivorship_bias_from_store(
    store: Store,
    catalog: object | None = None,
    *,
    as_of: pd.Timestamp | None = None,
    top_n: int | None = None,
    weighting: str = "equal",
) -> SurvivorshipBias | None:
    """:func:`liqflow.signals.survivorship.survivorship_bias` on the stored universe: the alt
    basket and season index on the point-in-time top ``top_n`` (default
    :func:`default_top_n`) next to the catalogue's current coins; None without snapshots."""
    data, _ = _load(store, catalog, as_of, top_n)
    return None if data is None else _bias(data, weighting)
