"""One-snapshot-per-file layouts read together: the same rows, notes and refusals as each
file read alone, and an import that lists a refused file among the others in file order;
plain small CSV texts split as the csv module reads them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqflow._errors import DataError
from liqflow.catalog import default_catalog
from liqflow.importer import import_paths
from liqflow.providers._universe_cells import _split_rows
from liqflow.providers.universe_files import (
    ONE_SNAPSHOT_PER_FILE,
    UniverseFile,
    _coin_prices,
    read_snapshot_files,
    read_universe_file,
    sniff_universe_layout,
)
from liqflow.store import Store


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _same_as_alone(paths: list[Path], layout: str) -> list[UniverseFile | DataError]:
    together = read_snapshot_files(paths, layout)
    assert len(together) == len(paths)
    for path, got in zip(paths, together, strict=True):
        try:
            alone: UniverseFile | DataError = read_universe_file(path, layout)
        except DataError as exc:
            alone = exc
        if isinstance(alone, DataError):
            assert isinstance(got, DataError) and str(got) == str(alone)
            continue
        assert isinstance(got, UniverseFile) and got.path == path and got.layout == layout
        assert got.notes == alone.notes
        assert got.snapshots is not None and alone.snapshots is not None
        pd.testing.assert_frame_equal(got.snapshots, alone.snapshots)
        assert (got.rows, got.first, got.last) == (alone.rows, alone.first, alone.last)
    return together


def test_top100_files_read_together_equal_each_read_alone(tmp_path: Path) -> None:
    top = tmp_path / "top100"
    paths = [
        _write(top, "prices_2025-08-05.csv", "rank,name,symbol,price\n1,Bitcoin,btc,117082\n"
               "2,Ethereum,ETH,4196.06\n3,Tether,usdt,\n"),
        _write(top, "prices_2025-08-06.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,$118,000\n"),
        _write(top, "prices_2025-08-07.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,1\n1,X,X,2\n"),
        _write(top, "prices_2025-08-08.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,abc\n"),
        _write(top, "prices_nodate.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,1\n"),
        _write(top, "prices_2025-08-09.csv", "rank, name, symbol, price\n 1, Bitcoin , btc, 2\n"),
    ]  # fmt: skip
    got = _same_as_alone(paths, "coingecko_top100")
    refused = [str(g) for g in got if isinstance(g, DataError)]
    assert len(refused) == 4
    assert "prices_2025-08-06.csv:2: malformed CSV (expected 4 fields, got 5)" in refused[0]
    assert "prices_2025-08-07.csv: rank 1 appears twice in the snapshot of 2025-08-07" in refused[1]
    assert "prices_2025-08-08.csv:2: price 'abc' is not a number" in refused[2]
    assert "must contain a date like prices_2025-08-05.csv" in refused[3]
    first = got[0]
    assert isinstance(first, UniverseFile) and first.snapshots is not None
    assert first.snapshots["symbol"].tolist() == ["BTC", "ETH", "USDT"]
    assert first.snapshots.index.tolist() == [0, 1, 2]


def test_mcap_files_read_together_equal_each_read_alone(tmp_path: Path) -> None:
    mcap = tmp_path / "mcap"
    paths = [
        _write(mcap, "20180107.csv", 'coin,mkt_cap\nBTC,"1,000"\nETH,500\nBTC,900\nXRP,\n'),
        _write(mcap, "20180204.csv", "coin,mkt_cap\nETH,700\nBTC,800\n"),
        _write(mcap, "20180304.csv", "coin,mkt_cap\nETH,seven\n"),
    ]
    got = _same_as_alone(paths, "cmc_monthly_mcap")
    first, second, third = got
    assert isinstance(first, UniverseFile) and first.snapshots is not None
    assert first.snapshots["symbol"].tolist() == ["BTC", "ETH", "XRP"]  # the larger BTC kept
    assert first.snapshots["rank"].tolist() == [1, 2, 3]
    assert first.notes == ("1 repeated symbol(s) kept once",)
    assert isinstance(second, UniverseFile) and second.notes == ()
    assert isinstance(third, DataError)
    with pytest.raises(DataError, match=r"layout must be one of \['cmc_monthly_mcap', "):
        read_snapshot_files(paths, "cmc_weekly")


def test_import_lists_a_refused_snapshot_file_in_file_order(tmp_path: Path) -> None:
    top = tmp_path / "data" / "top100"
    _write(top, "prices_2025-08-05.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,117082\n")
    _write(top, "prices_2025-08-06.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,abc\n")
    _write(top, "prices_2025-08-07.csv", "rank,name,symbol,price\n1,Bitcoin,BTC,118000\n")
    _write(tmp_path / "data" / "zz", "bad.csv", "Date,Close\n2020-01-01,abc\n")
    with Store(tmp_path / "s.duckdb") as store:
        report = import_paths(store, default_catalog(), [tmp_path / "data"])
        days = store.read_universe()["date"].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2025-08-05", "2025-08-07"]
    assert [p.name for p, _ in report.errors] == ["prices_2025-08-06.csv", "bad.csv"]
    assert "prices_2025-08-06.csv:2: price 'abc' is not a number" in report.errors[0][1]


@pytest.mark.realdata
def test_shared_snapshot_files_read_together_equal_each_read_alone(shared_data: Path) -> None:
    for layout in ONE_SNAPSHOT_PER_FILE:
        paths = [
            p
            for p in sorted((shared_data / "crypto" / "universe").rglob("*.csv"))
            if sniff_universe_layout(p) == layout
        ]
        assert len(paths) > 100
        got = _same_as_alone(paths, layout)
        assert all(isinstance(g, UniverseFile) for g in got)


def _cells(rows: list[list[str]]) -> list[list[str]]:
    """Rows as ``_read_csv`` uses them: cells stripped, a blank row as no cells."""
    out = [[c.strip() for c in r] for r in rows]
    return [[] if r in ([], [""]) else r for r in out]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list('ab ,\n\t"\r\x00é')), max_size=60))
def test_plain_text_split_like_the_csv_module(text: str) -> None:
    rows = _split_rows(text)
    if rows is None:  # quotes, carriage returns or NUL: the csv module reads it
        assert any(c in text for c in '"\r\x00')
        return
    expected = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True))
    assert _cells(rows) == _cells(expected)


def test_coin_prices_cleaned_as_the_pandas_chain() -> None:
    """Oracle: ``frame.sort_index().where(frame > 0).dropna(how="all")`` as float64."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        days = pd.to_timedelta(rng.permutation(100)[:n], unit="D")
        index = pd.DatetimeIndex(pd.Timestamp("2020-01-01") + days, name="date")
        values = rng.choice([np.nan, 0.0, -1.0, 1.5, 2.0, np.inf], size=(n, 3))
        frame = pd.DataFrame(values, index=index, columns=["close", "market_cap", "volume"])
        expected = frame.sort_index().where(frame > 0).dropna(how="all").astype(np.float64)
        got = _coin_prices(frame, "XEM", "", "", "yahoo", Path("XEM-USD-1d.csv")).frame
        pd.testing.assert_frame_equal(got, expected)


