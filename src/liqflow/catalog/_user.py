"""Catalogue files: reading a TOML catalogue, the user's own, and adding a series to it.

A catalogue file has ``[series.<id>]`` tables (the keys of
:class:`~liqflow.catalog.SeriesSpec`; a table for an id already known replaces only the
keys it gives) and ``[chains.<name>]`` tables with ``stages = [[ids...], ...]``.

The user catalogue, ``catalog.toml`` in ``$LIQFLOW_HOME`` (when set) or else in the user
configuration directory (``~/.config/liqflow/`` on Linux), is merged over the built-in
catalogue by :func:`load_catalog` and so by every command; a file given explicitly
(``--catalog FILE``) is used instead of it. :func:`add_series` writes one entry to it,
appending to the file so that the user's comments and layout stay as they were.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from liqflow._errors import CatalogError, ConfigError
from liqflow.catalog import Catalog, default_catalog
from liqflow.catalog._spec import Chain, SeriesSpec
from liqflow.config import ENV_HOME, read_toml

__all__ = [
    "CATALOG_FILE",
    "add_series",
    "entry_text",
    "id_from_symbol",
    "load_catalog",
    "read_catalog_file",
    "user_catalog_path",
]

CATALOG_FILE = "catalog.toml"

_SPEC_KEYS = {f.name for f in fields(SeriesSpec)} - {"id"}
_STR_KEYS = {"provider", "symbol", "unit", "frequency", "release_lag", "group", "description"}
_LIST_KEYS = {"fields", "prefer", "extend", "aliases"}


def user_catalog_path() -> Path:
    """The user catalogue: ``$LIQFLOW_HOME/catalog.toml``, else in the user config dir.

    The file need not exist; :func:`load_catalog` reads it when it does.
    """
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser() / CATALOG_FILE
    return Path(platformdirs.user_config_dir("liqflow", appauthor=False)) / CATALOG_FILE


def _check_types(sid: str, table: Mapping[str, Any], where: str) -> None:
    for key, value in table.items():
        if key in _STR_KEYS and not isinstance(value, str):
            raise ConfigError(f"{where}: key {key!r} must be a string, got {value!r}")
        if key in _LIST_KEYS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise ConfigError(f"{where}: key {key!r} must be a list of strings, got {value!r}")
        if key == "scale" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"{where}: key 'scale' must be a number, got {value!r}")
        if key == "options" and not isinstance(value, dict):
            raise ConfigError(f"{where}: key 'options' must be a table, got {value!r}")


def _spec_from_toml(sid: str, table: Any, base: SeriesSpec | None, path: Path) -> SeriesSpec:
    where = f"{path}: [series.{sid}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of keys, got {table!r}")
    unknown = set(table) - _SPEC_KEYS
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {sorted(unknown)}; accepted: {sorted(_SPEC_KEYS)}"
        )
    _check_types(sid, table, where)
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    if "scale" in values:
        values["scale"] = float(values["scale"])
    if base is None:
        missing = {"provider", "symbol"} - set(values)
        if missing:
            raise ConfigError(f"{path}: new series [series.{sid}] needs keys {sorted(missing)}")
    try:
        return replace(base, **values) if base is not None else SeriesSpec(id=sid, **values)
    except ConfigError as exc:  # the entry's own checks: add the file and the table
        raise ConfigError(f"{where}: {exc}") from None


def _chain_from_toml(name: str, table: Any, path: Path) -> Chain:
    stages = table.get("stages") if isinstance(table, dict) else None
    if not isinstance(stages, list) or not all(
        isinstance(s, list) and all(isinstance(i, str) for i in s) for s in stages
    ):
        raise ConfigError(f"{path}: [chains.{name}] needs stages = [[ids...], ...]")
    return Chain(name, tuple(tuple(s) for s in stages))


def read_catalog_file(path: str | Path, base: Catalog | None = None) -> Catalog:
    """``base`` (default: the built-in catalogue) extended by the TOML catalogue ``path``.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or an entry is invalid: one line naming the file
        and the table (``catalog.toml: [series.x]: key 'scale' must be a number``).
    """
    p = Path(path)
    cat = base if base is not None else default_catalog()
    doc = read_toml(p, "catalogue")
    extra = set(doc) - {"series", "chains"}
    if extra:
        raise ConfigError(
            f"{p}: unknown top-level tables {sorted(extra)}; accepted: ['chains', 'series']"
        )
    for key in ("series", "chains"):
        if not isinstance(doc.get(key, {}), dict):
            raise ConfigError(f"{p}: {key!r} must be a table of [{key}.<name>] tables")
    series = doc.get("series", {})
    specs = [_spec_from_toml(sid, table, cat._specs.get(sid), p) for sid, table in series.items()]
    chains = [_chain_from_toml(n, t, p) for n, t in doc.get("chains", {}).items()]
    try:
        return cat.merged(specs, chains)
    except ConfigError as exc:  # a chain naming an unknown series
        raise ConfigError(f"{p}: {exc}") from None


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The built-in catalogue, extended or overridden by a TOML file.

    Parameters
    ----------
    path : path, optional
        A catalogue file (see the module docstring). Without it, the user catalogue
        (:func:`user_catalog_path`) is used when it exists; a file given explicitly is
        used instead of the user catalogue, not on top of it.

    Raises
    ------
    ConfigError
        The file is unreadable or one of its entries is invalid (the message names the
        file and the table).
    """
    if path is not None:
        return read_catalog_file(path)
    user = user_catalog_path()
    if user.is_file():
        return read_catalog_file(user)
    return default_catalog()


