"""The point-in-time crypto universe: coin identity, exclusions and top-N membership.

Pure functions over a table of ranked snapshots, one row per (source, date, rank) with the
columns of :data:`SNAPSHOT_COLUMNS`. Nothing here reads files or the store
(:mod:`liqflow.providers.universe_files` reads the snapshot files, :class:`liqflow.store.Store`
keeps the table).

Publication lag. A snapshot of date *d* (a CoinMarketCap historical page of *d*, a CoinGecko
ranking captured on *d*) is treated as public at the **end** of day *d*: membership as of *t*
comes from the latest snapshot dated on or before *t*, and a basket rebalanced on that
membership trades at the close of *d* at the earliest.

Coin identity (:mod:`liqflow.coin_ids`, re-exported here). Symbols are reused over time
(LUNA is Terra until 2022-05-27, Terra 2.0 from 2022-05-28) and coins change symbol (VEN ->
VET); a row is matched on name, symbol and date against :data:`KNOWN_COINS`, else named by
the slug of its name, else (symbol only) by the nearest-in-time named row with its symbol.

Exclusions. Stablecoins, wrapped, bridged and liquid-staked tokens and asset-backed tokens
track another asset and are not altcoins. They are excluded by a maintained list
(:data:`STABLECOINS`, :data:`WRAPPED`), by name patterns, and by two price tests applied with
the prices known on each date, so that a stablecoin or a wrapped coin missing from the list
cannot slip in: a coin whose known prices lie within :data:`STABLE_BAND` of 1 USD on at least
:data:`STABLE_SHARE` of observations (three at least, or two within 0.5 %) is a stablecoin;
one whose price lies within the same band of the same snapshot's BTC or ETH price on as
many observations is a wrapped token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.coin_ids import (
    KNOWN_COINS,
    KnownCoin,
    assign_coin_ids,
    coin_series_id,
    known_match,
    slug,
)

__all__ = [
    "KNOWN_COINS",
    "SNAPSHOT_COLUMNS",
    "SOURCE_MAX_AGE",
    "STABLECOINS",
    "STABLE_BAND",
    "STABLE_SHARE",
    "WRAPPED",
    "KnownCoin",
    "Members",
    "assign_coin_ids",
    "coin_series_id",
    "coin_symbols",
    "excluded_mask",
    "exclusion_reason",
    "is_excluded_symbol",
    "membership",
    "membership_schedule",
    "resolve_symbol",
    "slug",
    "ticker_base",
]

#: Columns of a snapshot table (one row per coin per snapshot).
SNAPSHOT_COLUMNS = ("date", "rank", "coin_id", "symbol", "name", "market_cap", "price", "source")

#: How old a source's latest snapshot may be and still count as the current membership.
SOURCE_MAX_AGE: dict[str, int] = {
    "cmc_weekly": 10,
    "cmc_monthly": 40,
    "cmc_monthly_mcap": 40,
    "coingecko_top100": 7,
}
#: Max age (days) for a source not in :data:`SOURCE_MAX_AGE`.
DEFAULT_MAX_AGE = 40

#: Relative distance from 1 USD (or from BTC/ETH) within which a price counts as pegged.
STABLE_BAND = 0.03
#: With only two known prices, both must lie this close to 1 USD.
_TIGHT_BAND = 0.005
#: Share of a coin's known prices that must be pegged for the price tests to exclude it.
STABLE_SHARE = 0.9

# Stablecoins (USD, EUR, gold and fund tokens): maintained list, upper-case symbols.
STABLECOINS = frozenset(
    {
        "USDT", "USDC", "DAI", "BUSD", "TUSD", "USDP", "PAX", "GUSD", "HUSD", "FDUSD",
        "PYUSD", "USDD", "USDE", "FRAX", "LUSD", "EURC", "EURS", "EURT", "USTC", "UST",
        "USDS", "RLUSD", "USD1", "USDG", "USDX", "USDB", "USDY", "SUSDE", "SUSDS", "USDO",
        "USDT0", "USD0", "GHO", "CRVUSD", "MIM", "USDK", "USDN", "SUSD", "XSGD", "BUIDL",
        "USYC", "OUSG", "USTB", "FIGR_HELOC", "PAXG", "XAUT", "DGX", "BSC-USD", "USDF",
        "USR", "DEUSD", "BFUSD", "USDTB", "USDL", "USDAI",
    }
)  # fmt: skip
# Wrapped, bridged and liquid-staked tokens.
WRAPPED = frozenset(
    {
        "WBTC", "WETH", "WBNB", "WTRX", "WSTETH", "STETH", "RETH", "CBETH", "WEETH", "EETH",
        "BETH", "WBETH", "METH", "RSETH", "EZETH", "BTCB", "HBTC", "RENBTC", "TBTC", "FBTC",
        "LBTC", "CBBTC", "SOLVBTC", "JITOSOL", "MSOL", "BNSOL", "JUPSOL", "STSOL", "BSOL",
        "SAVAX", "STKAAVE", "CLBTC", "WHYPE", "KHYPE", "STHYPE", "OSETH", "SWETH", "RSWETH",
        "PUFETH", "SFRXETH", "FRXETH", "LSETH", "ETHX", "UNIBTC", "PUMPBTC", "ENZOBTC",
    }
)  # fmt: skip
_NAME_RULE = re.compile(
    r"usd|dollar|\beuro\b|\bwrapped\b|\bstaked\b|\bstaking\b|\brestaked\b|\bbridged\b|binance-peg"
    r"|\btokenized\b|\bgold\b token|tether gold|pax gold",
    re.IGNORECASE,
)


def is_excluded_symbol(symbol: str) -> bool:
    """True for the listed stablecoins and wrapped or liquid-staked tokens.

    Accepts tickers (``USDT-USD``, ``WBTC``, ``usdc/usdt``); Yahoo's numeric suffixes
    (``TON11419-USD``) are ignored.
    """
    base = re.split(r"[-/]", symbol.upper())[0] if symbol.upper() != "BSC-USD" else "BSC-USD"
    base = re.sub(r"(?<=[A-Z])\d{3,}$", "", base)
    return base in STABLECOINS or base in WRAPPED


def exclusion_reason(symbol: str, name: str = "") -> str | None:
    """Why a coin is excluded by list or by name (``None`` when it is not).

    The price tests are applied on top of this by :func:`excluded_mask`.
    """
    sym = symbol.upper()
    if sym in STABLECOINS:
        return "stablecoin (list)"
    if sym in WRAPPED:
        return "wrapped or staked token (list)"
    if name and _NAME_RULE.search(name) and not sym.startswith("BTC"):
        return f"stablecoin, wrapped or staked token (name {name!r})"
    return None


def _pegged_share(price: np.ndarray, peg: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(price / peg - 1.0) <= STABLE_BAND


def excluded_mask(snapshots: pd.DataFrame) -> pd.Series:
    """Why each snapshot row is excluded from the altcoin universe, as known on its date.

    Returns a string Series aligned with ``snapshots`` (``""`` = an altcoin or BTC): the
    list and name rule of :func:`exclusion_reason`, then the price tests on the coin's
    prices known up to the row's date (all sources of the table, in date order).
    """
    # the list and name rule depends on (symbol, name) only: judged once per distinct pair
    sym_codes, syms = pd.factorize(snapshots["symbol"].astype(str))
    name_codes, names = pd.factorize(snapshots["name"].fillna("").astype(str))
    width = max(len(names), 1)
    codes, pair_keys = pd.factorize(sym_codes.astype(np.int64) * width + name_codes)
    sym_list, name_list = [str(x) for x in syms], [str(x) for x in names]
    by_pair = np.array(
        [
            exclusion_reason(sym_list[int(k) // width], name_list[int(k) % width]) or ""
            for k in np.asarray(pair_keys)
        ],
        dtype=object,
    )
    reasons = pd.Series(by_pair[codes], index=snapshots.index, dtype=object)
    stable, wrapped = _price_tests(snapshots)
    btc_eth = snapshots["coin_id"].isin(["bitcoin", "ethereum"]).to_numpy()
    empty = (reasons == "").to_numpy()
    reasons[empty & stable] = f"stablecoin (price within {STABLE_BAND:.0%} of 1 USD)"
    reasons[empty & wrapped & ~stable & ~btc_eth] = (
        f"wrapped or staked token (price within {STABLE_BAND:.0%} of BTC or ETH)"
    )
    return reasons


def _price_tests(snapshots: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per snapshot row: (stablecoin, wrapped) by the price tests of :func:`excluded_mask`,
    on the coin's positive prices known up to the row's date (every source, in date
    order; a day's rows in table order), as of the row's date.

    A price is pegged to USD within :data:`STABLE_BAND` of 1, tracks BTC or ETH within
    that band of their price in the same source's snapshot of the day. After ``n`` known
    prices a coin is a stablecoin when ``n >= 3`` and a share :data:`STABLE_SHARE` of
    them are pegged, or ``n >= 2`` and all lie within :data:`_TIGHT_BAND` of 1; wrapped
    when ``n >= 3`` and that share track BTC or ETH. A row takes the verdict of the
    coin's last price on or before its date (none: neither).
    """
    n_rows = len(snapshots)
    coin, _ = pd.factorize(snapshots["coin_id"].to_numpy(dtype=object), use_na_sentinel=False)
    source, _ = pd.factorize(snapshots["source"].to_numpy(dtype=object), use_na_sentinel=False)
    when = pd.to_datetime(snapshots["date"]).to_numpy(dtype="datetime64[ns]")
    day_list, day = np.unique(when, return_inverse=True)
    n_days = max(len(day_list), 1)
    price = snapshots["price"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        known = np.flatnonzero(price > 0)
    # the coin's known prices in date order (stable: a day's rows in table order)
    known = known[np.lexsort((day[known], coin[known]))]
    c, d, px = coin[known], day[known], price[known]
    usd = _pegged_share(px, np.ones(len(px)))
    tracks = np.zeros(len(px), dtype=bool)
    cell = source[known].astype(np.int64) * n_days + d  # (source, day) of each price
    ids = snapshots["coin_id"].to_numpy(dtype=object)[known]
    for ref in ("bitcoin", "ethereum"):
        mine = np.flatnonzero(ids == ref)
        mine = mine[np.argsort(known[mine], kind="stable")]  # table order: the first wins
        cells, first = np.unique(cell[mine], return_index=True)
        at = np.minimum(np.searchsorted(cells, cell), max(len(cells) - 1, 0))
        peg = np.full(len(px), np.nan)
        if len(cells):
            hit = cells[at] == cell
            peg[hit] = px[mine[first]][at[hit]]
        tracks |= _pegged_share(px, peg)
    new_coin = np.r_[True, c[1:] != c[:-1]][: len(c)]  # first price of each coin
    starts = np.flatnonzero(new_coin)
    group = np.cumsum(new_coin) - 1

    def running(flags: np.ndarray) -> np.ndarray:  # count so far within the coin
        total = np.cumsum(flags, dtype=np.int64)
        return total - np.r_[0, total][starts][group]

    n = np.arange(len(c)) - starts[group] + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        share_usd, share_trk = running(usd) / n, running(tracks) / n
    all_tight = running(np.abs(px - 1.0) <= _TIGHT_BAND) == n
    is_stable = ((n >= 3) & (share_usd >= STABLE_SHARE)) | ((n >= 2) & all_tight)
    is_wrapped = (n >= 3) & (share_trk >= STABLE_SHARE)
    # the verdict after each (coin, day)'s last price, found as of each row's date
    last = np.r_[(c[1:] != c[:-1]) | (d[1:] != d[:-1]), True] if len(c) else np.zeros(0, bool)
    keys = c[last].astype(np.int64) * n_days + d[last]
    pos = np.searchsorted(keys, coin.astype(np.int64) * n_days + day, side="right") - 1
    ok = pos >= 0
    ok[ok] = c[last][pos[ok]] == coin[ok]
    stable, wrapped = np.zeros(n_rows, dtype=bool), np.zeros(n_rows, dtype=bool)
    stable[ok] = is_stable[last][pos[ok]]
    wrapped[ok] = is_wrapped[last][pos[ok]]
    return stable, wrapped


@dataclass(frozen=True)
class Members:
    """The universe as of one date: the snapshot in force and its top-N coins.

    Attributes
    ----------
    as_of : Timestamp
        The decision date (end of day).
    snapshot_date : Timestamp or None
        Date of the snapshot used (the latest on or before ``as_of`` among the sources
        fresh then, see :data:`SOURCE_MAX_AGE`); None when there is none.
    source : str
        Its source.
    top_n : int
        How many ranks were kept; when not asked for, as many as the snapshot has.
    depth : int
        How many coins the snapshot ranks.
    frame : DataFrame
        ``rank, coin_id, symbol, name, market_cap, price, excluded`` (reason, ``""`` for
        an altcoin or BTC), by rank.
    """

    as_of: pd.Timestamp
    snapshot_date: pd.Timestamp | None
    source: str
    top_n: int
    depth: int
    frame: pd.DataFrame

    def alts(self) -> pd.DataFrame:
        """The altcoins among the members: not BTC, not excluded."""
        f = self.frame
        return f[(f["excluded"] == "") & (f["coin_id"] != "bitcoin")]

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> str:
        if self.snapshot_date is None:
            return f"no universe snapshot on or before {self.as_of:%Y-%m-%d}"
        return (
            f"top {self.top_n} of {self.depth} ({self.source} snapshot of "
            f"{self.snapshot_date:%Y-%m-%d}, public at the end of that day), "
            f"{len(self.alts())} altcoins after exclusions"
        )


def _check_snapshots(snapshots: pd.DataFrame) -> None:
    missing = [c for c in SNAPSHOT_COLUMNS if c not in snapshots.columns]
    if missing:
        raise DataError(
            f"universe snapshots lack column(s) {missing}; expected {list(SNAPSHOT_COLUMNS)}"
        )


def _snapshot_index(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, date): depth and max age, sorted by date."""
    idx = snapshots.groupby(["source", "date"], sort=False).size().rename("depth").reset_index()
    idx["max_age"] = idx["source"].map(SOURCE_MAX_AGE).fillna(DEFAULT_MAX_AGE).astype(int)
    return idx.sort_values(["date", "source"], kind="stable").reset_index(drop=True)


class _Chooser:
    """Picks the snapshot in force on a date (see :func:`membership`), by source arrays."""

    def __init__(self, index: pd.DataFrame) -> None:
        self.sources: list[tuple[str, np.ndarray, np.ndarray, int]] = []
        for src, g in index.groupby("source", sort=True):
            self.sources.append(
                (
                    str(src),
                    g["date"].to_numpy(dtype="datetime64[D]"),
                    g["depth"].to_numpy(dtype=np.int64),
                    int(g["max_age"].iloc[0]),
                )
            )

    def __call__(
        self, day: np.datetime64, top_n: int | None
    ) -> tuple[str, np.datetime64, int] | None:
        """(source, snapshot date, depth) in force on ``day`` (see :meth:`many`)."""
        src, when, depth, ok = self.many(np.array([day], dtype="datetime64[D]"), top_n)
        if not ok[0]:
            return None
        return self.sources[int(src[0])][0], when[0], int(depth[0])

    def many(
        self, days: np.ndarray, top_n: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For each of ``days`` (``datetime64[D]``): the position in :attr:`sources`, date
        and depth of the snapshot in force, and whether there is one.

        Among each source's latest snapshot on or before the day that is still fresh,
        one deep enough for ``top_n`` (the deepest when None), the latest first; when
        none is fresh, the latest there is. Ties go to the first source (by name).
        """
        n_src, n_days = len(self.sources), len(days)
        if n_src == 0:
            none = np.zeros(n_days, dtype=np.int64)
            return none, none.astype("datetime64[D]"), none, np.zeros(n_days, dtype=bool)
        has = np.zeros((n_src, n_days), dtype=bool)
        fresh = np.zeros((n_src, n_days), dtype=bool)
        when = np.zeros((n_src, n_days), dtype=np.int64)
        depth = np.zeros((n_src, n_days), dtype=np.int64)
        day = days.astype("datetime64[D]").astype(np.int64)
        for i, (_, dates, deep, max_age) in enumerate(self.sources):
            k = np.searchsorted(dates, days, side="right") - 1
            has[i] = k >= 0
            at = np.maximum(k, 0)
            when[i] = dates.astype(np.int64)[at]  # every source has a snapshot
            depth[i] = deep[at]
            fresh[i] = has[i] & (day - when[i] <= max_age)
        ok = np.asarray(has.any(axis=0))
        # none fresh: the latest there is (the first source of the latest date)
        latest = np.argmax(np.where(has, when, np.iinfo(np.int64).min), axis=0)
        stale = np.zeros_like(has)
        stale[latest, np.arange(n_days)] = True
        cand = np.where(fresh.any(axis=0), fresh, stale & has)
        if top_n is None:
            pick = _first_best(cand, depth, when)
        else:
            deep_enough = cand & (depth >= top_n)
            pick = _first_best(np.where(deep_enough.any(axis=0), deep_enough, cand), when, depth)
        cols = np.arange(n_days)
        picked: np.ndarray = when[pick, cols].astype("datetime64[D]")
        depths: np.ndarray = depth[pick, cols]
        return pick, picked, depths, ok


def _first_best(cand: np.ndarray, key: np.ndarray, then: np.ndarray) -> np.ndarray:
    """Per column, the first row among ``cand`` with the largest ``key``, then ``then``
    (as Python's ``max`` of the candidates in row order by ``(key, then)``)."""
    low = np.iinfo(np.int64).min
    top = np.where(cand, key, low).max(axis=0, initial=low)
    best = cand & (key == top)
    return np.argmax(np.where(best, then, low), axis=0)


def membership(
    snapshots: pd.DataFrame,
    as_of: pd.Timestamp | str,
    top_n: int | None = None,
    *,
    reasons: pd.Series | None = None,
) -> Members:
    """The top-``top_n`` coins as of the end of ``as_of``, dead coins included.

    Parameters
    ----------
    snapshots : DataFrame
        Snapshot table (:data:`SNAPSHOT_COLUMNS`), coin ids assigned.
    as_of : date
        Decision date; only snapshots dated on or before it are used.
    top_n : int, optional
        Ranks to keep (BTC and excluded coins count in the ranks); default: every rank
        of the snapshot in force.
    reasons : Series, optional
        Precomputed :func:`excluded_mask` of ``snapshots`` (else computed on the
        snapshots up to ``as_of``).

    Returns
    -------
    Members
    """
    _check_snapshots(snapshots)
    if top_n is not None and (isinstance(top_n, bool) or int(top_n) != top_n or top_n < 1):
        raise DataError(f"top_n must be a positive integer or None, got {top_n!r}")
    day = pd.Timestamp(as_of).normalize()
    known = snapshots[pd.to_datetime(snapshots["date"]) <= day]
    if reasons is None:
        reasons = excluded_mask(known)
    pick = _Chooser(_snapshot_index(known))(np.datetime64(day, "D"), top_n)
    cols = ["rank", "coin_id", "symbol", "name", "market_cap", "price", "excluded"]
    if pick is None:
        return Members(day, None, "", top_n or 0, 0, pd.DataFrame(columns=cols))
    source, sdate, depth = pick
    when = pd.to_datetime(known["date"]).to_numpy(dtype="datetime64[D]")
    rows = known[((known["source"] == source).to_numpy()) & (when == sdate)]
    rows = rows.assign(excluded=reasons.reindex(rows.index).fillna("")).sort_values("rank")
    n = depth if top_n is None else int(top_n)
    frame = rows.head(n)[cols].reset_index(drop=True)
    return Members(day, pd.Timestamp(sdate), source, n, depth, frame)


def membership_schedule(
    snapshots: pd.DataFrame, top_n: int | None = None, *, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Every rebalance of the top-N altcoin universe: market caps of the members.

    One row per date on which the membership in force changes (a snapshot date), one
    column per coin id; the value is the coin's market cap in that snapshot (NaN: not a
    member; a member without a market cap gets 0 and counts in the coin count only).
    BTC and excluded coins are left out. The exclusion of each row uses only prices known
    on its date. Columns ``_source``, ``_snapshot`` and ``_top_n`` are kept in
    ``schedule.attrs['meta']`` (a DataFrame with those columns by rebalance date).
    """
    _check_snapshots(snapshots)
    snaps = snapshots.assign(date=pd.to_datetime(snapshots["date"]).astype("datetime64[ns]"))
    if end is not None:
        snaps = snaps[snaps["date"] <= pd.Timestamp(end)]
    why = excluded_mask(snaps)
    snaps = snaps.sort_values(["source", "date", "rank"], kind="stable")
    reasons = why.loc[snaps.index].to_numpy()
    snaps = snaps.reset_index(drop=True)
    keep = (reasons == "") & (snaps["coin_id"].to_numpy() != "bitcoin")
    choose = _Chooser(_snapshot_index(snaps))
    groups = snaps.groupby(["source", "date"], sort=False).indices
    coin = snaps["coin_id"].to_numpy(dtype=object)
    cap = np.nan_to_num(snaps["market_cap"].to_numpy(dtype=np.float64), nan=0.0)
    rows: dict[pd.Timestamp, dict[str, float]] = {}
    meta: list[tuple[pd.Timestamp, str, pd.Timestamp, int]] = []
    last: tuple[frozenset[str], str] | None = None
    days = np.unique(snaps["date"].to_numpy(dtype="datetime64[D]"))
    src, when, deep, ok = choose.many(days, top_n)
    days, src, when, deep = days[ok], src[ok], when[ok], deep[ok]
    # the snapshot in force changes on these days only (between them, the same members)
    changes = np.r_[True, (src[1:] != src[:-1]) | (when[1:] != when[:-1])][: len(days)]
    new = np.flatnonzero(changes)
    for k in new.tolist():
        day, source, sdate = days[k], choose.sources[int(src[k])][0], when[k]
        n = int(deep[k]) if top_n is None else int(top_n)
        at = groups[(source, pd.Timestamp(sdate))][:n]  # sorted by rank
        at = at[keep[at]]
        caps: dict[str, float] = {}
        for c, m in zip(coin[at], cap[at], strict=True):
            caps[c] = max(caps.get(c, 0.0), float(m))
        key = (frozenset(caps), source)
        if key == last:
            continue
        last = key
        rows[pd.Timestamp(day)] = caps
        meta.append((pd.Timestamp(day), source, pd.Timestamp(sdate), n))
    frame = _schedule_frame(rows)
    frame.attrs["meta"] = pd.DataFrame(
        meta, columns=["date", "source", "snapshot", "top_n"]
    ).set_index("date")
    return frame


def _schedule_frame(rows: dict[pd.Timestamp, dict[str, float]]) -> pd.DataFrame:
    """The rebalances (in date order) as a frame: one column per coin in order of first
    membership, NaN where a coin is not a member (as ``DataFrame.from_dict(rows,
    orient="index")``, without building it row by row)."""
    cols: dict[str, int] = {}
    for caps in rows.values():
        for c in caps:
            cols.setdefault(c, len(cols))
    values = np.full((len(rows), len(cols)), np.nan)
    for i, caps in enumerate(rows.values()):
        for c, m in caps.items():
            values[i, cols[c]] = m
    index = pd.DatetimeIndex(list(rows), name="date").as_unit("ns")
    return pd.DataFrame(values, index=index, columns=pd.Index(list(cols), dtype="str"))


def coin_symbols(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The coin table: one row per (coin id, symbol, name) with the dates it was seen."""
    g = snapshots.assign(name=snapshots["name"].fillna("")).groupby(
        ["coin_id", "symbol", "name"], sort=True
    )
    return (
        g["date"].agg(["min", "max"]).rename(columns={"min": "first", "max": "last"}).reset_index()
    )


def ticker_base(symbol: str) -> str:
    """The coin symbol of a ticker: ``BTC-USD`` -> ``BTC``, ``TON11419-USD`` -> ``TON``."""
    return re.sub(r"(?<=[A-Z])\d{3,}$", "", re.split(r"[-/]", symbol.upper())[0])


def resolve_symbol(
    aliases: pd.DataFrame, symbol: str, on: pd.Timestamp | None = None
) -> str | None:
    """The coin id a ticker symbol meant on ``on`` (default: its latest use)."""
    sym = ticker_base(symbol)
    return resolve_among(aliases[aliases["symbol"].str.upper() == sym], sym, on)


def resolve_among(hits: pd.DataFrame, sym: str, on: pd.Timestamp | None = None) -> str | None:
    """:func:`resolve_symbol` given the rows of the coin table whose upper-case symbol is
    ``sym`` (the coin symbol of the ticker, :func:`ticker_base`)."""
    if hits.empty:
        known = known_match(sym, "", np.datetime64(on or pd.Timestamp.today(), "D"))
        return known
    if on is not None:
        during = hits[(hits["first"] <= on) & (hits["last"] >= on - pd.Timedelta(days=400))]
        if len(during):
            hits = during
    return str(hits.sort_values("last").iloc[-1]["coin_id"])
