"""Point-in-time panel: release lags, as-of joins, staleness, vintages, invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqflow.align import asof_join, available, available_from_vintages, load_panel, trading_days
from liqflow.catalog import default_catalog
from liqflow.store import Batch, Store

CAT = default_catalog()


def _weekly(values: list[float], start: str = "2021-01-06") -> pd.DataFrame:
    return pd.DataFrame(
        {"value": values}, index=pd.date_range(start, periods=len(values), freq="7D", name="date")
    )


def test_h41_wednesday_level_is_public_thursday() -> None:
    obs = _weekly([1.0, 2.0])["value"]  # Wednesdays 2021-01-06, 2021-01-13
    out = available(obs, CAT["fed_assets"])
    assert out.index.tolist() == [pd.Timestamp("2021-01-07"), pd.Timestamp("2021-01-14")]


def test_business_day_lag_skips_the_weekend() -> None:
    obs = pd.Series([3.0], index=pd.DatetimeIndex(["2021-01-08"], name="date"))  # a Friday
    assert available(obs, CAT["hy_spread"]).index[0] == pd.Timestamp("2021-01-11")


def test_asof_join_equals_reindex_ffill_and_respects_staleness() -> None:
    avail = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2021-01-01", "2021-01-05"]))
    cal = pd.date_range("2020-12-30", "2021-01-20", freq="D")
    expected = avail.reindex(cal, method="ffill").to_numpy()
    np.testing.assert_array_equal(asof_join(avail, cal), expected)
    stale = asof_join(avail, cal, max_age_days=10)
    assert np.isnan(stale[cal.get_loc(pd.Timestamp("2021-01-16"))])
    assert stale[cal.get_loc(pd.Timestamp("2021-01-15"))] == 2.0


@settings(max_examples=300, deadline=None)
@given(
    n_days=st.integers(0, 60),
    start_hours=st.integers(0, 60 * 24),
    hours=st.lists(st.integers(-30 * 24, 100 * 24), max_size=80),
    daily_steps=st.booleans(),
)
def test_asof_join_on_a_daily_calendar_matches_the_binary_search(
    n_days: int, start_hours: int, hours: list[int], daily_steps: bool
) -> None:
    # the counting path (calendar freq "D", any time of day) against searchsorted, with
    # observations before, inside and after the calendar, several on one day or at times
    start = pd.Timestamp("2021-01-01") + pd.Timedelta(hours=start_hours)
    cal = pd.date_range(start, periods=n_days, freq="D")
    step = 24 if daily_steps else 1
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.sort(hours) * step, unit="h")
    avail = pd.Series(np.arange(len(hours), dtype=np.float64), index=pd.DatetimeIndex(when))
    pos = np.searchsorted(when.to_numpy(), cal.to_numpy(), side="right") - 1
    values = np.r_[avail.to_numpy(), np.nan]  # position -1: before the first, NaN
    expected = values[np.where(pos >= 0, pos, -1)]
    np.testing.assert_array_equal(asof_join(avail, cal), expected)
    # the same days without a frequency take the binary search: the same values
    np.testing.assert_array_equal(asof_join(avail, pd.DatetimeIndex(cal.to_numpy())), expected)


def test_vintages_give_first_release_then_revisions() -> None:
    vint = pd.DataFrame(
        {
            "date": pd.to_datetime(["2021-01-06", "2021-01-06", "2021-01-13", "2020-12-30"]),
            "realtime_start": pd.to_datetime(
                ["2021-01-07", "2021-01-21", "2021-01-14", "2021-01-22"]
            ),
            "value": [10.0, 11.0, 12.0, 99.0],
        }
    )
    out = available_from_vintages(vint)
    # the 2021-01-06 revision published 01-21 is older than the 01-13 headline: ignored;
    # so is a revision of 2020-12-30.
    assert out.to_dict() == {pd.Timestamp("2021-01-07"): 10.0, pd.Timestamp("2021-01-14"): 12.0}


def _store_with_chain() -> Store:
    store = Store(":memory:")
    days = pd.date_range("2021-01-01", "2021-03-31", freq="D", name="date")
    sessions = pd.bdate_range("2021-01-01", "2021-03-31", name="date")
    rng = np.random.default_rng(3)
    store.write(
        [
            Batch("fed_assets", "fred", _weekly(list(7e6 + np.arange(13) * 1e3))),
            Batch("tga", "fred", _weekly(list(1.6e6 - np.arange(13) * 5e2))),
            Batch(
                "rrp",
                "fred",
                pd.DataFrame({"value": rng.uniform(0, 5, len(sessions))}, index=sessions),
            ),
            Batch(
                "small_caps",
                "yahoo",
                pd.DataFrame(
                    {"close": 2000 + rng.normal(0, 10, len(sessions)).cumsum()}, index=sessions
                ),
            ),
            Batch(
                "btc",
                "yahoo",
                pd.DataFrame(
                    {
                        "close": 30000 + rng.normal(0, 500, len(days)).cumsum(),
                        "volume": rng.uniform(1, 2, len(days)),
                    },
                    index=days,
                ),
            ),
        ]
    )
    return store


def test_panel_units_columns_and_calendar() -> None:
    with _store_with_chain() as store:
        panel = load_panel(store)
        assert panel.index.freqstr == "D" and panel.index.name == "date"
        assert {"fed_assets", "tga", "rrp", "small_caps", "btc", "btc.volume"} <= set(panel.columns)
        raw_rrp = store.read("rrp", "fred")["value"]
        day = raw_rrp.index[5]
        assert panel.loc[day, "rrp"] == pytest.approx(raw_rrp.iloc[5] * 1000)  # USD bn -> mn
        # Saturday: equities carried forward from Friday's close
        sat = pd.Timestamp("2021-01-09")
        assert panel.loc[sat, "small_caps"] == panel.loc[pd.Timestamp("2021-01-08"), "small_caps"]
        assert pd.Timestamp("2021-01-09") not in trading_days(panel, "small_caps")
        assert pd.Timestamp("2021-01-08") in trading_days(panel, "small_caps")


cutoffs = st.integers(min_value=0, max_value=89).map(
    lambda k: pd.Timestamp("2021-01-01") + pd.Timedelta(days=k)
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cutoffs)
def test_point_in_time_invariance(cutoff: pd.Timestamp) -> None:
    """Panel from data truncated at t == full-history panel up to t."""
    with _store_with_chain() as full_store:
        full = load_panel(full_store)
        truncated_store = Store(":memory:")
        batches = []
        for item in full_store.inventory():
            frame = full_store.read(item.series_id, item.source, end=cutoff)
            if not frame.empty:
                batches.append(Batch(item.series_id, item.source, frame))
        truncated_store.write(batches)
        cut = load_panel(truncated_store, as_of=cutoff, start=full.index[0])
        as_of = load_panel(full_store, as_of=cutoff)
    expected = full.loc[:cutoff]
    pd.testing.assert_frame_equal(as_of, expected.loc[as_of.index[0] :], check_freq=False)
    pd.testing.assert_frame_equal(cut.reindex(columns=expected.columns), expected, check_freq=False)


def test_preferred_source_and_override() -> None:
    with Store(":memory:") as store:
        idx = pd.date_range("2021-01-01", periods=3, freq="D", name="date")
        store.write(
            [
                Batch("btc", "coingecko", pd.DataFrame({"close": [1.0, 1.0, 1.0]}, index=idx)),
                Batch("btc", "yahoo", pd.DataFrame({"close": [2.0, 2.0, 2.0]}, index=idx)),
            ]
        )
        assert load_panel(store, ["btc"])["btc"].iloc[0] == 2.0
        assert load_panel(store, ["btc"], sources={"btc": "coingecko"})["btc"].iloc[0] == 1.0


def test_unknown_id_is_a_clear_error() -> None:
    with (
        Store(":memory:") as store,
        pytest.raises(KeyError, match="unknown series 'bitcoin'; known series:"),
    ):
        load_panel(store, ["bitcoin"])


def test_fields_missing_from_the_preferred_source_come_from_the_next() -> None:
    with Store(":memory:") as store:
        idx = pd.date_range("2021-01-01", periods=3, freq="D", name="date")
        store.write(
            [
                Batch(
                    "btc",
                    "coingecko",
                    pd.DataFrame({"close": [1.0] * 3, "market_cap": [5.0] * 3}, index=idx),
                ),
                Batch(
                    "btc",
                    "yahoo",
                    pd.DataFrame({"close": [2.0] * 3, "volume": [7.0] * 3}, index=idx),
                ),
            ]
        )
        panel = load_panel(store, ["btc"])
        assert panel["btc"].iloc[0] == 2.0  # price from the preferred source (Yahoo)
        assert panel["btc.volume"].iloc[0] == 7.0
        assert panel["btc.market_cap"].iloc[0] == 5.0  # only CoinGecko has market caps
        assert list(load_panel(store, ["btc"], fields="primary").columns) == ["btc"]


def test_vintages_of_an_incremental_fetch_never_shorten_the_series() -> None:
    """Observations 2002-2025 plus ALFRED vintages for the last five weeks only (what an
    incremental fetch with FRED_API_KEY stores): the panel keeps 2002 onwards, and uses the
    first releases inside the vintage window."""
    weeks = pd.date_range("2002-12-18", "2025-11-19", freq="7D", name="date")
    obs = pd.DataFrame({"value": np.arange(len(weeks), dtype=np.float64) + 1e6}, index=weeks)
    window = weeks[-5:]
    vint = pd.DataFrame(
        {
            "date": window,
            "realtime_start": window + pd.Timedelta(days=1),
            "value": obs["value"].iloc[-5:].to_numpy() - 0.5,  # first release, revised later
        }
    )
    with Store(":memory:") as store:
        store.write([Batch("fed_assets", "fred", obs, vintages=vint)])
        panel = load_panel(store, ["fed_assets"])
    col = panel["fed_assets"]
    assert col.first_valid_index() == pd.Timestamp("2002-12-19")  # Wednesday + 1 day lag
    assert col.loc["2010-06-17"] == obs["value"].loc["2010-06-16"]
    # inside the vintage window: the first release, public the day after
    assert col.loc[window[-1] + pd.Timedelta(days=1)] == obs["value"].iloc[-1] - 0.5
    assert col.loc[window[-1]] == obs["value"].iloc[-2] - 0.5
    assert col.loc[window[0]] == obs["value"].iloc[-6]  # last value before the window: stored


def test_sessions_are_the_source_rows_on_exchange_days() -> None:
    """An unchanged Russell close on a real session is a session; a vendor's row on an NYSE
    holiday is not; a coin's every row is one (crypto trades on holidays)."""
    days = pd.DatetimeIndex(
        ["2020-12-23", "2020-12-24", "2020-12-25", "2020-12-28", "2020-12-29", "2020-12-30"],
        name="date",
    )
    close = [2000.0, 2010.0, 2010.0, 2010.0, 2020.0, 2030.0]  # 12-25 a holiday row
    coin = pd.date_range("2020-12-23", "2020-12-30", freq="D", name="date")
    with Store(":memory:") as store:
        store.write(
            [
                Batch(
                    "small_caps",
                    "yahoo",
                    pd.DataFrame({"close": close, "volume": [5.0] * 6}, index=days),
                ),
                Batch("btc", "yahoo", pd.DataFrame({"close": 1.0}, index=coin)),
            ]
        )
        panel = load_panel(store)
    sessions = trading_days(panel, "small_caps")
    assert pd.Timestamp("2020-12-28") in sessions  # unchanged close, exchange open: kept
    assert pd.Timestamp("2020-12-25") not in sessions  # Christmas: the NYSE was closed
    assert pd.Timestamp("2020-12-26") not in sessions  # carried over the weekend
    assert list(sessions) == list(days.drop(pd.Timestamp("2020-12-25")))
    assert list(trading_days(panel, "btc")) == list(coin)  # constant price, every day a row
    # the ^RUT volume is not Russell volume: it never enters the panel
    assert "small_caps.volume" not in panel.columns
    # the record follows the panel through a slice; a hand-built copy falls back
    assert list(trading_days(panel.loc[:"2020-12-28"], "small_caps")) == list(days[[0, 1, 3]])
    by_hand = pd.DataFrame({"small_caps": panel["small_caps"].to_numpy()}, index=panel.index)
    assert pd.Timestamp("2020-12-28") not in trading_days(by_hand, "small_caps")
    # a join through join_panels keeps both panels' records (pandas' join drops attrs)
    from liqflow.align import join_panels

    left, right = panel[["btc"]], panel[["small_caps"]]
    joined = join_panels(left, right)
    assert list(trading_days(joined, "small_caps")) == list(sessions)
    assert list(trading_days(joined, "btc")) == list(coin)


