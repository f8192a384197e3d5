"""CSV layouts found in the wild (FRED, Yahoo/yfinance, CoinGecko) and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError
from liqflow.providers.csv import read_csv_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "hint"),
    [("date,value", None), ("DATE,WALCL", "WALCL"), ("observation_date,WALCL", "WALCL")],
)
def test_fred_headers_and_missing_markers(tmp_path: Path, header: str, hint: str | None) -> None:
    path = _write(
        tmp_path, "x.csv", f"{header}\n2020-01-01,1.5\n2020-01-02,.\n2020-01-03,\n2020-01-06,2.25\n"
    )
    parsed = read_csv_file(path)
    assert parsed.format == "fred"
    assert parsed.series_hint == hint
    assert parsed.frame.index.name == "date"
    assert parsed.frame["value"].tolist()[0] == 1.5
    assert np.isnan(parsed.frame["value"].iloc[1]) and np.isnan(parsed.frame["value"].iloc[2])
    assert parsed.frame.index[-1] == pd.Timestamp("2020-01-06")


def test_yfinance_history_with_offsets_dividends_and_splits(tmp_path: Path) -> None:
    text = (
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2017-11-09 00:00:00+00:00,308.6,329.4,307.0,320.8,893249984,0.0,0.0\n"
        "2017-11-10 00:00:00+00:00,320.6,324.7,294.5,299.2,885985984,0.0,0.0\n"
    )
    parsed = read_csv_file(_write(tmp_path, "ETH-USD.csv", text))
    assert parsed.format == "yahoo" and parsed.source == "yahoo"
    assert list(parsed.frame.columns) == ["open", "high", "low", "close", "volume"]
    assert parsed.frame.index.tolist() == [pd.Timestamp("2017-11-09"), pd.Timestamp("2017-11-10")]
    assert parsed.frame.index.tz is None


def test_equity_offsets_keep_the_local_session_date(tmp_path: Path) -> None:
    text = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02 00:00:00-05:00,1,2,0.5,1.5,1.4,100\n"
    )
    parsed = read_csv_file(_write(tmp_path, "IWM.csv", text))
    assert parsed.frame.index[0] == pd.Timestamp("2020-01-02")
    assert parsed.frame.loc["2020-01-02", "adj_close"] == 1.4


def test_close_volume_only_file(tmp_path: Path) -> None:
    parsed = read_csv_file(_write(tmp_path, "GSPC.csv", "Date,Close,Volume\n1927-12-30,17.66,0\n"))
    assert list(parsed.frame.columns) == ["close", "volume"]


def test_coingecko_utc_strings_and_ms_epoch(tmp_path: Path) -> None:
    coin = read_csv_file(
        _write(
            tmp_path,
            "btc-usd-max.csv",
            "snapped_at,price,market_cap,total_volume\n2013-04-28 00:00:00 UTC,135.3,1500517590,0\n",
        )
    )
    assert coin.format == "coingecko"
    assert coin.frame.loc["2013-04-28"].tolist() == [135.3, 1500517590.0, 0.0]
    glob = read_csv_file(
        _write(
            tmp_path,
            "total.csv",
            "snapped_at,market_cap,total_volume\n1367193600000,1661441770.0,0.0\n",
        )
    )
    # 1367193600000 ms = 2013-04-29 00:00 UTC
    assert glob.frame.index[0] == pd.Timestamp("2013-04-29")
    assert list(glob.frame.columns) == ["market_cap", "volume"]


def test_plain_date_value_file(tmp_path: Path) -> None:
    parsed = read_csv_file(_write(tmp_path, "fear.csv", "Date,value\n2018-02-01,30.0\n"))
    assert parsed.format == "value" and parsed.source is None


def test_unknown_header_is_refused_naming_file_and_layouts(tmp_path: Path) -> None:
    path = _write(tmp_path, "weird.csv", "when,price,foo\n2020-01-01,1,2\n")
    with pytest.raises(
        DataError,
        match=r"weird\.csv: unrecognised CSV header 'when,price,foo'; expected one of: FRED",
    ):
        read_csv_file(path)


def test_corrupted_number_gives_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "WALCL.csv", "date,value\n2020-01-01,1.5\n2020-01-08,abc\n")
    with pytest.raises(
        DataError, match=r"WALCL\.csv:3: column 'value' is not a number: '2020-01-08,abc'"
    ):
        read_csv_file(path)


def test_short_line_gives_file_and_line(tmp_path: Path) -> None:
    text = "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,2\n"
    with pytest.raises(DataError, match=r"x\.csv:3: expected 6 fields, got 3"):
        read_csv_file(_write(tmp_path, "x.csv", text))


def test_bad_date_gives_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.csv:2: date does not parse"):
        read_csv_file(_write(tmp_path, "x.csv", "date,value\n01/02/2020,1\n"))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty file"):
        read_csv_file(_write(tmp_path, "e.csv", ""))
    with pytest.raises(DataError, match="does not exist"):
        read_csv_file(tmp_path / "nope.csv")


def test_trailing_intraday_snapshot_bar_is_dropped(tmp_path: Path) -> None:
    text = (
        "Date,Close,High,Low,Open,Volume\n"
        "2026-02-19,2665.09,2665.22,2637.58,2648.1,5151690000\n"
        "2026-02-20,2663.78,2682.42,2642.07,2660.29,5432480000\n"
        "2026-02-23,2620.98,2659.30,2600.99,2654.83,0\n"
    )
    parsed = read_csv_file(_write(tmp_path, "RUT_daily.csv", text))
    assert parsed.frame.index[-1] == pd.Timestamp("2026-02-20")
    early = read_csv_file(
        _write(tmp_path, "GSPC.csv", "Date,Close,Volume\n1927-12-30,17.66,0\n1928-01-03,17.76,0\n")
    )
    assert len(early.frame) == 2  # no volume data at all: nothing dropped


_PLAIN_CASES = {
    "fred": "date,value\n2020-01-01,1.5\n2020-01-02,.\n2020-01-03,\n2020-01-06,2.25\n",
    "crlf": "DATE,WALCL\r\n2020-01-01,1.5\r\n2020-01-02,2\r\n",
    "offsets": (
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2020-01-02 00:00:00-05:00,1,2,0.5,1.5,100,0,0\n"
        "2020-01-03T00:00:00,1,2,0.5,1.25,0,0,0\n"
    ),
    "ibkr": "date,open,high,low,close,volume,wap,count\n2016-06-28,1,2,0.5,1.5,0,0,x\n",
    "short date": "date,value\n2020-1-2,1.5\n",
    "two-digit year": "date,value\n20-01-02,1.5\n",
    "NAN literal": "date,value\n2020-01-01,NAN\n2020-01-02,1\n",
    "inf": "date,value\n2020-01-01,inf\n",
    "quoted": 'date,value\n2020-01-01,"1.5"\n',
    "quoted comma": 'date,value\n2020-01-01,"1,5"\n',
    "lone CR": "date,value\r2020-01-01,1.5\r2020-01-02,2\r",
    "form feed": "date,value\n2020-01-01,1.5\x0c2020-01-02,2\n",
    "trailing blanks": "date,value\n2020-01-01,1.5\n\n  \n",
    "trailing empty line": "Date,Open,Close\n2020-01-01,1,1.5\r\n\r\n",
    "blank inside": "date,value\n2020-01-01,1.5\n\n2020-01-02,2\n",
    "text cell": "date,value\n2020-01-01,abc\n",
    "spaced number": "date,value\n2020-01-01, 1.5\n",
    "header only": "date,value\n",
    "bad date": "date,value\n2020-13-01,1.5\n",
    "empty date": "date,value\n,1.5\n",
    "repeated date": "date,value\n2020-01-01,1.5\n2020-01-01,2\n",
}


@pytest.mark.parametrize("case", sorted(_PLAIN_CASES))
def test_the_one_pass_read_equals_the_checked_read(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pyarrow pass and the line-by-line checks give the same frame or the same error."""
    from liqflow.providers import csv as csv_mod

    path = tmp_path / "x.csv"
    path.write_bytes(_PLAIN_CASES[case].encode())

    def outcome() -> object:
        try:
            parsed = read_csv_file(path)
        except DataError as exc:
            return str(exc)
        return parsed.format, parsed.series_hint, parsed.frame

    fast = outcome()
    monkeypatch.setattr(csv_mod, "_plain_frame", lambda *a: None)
    checked = outcome()
    if isinstance(checked, str):
        assert fast == checked
    else:
        assert isinstance(fast, tuple) and fast[:2] == checked[:2]  # type: ignore[index]
        pd.testing.assert_frame_equal(fast[2], checked[2])  # type: ignore[index]


