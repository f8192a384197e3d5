"""The files of a large import read by a forked worker process and this one at once:
the same report, records, rows and errors as one process reading them all; a worker
that fails or dies is one line and changes nothing; Ctrl-C exits 130 without a
traceback and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import liqflow
from liqflow import _fork, _import_write, importer
from liqflow._errors import LiqflowError, StoreError
from liqflow._fork import WorkerError, fork_worker, split_at
from liqflow.catalog import default_catalog
from liqflow.importer import ImportReport, import_paths
from liqflow.store import Store

pytestmark = pytest.mark.skipif(
    not _fork.forking_works(), reason="the import forks a worker on Linux only"
)

SRC = str(Path(liqflow.__file__).resolve().parents[1])


def _yahoo(path: Path, rows: int, seed: int, start: str = "2015-01-01") -> None:
    rng = np.random.default_rng(seed)
    close = np.exp(np.cumsum(rng.normal(0, 0.02, rows))) * 100
    pd.DataFrame(
        {
            "Date": pd.date_range(start, periods=rows, freq="D").strftime("%Y-%m-%d"),
            "Open": close,
            "High": close * 1.01,
            "Low": close * 0.99,
            "Close": close,
            "Adj Close": close,
            "Volume": rng.integers(1, 10**6, rows),
        }
    ).to_csv(path, index=False)


def _folder(root: Path, *, bad: bool = True) -> Path:
    """Files of every kind, in two halves (``a`` read by the worker, ``b`` here): series,
    a coin outside the catalogue, crypto-universe snapshots, files not matched, a file
    spliced across the halves and, with ``bad``, a refused file in each half."""
    a, b = root / "a", root / "b"
    for d in (a, b, a / "universe", b / "universe"):
        d.mkdir(parents=True)
    _yahoo(a / "BTC-USD.csv", 900, 1)
    _yahoo(a / "XEM-USD-1d.csv", 400, 2)  # a coin of no catalogue series
    _yahoo(b / "ETH-USD.csv", 900, 3)
    (a / "WTREGEN.csv").write_text("date,value\n2021-01-06,1600000\n2021-01-13,1610000\n")
    (b / "WTREGEN_recent.csv").write_text("date,WTREGEN\n2021-01-13,1610000\n2021-01-20,1620\n")
    (b / "notes_about_nothing.csv").write_text("date,value\n2021-01-06,1\n")
    for k, day in enumerate(("2025-08-05", "2025-08-06", "2025-08-07")):
        (a / "universe" / f"prices_{day}.csv").write_text(
            f"rank,name,symbol,price\n1,Bitcoin,btc,{112775 + k}\n2,Ethereum,eth,3569.47\n"
            "3,NEM,xem,0.02\n"
        )
    (a / "universe" / "20180107.csv").write_text('coin,mkt_cap\nBTC,"$270,000,000,000"\nXEM,1e9\n')
    # snapshots on both sides: their coin ids are assigned over all of them at once
    (b / "universe" / "prices_2025-08-08.csv").write_text(
        "rank,name,symbol,price\n1,Bitcoin,btc,112000\n2,NEM,xem,0.03\n"
    )
    if bad:
        (a / "RRPONTSYD.csv").write_text("date,value\n2021-01-06,1\n2021-01-0x,2\n")
        (b / "VIXCLS.csv").write_text("date,value\n2021-01-06,20\n2021-01-06,21\n")
        (a / "universe" / "prices_2025-08-09.csv").write_text(
            "rank,name,symbol,price\n1,Bitcoin,btc,1\n1,Ether,eth,2\n"
        )
    return root


def _tables(db: Path) -> dict[str, pd.DataFrame]:
    """Every table of the store, sorted, without the write's timestamps or the parser
    fingerprint."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            cols = [
                c
                for c, kind in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                    [t],
                ).fetchall()
                if not kind.startswith("TIMESTAMP") and (t, c) != ("imported_files", "context")
            ]
            keep = ", ".join(f'"{c}"' for c in cols)
            out[t] = con.execute(f"SELECT {keep} FROM {t} ORDER BY ALL").df()
    return out


