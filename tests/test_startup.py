"""Start-up: ``liqflow --help`` imports no heavy dependency; lazy packages export their names.

Structural checks, not timings (``bench/bench_startup.py`` measures the time).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Imported by some commands, never by the help of any.
HEAVY = ("numba", "dask", "distributed", "plotly", "arch", "statsmodels", "scipy")
#: Not needed for help either (pandas alone costs about as much as all of the help).
DATA = ("pandas", "numpy", "duckdb", "httpx", "jinja2")
#: typer builds pydantic adapters to coerce option values: a command that runs needs
#: them, its help does not (about 0.2 s of imports).
COERCION = ("pydantic", "pydantic_core")


def _commands() -> tuple[str, ...]:
    from liqflow.cli.main import app

    return tuple(c.name for c in app.registered_commands if c.name)


COMMANDS = _commands()

_SCRIPT = """
import sys
from liqflow.cli.main import app
try:
    app(args=sys.argv[1:], prog_name="liqflow")
except SystemExit as exc:
    code = exc.code
print("\\n".join(sorted({m.split(".")[0] for m in sys.modules})))
sys.exit(code or 0)
"""


def _modules_after(*args: str, env: dict[str, str] | None = None) -> set[str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    run_env = {**os.environ, **(env or {}), "PYTHONPATH": src, "COLUMNS": "100"}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args],
        capture_output=True,
        text=True,
        env=run_env,
        check=True,
        timeout=120,
    )
    return set(out.stdout.split())


@pytest.mark.parametrize("args", [("--help",), *((c, "--help") for c in COMMANDS)])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    mods = _modules_after(*args)
    assert "liqflow" in mods and "typer" in mods
    assert sorted(mods & {*HEAVY, *DATA, *COERCION}) == []


def test_every_command_is_checked() -> None:
    assert {"import", "status", "sweep", "report", "universe", "doctor", "export"} <= set(COMMANDS)
    assert len(COMMANDS) == len(set(COMMANDS)) >= 15


@pytest.mark.parametrize(
    ("package", "definitions"),
    [
        ("liqflow", "_SOURCES"),
        ("liqflow.backtest", "_SOURCES"),
        ("liqflow.signals", "_SOURCES"),
        ("liqflow.stats", "_SOURCES"),
    ],
)
def test_lazy_packages_export_every_name(package: str, definitions: str) -> None:
    mod = importlib.import_module(package)
    lazy = getattr(mod, definitions)
    assert set(lazy) <= set(mod.__all__)
    assert mod.__all__ == sorted(mod.__all__, key=lambda n: (not n.isupper(), n))
    for name in mod.__all__:
        value = getattr(mod, name)
        if name in lazy:
            source = importlib.import_module(f"{package}.{lazy[name]}")
            assert value is getattr(source, name)
    assert set(mod.__all__) <= set(dir(mod))
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        _ = mod.nope


def test_top_level_names_still_import() -> None:
    from liqflow import Store, load_panel
    from liqflow.align import load_panel as align_load_panel
    from liqflow.store import Store as StoreClass

    assert Store is StoreClass and load_panel is align_load_panel


_CACHE_SCRIPT = "import liqflow.backtest._kernels, numba; print(numba.config.CACHE_DIR)"


def test_numba_cache_under_liqflow_home(tmp_path: Path) -> None:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=src, LIQFLOW_HOME=str(tmp_path))

    def cache_dir(extra: dict[str, str]) -> str:
        out = subprocess.run(
            [sys.executable, "-c", _CACHE_SCRIPT],
            capture_output=True,
            text=True,
            env={**env, **extra},
            check=True,
            timeout=120,
        )
        return out.stdout.strip()

    assert cache_dir({}) == str(tmp_path / "numba")
    assert cache_dir({"NUMBA_CACHE_DIR": str(tmp_path / "mine")}) == str(tmp_path / "mine")


def test_an_import_imports_no_heavy_module(tmp_path: Path) -> None:
    """``liqflow import`` of price and universe files reads and writes them with the data
    libraries alone: no numba, scipy or statsmodels (about 0.3 s of an import's time)."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "monthly.csv").write_text(  # a CoinMarketCap monthly top-N snapshot
        "Rank,Name,Symbol,Market Cap,Price,Circulating Supply,Volume (24h),% 1h,% 24h,% 7d,"
        "snapshot_date\n1,Bitcoin,BTC,700000000000,38000,1,1,0,0,0,20220501\n"
        "2,Terra,LUNA,28360000000,82.24,1,1,0,0,0,20220501\n"
    )
    (folder / "eos.csv").write_text(  # a CoinGecko coin's history
        "date,price,total_volume,market_cap,coin_name\n"
        "2018-01-06 00:00:00.000,8.0,1,7000000000,eos\n"
        "2018-01-07 00:00:00.000,8.5,1,7300000000,eos\n"
    )
    (folder / "WALCL.csv").write_text("DATE,WALCL\n2020-01-01,4000000\n2020-01-08,4100000\n")
    store = tmp_path / "s.duckdb"
    mods = _modules_after("import", str(folder), "--store", str(store))
    assert store.exists() and "duckdb" in mods
    assert sorted(mods & set(HEAVY)) == []
