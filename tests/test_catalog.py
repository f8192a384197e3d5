"""The catalogue: built-in series, exclusion rules, user TOML overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqflow._errors import CatalogError, ConfigError
from liqflow.catalog import SeriesSpec, default_catalog, is_excluded_coin, load_catalog


def test_builtin_chain_series_and_lags() -> None:
    cat = default_catalog()
    for sid, symbol in [
        ("fed_assets", "WALCL"),
        ("fed_bills", "WSHOBL"),
        ("tga", "WTREGEN"),
        ("rrp", "RRPONTSYD"),
        ("hy_spread", "BAMLH0A0HYM2"),
        ("ig_spread", "BAMLC0A0CM"),
        ("baa_spread", "BAA10Y"),
        ("large_caps", "^GSPC"),
        ("small_caps", "^RUT"),
        ("small_caps_volume", "IWM"),
        ("btc", "BTC-USD"),
    ]:
        assert cat[sid].symbol == symbol
    assert cat["fed_assets"].release_lag == "1D"  # H.4.1: Thursday 4:30 pm ET for Wednesday levels
    assert cat["rrp"].release_lag == "0D" and cat["rrp"].scale == 1000.0
    assert cat["hy_spread"].release_lag == "1B"
    assert cat["small_caps_volume"].primary_field == "volume"
    assert cat["small_caps"].primary_field == "close"
    alts = cat.altcoins()
    assert {
        "eth",
        "xrp",
        "ltc",
        "ada",
        "doge",
        "sol",
        "bnb",
        "link",
        "dot",
        "avax",
        "trx",
        "bch",
    } <= set(alts)
    assert "btc" not in alts


@pytest.mark.parametrize("symbol", ["USDT-USD", "USDC", "DAI/USDT", "WBTC", "STETH-USD", "WETH"])
def test_stablecoins_and_wrapped_tokens_are_excluded(symbol: str) -> None:
    assert is_excluded_coin(symbol)


@pytest.mark.parametrize("symbol", ["BTC-USD", "ETH-USD", "TON11419-USD", "SOL/USDT", "WIF-USD"])
def test_ordinary_coins_are_not_excluded(symbol: str) -> None:
    assert not is_excluded_coin(symbol)


def test_user_toml_adds_and_replaces_series_and_chains(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        """
[series.btc]
prefer = ["coingecko", "yahoo"]

[series.arkk]
provider = "yahoo"
symbol = "ARKK"
fields = ["close", "volume"]
group = "large_caps"

[chains.growth]
stages = [["hy_spread"], ["arkk"], ["small_caps"], ["btc"]]
""",
        encoding="utf-8",
    )
    cat = load_catalog(path)
    assert cat["btc"].sources == ("coingecko", "yahoo")
    assert cat["btc"].symbol == "BTC-USD"  # untouched keys survive
    assert cat["arkk"] == SeriesSpec(
        "arkk", "yahoo", "ARKK", ("close", "volume"), group="large_caps"
    )
    assert cat.chain("growth").stages[1] == ("arkk",)
    assert cat.chain("default").stages[2] == ("small_caps", "small_caps_volume")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[series.x]\nprovider = 'yahoo'\n", r"new series \[series.x\] needs keys \['symbol'\]"),
        (
            "[series.x]\nprovider = 'bloomberg'\nsymbol = 'X'\n",
            r"provider must be one of \('fred', 'yahoo'",
        ),
        (
            "[series.btc]\nrelease_lag = 'one day'\n",
            r"release_lag must look like '0D'.*got 'one day'",
        ),
        ("[series.btc]\ncolour = 'red'\n", r"unknown keys \['colour'\]"),
        ("[chains.c]\nstages = [['nope']]\n", r"chain 'c' names unknown series 'nope'"),
        ("[oops]\n", r"unknown top-level tables \['oops'\]"),
        ("[series\n", r"is not valid TOML"),
    ],
)
def test_bad_user_toml_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_catalog(path)


def test_unknown_ids_and_missing_files() -> None:
    with pytest.raises(CatalogError, match="unknown series 'bitcoin'"):
        default_catalog()["bitcoin"]
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalog("/nonexistent/catalog.toml")