def _said(report: ImportReport) -> tuple[object, ...]:
    return (
        report.to_frame().to_dict("records"),
        report.errors,
        report.unmatched,
        report.unsupported,
        report.columns,
        report.notes,
    )


def _import(
    db: Path, root: Path, monkeypatch: pytest.MonkeyPatch, *, forked: bool
) -> tuple[ImportReport, int]:
    """Import ``root`` with the worker (a threshold of 0 bytes) or without; how many
    workers were started."""
    started = []

    def counted(work: Callable[[], Iterator[object]], what: str) -> _fork.Worker[object]:
        started.append(what)
        return fork_worker(work, what)

    monkeypatch.setattr(importer, "FORK_MIN_BYTES", 0 if forked else 1 << 62)
    monkeypatch.setattr(importer, "fork_worker", counted)
    ticks: list[Path] = []
    with Store(db) as store:
        report = import_paths(store, default_catalog(), [root], progress=ticks.append)
    assert sorted(ticks) == sorted(p for p, _ in importer._csv_files([root]))  # every file
    return report, len(started)


@pytest.mark.parametrize("share", [0.05, 0.5, 0.95])
def test_a_forked_read_gives_the_same_report_rows_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    root = _folder(tmp_path / "data")
    alone, n_alone = _import(tmp_path / "alone.duckdb", root, monkeypatch, forked=False)
    monkeypatch.setattr(importer, "WORKER_SHARE", share)
    forked, n_forked = _import(tmp_path / "forked.duckdb", root, monkeypatch, forked=True)
    assert (n_alone, n_forked) == (0, 1)
    assert _said(forked) == _said(alone)
    # a refused file on each side, in file order, with its line
    assert [p.name for p, _ in forked.errors] == [
        "RRPONTSYD.csv",
        "prices_2025-08-09.csv",
        "VIXCLS.csv",
    ]
    assert "RRPONTSYD.csv:3" in forked.errors[0][1] and "VIXCLS.csv:3" in forked.errors[2][1]
    assert {f.series_id for f in forked.loaded} >= {"btc", "eth", "tga", "universe", "coin_nem"}
    a, b = _tables(tmp_path / "alone.duckdb"), _tables(tmp_path / "forked.duckdb")
    assert a.keys() == b.keys()
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
    assert len(b["observations"]) and len(b["universe"]) and len(b["imported_files"])


def test_a_re_import_after_a_forked_one_reads_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "data", bad=False)
    db = tmp_path / "s.duckdb"
    fresh, _ = _import(db, root, monkeypatch, forked=True)
    assert fresh.ok and not any(f.unchanged for f in fresh.loaded)
    # unchanged files are hashed, not parsed: no worker for them
    again, started = _import(db, root, monkeypatch, forked=True)
    assert started == 0
    assert again.loaded and all(f.unchanged and f.added == 0 for f in again.loaded)


def _in_worker(parent: int, action: Callable[[], None]) -> Callable[..., None]:
    original = importer._read_one

    def read_one(*args: object, **kwargs: object) -> None:
        if os.getpid() != parent:
            action()
        original(*args, **kwargs)  # type: ignore[arg-type]

    return read_one


def _stored_rows(db: Path) -> int:
    with Store(db, read_only=True) as store:
        return store.row_count()


def test_a_worker_killed_is_one_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "data", bad=False)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        import_paths(store, default_catalog(), [root / "b" / "ETH-USD.csv"])
    before = _stored_rows(db)
    kill = _in_worker(os.getpid(), lambda: os.kill(os.getpid(), signal.SIGKILL))
    monkeypatch.setattr(importer, "_read_one", kill)
    with pytest.raises(WorkerError, match=r"^the import's worker process \(pid \d+, reading ") as e:
        _import(db, root, monkeypatch, forked=True)
    assert "was killed by signal 9 before it finished" in str(e.value)
    assert "nothing was changed" in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, LiqflowError)
    assert _stored_rows(db) == before


def test_an_exception_in_the_worker_is_raised_here_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "data", bad=False)

    def fail() -> None:
        raise MemoryError("no room for the frame")

    monkeypatch.setattr(importer, "_read_one", _in_worker(os.getpid(), fail))
    with pytest.raises(MemoryError, match=r"^no room for the frame$"):
        _import(tmp_path / "s.duckdb", root, monkeypatch, forked=True)
    assert not (tmp_path / "s.duckdb.writing").exists()


