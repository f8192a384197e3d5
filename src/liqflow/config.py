"""User settings: where the store lives, API keys from the environment, reading TOML files."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from liqflow._errors import ConfigError

__all__ = ["ENV_FRED_KEY", "ENV_HOME", "fred_api_key", "home_dir", "read_toml", "store_path"]

ENV_HOME = "LIQFLOW_HOME"
ENV_FRED_KEY = "FRED_API_KEY"
STORE_FILE = "liqflow.duckdb"


def home_dir() -> Path:
    """liqflow's data directory: ``$LIQFLOW_HOME``, else the user cache dir (platformdirs)."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("liqflow", appauthor=False))


def store_path(override: str | Path | None = None) -> Path:
    """Path of the DuckDB store: ``override`` if given, else ``home_dir()/liqflow.duckdb``."""
    if override is not None:
        return Path(override).expanduser()
    return home_dir() / STORE_FILE


def fred_api_key() -> str | None:
    """The FRED API key from ``$FRED_API_KEY`` (None selects the keyless CSV route)."""
    key = os.environ.get(ENV_FRED_KEY, "").strip()
    return key or None


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The document of the TOML file ``path``; ``what`` names the file in errors (``"rule"``).

    Raises
    ------
    ConfigError
        The file does not exist or is not valid TOML.
    """
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} file {str(p)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file {str(p)!r} is not valid TOML: {exc}") from None
