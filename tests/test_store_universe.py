"""The store's crypto-universe write: the last row of a key wins, within one write and
over writes; ``added`` flags the rows whose key was not stored before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from liqflow.store import Store


def _snaps(rows: list[tuple[str, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]),
            "rank": [r[1] for r in rows],
            "coin_id": [r[2] for r in rows],
            "symbol": [r[2][:3].upper() for r in rows],
            "name": [r[2].title() for r in rows],
            "market_cap": [r[3] for r in rows],
            "price": [r[3] / 1e6 for r in rows],
            "source": "cmc_weekly",
        }
    )


def _coins(snaps: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "coin_id": snaps["coin_id"],
            "symbol": snaps["symbol"],
            "name": snaps["name"],
            "first": snaps["date"],
            "last": snaps["date"],
        }
    ).drop_duplicates(["coin_id", "symbol", "name"])


def test_last_row_of_a_key_wins_within_and_over_writes(tmp_path: Path) -> None:
    st = Store(tmp_path / "s.duckdb")
    first = _snaps(
        [
            ("2020-01-05", 1, "bitcoin", 1e11),
            ("2020-01-05", 2, "ethereum", 2e10),
            ("2020-01-05", 1, "bitcoin", 1.5e11),  # same key, later in the write: wins
        ]
    )
    added = st.write_universe(first, _coins(first))
    np.testing.assert_array_equal(added, [True, True, True])
    stored = st.read_universe()
    assert len(stored) == 2
    assert stored.loc[stored["rank"] == 1, "market_cap"].item() == 1.5e11
    assert stored["date"].dtype == "datetime64[ns]"

    second = _snaps([("2020-01-05", 2, "ethereum", 3e10), ("2020-01-12", 1, "bitcoin", 9e10)])
    added = st.write_universe(second, _coins(second))
    np.testing.assert_array_equal(added, [False, True])
    stored = st.read_universe()
    assert len(stored) == 3
    assert stored.loc[stored["rank"] == 2, "market_cap"].item() == 3e10
    coins = st.coin_table().set_index("coin_id")
    assert coins.loc["bitcoin", "first"] == pd.Timestamp("2020-01-05")
    assert coins.loc["bitcoin", "last"] == pd.Timestamp("2020-01-12")


def test_a_write_of_aliases_only_keeps_the_snapshots(tmp_path: Path) -> None:
    st = Store(tmp_path / "s.duckdb")
    snaps = _snaps([("2020-01-05", 1, "bitcoin", 1e11)])
    st.write_universe(snaps, _coins(snaps))
    aliases = _coins(_snaps([("2019-06-01", 1, "bitcoin", 1.0)]))
    added = st.write_universe(snaps.iloc[:0], aliases)
    assert len(added) == 0
    assert len(st.read_universe()) == 1
    assert st.coin_table().set_index("coin_id").loc["bitcoin", "first"] == pd.Timestamp(
        "2019-06-01"
    )


def test_fresh_flags_equal_what_the_write_returns(tmp_path: Path) -> None:
    st = Store(tmp_path / "s.duckdb")
    first = _snaps([("2020-01-05", 1, "bitcoin", 1e11)])
    second = _snaps([("2020-01-05", 1, "bitcoin", 2e11), ("2020-01-12", 1, "bitcoin", 9e10)])
    np.testing.assert_array_equal(st.universe_fresh(second), [True, True])  # nothing stored yet
    with st.batched():
        st.write_universe(first, _coins(first))
        inside = st.universe_fresh(second)  # the block's own write counts as stored
    np.testing.assert_array_equal(inside, [False, True])
    np.testing.assert_array_equal(st.universe_fresh(second), inside)
    np.testing.assert_array_equal(st.write_universe(second, _coins(second)), inside)
