"""The store under concurrent use, with real processes.

Readers are never blocked by an import, two imports at once lose nothing, a writer that
finds the store busy waits a bounded time and says so, and an import killed with
SIGKILL at any moment leaves the store opening with all or none of its rows.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import liqflow
from liqflow._errors import StoreError
from liqflow.store import Batch, Store, _WriterLock

SRC = str(Path(liqflow.__file__).resolve().parents[1])
COINS = ("BTC", "ETH", "XRP", "BNB", "SOL", "ADA", "DOGE", "TRX", "LINK", "DOT", "AVAX", "LTC")


def _coin_files(folder: Path, coins: tuple[str, ...], rows: int, seed: int = 0) -> dict[str, int]:
    """Yahoo-layout files named after catalogue coins; returns values per series id."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    dates = pd.date_range("1960-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    out = {}
    for coin in coins:
        close = np.exp(np.cumsum(rng.normal(0, 0.02, rows))) * 100
        frame = pd.DataFrame(
            {
                "Date": dates,
                "Open": close,
                "High": close * 1.01,
                "Low": close * 0.99,
                "Close": close,
                "Volume": rng.integers(1, 10**6, rows),
            }
        )
        frame.to_csv(folder / f"{coin}-USD.csv", index=False)
        out[coin.lower()] = rows * 5
    return out


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=SRC, COLUMNS="200", **extra)
    env.pop("LIQFLOW_HOME", None)
    return env


def _liqflow(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "liqflow", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=popen.pop("env", _env()),
        **popen,
    )


def _values(store: Store, sid: str) -> int:
    return int(store.read(sid, "yahoo").notna().to_numpy().sum())


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store that already holds one series (the data a failed import must not lose)."""
    db = tmp_path / "s.duckdb"
    frame = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.date_range("2020-01-01", periods=2))
    with Store(db) as store:
        store.write([Batch("sui", "yahoo", frame)])
    return db


def test_readers_are_not_blocked_while_an_import_runs(tmp_path: Path, seeded: Path) -> None:
    expected = _coin_files(tmp_path / "data", COINS, 6000)
    importer = _liqflow("import", str(tmp_path / "data"), "--store", str(seeded))
    cli_reader = _liqflow("series", "--store", str(seeded))
    seen: set[int] = set()
    reads = 0
    while importer.poll() is None:
        with Store(seeded, read_only=True) as store:  # never waits, never fails
            seen.add(store.row_count())
        reads += 1
        time.sleep(0.02)
    _, err = importer.communicate()
    assert importer.returncode == 0, err
    listing, err = cli_reader.communicate()
    assert cli_reader.returncode == 0, err
    assert "sui" in listing
    total = 2 + sum(expected.values())
    # each read saw the store before or after the import, never half of it
    assert reads > 5 and seen <= {2, total}
    with Store(seeded, read_only=True) as store:
        assert store.row_count() == total
        show = subprocess.run(
            [sys.executable, "-m", "liqflow", "show", "btc", "--store", str(seeded)],
            capture_output=True,
            text=True,
            env=_env(),
        )
        assert show.returncode == 0, show.stderr


def test_two_imports_at_once_lose_nothing(tmp_path: Path, seeded: Path) -> None:
    a = _coin_files(tmp_path / "a", COINS[:6], 3000, seed=1)
    b = _coin_files(tmp_path / "b", COINS[6:], 3000, seed=2)
    procs = [_liqflow("import", str(tmp_path / d), "--store", str(seeded)) for d in ("a", "b")]
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err
    with Store(seeded, read_only=True) as store:
        got = {sid: _values(store, sid) for sid in (*a, *b)}
        assert got == {**a, **b}
        assert store.read("sui", "yahoo")["close"].tolist() == [1.0, 2.0]


def test_a_busy_store_makes_a_writer_wait_then_give_up(seeded: Path) -> None:
    frame = pd.DataFrame({"close": [3.0]}, index=pd.date_range("2021-01-01", periods=1))
    with _WriterLock(seeded, 0.0):
        start = time.monotonic()
        with (
            Store(seeded, wait=0.3) as store,
            pytest.raises(
                StoreError,
                match=r"is being written by another liqflow process \(pid \d+, for \d+ s\); "
                r"waited 0.3 s \(set LIQFLOW_STORE_WAIT to wait longer\); nothing was changed",
            ),
        ):
            store.write([Batch("ton", "yahoo", frame)])
        assert 0.3 <= time.monotonic() - start < 3
        with Store(seeded, read_only=True) as reader:  # reading needs no lock at all
            assert reader.row_count() == 2
    with Store(seeded, wait=0.3) as store:  # lock released: the write goes through
        assert store.write([Batch("ton", "yahoo", frame)]) == {("ton", "yahoo"): 1}


def test_cli_writer_refused_after_bounded_wait(tmp_path: Path, seeded: Path) -> None:
    _coin_files(tmp_path / "data", COINS[:1], 50)
    with _WriterLock(seeded, 0.0):
        proc = _liqflow(
            "import",
            str(tmp_path / "data"),
            "--store",
            str(seeded),
            env=_env(LIQFLOW_STORE_WAIT="0.5"),
        )
        _, err = proc.communicate()
    assert proc.returncode == 1
    assert "is being written by another liqflow process" in err and "Traceback" not in err


def _kill_at(proc: subprocess.Popen[str], staged: Path, delay: float, in_write: bool) -> None:
    """SIGKILL ``proc`` ``delay`` s after start, or after its staged write appears."""
    if in_write:
        deadline = time.monotonic() + 120
        while not staged.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def _other_files(folder: Path) -> None:
    """A wide table of two series and a universe snapshot, next to the coin files."""
    weeks = pd.date_range("2000-01-05", periods=400, freq="7D").strftime("%Y-%m-%d")
    rows = [f"{d},{7e6 + i},{12 + i / 100:.2f}" for i, d in enumerate(weeks)]
    (folder / "rates.csv").write_text("date,WALCL,VIX\n" + "\n".join(rows) + "\n")
    ranks = [f"{k},Coin {k},C{k},{1000.0 / k}" for k in range(1, 51)]
    (folder / "prices_2025-08-05.csv").write_text("rank,name,symbol,price\n" + "\n".join(ranks))


def _file_rows(store: Store) -> dict[str, int]:
    """Rows of the wide table's two series and of the universe snapshot."""
    return {
        "fed_assets": len(store.read("fed_assets", "fred")),
        "vix": len(store.read("vix", "fred")),
        "universe": len(store.read_universe()),
    }


