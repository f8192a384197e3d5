"""The coin price table (:func:`liqflow.universe_store.load_coin_prices`), one SQL splice,
against the per-coin pandas splice it replaced (kept here as the oracle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow.store import Batch, Store
from liqflow.universe_store import PRICE_SOURCES, CoinPriceTable, load_coin_prices


def _oracle(
    store: Store, *, end: pd.Timestamp | None = None, catalog_coins: dict[str, str] | None = None
) -> CoinPriceTable:
    """The per-coin splice of liqflow 0.x: each source read, cleaned and shifted, then the
    first source of PRICE_SOURCES with a price each day (``bfill`` across the sources)."""
    keys = store.coin_price_keys()
    coin_of = {}
    for sid, src in keys:
        meta = store.meta(sid, src)
        coin_of[(sid, src)] = str(meta.get("symbol") or sid[len("coin_") :])
    for sid, cid in (catalog_coins or {}).items():
        for src in store.sources(sid):
            keys.append((sid, src))
            coin_of[(sid, src)] = cid
    ahead = max(-d for d in PRICE_SOURCES.values())
    frames = store.read_many(
        keys, ["close"], end=None if end is None else pd.Timestamp(end) + pd.Timedelta(days=ahead)
    )
    per_coin: dict[str, list[tuple[int, str, pd.Series]]] = {}
    order = list(PRICE_SOURCES)
    for (sid, src), frame in frames.items():
        if "close" not in frame.columns:
            continue
        s = frame["close"].dropna()
        s = s[s > 0]
        shift = PRICE_SOURCES.get(src, 0)
        if shift:
            s.index = s.index + pd.Timedelta(days=shift)
        rank = order.index(src) if src in order else len(order)
        per_coin.setdefault(coin_of[(sid, src)], []).append((rank, src, s))
    closes, sources = {}, {}
    for cid, parts in per_coin.items():
        parts.sort(key=lambda t: t[0])
        close = pd.concat([p[2] for p in parts], axis=1, sort=True).bfill(axis=1).iloc[:, 0]
        stacked = (
            pd.concat([p[2].notna() for p in parts], axis=1, sort=True).fillna(False).to_numpy()
        )
        first = np.argmax(stacked, axis=1)
        names = np.array([p[1] for p in parts], dtype=object)
        closes[cid] = close
        sources[cid] = pd.Series(names[first], index=close.index, dtype=object)
    table = pd.DataFrame(closes).sort_index()
    table.index = pd.DatetimeIndex(table.index, name="date")
    if end is not None:
        table = table.loc[table.index <= pd.Timestamp(end)]
    which = pd.DataFrame(sources).reindex(index=table.index, columns=table.columns)
    return CoinPriceTable(table.astype(np.float64), which)


def _fill(store: Store, seed: int) -> dict[str, str]:
    """Coins with prices from two to four sources, gaps, zero and negative closes, one
    coin under two series ids, and catalogue series (returned: series id -> coin id)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-01-01", "2020-06-30", freq="D", name="date")
    batches = []
    for k in range(12):
        coin = f"c{k:02d}"
        for src in rng.choice(["yahoo", "coingecko", "coingecko_top100", "cmc"], 3, replace=False):
            lo, hi = sorted(rng.integers(0, len(days), 2))
            idx = days[lo : hi + 1]
            idx = idx[rng.random(len(idx)) > 0.2]
            close = 1 + rng.random(len(idx)) * 10
            close[rng.random(len(idx)) < 0.03] = 0.0
            close[rng.random(len(idx)) < 0.02] = -1.0
            frame = pd.DataFrame({"close": close, "volume": rng.random(len(idx))}, index=idx)
            if k == 5:  # no close at all: only volume
                frame = frame[["volume"]]
            sid = f"coin_{coin}" if k != 7 else f"coin_{coin}_{src}"  # one coin, two ids
            batches.append(Batch(sid, str(src), frame, symbol=coin, unit="USD", frequency="D"))
    cat = pd.DataFrame({"close": 5 + rng.random(300)}, index=days[100:400])
    batches.append(Batch("xrp", "yahoo", cat, symbol="XRP-USD", unit="USD", frequency="D"))
    batches.append(
        Batch("xrp", "coingecko", cat * 1.01, symbol="ripple", unit="USD", frequency="D")
    )
    store.write(batches)
    return {"xrp": "c03", "ltc": "litecoin"}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("end", [None, "2019-09-15", "2020-06-29", "2018-01-01"])
def test_the_sql_splice_equals_the_per_coin_splice(
    tmp_path: Path, seed: int, end: str | None
) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        mapping = _fill(store, seed)
        when = None if end is None else pd.Timestamp(end)
        fast = load_coin_prices(store, end=when, catalog_coins=mapping)
        slow = _oracle(store, end=when, catalog_coins=mapping)
    pd.testing.assert_frame_equal(fast.close, slow.close)
    pd.testing.assert_frame_equal(fast.source, slow.source)
    assert "c05" not in fast.close.columns  # volume only
    if end is None:  # the splice used several sources, and the catalogue's series
        assert set(fast.source.stack()) >= {"yahoo", "coingecko", "cmc"}
        assert fast.close.shape[1] == 11 and "c07" in fast.close.columns


def test_an_empty_store_gives_an_empty_table() -> None:
    with Store(":memory:") as store:
        fast, slow = load_coin_prices(store), _oracle(store)
    assert fast.close.empty and fast.source.empty
    pd.testing.assert_frame_equal(fast.close, slow.close)
    pd.testing.assert_frame_equal(fast.source, slow.source)
