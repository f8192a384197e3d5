"""Coin identity: which coin a snapshot row or a ticker names, from name, symbol and date.

Symbols are reused over time (LUNA is Terra until 2022-05-27, Terra 2.0 from 2022-05-28; the
old Terra became LUNC), and one coin changes symbol (VEN -> VET, MATIC -> POL). A row is
matched on name, symbol and date against :data:`KNOWN_COINS` (CoinGecko ids); a named row
that matches no known coin gets the slug of its name as id (the way CoinGecko forms most
ids); a row with a symbol only (the monthly market-cap files, Yahoo tickers) takes the id of
the nearest-in-time named row with that symbol.

The match is set-based: a known coin's validity changes only on the dates of
:data:`KNOWN_COINS`, so the dates split into a few eras and each distinct (symbol, name,
era) is matched once (:func:`assign_coin_ids` equals :func:`known_match` row by row).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqflow._errors import DataError

__all__ = [
    "KNOWN_COINS",
    "KnownCoin",
    "assign_coin_ids",
    "coin_series_id",
    "known_match",
    "slug",
]


@dataclass(frozen=True)
class KnownCoin:
    """One identity of a coin over a span of dates (a coin may have several rows)."""

    coin_id: str
    symbols: tuple[str, ...]
    names: tuple[str, ...]
    valid_from: str | None = None
    valid_to: str | None = None

    def valid(self, day: np.datetime64) -> bool:
        lo = self.valid_from is None or day >= np.datetime64(self.valid_from)
        hi = self.valid_to is None or day <= np.datetime64(self.valid_to)
        return bool(lo and hi)


def _k(cid: str, syms: str, names: str, lo: str | None = None, hi: str | None = None) -> KnownCoin:
    return KnownCoin(cid, tuple(syms.split()), tuple(n.lower() for n in names.split("|")), lo, hi)


#: Coins whose CoinGecko id differs from the slug of their name, or whose symbol was reused.
KNOWN_COINS: tuple[KnownCoin, ...] = (
    _k("bitcoin", "BTC", "bitcoin"),
    _k("ethereum", "ETH", "ethereum"),
    _k("ripple", "XRP", "xrp|ripple"),
    _k("tether", "USDT", "tether|tether usdt"),
    _k("usd-coin", "USDC", "usd coin|usdc"),
    _k("binancecoin", "BNB", "bnb|binance coin"),
    _k("the-open-network", "TON TON11419", "toncoin|the open network"),
    _k("sui", "SUI SUI20947", "sui"),
    _k("avalanche-2", "AVAX", "avalanche"),
    _k("shiba-inu", "SHIB", "shiba inu"),
    _k("polkadot", "DOT", "polkadot|polkadot [iou]"),
    _k("leo-token", "LEO", "unus sed leo|leo token"),
    _k("near", "NEAR", "near protocol|near"),
    _k("matic-network", "MATIC", "polygon|matic network"),
    _k("polygon-ecosystem-token", "POL", "pol (ex-matic)|polygon ecosystem token"),
    _k("cosmos", "ATOM ATOM1", "cosmos|cosmos hub"),
    _k("hedera-hashgraph", "HBAR", "hedera|hedera hashgraph"),
    _k("crypto-com-chain", "CRO", "cronos|crypto.com coin"),
    _k("theta-token", "THETA", "theta|theta network"),
    _k("quant-network", "QNT", "quant"),
    _k("lido-dao", "LDO", "lido dao"),
    _k("ftx-token", "FTT", "ftx token|ftx"),
    _k("terra-luna", "LUNA LUNA1", "terra|terra luna", None, "2022-05-27"),
    _k("terra-luna", "LUNC", "terra classic|terra luna classic|luna classic", "2022-05-28"),
    _k("terra-luna-2", "LUNA LUNA2", "terra|terra 2.0|terra luna 2.0", "2022-05-28"),
    _k("terrausd", "UST", "terrausd", None, "2022-05-27"),
    _k("terrausd", "USTC", "terraclassicusd|terrausd classic|terrausd", "2022-05-28"),
    _k("nem", "XEM", "nem"),
    _k("iota", "MIOTA IOTA", "iota"),
    _k("bitcoin-cash-sv", "BSV", "bitcoin sv"),
    _k("omisego", "OMG", "omisego|omg network"),
    _k("bytecoin", "BCN", "bytecoin"),
    _k("bitshares", "BTS", "bitshares"),
    _k("havven", "SNX", "synthetix|synthetix network token"),
    _k("celsius-degree-token", "CEL", "celsius"),
    _k("monaco", "MCO", "crypto.com|monaco"),
    _k("vechain", "VET VEN", "vechain|vechain [token]"),
    _k("eos", "EOS", "eos"),
    _k("tron", "TRX", "tron"),
    _k("stellar", "XLM", "stellar"),
    _k("okb", "OKB", "okb"),
    _k("chain-2", "XCN", "chain|onyxcoin"),
    _k("binance-usd", "BUSD", "binance usd"),
    _k("wrapped-bitcoin", "WBTC", "wrapped bitcoin"),
    _k("staked-ether", "STETH", "lido staked ether|steth"),
    _k("nano", "NANO XRB", "nano|raiblocks"),
    _k("bitconnect", "BCC", "bitconnect"),
    _k("ethereum-classic", "ETC", "ethereum classic"),
)


def slug(text: str) -> str:
    """CoinGecko-style id from a name: lower case, runs of other characters -> ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def coin_series_id(coin_id: str) -> str:
    """The store's series id of a coin's prices: ``coin_`` + the id in ``[a-z0-9_]``."""
    body = re.sub(r"[^a-z0-9]+", "_", coin_id.lower()).strip("_")
    if not body:
        raise DataError(f"coin id {coin_id!r} has no letters or digits to form a series id")
    return f"coin_{body}"


