"""Crypto signals: Altcoin Season Index by hand, an alt basket that beats BTC from a known day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.signals import (
    CryptoConfig,
    alt_basket,
    alt_universe,
    altcoin_season_index,
    beaten_down,
    btc_dominance,
    crypto_signals,
)

from .conftest import dates

NAN = np.nan


def test_altcoin_season_index_on_a_hand_computed_universe() -> None:
    idx = dates("2024-01-01", 6)  # D0..D5
    btc = pd.Series([100.0, 100, 100, 110, 120, 120], index=idx)
    prices = pd.DataFrame(
        {
            "aaa": [10.0, 10, 10, 12, 12, 12],
            "bbb": [10.0, 10, 10, 10, 13, 14],
            "ccc": [10.0, 10, 10, 10, 10, 9],
            "ddd": [NAN, NAN, 5, 5, 6, 7],  # listed on D2
            "usdt": [1.0] * 6,  # stablecoin
        },
        index=idx,
    )
    universe = alt_universe(list(prices.columns))
    assert universe == ("aaa", "bbb", "ccc", "ddd")
    asi = altcoin_season_index(prices[list(universe)], btc, window=3, min_coins=2)
    # Hand computation, window 3 days (a coin needs a price 3 days before: >= 3 days of history)
    # D3 vs D0: BTC +10%; aaa +20% beats; bbb 0%, ccc 0% do not; ddd not listed on D0
    #           -> 1 of 3 eligible = 33.33
    # D4 vs D1: BTC +20%; aaa +20% (a tie does not beat); bbb +30% beats; ccc 0%; ddd ineligible
    #           -> 1 of 3 = 33.33
    # D5 vs D2: BTC +20%; aaa +20% no; bbb +40% yes; ccc -10% no; ddd 7/5 = +40% yes
    #           -> 2 of 4 = 50
    assert asi["index"].iloc[:3].isna().all()
    assert asi["index"].iloc[3:].tolist() == pytest.approx([100 / 3, 100 / 3, 50.0])
    assert asi["eligible"].iloc[3:].tolist() == [3.0, 3.0, 4.0]
    assert asi["beating"].iloc[3:].tolist() == [1.0, 1.0, 2.0]
    strict = altcoin_season_index(prices[list(universe)], btc, window=3, min_coins=4)
    assert strict["index"].iloc[3:5].isna().all() and strict["index"].iloc[5] == 50.0


def _basket_panel() -> tuple[pd.Series, pd.DataFrame]:
    n = 120
    idx = dates("2024-01-01", n)
    btc = pd.Series(100.0, index=idx)
    t = np.arange(n)
    grow = np.where(t > 60, 1.02 ** (t - 60), 1.0)  # alts start rising on day 61
    alts = pd.DataFrame({"aaa": 10.0 * grow, "bbb": 20.0 * grow, "ccc": 5.0 * grow}, index=idx)
    late = np.full(n, NAN)
    late[80:] = 3.0  # listed on day 80, flat
    alts["ddd"] = late
    gone = 7.0 * grow
    gone[100:] = NAN  # stops on day 100 (delisted / no data)
    alts["eee"] = gone
    return btc, alts


def test_alt_basket_beats_btc_from_a_known_day() -> None:
    btc, alts = _basket_panel()
    res = crypto_signals(btc, alts, config=CryptoConfig(rs_window=30, trend_window=20))
    f = res.frame
    first_on = f.index[(f["alts_outperform"] == 1.0).to_numpy()][0]
    assert first_on == btc.index[61]
    assert (f["alts_outperform"].iloc[30:61] == 0.0).all()  # flat alts vs flat BTC: not beating
    assert f["alts_outperform"].iloc[:30].isna().all()  # window not filled yet: unknown
    # no survivorship: ddd enters on its first return day (81), eee leaves after day 99
    count = f["alt_count"]
    assert count.iloc[80] == 4.0 and count.iloc[81] == 5.0 and count.iloc[100] == 4.0
    # day 81's basket return: (4 coins at +2%, ddd flat) / 5
    basket = alt_basket(alts)
    assert basket["return"].iloc[81] == pytest.approx(4 * 0.02 / 5)
    # buy and hold between rebalances (a listing is one): equal weights at day 80's close,
    # then drifting; eee is held at its last price once its prices stop (flagged stale)
    held = alts.iloc[80:].ffill()
    value = (held / held.iloc[0]).mean(axis=1)
    oracle = (value / value.shift(1) - 1.0).iloc[1:]
    pd.testing.assert_series_equal(basket["return"].iloc[81:], oracle, check_names=False)
    assert basket["stale"].iloc[100] == 1.0 and basket["stale"].iloc[99] == 0.0
    first = alts[["aaa", "bbb", "ccc", "eee"]].iloc[:81]
    v0 = (first / first.iloc[0]).mean(axis=1)
    pd.testing.assert_series_equal(
        basket["return"].iloc[1:81], (v0 / v0.shift(1) - 1.0).iloc[1:], check_names=False
    )
    assert f["alt_vs_btc"].iloc[1] == pytest.approx(1.0)


def test_basket_needs_enough_coins() -> None:
    btc, alts = _basket_panel()
    f = crypto_signals(btc, alts[["aaa", "bbb"]]).frame  # default basket_min_coins = 3
    assert f["alt_basket"].isna().all() and f["alt_rs"].isna().all()
    assert f["alt_count"].iloc[5] == 2.0


def test_btc_dominance_from_market_caps_or_unavailable() -> None:
    idx = dates("2024-01-01", 40)
    btc = pd.Series(np.linspace(100, 140, 40), index=idx)
    cap = btc * 10.0
    total = pd.Series(2000.0, index=idx)
    dom = btc_dominance(cap, total)
    assert dom.iloc[0] == pytest.approx(0.5) and dom.iloc[-1] == pytest.approx(0.7)
    assert np.isnan(btc_dominance(cap, total.where(idx > idx[3], 0.0)).iloc[0])
    res = crypto_signals(btc, None, cap, total)
    assert (
        res.frame["btc_dominance_chg"].iloc[-1] > 0
        and res.frame["dominance_falling"].iloc[-1] == 0.0
    )
    assert res.status["btc_dominance"] == "ok"
    res = crypto_signals(btc, None)
    assert res.frame["btc_dominance"].isna().all()
    assert res.status["btc_dominance"] == (
        "unavailable: btc market cap and total market cap not supplied"
    )
    assert res.status["alts"] == "unknown: not supplied"
    with pytest.raises(DataError, match="btc_dominance needs both btc market cap and total"):
        btc_dominance(cap, None)


def test_beaten_down_group_is_chosen_at_the_start_of_the_window() -> None:
    idx = dates("2024-01-01", 50)
    btc = pd.Series(100.0, index=idx)
    p = np.full(50, 100.0)
    p[10:] = 20.0  # -80% from its high on day 10
    p[40:] = 30.0  # +50% on day 40
    alts = pd.DataFrame({"aaa": p, "bbb": np.full(50, 50.0)}, index=idx)
    bd = beaten_down(alts, btc, drawdown=0.7, window=10)
    assert bd["count"].iloc[9] == 0 and bd["count"].iloc[10] == 1
    assert np.isnan(bd["rs"].iloc[19])  # on day 19 the group (beaten on day 9) is empty
    assert bd["rs"].iloc[20] == pytest.approx(0.0)  # beaten on day 10, flat since, BTC flat
    assert bd["rs"].iloc[45] == pytest.approx(0.5)  # 20 -> 30 while BTC is flat
    assert bd["outperform_share"].iloc[45] == 1.0


def test_season_labels_and_config_checks() -> None:
    idx = dates("2024-01-01", 6)
    btc = pd.Series([100.0, 100, 100, 100, 100, 100], index=idx)
    alts = pd.DataFrame({c: [10.0, 10, 10, 11, 11, 11] for c in ("a1", "a2", "a3")}, index=idx)
    cfg = CryptoConfig(season_window=3, season_min_coins=3, trend_window=2, rs_window=2)
    f = crypto_signals(btc, alts, config=cfg).frame
    assert f["season_index"].iloc[3] == 100.0 and f["season"].iloc[3] == "altcoin"
    assert f["alt_season"].iloc[3] == 1.0
    assert f["season"].iloc[:3].isna().all()
    with pytest.raises(ConfigError, match="needs 0 <= bitcoin_season < alt_season <= 100"):
        CryptoConfig(alt_season=20)
    with pytest.raises(DataError, match=r"crypto_signals needs a btc series .* got None"):
        crypto_signals(None, alts)
    unknown = crypto_signals(btc * np.nan, alts, config=cfg)
    assert unknown.status["btc"] == "unknown: no data"
    assert unknown.frame["btc_above_ma"].isna().all()