_MONTHLY_HEAD = (
    "Rank,Name,Symbol,Market Cap,Price,Circulating Supply,Volume (24h),% 1h,% 24h,% 7d,"
    "snapshot_date\n"
)


def test_plain_monthly_table_equals_the_cell_by_cell_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A monthly snapshot table read value by value (pyarrow, each distinct cell converted
    once) holds the rows of the cell-by-cell read; a bad cell is refused on its line."""
    import liqflow.providers.universe_files as uf

    rows = [
        f"{r},Coin {r % 7} , C{r % 7},${r * 1000},{r / 3:.6f},1,1,0,0,0,2020{1 + r % 12:02d}01"
        for r in range(1, 400)
    ]
    path = tmp_path / "monthly.csv"
    path.write_text(_MONTHLY_HEAD + "\n".join(rows) + "\n\n")
    assert sniff_universe_layout(path) == "cmc_monthly"
    assert uf._plain_monthly(path) is not None
    fast = read_universe_file(path).snapshots
    with monkeypatch.context() as m:
        m.setattr(uf, "_plain_monthly", lambda p: None)
        slow = read_universe_file(path).snapshots
    assert fast is not None and slow is not None
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["name"].iloc[0] == "Coin 1" and fast["symbol"].iloc[0] == "C1"
    bad = rows.copy()
    bad[5] = bad[5].replace(f"{6 / 3:.6f}", "n/a")
    path.write_text(_MONTHLY_HEAD + "\n".join(bad) + "\n")
    assert uf._plain_monthly(path) is None
    with pytest.raises(DataError, match=r"monthly\.csv:7: Price 'n/a' is not a number"):
        read_universe_file(path)