def _eras() -> np.ndarray:
    """Days on which the validity of some known coin changes (sorted, ``datetime64[D]``)."""
    edges = set()
    for k in KNOWN_COINS:
        if k.valid_from is not None:
            edges.add(np.datetime64(k.valid_from, "D"))
        if k.valid_to is not None:
            edges.add(np.datetime64(k.valid_to, "D") + np.timedelta64(1, "D"))
    return np.array(sorted(edges), dtype="datetime64[D]")


_ERA_EDGES = _eras()
_BY_SYMBOL: dict[str, list[KnownCoin]] = {}
_BY_NAME: dict[str, list[KnownCoin]] = {}
for _coin in KNOWN_COINS:
    for _s in _coin.symbols:
        _BY_SYMBOL.setdefault(_s, []).append(_coin)
    for _n in _coin.names:
        _BY_NAME.setdefault(_n, []).append(_coin)


def known_match(symbol: str, name: str, day: np.datetime64) -> str | None:
    """The id of the known coin a row names on ``day`` (None when it names none).

    A named row is matched on its name (among the coins with its symbol first), never on
    a reused symbol alone; a row with a symbol only matches when one known coin has it.
    """
    sym = symbol.upper()
    nm = name.lower().strip()
    cands = [k for k in _BY_SYMBOL.get(sym, ()) if k.valid(day)]
    if nm:
        named = [k for k in cands if nm in k.names]
        if named:
            return named[0].coin_id
        by_name = [k for k in _BY_NAME.get(nm, ()) if k.valid(day)]
        if by_name and not cands:
            return by_name[0].coin_id
        return None
    ids = {k.coin_id for k in cands}
    return cands[0].coin_id if len(ids) == 1 else None


def _per_key(keys: pd.DataFrame, days: np.ndarray, match: Callable[..., str | None]) -> np.ndarray:
    """``match(row of keys, day)`` computed once per distinct (key columns, era), spread back.

    ``keys`` holds string columns; ``days`` the row dates (``datetime64[D]``).
    """
    era = np.searchsorted(_ERA_EDGES, days, side="right")
    codes = keys.assign(_era=era).groupby([*keys.columns, "_era"], sort=False).ngroup()
    codes_np = codes.to_numpy()
    _, first = np.unique(codes_np, return_index=True)
    cols = [keys[c].to_numpy(dtype=object) for c in keys.columns]
    found = np.array(
        [match(*(c[i] for c in cols), days[i]) for i in first.tolist()],
        dtype=object,
    )
    return found[codes_np] if len(codes_np) else np.empty(0, dtype=object)