def test_exchange_sessions_know_the_holidays() -> None:
    from liqflow.align import exchange_sessions

    sessions = exchange_sessions()
    for closed in ("2001-09-11", "2012-10-29", "2018-12-05", "2021-07-05", "2025-01-09"):
        assert pd.Timestamp(closed) not in sessions  # 9/11, Sandy, Bush, July 4th, Carter
    assert pd.Timestamp("2021-07-06") in sessions


@pytest.mark.parametrize("lag", ["0D", "1D", "5D", "56D", "1B", "2B"])
def test_available_by_day_arithmetic_equals_pandas_offsets(lag: str) -> None:
    from liqflow.catalog import SeriesSpec

    rng = np.random.default_rng(len(lag) + int(lag[:-1]))
    days = pd.DatetimeIndex(
        np.sort(rng.choice(pd.date_range("2019-01-01", "2021-12-31").to_numpy(), 400, False))
    )
    obs = pd.Series(rng.normal(size=400), index=days.as_unit("s"), name="value")
    spec = SeriesSpec("x", "fred", "X", fields=("value",), unit="", frequency="D", release_lag=lag)

    def by_pandas(s: pd.Series) -> pd.Series:  # the offset added by pandas, the last kept
        out = pd.Series(s.to_numpy(), index=(s.index + spec.lag_offset).rename("date"))
        return out[~out.index.duplicated(keep="last")].sort_index().rename("value")

    fast = available(obs, spec)
    pd.testing.assert_series_equal(fast, by_pandas(obs))
    assert fast.index.dtype == np.dtype("datetime64[s]")
    with_time = obs.set_axis(obs.index + pd.Timedelta(hours=15))  # falls back to pandas
    pd.testing.assert_series_equal(available(with_time, spec), by_pandas(with_time))


@settings(max_examples=200, deadline=None)
@given(
    main=st.lists(st.one_of(st.none(), st.floats(-5, 5)), max_size=12),
    other=st.lists(st.one_of(st.none(), st.floats(-5, 5)), max_size=20),
    shift=st.integers(-10, 10),
)
def test_extended_appends_only_the_later_known_values(
    main: list[float | None], other: list[float | None], shift: int
) -> None:
    from liqflow._published import extended

    def column(values: list[float | None], start: int) -> tuple[np.ndarray, np.ndarray]:
        days = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(len(values)) + start, "D")
        return days.to_numpy(), np.array([np.nan if v is None else v for v in values], float)

    a, b = column(main, 0), column(other, shift)
    dates, values = extended(a, [None, b])
    s_a = pd.Series(a[1], index=pd.DatetimeIndex(a[0])).dropna()
    s_b = pd.Series(b[1], index=pd.DatetimeIndex(b[0])).dropna()
    expected = s_a if s_a.empty else pd.concat([s_a, s_b[s_b.index > s_a.index[-1]]])
    np.testing.assert_array_equal(dates, expected.index.to_numpy())
    np.testing.assert_array_equal(values, expected.to_numpy())
