"""``liqflow import``: matching, idempotence, refusals; the real data folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.align import load_panel
from liqflow.catalog import default_catalog
from liqflow.cli.main import app
from liqflow.importer import import_paths
from liqflow.store import Store

CAT = default_catalog()
runner = CliRunner()


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "fred").mkdir(parents=True, exist_ok=True)
    (root / "fred" / "WALCL.csv").write_text("date,value\n2021-01-06,7000000\n2021-01-13,7010000\n")
    (root / "fred" / "NFCI_download.csv").write_text("DATE,NFCI\n2021-01-08,-0.5\n")
    (root / "BTC-USD.csv").write_text(
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2021-01-01 00:00:00+00:00,1,2,0.5,29000,10,0,0\n"
    )
    (root / "LEO-USD.csv").write_text("Date,Close\n2021-01-01,1\n")
    (root / "USDT-USD.csv").write_text("Date,Close\n2021-01-01,1\n")
    return root


def test_folder_import_matches_by_name_and_header(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [_folder(tmp_path)])
        assert {(f.series_id, f.source) for f in report.loaded} == {
            ("fed_assets", "fred"),
            ("nfci", "fred"),
            ("btc", "yahoo"),
            ("coin_leo_token", "yahoo"),  # a coin outside the catalogue: the universe's prices
        }
        reasons = {p.name: r for p, r in report.unmatched}
        assert reasons["USDT-USD.csv"] == "stablecoin or wrapped token: excluded by rule"
        assert "LEO-USD.csv" not in reasons
        assert report.ok
        again = import_paths(store, CAT, [_folder(tmp_path)])
        assert sum(f.added for f in again.loaded) == 0


def _unknown_layouts(root: Path) -> tuple[Path, Path]:
    wide = root / "quotes.csv"
    wide.write_text("ticker,bid,ask\nAAPL,189.1,189.2\n")
    lines = root / "snapshots.json"
    lines.write_text('{"Rank": "1"}\n')
    return wide, lines


def test_folder_scan_lists_unknown_layouts_and_still_succeeds(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    wide, lines = _unknown_layouts(root)
    (root / "notes.txt").write_text("not data")
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [root])
        assert report.ok and len(report.loaded) == 4  # LEO-USD: a coin's prices
        assert {p for p, _ in report.unsupported} == {wide, lines}
        assert "unrecognised CSV header 'ticker,bid,ask'" in dict(report.unsupported)[wide]
    db = tmp_path / "s.duckdb"
    result = runner.invoke(app, ["import", str(root), "--store", str(db)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert f"{wide}: not imported (layout not supported yet)" in result.output
    assert "2 not imported (layout not supported yet), 0 refused" in result.output


def test_unknown_layout_named_explicitly_is_refused(tmp_path: Path) -> None:
    wide, lines = _unknown_layouts(tmp_path)
    db = tmp_path / "s.duckdb"
    for path in (wide, lines):
        result = runner.invoke(app, ["import", str(path), "--store", str(db)])
        assert result.exit_code == 1, result.output
        assert "refused" in result.output and "Traceback" not in result.output
    with Store(db) as store:
        assert store.row_count() == 0


def test_file_matching_a_layout_then_failing_is_refused_in_a_folder_scan(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _unknown_layouts(root)
    (root / "WTREGEN.csv").write_text("date,value\n2021-01-06,1600000\n2021-01-13,x\n")
    db = tmp_path / "s.duckdb"
    result = runner.invoke(app, ["import", str(root), "--store", str(db)])
    assert result.exit_code == 1
    assert "WTREGEN.csv:3" in result.output.replace("\n", "")


def test_user_text_in_paths_is_not_markup(tmp_path: Path) -> None:
    root = tmp_path / "[bold]x"
    root.mkdir()
    (root / "odd.csv").write_text("date,A,B\n2021-01-04,1,2\n")
    result = runner.invoke(
        app, ["import", str(root), "--store", str(tmp_path / "s.duckdb")], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0
    assert "[bold]x" in result.output


def test_corrupted_file_is_refused_whole_and_store_unchanged(tmp_path: Path) -> None:
    good = tmp_path / "WALCL.csv"
    good.write_text("date,value\n2021-01-06,7000000\n")
    bad = tmp_path / "WTREGEN.csv"
    bad.write_text("date,value\n2021-01-06,1600000\n2021-01-13,16OO000\n2021-01-20,1500000\n")
    with Store(tmp_path / "s.duckdb") as store:
        import_paths(store, CAT, [good])
        before = store.row_count()
        report = import_paths(store, CAT, [bad])
        assert not report.ok and report.loaded == ()
        assert "WTREGEN.csv:3: column 'value' is not a number" in report.errors[0][1]
        assert store.row_count() == before and store.sources("tga") == ()


def test_cli_import_refusal_is_one_line_and_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "WTREGEN.csv"
    bad.write_text("date,value\n2021-01-06,1600000\n2021-01-13,x\n")
    result = runner.invoke(app, ["import", str(bad), "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1
    assert "WTREGEN.csv:3" in result.output
    assert "Traceback" not in result.output


def test_cli_import_missing_path(tmp_path: Path) -> None:
    from liqflow.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["import", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s.duckdb")])
    assert exc.value.code == 1


def test_force_series_for_an_unmatched_file(tmp_path: Path) -> None:
    path = tmp_path / "my_export.csv"
    path.write_text("date,value\n2021-01-04,3.1\n")
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [path], series_id="hy_spread")
        assert report.loaded[0].series_id == "hy_spread"


@pytest.mark.realdata
def test_real_folder_import_then_series_and_net_liquidity(
    shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    result = runner.invoke(app, ["import", str(shared_data), "--store", str(db)])
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        rows = store.row_count()
        # the 2026 files extend FRED, ^GSPC and BTC in their own source; ^RUT's fresh bars
        # are the Interactive Brokers source beside Yahoo's (which stops in 2026-02)
        assert store.last_date("small_caps", "yahoo").strftime("%Y-%m") == "2026-02"
        assert store.last_date("small_caps", "ibkr").strftime("%Y-%m") == "2026-08"
        assert store.last_date("btc", "yahoo").strftime("%Y-%m") == "2026-08"
        assert store.last_date("fed_assets", "fred").strftime("%Y-%m") == "2026-08"
        panel = load_panel(store, ["fed_assets", "tga", "rrp"])
        raw = {sid: store.read(sid, "fred")["value"] for sid in ("fed_assets", "tga", "rrp")}
    again = runner.invoke(app, ["import", str(shared_data), "--store", str(db)])
    assert again.exit_code == 0
    with Store(db) as store:
        assert store.row_count() == rows
    # Net liquidity (USD millions) = WALCL - WTREGEN - 1000 * RRPONTSYD on every Wednesday
    # where all three were observed; the panel shows Wednesday's H.4.1 levels on Thursday.
    weds = (
        raw["fed_assets"]
        .index.intersection(raw["tga"].dropna().index)
        .intersection(raw["rrp"].dropna().index)
    )
    assert len(weds) > 400
    expected = raw["fed_assets"][weds] - raw["tga"][weds] - 1000 * raw["rrp"][weds]
    thursdays = weds + pd.Timedelta(days=1)
    nl = panel["fed_assets"] - panel["tga"]
    got = nl.reindex(thursdays).to_numpy() - 1000 * raw["rrp"][weds].to_numpy()
    pd.testing.assert_series_equal(pd.Series(got, index=weds), expected, check_names=False)
    assert (panel["rrp"].reindex(weds) == 1000 * raw["rrp"][weds]).all()
    series_out = runner.invoke(app, ["series", "--store", str(db)], env={"COLUMNS": "200"})
    assert "2026-02-23" in series_out.output and "2026-08-19" in series_out.output


# --- splicing, content-decided series and sources ------------------------------------------
def _oas(tmp_path: Path, recent: str) -> tuple[Path, Path]:
    old = tmp_path / "BAMLH0A0HYM2.csv"
    old.write_text("observation_date,BAMLH0A0HYM2\n2023-07-31,3.9\n2023-08-01,3.85\n")
    new = tmp_path / "volatility.csv"
    new.write_text(f"date,VIX,HY_OAS\n2023-08-01,13.0,{recent}\n2023-08-02,14.0,3.80\n")
    return old, new


def test_splice_extends_a_series_where_the_files_agree(tmp_path: Path) -> None:
    old, new = _oas(tmp_path, "3.85")
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [old, new])
        assert report.ok
        hy = store.read("hy_spread", "fred")["value"]
        assert hy.tolist() == [3.9, 3.85, 3.80]
        assert {(f.series_id, f.column) for f in report.loaded} >= {("hy_spread", "HY_OAS")}


def test_splice_that_disagrees_is_refused_naming_dates_values_and_lines(tmp_path: Path) -> None:
    old, new = _oas(tmp_path, "3.86")
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [old, new])
        assert not report.ok
        ((path, why),) = report.errors
        assert path == new
        assert "splice refused: hy_spread (fred) field 'value' disagrees on 1 of 1" in why
        assert f"2023-08-01: {old}:3 says 3.85, {new}:2 says 3.86" in why
        # the file is refused whole: its VIX column is not written either
        assert store.sources("vix") == () and store.sources("hy_spread") == ("fred",)
    result = runner.invoke(app, ["import", str(old), str(new), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 1 and "splice refused" in result.output


def test_revised_series_are_vintages_not_a_splice(tmp_path: Path) -> None:
    a = tmp_path / "NFCI.csv"
    a.write_text("DATE,NFCI\n2023-01-06,-0.31\n")
    b = tmp_path / "liq.csv"
    b.write_text("date,NFCI,WALCL\n2023-01-06,-0.35,\n2023-01-13,-0.36,8500000\n")
    with Store(":memory:") as store:
        assert import_paths(store, CAT, [a, b]).ok
        assert store.read("nfci", "fred")["value"].tolist() == [-0.35, -0.36]


def _bars(path: Path, rows: list[tuple[str, float, float]], lower: bool = False) -> Path:
    head = "date,open,high,low,close,volume" if lower else "Date,Open,High,Low,Close,Volume"
    path.write_text(
        head + "\n" + "".join(f"{d},{c},{c},{c},{c},{v}\n" for d, c, v in rows), encoding="utf-8"
    )
    return path


def test_crypto_bars_captured_during_the_day_are_tolerated(tmp_path: Path) -> None:
    old = _bars(tmp_path / "BTC_daily.csv", [("2024-01-01", 100.0, 5), ("2024-01-02", 101.0, 5)])
    new = _bars(
        tmp_path / "marketlab_BTC_USD.csv",
        [("2024-01-01", 100.0, 5), ("2024-01-02", 101.5, 9), ("2024-01-03", 103.0, 9)],
        lower=True,
    )
    with Store(":memory:") as store:
        assert import_paths(store, CAT, [old, new]).ok
        # the file reaching further wins on the day the other one captured mid-session
        assert store.read("btc", "yahoo")["close"].tolist() == [100.0, 101.5, 103.0]
    far = _bars(tmp_path / "BTC-USD.csv", [("2024-01-02", 110.0, 5)])
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [old, far])
        assert "relative tolerance 0.02" in report.errors[0][1]


def test_fund_exports_keep_their_adjustment_base_apart(tmp_path: Path) -> None:
    old = _bars(tmp_path / "IWM_daily.csv", [("2024-01-02", 190.0, 10), ("2024-01-03", 191.0, 11)])
    new = _bars(
        tmp_path / "marketlab_IWM.csv",
        [("2024-01-02", 189.0, 10), ("2026-08-21", 299.0, 12)],
        lower=True,
    )
    index = _bars(tmp_path / "marketlab_GSPC.csv", [("2024-01-02", 4700.0, 1)], lower=True)
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [old, new, index])
        assert report.ok
        got = {(f.path.name, f.series_id, f.source) for f in report.loaded}
        assert got == {
            ("IWM_daily.csv", "small_caps_volume", "yahoo"),
            ("marketlab_IWM.csv", "small_caps_volume", "yahoo_adj2026"),
            ("marketlab_GSPC.csv", "large_caps", "yahoo"),
        }
        panel = load_panel(store, ["small_caps_volume"])
        assert panel["small_caps_volume.close"].dropna().iloc[0] == 189.0  # one base only


def test_file_name_words_pick_a_series_that_stores_the_file_fields(tmp_path: Path) -> None:
    _bars(tmp_path / "marketlab_VIX.csv", [("2024-01-02", 13.0, 0)], lower=True)
    rut = tmp_path / "heliar_RUT_daily_ibkr.csv"
    rut.write_text("date,open,high,low,close,volume,wap,count\n2024-01-02,1,2,1,2,0,0,1\n")
    fund = tmp_path / "binance_ETHUSDT_funding_8h.csv"
    fund.write_text("timestamp,rate\n2024-01-02 00:00:00,0.0001\n")
    with Store(":memory:") as store:
        report = import_paths(store, CAT, [tmp_path])
        got = {(f.path.name, f.series_id, f.source) for f in report.loaded}
        assert got == {
            ("heliar_RUT_daily_ibkr.csv", "small_caps", "ibkr"),
            ("binance_ETHUSDT_funding_8h.csv", "eth_funding", "ccxt:binance"),
        }
        # ^VIX bars are not the FRED VIXCLS value series
        assert [p.name for p, _ in report.unmatched] == ["marketlab_VIX.csv"]
        assert store.read("small_caps", "ibkr").columns.tolist() == ["close", "high", "low", "open"]


def test_cli_lists_columns_not_imported_and_import_only_series(tmp_path: Path) -> None:
    wide = tmp_path / "rates.csv"
    wide.write_text("date,DGS10,SOFR\n2024-01-02,3.9,5.3\n")
    db = tmp_path / "s.duckdb"
    env = {"COLUMNS": "300"}
    result = runner.invoke(app, ["import", str(tmp_path), "--store", str(db)], env=env)
    assert result.exit_code == 0, result.output
    assert f"{wide}: columns not imported (no catalogue series): SOFR" in result.output
    assert "rates.csv [DGS10]" in result.output
    listing = runner.invoke(app, ["series", "--store", str(db)], env=env)
    line = next(ln for ln in listing.output.splitlines() if "etf_flows" in ln)
    assert "import only" in line
