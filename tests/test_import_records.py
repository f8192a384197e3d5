"""A file's record is keyed by its resolved path, however it is reached."""

from __future__ import annotations

from pathlib import Path

from liqflow._import_records import _resolved, _resolved_folder
from liqflow.catalog import default_catalog
from liqflow.importer import import_paths
from liqflow.store import Store


def test_a_file_is_known_by_its_resolved_path_through_links(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    data = real / "WTREGEN.csv"
    data.write_text("date,value\n2021-01-06,1600000\n")
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "alias.csv").symlink_to(data)
    reached = [
        data,
        tmp_path / "link" / "WTREGEN.csv",
        tmp_path / "alias.csv",
        real / ".." / "real" / "WTREGEN.csv",
    ]
    _resolved_folder.cache_clear()
    assert [_resolved(p) for p in reached] == [str(p.resolve()) for p in reached]
    with Store(tmp_path / "s.duckdb") as store:
        fresh = import_paths(store, default_catalog(), [data])
        assert fresh.ok and [f.added for f in fresh.loaded] == [1]
        for p in reached[1:]:
            again = import_paths(store, default_catalog(), [p])
            assert [f.unchanged for f in again.loaded] == [True], p