class _Unpicklable(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("cannot pickle this")


def test_a_value_that_cannot_be_sent_is_one_line() -> None:
    def work() -> Iterator[object]:
        yield 1
        raise _Unpicklable("odd")

    worker = fork_worker(work, "a test")
    try:
        assert worker.receive() == 1
        with pytest.raises(
            WorkerError, match=r"could not send back its _Unpicklable \(odd\): TypeError"
        ):
            worker.receive()
    finally:
        worker.stop()


def test_the_values_come_back_whole_in_order_and_the_worker_is_reaped() -> None:
    frame = pd.DataFrame(
        {"x": np.arange(100_000, dtype=np.float64), "s": ["a", "bc"] * 50_000},
        index=pd.date_range("1900-01-01", periods=100_000, freq="h", name="date"),
    )

    def work() -> Iterator[object]:
        yield {"frame": frame, "same": (frame, frame)}
        yield "second"

    worker = fork_worker(work, "a test")
    pid = worker.pid
    try:
        got = worker.receive()
        pd.testing.assert_frame_equal(got["frame"], frame)
        assert got["same"][0] is got["same"][1] is got["frame"]  # shared stays shared
        assert worker.receive() == "second"
        with pytest.raises(WorkerError, match="exited with status 0 before it finished"):
            worker.receive()  # nothing more: the worker has ended
    finally:
        worker.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped
    worker.stop()  # harmless once done
    with pytest.raises(WorkerError, match="has ended; nothing more to read"):
        worker.receive()


def test_stop_kills_a_worker_still_running() -> None:
    def work() -> Iterator[None]:
        time.sleep(60)
        yield None

    worker = fork_worker(work, "a test")
    pid = worker.pid
    worker.stop()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize(
    ("costs", "share", "k"),
    [
        ([1, 1, 1, 1], 0.5, 2),
        ([10, 1, 1], 0.5, 1),
        ([1, 1, 10], 0.5, 2),
        ([5], 0.5, 0),
        ([0, 0], 0.5, 0),
    ],
)
def test_split_at_gives_both_sides_work(costs: list[float], share: float, k: int) -> None:
    assert split_at(costs, share) == k


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(x) for x in path.read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the worker")
def test_ctrl_c_while_the_worker_reads_exits_130_without_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    for k, coin in enumerate(("BTC", "ETH", "XRP", "BNB", "SOL", "ADA", "DOGE", "LTC")):
        _yahoo(root / f"{coin}-USD.csv", 25_000, k, start="1900-01-01")
    db = tmp_path / "s.duckdb"
    Store(db).close()  # an empty store, there before the import
    env = dict(os.environ, PYTHONPATH=SRC, COLUMNS="200")
    proc = subprocess.Popen(
        [sys.executable, "-m", "liqflow", "import", str(root), "--store", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 120
    while not (kids := _children(proc.pid)) and proc.poll() is None:
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
    _, err = proc.communicate(timeout=120)
    assert kids, err
    assert proc.returncode == 130, err
    assert "interrupted, nothing was changed" in err and "Traceback" not in err
    for kid in kids:
        state = _state(kid)
        assert state is None, (kid, state, _cmdline(kid))  # killed and reaped
    assert _stored_rows(db) == 0


def test_a_write_in_a_thread_gives_its_result_or_raises_its_error() -> None:
    from liqflow._import_write import _in_thread

    assert _in_thread(lambda: 41 + 1)() == 42

    def fail() -> None:
        raise StoreError("write to store s.duckdb failed, nothing was changed: disk full")

    with pytest.raises(StoreError, match="disk full"):
        _in_thread(fail)()


def test_start_batch_needs_a_batched_block(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(StoreError, match=r"start_batch\(\) opens the transaction"):
            store.start_batch()
        with store.batched():
            store.start_batch()  # the lock is held and the stage open from here
            assert (tmp_path / "s.duckdb.writing").exists()
        assert not (tmp_path / "s.duckdb.writing").exists()


def test_ctrl_c_while_waiting_for_the_write_thread_is_raised_once_it_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from liqflow._import_write import _in_thread

    done = threading.Event()
    release = threading.Event()

    def write() -> int:
        release.wait(10)
        done.set()
        return 1

    original = threading.Thread.join
    calls = []

    def join(self: threading.Thread, timeout: float | None = None) -> None:
        calls.append(self.name)
        if len(calls) == 1:  # Ctrl-C lands while this thread waits for the write
            release.set()
            raise KeyboardInterrupt
        original(self, timeout)

    wait = _in_thread(write)
    monkeypatch.setattr(threading.Thread, "join", join)
    with pytest.raises(KeyboardInterrupt):
        wait()
    assert done.is_set()  # the write was not left running under the closing transaction
    assert calls == ["liqflow-write", "liqflow-write"]


def test_the_gil_is_handed_over_quickly_while_the_write_thread_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "data", bad=False)
    before = sys.getswitchinterval()
    seen: list[float] = []
    real = _import_write._prepared

    def prepared(*args: object) -> object:
        seen.append(sys.getswitchinterval())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_import_write, "_prepared", prepared)
    _import(tmp_path / "s.duckdb", root, monkeypatch, forked=False)
    assert seen == [_import_write.WRITE_SWITCH_INTERVAL] and seen[0] < before
    assert sys.getswitchinterval() == before


def test_coin_prices_written_beside_the_observations_give_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coin prices go to a side transaction while the observations are appended in
    the batch's own: the same report and tables as writing them one after the other; a
    failure of the side write changes nothing."""
    from contextlib import contextmanager

    import liqflow._universe_write as universe_write

    root = _folder(tmp_path / "data", bad=False)
    sides: list[bool] = []
    real = Store.side_transaction

    @contextmanager
    def recorded(self: Store) -> Iterator[bool]:
        with real(self) as apart:
            sides.append(apart)
            yield apart

    monkeypatch.setattr(Store, "side_transaction", recorded)
    beside, _ = _import(tmp_path / "beside.duckdb", root, monkeypatch, forked=True)
    assert sides == [True]

    @contextmanager
    def serial(self: Store) -> Iterator[bool]:
        yield False

    monkeypatch.setattr(Store, "side_transaction", serial)
    after, _ = _import(tmp_path / "after.duckdb", root, monkeypatch, forked=True)
    assert _said(beside) == _said(after)
    a, b = _tables(tmp_path / "beside.duckdb"), _tables(tmp_path / "after.duckdb")
    assert a.keys() == b.keys()
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
    assert b["observations"]["series_id"].str.startswith("coin_").any()

    monkeypatch.setattr(Store, "side_transaction", real)
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        import_paths(store, default_catalog(), [root / "b" / "ETH-USD.csv"])
    before = _stored_rows(db)

    def broken(*args: object) -> object:
        raise StoreError("write to store s.duckdb failed, nothing was changed: disk full")

    monkeypatch.setattr(universe_write, "_write_prices", broken)
    with pytest.raises(StoreError, match="nothing was changed: disk full"):
        _import(db, root, monkeypatch, forked=True)
    assert _stored_rows(db) == before
    assert not (tmp_path / "s.duckdb.writing").exists()


def test_coin_prices_are_not_written_apart_beside_a_series_named_like_them(
    tmp_path: Path,
) -> None:
    from liqflow._universe_write import UniversePrep
    from liqflow.store import Batch

    prep = UniversePrep(pd.DataFrame(), None, ("nem",), pd.DataFrame(), [])
    frame = pd.DataFrame({"close": [1.0]}, index=pd.date_range("2021-01-01", periods=1))
    with Store(tmp_path / "s.duckdb") as store, store.batched():
        store.start_batch()
        # a series of the catalogue named coin_*: its key could be a coin's; one transaction
        taken = [Batch("coin_nem", "yahoo", frame)]
        assert _import_write._write_prices(store, None, prep, taken) is None  # type: ignore[arg-type]
        assert _import_write._write_prices(store, None, None, []) is None  # type: ignore[arg-type]