# --- writing an entry -------------------------------------------------------------------


def id_from_symbol(symbol: str) -> str:
    """A catalogue id for a provider symbol: ``DGS30`` -> ``dgs30``, ``^VIX`` -> ``vix``,
    ``ETH/USDT`` -> ``eth_usdt``, ``0700.HK`` -> ``s0700_hk``."""
    sid = re.sub(r"[^a-z0-9]+", "_", symbol.lower()).strip("_")
    if not sid:
        raise ConfigError(f"symbol {symbol!r} gives no usable id; pass --id")
    return sid if sid[0].isalpha() else f"s{sid}"


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


def entry_text(spec: SeriesSpec, *, full: bool = False) -> str:
    """The ``[series.<id>]`` table of ``spec``.

    Only the keys that differ from :class:`SeriesSpec`'s defaults are written, unless
    ``full``: an entry replacing a built-in series must give every key, since a table
    for a known id changes only the keys it names.
    """
    defaults = SeriesSpec(id=spec.id, provider=spec.provider, symbol=spec.symbol)
    lines = [f"[series.{spec.id}]"]
    for f in fields(SeriesSpec):
        value = getattr(spec, f.name)
        if f.name == "id" or (
            not full and f.name not in ("provider", "symbol") and value == getattr(defaults, f.name)
        ):
            continue
        lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _without_table(text: str, sid: str) -> str:
    """``text`` with the ``[series.<sid>]`` table (and its sub-tables) removed."""
    head = re.compile(rf'^\s*\[\s*series\.(?:{sid}|"{sid}")\s*[\].]')
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if stripped.startswith("["):
            skipping = bool(head.match(line))
        if not skipping:
            out.append(line)
    return "".join(out)


def add_series(spec: SeriesSpec, *, force: bool = False, path: Path | None = None) -> Path:
    """Write ``spec`` to the user catalogue (or ``path``) and return the file written.

    The entry is checked against the catalogue the file gives (built-in plus the file):
    an id that is already a series, or a FRED/Yahoo symbol that another series already
    has, is refused unless ``force``; with ``force`` the file's own entry for the id is
    replaced. The file is written whole only after the new catalogue has loaded.

    Raises
    ------
    CatalogError
        The id or the symbol is taken and ``force`` is false.
    ConfigError
        The existing file is invalid (it is left as it was).
    """
    target = path if path is not None else user_catalog_path()
    current = read_catalog_file(target) if target.is_file() else default_catalog()
    if not force:
        if spec.id in current._specs:
            raise CatalogError(
                f"series {spec.id!r} is already in the catalogue ({current[spec.id].provider} "
                f"{current[spec.id].symbol!r}); pass --force to replace it or --id to name it otherwise"
            )
        taken = [
            other
            for other in current.values()
            if other.provider == spec.provider and other.symbol.lower() == spec.symbol.lower()
        ]
        if taken:
            raise CatalogError(
                f"{spec.provider} symbol {spec.symbol!r} is already the series {taken[0].id!r}; "
                f"use `{taken[0].id}`, or pass --force to add it again"
            )
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    kept = _without_table(old, spec.id) if force else old
    new = kept + (
        "" if not kept or kept.endswith("\n\n") else "\n" if kept.endswith("\n") else "\n\n"
    )
    new += entry_text(spec, full=spec.id in default_catalog()._specs)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    try:
        read_catalog_file(tmp)
    except ConfigError:
        tmp.unlink()
        raise
    tmp.replace(target)
    return target