def _named_or_slug(s: str, n: str, d: np.datetime64) -> str:
    return known_match(s, n, d) or (slug(n) if n else "")


def assign_coin_ids(rows: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of ``rows`` with ``coin_id`` filled in from name, symbol and date.

    Parameters
    ----------
    rows : DataFrame
        Columns ``date``, ``symbol``, ``name`` (``""`` when the source has none); a
        ``coin_id`` column, if present, is kept where it is not empty.
    reference : DataFrame, optional
        Rows already identified (``date, symbol, coin_id``, e.g. the stored universe) used
        for rows that carry a symbol only.

    Returns
    -------
    DataFrame
        ``rows`` with a ``coin_id`` column.

    Notes
    -----
    Equivalent, row by row, to ``known_match(symbol, name, date) or slug(name)`` for a
    named row; each distinct (symbol, name, era of validity) is matched once.
    """
    out = rows.copy()
    if "coin_id" not in out.columns:
        out["coin_id"] = ""
    ids = out["coin_id"].fillna("").astype(str).to_numpy(dtype=object)
    todo = np.flatnonzero(ids == "")
    if len(todo):
        sub = out.iloc[todo]
        keys = pd.DataFrame(
            {
                "s": sub["symbol"].astype(str).str.upper().to_numpy(dtype=object),
                "n": sub["name"].fillna("").astype(str).str.lower().to_numpy(dtype=object),
            }
        )
        days = pd.to_datetime(sub["date"]).to_numpy(dtype="datetime64[D]")
        ids[todo] = _per_key(keys, days, _named_or_slug)
    out["coin_id"] = ids
    return _fill_symbol_only(out, reference)


def _fill_symbol_only(out: pd.DataFrame, reference: pd.DataFrame | None) -> pd.DataFrame:
    """Symbol-only rows take the id of the nearest-in-time identified row with that symbol."""
    todo = out["coin_id"] == ""
    if not todo.any():
        return out
    ref_parts = [out.loc[~todo, ["date", "symbol", "coin_id"]]]
    if reference is not None and len(reference):
        ref_parts.append(reference[["date", "symbol", "coin_id"]])
    ref = pd.concat(ref_parts, ignore_index=True)
    ref = ref[ref["coin_id"].astype(str) != ""]
    ref = ref.assign(
        symbol=ref["symbol"].astype(str).str.upper().astype(object),
        coin_id=ref["coin_id"].astype(str).astype(object),
        date=pd.to_datetime(ref["date"]).astype("datetime64[ns]"),
    )
    ref = ref.drop_duplicates(["symbol", "date", "coin_id"]).sort_values("date")
    need = out.loc[todo, ["date", "symbol"]].copy()
    need["_row"] = np.flatnonzero(todo.to_numpy())
    need["symbol"] = need["symbol"].astype(str).str.upper().astype(object)
    need["date"] = pd.to_datetime(need["date"]).astype("datetime64[ns]")
    need = need.sort_values("date")
    near = pd.merge_asof(need, ref, on="date", by="symbol", direction="nearest")
    ids = out["coin_id"].to_numpy(dtype=object)
    row = near["_row"].to_numpy(dtype=np.int64)
    cid = near["coin_id"].to_numpy(dtype=object)
    hit = np.array([isinstance(c, str) and bool(c) for c in cid], dtype=bool)
    ids[row[hit]] = cid[hit]
    miss = row[~hit]
    if len(miss):
        days = pd.to_datetime(out["date"].iloc[miss]).to_numpy(dtype="datetime64[D]")
        keys = pd.DataFrame({"s": near["symbol"].to_numpy(dtype=object)[~hit]})
        ids[miss] = _per_key(keys, days, lambda s, d: known_match(s, "", d) or slug(s))
    return out.assign(coin_id=ids)
