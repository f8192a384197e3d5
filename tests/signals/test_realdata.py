"""The Russell 2000 breakouts and the stage table on the real data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from liqflow.signals import BreakoutResult, breakouts

pytestmark = pytest.mark.realdata


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    # PROVENANCE.md: zero-volume rows are intraday snapshots or incomplete; drop them
    return frame[frame["Volume"] != 0]


def _rut_breakouts(shared_data: Path, as_of: str | None = None) -> BreakoutResult:
    rut = _read(shared_data / "equities" / "RUT_daily.csv")
    iwm = _read(shared_data / "equities" / "IWM_daily.csv")
    # ^RUT's own Volume column is S&P 500 volume on Yahoo: never used; IWM volume is
    return breakouts(rut["Close"], iwm["Volume"].astype(float), as_of=as_of)


@pytest.mark.parametrize(
    ("start", "end", "prior_year"),
    [
        ("2016-10-01", "2016-12-31", 2015),  # above the 2015 high
        ("2020-10-01", "2020-12-31", 2018),  # above the 2018 high
        ("2025-09-01", "2026-01-31", 2021),  # above the 2021 high
    ],
)
def test_known_breakouts_have_volume_confirmation_and_persistence(
    shared_data: Path, start: str, end: str, prior_year: int
) -> None:
    res = _rut_breakouts(shared_data)
    found = [e for e in res.events if pd.Timestamp(start) <= e.date <= pd.Timestamp(end)]
    assert len(found) == 1, [e.summary() for e in res.events]
    e = found[0]
    assert e.prior_high_date.year == prior_year
    assert e.volume_confirmed is True and e.volume_ratio >= 1.2
    assert e.status == "confirmed" and e.persistence_return > 0


def test_breakout_status_is_point_in_time(shared_data: Path) -> None:
    early = _rut_breakouts(shared_data, as_of="2025-10-01")
    last = early.events[-1]
    assert last.date == pd.Timestamp("2025-09-18") and last.status == "pending"
    assert early.daily["state"].iloc[-1] == "pending"


def test_status_as_of_uses_only_data_public_then(
    shared_data: Path, real_chain_files: list[Path], tmp_path: Path
) -> None:
    from liqflow.catalog import default_catalog
    from liqflow.cli.main import app
    from liqflow.importer import import_paths
    from liqflow.store import Store

    # the chain's files plus CoinGecko's market caps (BTC dominance)
    files = [
        *real_chain_files,
        shared_data / "crypto/coingecko/btc-usd-max.csv",
        shared_data / "crypto/coingecko/total_crypto_market_cap.csv",
    ]
    path = tmp_path / "real.duckdb"
    with Store(path) as st:
        import_paths(st, default_catalog(), files)
    result = CliRunner().invoke(
        app,
        ["status", "--as-of", "2021-01-15", "--store", str(path), "--verbose"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    first, second = out.split("\n")[:2]
    assert first.startswith("as of 2021-01-15 (as given)") and second.startswith(
        "as of 2021-01-15: stage "
    )
    small = next(ln for ln in out.splitlines() if "breakout_live *" in ln)  # its table row
    assert "confirmed" in small and "2020-11-13" in small
    # the same table from the full history, read on that day: identical (point in time)
    from liqflow.cli.signals import load_signal_panel
    from liqflow.signals import compute_signals

    with Store(path, read_only=True) as st:
        full = load_signal_panel(st, default_catalog())
        cut = load_signal_panel(st, default_catalog(), pd.Timestamp("2021-01-15"))
    assert "btc.market_cap" in cut.columns  # dominance from CoinGecko caps
    a = compute_signals(cut).stage_status().to_frame()
    b = compute_signals(full).stage_status("2021-01-15").to_frame()
    pd.testing.assert_frame_equal(a, b)
