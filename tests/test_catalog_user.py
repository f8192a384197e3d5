"""The user catalogue ($LIQFLOW_HOME/catalog.toml), symbol and case-insensitive lookup,
and ``liqflow add-series``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow._errors import CatalogError, ConfigError
from liqflow.catalog import Catalog, SeriesSpec, default_catalog, load_catalog, user_catalog_path
from liqflow.catalog._user import add_series, entry_text, id_from_symbol, read_catalog_file
from liqflow.cli.main import app, main

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIQFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "sid"),
    [
        ("fed_assets", "fed_assets"),
        ("FED_ASSETS", "fed_assets"),
        ("BTC", "btc"),
        ("WALCL", "fed_assets"),
        ("walcl", "fed_assets"),
        ("^RUT", "small_caps"),
        ("rut", "small_caps"),
        ("IWM", "small_caps_volume"),
        ("BTC-USD", "btc"),
        ("TON11419-USD", "ton"),
        ("BAMLH0A0HYM2", "hy_spread"),
    ],
)
def test_ids_in_any_case_and_fred_or_yahoo_symbols_resolve(key: str, sid: str) -> None:
    cat = default_catalog()
    assert cat.resolve(key) == sid
    assert cat[key].id == sid and key in cat


def test_only_fred_and_yahoo_symbols_are_accepted() -> None:
    cat = default_catalog()
    # ccxt, CoinGecko and Treasury symbols are not ids: "tether" is a coin's name too
    for key in ("BTC/USDT", "tether", "global", "operating_cash_balance"):
        assert key not in cat
        with pytest.raises(CatalogError, match=f"unknown series '{key}'; known series:"):
            cat[key]
    assert list(cat) == list(default_catalog()._specs)  # iteration: canonical ids only
    assert "WALCL" not in list(cat)


def test_an_id_wins_over_a_symbol_and_a_shared_symbol_is_ambiguous() -> None:
    base = default_catalog()
    cat = base.merged(
        [
            SeriesSpec("spy_copy", "yahoo", "SPY"),
            SeriesSpec("walcl_a", "fred", "WALCL2"),
            SeriesSpec("walcl_b", "fred", "WALCL2"),
        ]
    )
    assert cat.resolve("SPY") == "spy"  # the id spy, not the other series with symbol SPY
    with pytest.raises(CatalogError, match=r"symbol 'WALCL2' belongs to several series"):
        cat.resolve("WALCL2")


def test_a_non_string_key_is_not_in_the_catalogue() -> None:
    assert 3 not in default_catalog()


# --- the user catalogue -----------------------------------------------------------------


def test_the_user_catalogue_is_merged_over_the_default(home: Path) -> None:
    assert user_catalog_path() == home / "catalog.toml"
    assert set(load_catalog()) == set(default_catalog())  # no file: the built-in one
    _write(
        home,
        '[series.dgs30]\nprovider = "fred"\nsymbol = "DGS30"\nrelease_lag = "1B"\n'
        '[series.vix]\nrelease_lag = "0D"\n',
    )
    cat = load_catalog()
    assert cat["DGS30"].id == "dgs30" and cat["dgs30"].release_lag == "1B"
    assert cat["vix"].release_lag == "0D" and cat["vix"].symbol == "VIXCLS"
    assert set(cat) - set(default_catalog()) == {"dgs30"}


def test_an_explicit_catalogue_is_used_instead_of_the_user_one(home: Path, tmp_path: Path) -> None:
    _write(home, '[series.dgs30]\nprovider = "fred"\nsymbol = "DGS30"\n')
    other = tmp_path / "other.toml"
    other.write_text('[series.ewj]\nprovider = "yahoo"\nsymbol = "EWJ"\n', encoding="utf-8")
    cat = load_catalog(other)
    assert "ewj" in cat and "dgs30" not in cat


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[series.x]\nprovider = "fred"\nsymbol = "X"\nscale = "big"\n',
            "key 'scale' must be a number, got 'big'",
        ),
        ('[series.x]\nprovider = "fred"\nsymbol = 7\n', "key 'symbol' must be a string, got 7"),
        (
            '[series.x]\nprovider = "fred"\nsymbol = "X"\nfields = "value"\n',
            "key 'fields' must be a list of strings",
        ),
        (
            '[series.x]\nprovider = "bloomberg"\nsymbol = "X"\n',
            r"\[series.x\]: series 'x': provider must be one of",
        ),
        (
            '[series.x]\nprovider = "fred"\nsymbol = "X"\nrelease_lag = "2 days"\n',
            r"\[series.x\]: series 'x': release_lag must look like",
        ),
        (
            '[series.x]\nprovider = "fred"\nsymbol = "X"\ncolour = "red"\n',
            r"\[series.x\] has unknown keys \['colour'\]",
        ),
        ("[series.x\n", "is not valid TOML"),
        ("series = 3\n", "'series' must be a table of \\[series.<name>\\] tables"),
        ('[chains.c]\nstages = [["nope"]]\n', "chain 'c' names unknown series 'nope'"),
    ],
)
def test_a_broken_user_catalogue_is_one_line_naming_the_file_and_key(
    home: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(home, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_catalog()
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SystemExit) as exc:
        main(["series", "--store", str(home / "s.duckdb")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert str(path) in " ".join(err.split()) and "Traceback" not in err


def test_every_command_reads_the_user_catalogue(home: Path, tmp_path: Path) -> None:
    _write(home, '[series.dgs30]\nprovider = "fred"\nsymbol = "DGS30"\ndescription = "30y"\n')
    csv = tmp_path / "DGS30.csv"
    csv.write_text("observation_date,DGS30\n2024-01-02,4.1\n2024-01-03,4.2\n", encoding="utf-8")
    store = str(tmp_path / "s.duckdb")
    env = {"COLUMNS": "200"}
    imported = runner.invoke(app, ["import", str(csv), "--store", store], env=env)
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(app, ["series", "--store", store], env=env)
    assert "dgs30" in listed.stdout
    for key in ("dgs30", "DGS30"):
        shown = runner.invoke(app, ["show", key, "--store", store], env=env)
        assert shown.exit_code == 0, shown.output
        assert "dgs30: 30y; source fred" in shown.stdout and "2024-01-03" in shown.stdout


def test_show_accepts_a_fred_symbol_for_a_builtin_series(tmp_path: Path) -> None:
    csv = tmp_path / "fed_assets.csv"
    csv.write_text("date,value\n2024-01-03,7700000\n2024-01-10,7690000\n", encoding="utf-8")
    store = str(tmp_path / "s.duckdb")
    env = {"COLUMNS": "200"}
    assert runner.invoke(app, ["import", str(csv), "--store", store], env=env).exit_code == 0
    shown = runner.invoke(app, ["show", "WALCL", "--store", store], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.lstrip().startswith("fed_assets") and "2024-01-10" in shown.stdout


# --- add-series ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "sid"),
    [("DGS30", "dgs30"), ("^VIX", "vix"), ("ETH/USDT", "eth_usdt"), ("0700.HK", "s0700_hk")],
)
def test_ids_from_symbols(symbol: str, sid: str) -> None:
    assert id_from_symbol(symbol) == sid


def test_add_series_writes_an_entry_every_command_then_knows(home: Path) -> None:
    result = runner.invoke(
        app,
        ["add-series", "dgs30", "--provider", "fred", "--stage", "credit"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    path = home / "catalog.toml"
    assert f"added dgs30 (fred DGS30, group credit, release lag 1B) to {path}" in " ".join(
        result.stdout.split()
    )
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert doc["series"]["dgs30"] == {
        "provider": "fred",
        "symbol": "DGS30",
        "release_lag": "1B",
        "group": "credit",
    }
    assert load_catalog()["DGS30"].group == "credit"
    ccxt = runner.invoke(
        app, ["add-series", "sol/usdt", "--provider", "ccxt", "--exchange", "kraken"]
    )
    assert ccxt.exit_code == 0, ccxt.output
    spec = load_catalog()["sol_usdt"]
    assert (spec.symbol, spec.unit, spec.group) == ("SOL/USDT", "USDT", "crypto")
    assert spec.options == {"exchange": "kraken"} and "volume" in spec.fields


def test_add_series_never_clobbers_without_force(home: Path) -> None:
    path = _write(home, '# my series\n[series.dgs30]\nprovider = "fred"\nsymbol = "DGS30"\n')
    before = path.read_text(encoding="utf-8")
    spec = SeriesSpec("dgs30", "fred", "DGS30", group="credit")
    with pytest.raises(
        CatalogError,
        match=r"series 'dgs30' is already in the catalogue \(fred 'DGS30'\); pass --force",
    ):
        add_series(spec)
    with pytest.raises(
        CatalogError, match=r"series 'vix' is already in the catalogue \(fred 'VIXCLS'\)"
    ):
        add_series(SeriesSpec("vix", "yahoo", "^VIX"))
    with pytest.raises(
        CatalogError, match=r"fred symbol 'WALCL' is already the series 'fed_assets'"
    ):
        add_series(SeriesSpec("walcl", "fred", "WALCL"))
    assert path.read_text(encoding="utf-8") == before
    add_series(spec, force=True)  # replaces the file's own entry, keeps the rest
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my series\n") and text.count("[series.dgs30]") == 1
    assert load_catalog()["dgs30"].group == "credit"


def test_forcing_over_a_builtin_series_writes_every_key(home: Path) -> None:
    add_series(SeriesSpec("vix", "yahoo", "^VIX", fields=("close",), unit="index"), force=True)
    spec = load_catalog()["vix"]
    assert (spec.provider, spec.symbol, spec.fields, spec.description) == (
        "yahoo",
        "^VIX",
        ("close",),
        "",
    )
    assert 'description = ""' in entry_text(spec, full=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["a b", "--provider", "fred"],
            "fred symbol must be letters, digits and '_' (e.g. DGS30), got 'a b'",
        ),
        (["SOLUSDT", "--provider", "ccxt"], "ccxt symbol must be a ccxt market BASE/QUOTE"),
        (
            ["X", "--provider", "bloomberg"],
            "--provider must be one of ['ccxt', 'fred', 'yahoo'], got 'bloomberg'",
        ),
        (["X", "--provider", "fred", "--id", "9x"], "series id must be lower-case letters"),
        (["X", "--provider", "fred", "--stage", "bonds"], "group must be one of"),
        (
            ["X", "--provider", "fred", "--exchange", "kraken"],
            "--exchange applies to --provider ccxt only",
        ),
        (["X", "--provider", "fred", "--release-lag", "soon"], "release_lag must look like"),
    ],
)
def test_add_series_refuses_bad_input_in_one_line(
    home: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["add-series", *args])
    assert exc.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err
    assert not (home / "catalog.toml").exists()


def test_add_series_leaves_a_broken_file_alone(home: Path) -> None:
    path = _write(home, "[series.x\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        add_series(SeriesSpec("dgs30", "fred", "DGS30"))
    assert path.read_text(encoding="utf-8") == "[series.x\n"


def test_read_catalog_file_extends_a_given_base(tmp_path: Path) -> None:
    base = Catalog([SeriesSpec("a", "fred", "A")])
    path = tmp_path / "c.toml"
    path.write_text('[series.b]\nprovider = "fred"\nsymbol = "B"\n', encoding="utf-8")
    assert list(read_catalog_file(path, base)) == ["a", "b"]


def test_load_panel_takes_symbols_and_names_columns_by_id(tmp_path: Path) -> None:
    from liqflow.align import load_panel
    from liqflow.store import Batch, Store

    frame = pd.DataFrame(
        {"value": [7.7e6, 7.69e6]},
        index=pd.DatetimeIndex(["2024-01-03", "2024-01-10"], name="date"),
    )
    with Store(":memory:") as st:
        st.write([Batch("fed_assets", "fred", frame, "WALCL", "USD millions", "W", "test")])
        by_symbol = load_panel(st, ["WALCL"])
        by_id = load_panel(st, ["fed_assets"])
    assert list(by_symbol.columns) == ["fed_assets"]
    pd.testing.assert_frame_equal(by_symbol, by_id)
