"""Store.reader_view: reading the same snapshot on another thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from liqflow._errors import StoreError
from liqflow.store import Batch, Store


def _frame(n: int, start: str = "2020-01-01") -> pd.DataFrame:
    return pd.DataFrame(
        {"close": [float(i + 1) for i in range(n)]},
        index=pd.date_range(start, periods=n, freq="D", name="date"),
    )


@pytest.mark.parametrize("where", ["file", "memory"])
def test_a_view_reads_the_same_snapshot_on_another_thread(tmp_path: Path, where: str) -> None:
    path = tmp_path / "s.duckdb" if where == "file" else ":memory:"
    with Store(path) as store:
        store.write([Batch("btc", "yahoo", _frame(400)), Batch("eth", "yahoo", _frame(50))])
        keys = [("btc", "yahoo"), ("eth", "yahoo")]
        expected = store.read_many(keys)
        view = store.reader_view()
        got: dict[str, object] = {}

        def read() -> None:  # many reads, while this thread reads through the handle
            for _ in range(20):
                got["view"] = view.read_many(keys)

        worker = threading.Thread(target=read)
        worker.start()
        for _ in range(20):
            mine = store.read_many(keys)
        worker.join(30)
        view.close()
        for key in keys:
            pd.testing.assert_frame_equal(got["view"][key], expected[key])  # type: ignore[index]
            pd.testing.assert_frame_equal(mine[key], expected[key])
        assert view.read_only
        with pytest.raises(StoreError, match="read-only"):
            view.write([Batch("sol", "yahoo", _frame(3))])
        # closing the view closed its connection only: the handle reads and writes on
        assert store.write([Batch("sol", "yahoo", _frame(3))]) == {("sol", "yahoo"): 3}
        assert store.read("sol", "yahoo")["close"].tolist() == [1.0, 2.0, 3.0]