@pytest.mark.parametrize("case", ["fred", "crlf", "offsets", "ibkr"])
def test_plain_files_take_the_one_pass_read(case: str) -> None:
    from liqflow.providers.csv import _plain_frame, sniff_header

    text = _PLAIN_CASES[case]
    columns = [c.strip() for c in text.splitlines()[0].split(",")]
    _, mapping, _ = sniff_header(columns, Path("x.csv"))
    frame = _plain_frame(text, columns, mapping)
    assert frame is not None and list(frame.columns) == list(mapping.values())


def test_numbers_of_arrow_cells_equal_the_checked_conversion(tmp_path: Path) -> None:
    """The one-pass pyarrow cast of :func:`numbers` gives what ``pandas.to_numeric`` gives;
    cells it does not take (blanks around a number, ``inf``) go the checked way, which
    accepts them as before or names the line."""
    from liqflow.providers.csv import numbers

    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    cells = ["1.5", "", ".", "null", "NaN", "-2e-3", "+7", "0001", "123456789.123456789"]
    raw = pd.Series(pd.array(cells, dtype=dtype))
    expected = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(float)
    np.testing.assert_array_equal(numbers(raw, "v", cells, tmp_path / "f.csv"), expected)
    padded = pd.Series(pd.array([" 1.5", "inf"], dtype=dtype))
    np.testing.assert_array_equal(
        numbers(padded, "v", [" 1.5", "inf"], tmp_path / "f.csv"), [1.5, np.inf]
    )
    bad = pd.Series(pd.array(["1", "1,5"], dtype=dtype))
    with pytest.raises(DataError, match=r"f\.csv:3: column 'v' is not a number"):
        numbers(bad, "v", ["1", "1,5"], tmp_path / "f.csv")