def _records_hold_their_data(store: Store) -> None:
    """Every file an import recorded as loaded has its rows in the store."""
    held = {(s.series_id, s.source): s.rows for s in store.inventory()}
    universe = len(store.read_universe())
    for rec in store.file_records().values():
        for part in rec.parts:
            if part.kind != "loaded":
                continue
            if part.series_id == "universe":
                assert universe >= part.rows, rec.path
            else:
                assert held.get((part.series_id, part.source), 0) >= part.rows, rec.path


def test_kill_9_at_random_moments_leaves_all_or_none(tmp_path: Path, seeded: Path) -> None:
    """Each file's rows are all there or none; a file's record never outlives its rows."""
    expected = _coin_files(tmp_path / "data", COINS[:8], 3000)
    _other_files(tmp_path / "data")
    others = {"fed_assets": 400, "vix": 400, "universe": 50}
    full = next(iter(expected.values()))
    rng = random.Random(7)
    outcomes, mid_write = [], []
    moments = ((0.5, 2.0, False), (0.0, 0.01, True), (0.01, 0.3, True))
    for k, (low, high, in_write) in enumerate(moments):
        db = tmp_path / f"kill{k}.duckdb"
        shutil.copyfile(seeded, db)
        proc = _liqflow("import", str(tmp_path / "data"), "--store", str(db))
        staged = db.with_name(db.name + ".writing")
        _kill_at(proc, staged, rng.uniform(low, high), in_write)
        mid_write.append(staged.exists())
        with Store(db, read_only=True) as store:
            got = {sid: _values(store, sid) for sid in expected}
            assert store.read("sui", "yahoo")["close"].tolist() == [1.0, 2.0]
            rows = _file_rows(store)
            _records_hold_their_data(store)
        assert set(got.values()) in ({0}, {full}), got  # one transaction: all files or none
        assert rows == (others if full in got.values() else dict.fromkeys(others, 0)), rows
        outcomes.append(full in got.values())
    # a staged copy left by a killed writer does not stop the next write
    done = _liqflow("import", str(tmp_path / "data"), "--store", str(db))
    _, err = done.communicate()
    assert done.returncode == 0, err
    with Store(db, read_only=True) as store:
        assert {sid: _values(store, sid) for sid in expected} == expected
        assert _file_rows(store) == others
        _records_hold_their_data(store)
    assert not staged.exists()
    assert not all(outcomes)  # some kill landed before the write was published
    assert any(mid_write)  # and some in the middle of the staged write


def _holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir())
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see the wait")
def test_sigint_while_waiting_to_write_exits_130_and_changes_nothing(
    tmp_path: Path, seeded: Path
) -> None:
    _coin_files(tmp_path / "data", COINS[:2], 500)
    lock = seeded.with_name(seeded.name + ".lock")
    with _WriterLock(seeded, 0.0):
        proc = _liqflow("import", str(tmp_path / "data"), "--store", str(seeded))
        deadline = time.monotonic() + 120
        while not _holds_open(proc.pid, lock) and proc.poll() is None:
            assert time.monotonic() < deadline, "the import never reached its write"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # files parsed, write queued behind the lock
        _, err = proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted, nothing was changed" in err and "Traceback" not in err
    with Store(seeded, read_only=True) as store:
        assert store.row_count() == 2


@pytest.mark.realdata
def test_status_and_series_succeed_while_an_import_runs(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "real.duckdb"
    with Store(db) as store:
        from liqflow.catalog import default_catalog
        from liqflow.importer import import_paths

        assert import_paths(store, default_catalog(), [shared_data]).ok
    _coin_files(tmp_path / "extra", ("TON", "SUI"), 8000)
    importer = _liqflow("import", str(tmp_path / "extra"), "--store", str(db), "--revise")
    readers = [_liqflow(cmd, "--store", str(db)) for cmd in ("status", "series")]
    for proc in readers:
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert out.strip()
    _, err = importer.communicate()
    assert importer.returncode == 0, err


def test_a_read_only_handle_refuses_writes(seeded: Path) -> None:
    frame = pd.DataFrame({"close": [3.0]}, index=pd.date_range("2021-01-01", periods=1))
    with (
        Store(seeded, read_only=True) as store,
        pytest.raises(StoreError, match=r"was opened read-only; nothing was changed"),
    ):
        store.write([Batch("ton", "yahoo", frame)])


@pytest.mark.parametrize("raw", ["soon", "-1", "nan"])
def test_store_wait_must_be_seconds(
    seeded: Path, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQFLOW_STORE_WAIT", raw)
    with pytest.raises(StoreError, match=r"LIQFLOW_STORE_WAIT must be a number of seconds"):
        Store(seeded)


def test_error_text_is_not_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from liqflow.cli.main import main

    missing = tmp_path / "[bold]none[/]"
    with pytest.raises(SystemExit) as exc:
        main(["import", str(missing), "--store", str(tmp_path / "s.duckdb")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "[bold]none[/]" in err and "does not exist" in err
