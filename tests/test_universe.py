"""The crypto universe: readers, coin identity, exclusions, point-in-time membership."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqflow._errors import DataError
from liqflow.catalog import default_catalog
from liqflow.importer import import_paths
from liqflow.providers.universe_files import read_universe_file, sniff_universe_layout
from liqflow.store import Store
from liqflow.universe import (
    SNAPSHOT_COLUMNS,
    STABLE_BAND,
    STABLE_SHARE,
    assign_coin_ids,
    coin_series_id,
    excluded_mask,
    is_excluded_symbol,
    membership,
    membership_schedule,
)
from liqflow.universe_store import (
    load_coin_prices,
    survivorship_bias_from_store,
    universe_view,
)


def _weekly_line(rank: int, sym: str, name: str, cap: str, price: str, day: str) -> str:
    ms = int(pd.Timestamp(day).value // 1_000_000)
    rec = {
        "Rank": rank, "Name": sym + name, "Symbol": sym, "Market Cap": cap, "Price": price,
        "Circulating Supply": "1", "volume (24h)": 0, "% 1h": "0%", "% 24h": "--",
        "% 7d": "--", "": "", "date": ms,
    }  # fmt: skip
    return json.dumps(rec)


def _universe_folder(root: Path) -> Path:
    uni = root / "universe"
    (uni / "mcap").mkdir(parents=True)
    (uni / "daily").mkdir()
    lines = [
        _weekly_line(1, "BTC", "Bitcoin", "$320,580,000,000.00", "$19,140.76", "2017-12-17"),
        _weekly_line(2, "ETH", "Ethereum", "$70,000,000,000.00", "$720.10", "2017-12-17"),
        _weekly_line(3, "XEM", "NEM", "$9,000,000,000.00", "$1.00", "2017-12-17"),
        _weekly_line(1, "BTC", "Bitcoin", "$300,000,000,000.00", "$18,000.00", "2024-01-21"),
    ]
    (uni / "weekly.json").write_text("\n".join(lines) + "\n")
    (uni / "monthly.csv").write_text(
        "Rank,Name,Symbol,Market Cap,Price,Circulating Supply,Volume (24h),% 1h,% 24h,% 7d,snapshot_date\n"
        "1,Bitcoin,BTC,700000000000,38000,1,1,0,0,0,20220501\n"
        "2,Terra,LUNA,28360000000,82.24,1,1,0,0,0,20220501\n"
        "3,TerraUSD,UST,18000000000,1.0,1,1,0,0,0,20220501\n"
        "1,Bitcoin,BTC,400000000000,20000,1,1,0,0,0,20221001\n"
        "2,Terra Classic,LUNC,1500000000,0.0002,1,1,0,0,0,20221001\n"
        "3,Terra,LUNA,400000000,2.1,1,1,0,0,0,20221001\n"
    )
    (uni / "mcap" / "20180107.csv").write_text(
        "coin,mkt_cap\nBTC,276634593972.51\nXEM,16584480000\nEOS,7375465000\n"
    )
    (uni / "daily" / "prices_2025-08-05.csv").write_text(
        "rank,name,symbol,price\n1,Bitcoin,BTC,112775\n2,Ethereum,ETH,3569.47\n3,USD1,USD1,1.0\n"
    )
    (uni / "tickers.json").write_text('{\n  "2017-01-01": ["BTC-USD", "ETH-USD"]\n}\n')
    dead = root / "dead"
    dead.mkdir()
    (dead / "eos.csv").write_text(
        "date,price,total_volume,market_cap,coin_name\n"
        "2018-01-06 00:00:00.000,8.0,1,7000000000,eos\n"
        "2018-01-07 00:00:00.000,8.5,1,7300000000,eos\n"
        "2018-01-08 00:00:00.000,9.0,1,7400000000,eos\n"
    )
    (dead / "XEM-USD-1d.csv").write_text(
        "Date,Adj Close,Close,High,Low,Open,Volume\n2018-01-05,,,,,,\n"
        "2018-01-06,1.5,1.5,1.6,1.4,1.5,100\n2018-01-07,1.6,1.6,1.7,1.5,1.5,100\n"
    )
    return root


def test_readers_detect_layouts_from_content(tmp_path: Path) -> None:
    root = _universe_folder(tmp_path)
    kinds = {p.name: sniff_universe_layout(p) for p in sorted(root.rglob("*.*"))}
    assert kinds == {
        "weekly.json": "cmc_weekly",
        "monthly.csv": "cmc_monthly",
        "20180107.csv": "cmc_monthly_mcap",
        "prices_2025-08-05.csv": "coingecko_top100",
        "tickers.json": "auxiliary",
        "eos.csv": "coingecko_coin",
        "XEM-USD-1d.csv": None,  # a Yahoo layout: read by the CSV path, then taken as a coin
    }
    weekly = read_universe_file(root / "universe" / "weekly.json")
    snap = weekly.snapshots
    assert snap is not None and len(snap) == 3  # the known-wrong week 2024-01-21 dropped
    assert weekly.notes and "2024-01-21" in weekly.notes[0]
    btc = snap.iloc[0]
    assert (btc["symbol"], btc["name"], btc["date"]) == (
        "BTC",
        "Bitcoin",
        pd.Timestamp("2017-12-17"),
    )
    assert btc["market_cap"] == pytest.approx(320_580_000_000.0)
    assert btc["price"] == pytest.approx(19_140.76)
    mcap = read_universe_file(root / "universe" / "mcap" / "20180107.csv").snapshots
    assert mcap is not None and mcap["rank"].tolist() == [1, 2, 3]
    assert (mcap["date"] == pd.Timestamp("2018-01-07")).all()
    coin = read_universe_file(root / "dead" / "eos.csv").prices
    assert coin is not None and coin.coin_id == "eos" and coin.frame["close"].iloc[-1] == 9.0
    aux = read_universe_file(root / "universe" / "tickers.json")
    assert aux.auxiliary is not None and "not a series" in aux.auxiliary


def test_readers_refuse_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "w.json"
    good = _weekly_line(1, "BTC", "Bitcoin", "$1.00", "$1.00", "2017-12-17")
    bad.write_text(good + "\n" + good.replace('"$1.00"', '"lots"', 1) + "\n")
    with pytest.raises(DataError, match=r"w\.json:2: Market Cap 'lots' is not an amount"):
        read_universe_file(bad)
    far = json.loads(good) | {"date": 10**17}  # no Timestamp holds it: refused on its line
    bad.write_text(good + "\n" + json.dumps(far) + "\n")
    with pytest.raises(DataError, match=r"w\.json:2: Rank 1 or date 100000000000000000 is not"):
        read_universe_file(bad)
    csv = tmp_path / "20180107.csv"
    csv.write_text("coin,mkt_cap\nBTC,1e11\nXEM,abc\n")
    with pytest.raises(DataError, match=r"20180107\.csv:3: mkt_cap 'abc' is not a number"):
        read_universe_file(csv)
    csv.write_text("coin,mkt_cap\nBTC,1e11\nXEM,\nETH,nan\n")  # blank = no value, "nan" refused
    with pytest.raises(DataError, match=r"20180107\.csv:4: mkt_cap 'nan' is not a number"):
        read_universe_file(csv)
    top = tmp_path / "prices_2025-08-05.csv"
    top.write_text("rank,name,symbol,price\n1,Bitcoin,btc,$1\n2.5,Ether,eth,$2\n")
    with pytest.raises(DataError, match=r"prices_2025-08-05\.csv:3: rank '2\.5' is not an integer"):
        read_universe_file(top)
    undated = tmp_path / "caps.csv"
    undated.write_text("coin,mkt_cap\nBTC,1e11\n")
    with pytest.raises(DataError, match=r"file name, which must contain a date like 20180107"):
        read_universe_file(undated)
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"not a crypto-universe layout; accepted: CoinMarketCap"):
        read_universe_file(other)


def _rows(records: list[tuple[str, int, str, str, float, float]], source: str) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["date", "rank", "symbol", "name", "market_cap", "price"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["source"] = source
    frame["coin_id"] = ""
    return frame[list(SNAPSHOT_COLUMNS)]


def test_coin_identity_follows_name_symbol_and_date() -> None:
    rows = _rows(
        [
            ("2022-05-01", 2, "LUNA", "Terra", 2.8e10, 82.0),
            ("2022-10-01", 3, "LUNA", "Terra", 4e8, 2.1),
            ("2022-10-01", 2, "LUNC", "Terra Classic", 1.5e9, 0.0002),
            ("2015-07-26", 5, "ETC", "Ethercoin", 1e6, 0.1),
            ("2020-01-01", 6, "ETC", "Ethereum Classic", 5e8, 4.0),
            ("2017-12-17", 3, "XEM", "NEM", 9e9, 1.0),
            ("2018-01-07", 4, "XEM", "", 1.6e10, np.nan),  # symbol only
            ("2018-01-07", 5, "ZZZ", "", 1e9, np.nan),  # unknown, symbol only
        ],
        "test",
    )
    ids = assign_coin_ids(rows)["coin_id"].tolist()
    assert ids == [
        "terra-luna", "terra-luna-2", "terra-luna", "ethercoin", "ethereum-classic", "nem",
        "nem", "zzz",
    ]  # fmt: skip
    assert coin_series_id("terra-luna-2") == "coin_terra_luna_2"
    with pytest.raises(DataError, match=r"coin id '---' has no letters or digits"):
        coin_series_id("---")


@pytest.mark.parametrize(
    "symbol", ["USD1", "PYUSD", "FDUSD", "USDE", "USDS", "RLUSD", "USDT-USD", "WBTC", "STETH"]
)
def test_listed_stablecoins_and_wrapped_tokens(symbol: str) -> None:
    assert is_excluded_symbol(symbol)


def test_price_tests_catch_unlisted_stablecoins_and_wrapped_tokens() -> None:
    days = ["2021-01-03", "2021-01-10", "2021-01-17", "2021-01-24"]
    recs = []
    for d in days:
        recs += [
            (d, 1, "BTC", "Bitcoin", 6e11, 30000.0),
            (d, 2, "NEWS", "Newcoin Stable", 5e9, 1.001),  # unlisted, name gives nothing
            (d, 3, "XBTX", "Some Bitcoin", 4e9, 30100.0),  # tracks BTC
            (d, 4, "ALT", "Altcoin", 3e9, 1.0 + 0.2 * days.index(d)),
        ]
    rows = assign_coin_ids(_rows(recs, "test"))
    why = excluded_mask(rows)
    news = why[rows["symbol"] == "NEWS"].tolist()
    assert news[0] == ""  # one price is not evidence: known only on the second
    assert all("stablecoin (price within" in r for r in news[1:])
    xbtx = why[rows["symbol"] == "XBTX"].tolist()
    assert xbtx[:2] == ["", ""] and all("wrapped or staked" in r for r in xbtx[2:])
    assert (why[rows["symbol"].isin(["BTC", "ALT"])] == "").all()


def test_membership_as_of_a_date(tmp_path: Path) -> None:
    rows = assign_coin_ids(
        pd.concat(
            [
                _rows([("2018-01-07", i + 1, s, "", c, np.nan) for i, (s, c) in enumerate(
                    [("BTC", 3e11), ("XRP", 1.3e11), ("XEM", 1.6e10), ("EOS", 7e9), ("USDT", 1e9)]
                )], "cmc_monthly_mcap"),
                _rows([("2018-01-14", 1, "BTC", "Bitcoin", 2.5e11, 14000.0),
                       ("2018-01-14", 2, "XRP", "XRP", 1e11, 1.8)], "cmc_weekly"),
            ]
        ).reset_index(drop=True)
    )  # fmt: skip
    m = membership(rows, "2018-01-10")
    assert m.snapshot_date == pd.Timestamp("2018-01-07") and m.top_n == 5
    assert m.frame["symbol"].tolist() == ["BTC", "XRP", "XEM", "EOS", "USDT"]
    assert m.alts()["symbol"].tolist() == ["XRP", "XEM", "EOS"]  # no BTC, no stablecoin
    # a week later the fresher weekly list holds 2 ranks: it is used when it is deep enough
    assert membership(rows, "2018-01-14", top_n=2).source == "cmc_weekly"
    assert membership(rows, "2018-01-14").source == "cmc_monthly_mcap"  # deepest by default
    assert membership(rows, "2017-12-31").snapshot_date is None
    with pytest.raises(DataError, match=r"top_n must be a positive integer or None, got 0"):
        membership(rows, "2018-01-10", top_n=0)


_SYMS = ("BTC", "ETH", "XRP", "XEM", "EOS", "LUNA", "USDT", "NEWS")


@st.composite
def _snapshots(draw: st.DrawFn) -> pd.DataFrame:
    recs = []
    start = pd.Timestamp("2020-01-05")
    for source, step in (("cmc_weekly", 7), ("cmc_monthly", 30), ("coingecko_top100", 1)):
        n = draw(st.integers(0, 12))
        offsets = sorted(draw(st.sets(st.integers(0, 200), min_size=n, max_size=n)))
        for off in offsets:
            day = start + pd.Timedelta(days=off * step % 400)
            coins = draw(st.permutations(_SYMS))[: draw(st.integers(1, len(_SYMS)))]
            for rank, sym in enumerate(coins, start=1):
                price = draw(st.sampled_from([1.0, 1.001, 50.0, 300.0]))
                recs.append((day, rank, sym, "", 10.0 ** (12 - rank), price, source))
    frame = pd.DataFrame(
        recs, columns=["date", "rank", "symbol", "name", "market_cap", "price", "source"]
    ).drop_duplicates(["source", "date", "rank"])
    frame["coin_id"] = frame["symbol"].str.lower()
    return frame[list(SNAPSHOT_COLUMNS)].reset_index(drop=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snaps=_snapshots(), day=st.integers(0, 420), top=st.one_of(st.none(), st.integers(1, 6)))
def test_membership_is_point_in_time(snaps: pd.DataFrame, day: int, top: int | None) -> None:
    t = pd.Timestamp("2020-01-05") + pd.Timedelta(days=day)
    truncated = snaps[snaps["date"] <= t]
    full = membership(snaps, t, top)
    cut = membership(truncated, t, top)
    pd.testing.assert_frame_equal(full.frame, cut.frame)
    assert (full.snapshot_date, full.source, full.top_n) == (
        cut.snapshot_date,
        cut.source,
        cut.top_n,
    )
    if len(snaps):
        whole = membership_schedule(snaps, top)
        upto = membership_schedule(snaps, top, end=t)
        head = whole.loc[whole.index <= t].dropna(axis=1, how="all")
        pd.testing.assert_frame_equal(
            head,
            upto.dropna(axis=1, how="all"),
            check_like=True,
            check_freq=False,
            check_column_type=False,
        )


def test_import_store_and_view(tmp_path: Path) -> None:
    root = _universe_folder(tmp_path / "data")
    with Store(tmp_path / "s.duckdb") as store:
        report = import_paths(store, default_catalog(), [root])
        assert report.ok and not report.unsupported
        assert [p.name for p, _ in report.unmatched] == ["tickers.json"]
        assert "auxiliary" in report.unmatched[0][1]
        assert any("2024-01-21" in n for _, n in report.notes)
        ids = {f.series_id for f in report.loaded}
        assert {"universe", "coin_eos", "coin_nem"} <= ids
        snaps = store.read_universe()
        luna = snaps[snaps["symbol"].isin(["LUNA", "LUNC"])]
        assert luna.set_index(["date", "symbol"])["coin_id"].to_dict() == {
            (pd.Timestamp("2022-05-01"), "LUNA"): "terra-luna",
            (pd.Timestamp("2022-10-01"), "LUNC"): "terra-luna",
            (pd.Timestamp("2022-10-01"), "LUNA"): "terra-luna-2",
        }
        # the CoinGecko 00:00 UTC price of 01-08 is the close of 01-07; Yahoo's close is kept
        prices = load_coin_prices(store)
        assert prices.close.loc["2018-01-07", "eos"] == 9.0
        assert prices.source.loc["2018-01-07", "nem"] == "yahoo"
        view = universe_view(store, as_of=pd.Timestamp("2018-01-07"))
        frame = view.to_frame().set_index("symbol")
        assert frame.loc["XEM", "priced"] and frame.loc["EOS", "price_source"] == "coingecko"
        assert frame.loc["XEM", "market_cap"] == pytest.approx(16_584_480_000)
        assert view.coverage == 1.0 and view.to_json()["snapshot_date"] == "2018-01-07"
        again = import_paths(store, default_catalog(), [root])
        assert sum(f.added for f in again.loaded) == 0
        with pytest.raises(
            DataError, match=r"no crypto-universe snapshot in the store on or before"
        ):
            universe_view(store, as_of=pd.Timestamp("2010-01-01"))


def test_bad_universe_file_is_refused_in_a_folder_scan(tmp_path: Path) -> None:
    (tmp_path / "20180107.csv").write_text("coin,mkt_cap\nBTC,oops\n")
    with Store(":memory:") as store:
        report = import_paths(store, default_catalog(), [tmp_path])
    assert not report.ok and "20180107.csv:2" in report.errors[0][1]


def test_universe_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from liqflow.cli.main import app, main

    root = _universe_folder(tmp_path / "data")
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(root), "--store", db]).exit_code == 0
    out = runner.invoke(app, ["universe", "--as-of", "2018-01-07", "--json", "--store", db])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [m["symbol"] for m in doc["members"]] == ["BTC", "XEM", "EOS"]
    assert doc["top_n_default"] is True and doc["coverage"] == 1.0
    csv = runner.invoke(
        app, ["universe", "--as-of", "2018-01-07", "--top", "2", "--csv", "--store", db]
    )
    assert (
        csv.output.splitlines()[0].startswith("rank,coin_id,symbol")
        and len(csv.output.splitlines()) == 3
    )
    table = runner.invoke(
        app, ["universe", "--as-of", "2018-01-07", "--store", db], env={"COLUMNS": "200"}
    )
    assert "nem" in table.output and "coverage" in table.output
    with pytest.raises(SystemExit) as exc:
        main(["universe", "--json", "--csv", "--store", db])
    assert exc.value.code == 1


@pytest.mark.realdata
def test_real_universe_as_of_2018_01_07(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        report = import_paths(store, default_catalog(), [shared_data / "crypto"])
        assert report.ok
        listed = {p for p, _ in report.unmatched} | {f.path for f in report.loaded}
        for sub in ("universe", "dead_coins"):
            for path in (shared_data / "crypto" / sub).rglob("*.*"):
                assert path in listed, path
        view = universe_view(store, as_of=pd.Timestamp("2018-01-07"), top_n=30)
        bias = survivorship_bias_from_store(store)
    assert bias is not None and bias.start is not None
    measured = bias.to_frame()
    # today's list (coins that survived) beats the point-in-time top 18 on the same days
    assert measured.loc["annual_return", "difference"] > 0.1
    assert measured.loc["days", "point_in_time"] > 2000
    f = view.to_frame().set_index("symbol")
    assert f.loc["XEM", "rank"] == 6 and f.loc["XEM", "market_cap"] == pytest.approx(
        16.58e9, rel=1e-3
    )
    assert f.loc["EOS", "market_cap"] == pytest.approx(7.38e9, rel=1e-3)
    assert (
        f.loc["EOS", "priced"]
        and f.loc["XEM", "priced"]
        and f.loc["BCC", "coin_id"] == "bitconnect"
    )
    assert view.coverage > 0.8


_COIN_HEAD = "date,price,total_volume,market_cap,coin_name\n"
_COIN_CASES = {
    "plain": "2022-01-01 00:00:00.000,1.5,10,100,eos\n2022-01-02 00:00:00.000,1.25,,0,eos\n",
    "money": "2022-01-01,$1.5,10,100,eos\n",
    "spaces": "2022-01-01, 1.5, 10, 100, eos\n",
    "blank line": "2022-01-01,1.5,10,100,eos\n\n2022-01-02,1.5,10,100,eos\n",
    "nan literal": "2022-01-01,nan,10,100,eos\n",
    "bad date": "2022-1-1,1.5,10,100,eos\n",
    "two coins": "2022-01-01,1.5,10,100,eos\n2022-01-02,1.5,10,100,neo\n",
    "short line": "2022-01-01,1.5,10,eos\n",
    "quoted": '2022-01-01,"1.5",10,100,eos\n',
}


@pytest.mark.parametrize("case", sorted(_COIN_CASES))
def test_coin_file_one_pass_read_equals_the_cell_by_cell_read(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liqflow.providers import universe_files

    path = tmp_path / "coin.csv"
    path.write_text(_COIN_HEAD + _COIN_CASES[case])

    def outcome() -> object:
        try:
            prices = read_universe_file(path, "coingecko_coin").prices
        except DataError as exc:
            return str(exc)
        assert prices is not None
        return prices.coin_id, prices.frame

    fast = outcome()
    if case == "plain":
        assert universe_files._plain_coin_frame(path) is not None
    monkeypatch.setattr(universe_files, "_plain_coin_frame", lambda p: None)
    checked = outcome()
    if isinstance(checked, str):
        assert fast == checked
    else:
        assert isinstance(fast, tuple) and fast[0] == checked[0]  # type: ignore[index]
        pd.testing.assert_frame_equal(fast[1], checked[1], check_exact=True)  # type: ignore[index]


def _price_verdicts_by_row(snaps: pd.DataFrame) -> list[str]:
    """The price tests of :func:`excluded_mask`, row by row from their definition."""
    positive = snaps[snaps["price"] > 0]
    pegs = {
        cid: positive[positive["coin_id"] == cid].groupby(["source", "date"])["price"].first()
        for cid in ("bitcoin", "ethereum")
    }
    out = []
    for _, row in snaps.iterrows():
        mine = positive[(positive["coin_id"] == row["coin_id"]) & (positive["date"] <= row["date"])]
        n = len(mine)
        usd = tracks = tight = 0
        for _, p in mine.iterrows():
            usd += abs(p["price"] - 1.0) <= STABLE_BAND
            tight += abs(p["price"] - 1.0) <= 0.005
            tracks += any(
                abs(p["price"] / peg[(p["source"], p["date"])] - 1.0) <= STABLE_BAND
                for peg in pegs.values()
                if (p["source"], p["date"]) in peg.index
            )
        stable = (n >= 3 and usd / n >= STABLE_SHARE) or (n >= 2 and tight == n)
        wrapped = n >= 3 and tracks / n >= STABLE_SHARE
        exempt = row["coin_id"] in ("bitcoin", "ethereum")
        out.append("stable" if stable else "wrapped" if wrapped and not exempt else "")
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snaps=_snapshots())
def test_price_tests_equal_their_row_by_row_definition(snaps: pd.DataFrame) -> None:
    snaps = snaps.assign(
        coin_id=snaps["coin_id"].replace({"btc": "bitcoin", "eth": "ethereum"}),
        symbol=snaps["symbol"].replace({"USDT": "ZZZ"}),  # not listed: the prices decide
    )
    snaps.loc[snaps["symbol"] == "NEWS", "price"] = np.nan  # never priced
    # LUNA tracks BTC: BTC's price in the same snapshot, within 1 %
    btc = snaps[snaps["coin_id"] == "bitcoin"].groupby(["source", "date"])["price"].first()
    luna = snaps["symbol"] == "LUNA"
    cells = pd.MultiIndex.from_arrays([snaps.loc[luna, "source"], snaps.loc[luna, "date"]])
    snaps.loc[luna, "price"] = (btc.reindex(cells).to_numpy() * 1.01).tolist()
    why = excluded_mask(snaps)
    got = ["stable" if w.startswith("stablecoin") else "wrapped" if w else "" for w in why]
    assert got == _price_verdicts_by_row(snaps)
