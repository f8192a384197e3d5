"""Multi-series layouts detected from content: every layout and every refusal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import DataError, UnsupportedLayoutError
from liqflow.catalog import default_catalog
from liqflow.providers.layouts import (
    FUNDINGS_PER_DAY,
    farside_number,
    read_table,
    tga_closing_balance,
)

CAT = default_catalog()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _parts(table: object) -> dict[str, object]:
    return {p.series_id: p for p in table.parts}  # type: ignore[attr-defined]


def test_wide_table_splits_columns_into_series_and_lists_the_rest(tmp_path: Path) -> None:
    text = (
        "date,WALCL,HY_OAS,VIX,FOO,RRPONTSYD\n"
        "2024-01-03,7700000,3.9,12.5,1,0.6\n"
        "2024-01-04,,3.8,13.0,2,0.55\n"
        "2024-01-10,7690000,,12.0,,\n"
    )
    table = read_table(_write(tmp_path, "anything.csv", text), CAT)
    assert table.format == "wide"
    parts = _parts(table)
    assert set(parts) == {"fed_assets", "hy_spread", "vix", "rrp"}
    walcl = parts["fed_assets"]
    assert walcl.frame["value"].tolist() == [7700000.0, 7690000.0]  # blank = no observation
    assert walcl.lines.tolist() == [2, 4] and walcl.source == "fred"
    assert parts["hy_spread"].frame.index[-1] == pd.Timestamp("2024-01-04")
    assert dict(table.skipped) == {"FOO": "no catalogue series of that name"}


def test_wide_single_column_of_a_treasury_series_is_the_treasury_source(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.csv", "date,TGA_CLOSE\n2024-01-02,700000\n2024-01-03,690000\n")
    (part,) = read_table(path, CAT).parts
    assert (part.series_id, part.source) == ("tga_daily", "treasury")
    cash = _write(tmp_path, "c.csv", "date,DEPOSITS,WITHDRAWALS,NET\n2024-01-02,10,30,-20\n")
    table = read_table(cash, CAT)
    assert set(_parts(table)) == {"dts_deposits", "dts_withdrawals"}
    assert dict(table.skipped) == {"NET": "no catalogue series of that name"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "date,WALCL,VIX\n2024-01-03,7700000,12\n2024-01-10,77OO000,12\n",
            r"x\.csv:3: column 'WALCL' is not a number: '2024-01-10,77OO000,12'",
        ),
        (
            "date,WALCL,VIX\n2024-01-03,1,2\n2024-01-03,1,2\n",
            r"x\.csv:3: date 2024-01-03 already given on line 2",
        ),
        ("date,WALCL,VIX\n2024-01-03,1,2\n2024-13-03,1,2\n", r"x\.csv:3: date does not parse"),
        ("date,WALCL,VIX\n2024-01-03,1,2\n2024-01-04,1\n", r"x\.csv:3: expected 3 fields, got 2"),
    ],
)
def test_wide_table_refusals_give_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        read_table(_write(tmp_path, "x.csv", text), CAT)


@pytest.mark.parametrize(
    "text",
    [
        "date,WALCL,VIX\n2024-01-03,7700000,\n2024-01-10,,12.5\n",
        "date,WALCL,VIX\r\n2024-01-03,7700000,.\r\n2024-01-10,1,12.5\r\n",
        'date,WALCL,VIX\n2024-01-03,"7700000",1\n',
        "date,WALCL,VIX\n2024-01-03,1,2\n\n",
    ],
)
def test_wide_one_pass_cells_equal_the_checked_cells(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liqflow.providers import csv as csv_mod

    path = _write(tmp_path, "x.csv", text)
    fast = read_table(path, CAT)
    monkeypatch.setattr(csv_mod, "_plain_cells", lambda *a: None)
    checked = read_table(path, CAT)
    assert [p.column for p in fast.parts] == [p.column for p in checked.parts]
    for a, b in zip(fast.parts, checked.parts, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
        assert a.lines is not None and b.lines is not None and (a.lines == b.lines).all()


_DTS_HEADER = "record_date,account_type,close_today_bal,open_today_bal,open_month_bal,table_nbr\n"


def test_fiscal_data_tga_switches_column_on_2022_04_18(tmp_path: Path) -> None:
    text = _DTS_HEADER + (
        "2021-09-30,Federal Reserve Account,215160.0,173745,355984,I\n"
        "2021-09-30,Supplementary Financing Program Account,0.0,0,0,I\n"
        "2022-04-15,Treasury General Account (TGA),578473.0,602292,651523,I\n"
        "2022-04-18,Treasury General Account (TGA) Opening Balance,,578473,651523,I\n"
        "2022-04-18,Treasury General Account (TGA) Closing Balance,,841253,651523,I\n"
    )
    table = read_table(_write(tmp_path, "ocb.csv", text), CAT)
    (part,) = table.parts
    assert (part.series_id, part.source) == ("tga_daily", "treasury")
    assert part.frame["value"].tolist() == [215160.0, 578473.0, 841253.0]
    assert part.lines.tolist() == [2, 4, 6]
    assert "Treasury General Account (TGA) Opening Balance" in dict(table.skipped)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert tga_closing_balance(raw).tolist() == [215160.0, 578473.0, 841253.0]


def test_fiscal_data_blank_closing_balance_is_refused(tmp_path: Path) -> None:
    text = _DTS_HEADER + "2022-04-18,Treasury General Account (TGA) Closing Balance,,,1,I\n"
    with pytest.raises(DataError, match=r"ocb\.csv:2: TGA closing balance is blank"):
        read_table(_write(tmp_path, "ocb.csv", text), CAT)
    bad = _DTS_HEADER + "2021-09-30,Federal Reserve Account,21x,1,1,I\n"
    with pytest.raises(DataError, match=r"ocb\.csv:2: column 'close_today_bal'"):
        read_table(_write(tmp_path, "ocb.csv", bad), CAT)


def test_farside_csv_numbers_dates_and_summary_rows(tmp_path: Path) -> None:
    text = (
        'Date,Total\n11 Jan 2024,655.3\n12 Mar 2024,"1,045.00"\n13 Mar 2024,(95.1)\n'
        '14 Mar 2024,-\nTotal,"1,605.2"\nAverage,1\nMaximum,"1,045.00"\nMinimum,(95.1)\n'
    )
    table = read_table(_write(tmp_path, "flows.csv", text), CAT)
    (part,) = table.parts
    assert (part.series_id, part.source, table.format) == ("etf_flows", "farside", "farside")
    assert part.frame["value"].tolist() == [655.3, 1045.0, -95.1]  # '-' = no figure
    assert part.lines.tolist() == [2, 3, 4]
    assert farside_number("(1,113.7)") == -1113.7 and np.isnan(farside_number("-"))
    assert farside_number("abc") is None


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("32 Jan 2024,1", r"f\.csv:3: date '32 Jan 2024' does not parse"),
        ("12 Jan 2024,1.2.3", r"f\.csv:3: Total '1\.2\.3'"),
    ],
)
def test_farside_csv_refusals(tmp_path: Path, row: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        read_table(_write(tmp_path, "f.csv", f"Date,Total\n11 Jan 2024,655.3\n{row}\n"), CAT)


def test_farside_json_per_fund_keeps_the_total(tmp_path: Path) -> None:
    doc = [
        {"Date": "11 Jan 2024", "IBIT": "111.7", "GBTC": "(95.1)", "BTC": "-", "Total": "16.6"},
        {"Date": "12 Jan 2024", "IBIT": "386.0", "GBTC": "(484.1)", "BTC": "-", "Total": "(98.1)"},
        {"Date": "Maximum", "IBIT": "386.0", "GBTC": "(95.1)", "BTC": "-", "Total": "16.6"},
    ]
    table = read_table(_write(tmp_path, "f.json", json.dumps(doc)), CAT)
    (part,) = table.parts
    assert (part.series_id, part.source) == ("etf_flows", "farside_funds")
    assert part.frame["value"].tolist() == [16.6, -98.1]
    assert table.skipped[0][0] == "BTC, GBTC, IBIT"
    with pytest.raises(DataError, match=r"f\.json: record 2 must be an object"):
        read_table(_write(tmp_path, "f.json", json.dumps([doc[0], {"Day": 1, "Total": "1"}])), CAT)


def test_funding_daily_mean_is_stored_as_the_daily_sum(tmp_path: Path) -> None:
    daily = _write(
        tmp_path,
        "btc_funding_daily.csv",
        "date,funding_mean,funding_abs\n2023-01-01,0.0001,0.0001\n2023-01-02,-2e-05,3e-05\n",
    )
    (part,) = read_table(daily, CAT).parts
    assert part.series_id is None  # the coin comes from the file name
    assert part.frame["funding_rate"].tolist() == pytest.approx([0.0003, -6e-05])
    eight = _write(
        tmp_path,
        "binance_BTCUSDT_funding_8h.csv",
        "timestamp,rate\n2023-01-01 00:00:00.000,0.0001\n2023-01-01 08:00:00.008,0.0001\n"
        "2023-01-01 16:00:00.000,0.0001\n2023-01-02 00:00:00.000,-0.00002\n",
    )
    (p8,) = read_table(eight, CAT).parts
    assert p8.frame["funding_rate"].tolist() == pytest.approx([0.0003, -0.00002])
    assert p8.frame.loc["2023-01-01", "funding_rate"] == pytest.approx(FUNDINGS_PER_DAY * 0.0001)
    assert p8.lines.tolist() == [2, 5]
    bad = _write(tmp_path, "e.csv", "timestamp,rate\n2023-01-01 00:00:00,x\n")
    with pytest.raises(DataError, match=r"e\.csv:2: column 'rate'"):
        read_table(bad, CAT)


def test_cftc_tff_contract_columns(tmp_path: Path) -> None:
    text = (
        "date,GC_OI,GC_MM_L,GC_MM_S,BTC_OI,BTC_DEALER_L,BTC_DEALER_S,BTC_ASSET_L,BTC_ASSET_S,"
        "BTC_HEDGE_L,BTC_HEDGE_S\n"
        "2024-01-02,500,1,2,23579,100,200,3000,1000,5000,13616\n"
        "2024-01-09,501,1,2,23000,110,210,3100,1100,5100,13000\n"
    )
    table = read_table(_write(tmp_path, "cot.csv", text), CAT)
    (part,) = table.parts
    assert (part.series_id, part.source, table.format) == ("cftc_btc", "cftc", "cftc_tff")
    row = part.frame.loc["2024-01-02"]
    assert row["lev_net"] == 5000 - 13616 and row["open_interest"] == 23579
    assert row["am_long"] == 3000 and row["dealer_short"] == 200
    assert list(part.frame.columns) == list(CAT["cftc_btc"].fields)
    assert dict(table.skipped) == {"GC_*": "no catalogue series 'cftc_gc'"}
    bad = text.replace("23000", "23,000")
    with pytest.raises(DataError, match=r"cot\.csv:3: expected 11 fields"):
        read_table(_write(tmp_path, "cot.csv", bad), CAT)


def test_ibkr_bars_never_store_volume(tmp_path: Path) -> None:
    text = (
        "date,open,high,low,close,volume,wap,count\n"
        "2016-06-28,1089.65,1110.5,1089.65,1107.3,0.0,0.0,2992.0\n"
        "2016-06-29,1107.3,1132.61,1107.3,1131.62,4759610000.0,,\n"
    )
    table = read_table(_write(tmp_path, "heliar_RUT_daily_ibkr.csv", text), CAT)
    (part,) = table.parts
    assert table.format == "ibkr" and part.source == "ibkr"
    assert list(part.frame.columns) == ["open", "high", "low", "close"]


def test_fred_json_cache(tmp_path: Path) -> None:
    doc = {
        "fetched_at": "2026-08-20T20:49:14Z",
        "series": {
            "WALCL": [["2024-01-03", 7700000], ["2024-01-10", None]],
            "ICSA": [["2024-01-06", 200000]],
        },
    }
    table = read_table(_write(tmp_path, "cache.json", json.dumps(doc)), CAT)
    (part,) = table.parts
    assert (part.series_id, part.source) == ("fed_assets", "fred")
    assert part.frame["value"].tolist() == [7700000.0]
    assert dict(table.skipped) == {"ICSA": "no catalogue series of that name"}
    doc["series"]["WALCL"] = [["2024-01-03", "abc"]]
    with pytest.raises(DataError, match=r"series 'WALCL' record 1 \(2024-01-03\)"):
        read_table(_write(tmp_path, "cache.json", json.dumps(doc)), CAT)


def test_release_metadata_and_unknown_json(tmp_path: Path) -> None:
    meta = read_table(_write(tmp_path, "r.csv", "series_id,last_updated\nVIXCLS,2026-08-14\n"), CAT)
    assert meta.parts == () and meta.skipped[0][0] == "*"
    with pytest.raises(UnsupportedLayoutError, match="JSON shape not recognised"):
        read_table(_write(tmp_path, "u.json", '{"Rank": "1"}'), CAT)
    with pytest.raises(UnsupportedLayoutError, match="not a JSON document"):
        read_table(_write(tmp_path, "v.json", '{"Rank": '), CAT)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        (
            "btc_funding.csv",
            "date,funding_mean,funding_abs\n2023-01-01,0.0001,0.0001\n2023-01-02,n/a,0\n",
            r"btc_funding\.csv:3: column 'funding_mean'",
        ),
        (
            "cache.json",
            json.dumps({"series": {"WALCL": [["2024-01-03", 1], ["2024-01-03", 2]]}}),
            r"cache\.json: series 'WALCL' gives a date twice",
        ),
        (
            "cache.json",
            json.dumps({"series": {"WALCL": [["2024-01-03"]]}}),
            r"series 'WALCL' must be a list of \[date, value\] pairs",
        ),
        (
            "funds.json",
            json.dumps(
                [{"Date": "11 Jan 2024", "Total": "1"}, {"Date": "11 Jan 2024", "Total": "2"}]
            ),
            r"funds\.json: date 2024-01-11 is given twice",
        ),
        (
            "funds.json",
            json.dumps(
                [{"Date": "11 Jan 2024", "Total": "1"}, {"Date": "12 Jan 2024", "Total": "x"}]
            ),
            r"funds\.json: record 2: Total 'x' is not a Farside number",
        ),
    ],
)
def test_more_refusals(tmp_path: Path, name: str, text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        read_table(_write(tmp_path, name, text), CAT)


def test_other_suffixes_are_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedLayoutError, match=r"\.txt files are not a layout"):
        read_table(_write(tmp_path, "notes.txt", "hello"), CAT)
