"""Caching expensive results (the evidence, report parts) in the store, keyed by a hash
of their inputs.

A cached result is stored as JSON (:meth:`liqflow.store.Store.cache_put`) by a small
codec that round-trips liqflow's frozen result dataclasses exactly: floats are written
with ``repr`` precision (``json`` does that), NaN as ``NaN``, DataFrames column by column
with their dtypes and index. Only dataclasses defined in ``liqflow`` are ever rebuilt
from the cache, so a tampered cache cannot import arbitrary code.

The key hashes the part's name, :data:`CACHE_VERSION`, the liqflow version, the
parameters (their ``repr``) and the content of every input Series/DataFrame
(``pandas.util.hash_pandas_object``, index included). Any change to the data, the
parameters or the code version gives a new key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from liqflow.store import Store

__all__ = ["CACHE_VERSION", "cache_key", "cached", "content_hash", "decode", "encode"]

#: Bump when a cached part's definition changes without a liqflow version change.
CACHE_VERSION = 1

T = TypeVar("T")


def _digest(obj: object) -> bytes:
    if isinstance(obj, pd.Series | pd.DataFrame):
        h = hashlib.sha256()
        if isinstance(obj, pd.DataFrame):
            names, dtypes = list(obj.columns), [str(d) for d in obj.dtypes]
        else:
            names, dtypes = [str(obj.name)], [str(obj.dtype)]
        h.update(repr([str(c) for c in names]).encode())
        h.update(repr(dtypes).encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
        return h.digest()
    if isinstance(obj, Mapping):
        return b"".join(_digest(k) + _digest(v) for k, v in sorted(obj.items(), key=repr))
    if isinstance(obj, list | tuple):
        return b"(" + b",".join(_digest(x) for x in obj) + b")"
    return repr(obj).encode()


def cache_key(part: str, *inputs: object) -> str:
    """Key of ``part`` computed from ``inputs`` (data, parameters)."""
    from liqflow import __version__

    h = hashlib.sha256(f"{part}|{CACHE_VERSION}|{__version__}".encode())
    for x in inputs:
        h.update(_digest(x))
    return f"{part}:{h.hexdigest()[:40]}"


def content_hash(*inputs: object) -> str:
    """SHA-256 (hex) of the content of ``inputs``: Series/DataFrames with their index,
    mappings, sequences and the ``repr`` of anything else (independent of the version)."""
    h = hashlib.sha256()
    for x in inputs:
        h.update(_digest(x))
    return h.hexdigest()


# -- codec --------------------------------------------------------------------------------


def _enc_index(idx: pd.Index) -> dict[str, Any]:
    if isinstance(idx, pd.MultiIndex):
        return {
            "multi": [_enc_index(idx.get_level_values(i)) for i in range(idx.nlevels)],
            "names": [encode(n) for n in idx.names],
        }
    return {"values": _enc_values(idx), "dtype": str(idx.dtype), "name": encode(idx.name)}


def _dec_index(d: Mapping[str, Any]) -> pd.Index:
    if "multi" in d:
        levels = [_dec_index(x) for x in d["multi"]]
        return pd.MultiIndex.from_arrays(levels, names=[decode(n) for n in d["names"]])
    values = _dec_values(d["values"], d["dtype"])
    return pd.Index(values, name=decode(d["name"]))


def _enc_values(values: pd.Index | pd.Series) -> list[Any]:
    if values.dtype.kind == "M":
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values]
    return [encode(v) for v in values.tolist()]


def _dec_values(values: list[Any], dtype: str) -> pd.Series:
    if dtype.startswith("datetime64"):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype=dtype)
    raw: Any = pd.Series([decode(v) for v in values], dtype=object)
    return raw if dtype == "object" else raw.astype(dtype)


def encode(obj: Any) -> Any:
    """A JSON-serialisable form of ``obj`` (see the module docstring)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj)
    if obj is pd.NaT:
        return {"__nat__": 1}
    if isinstance(obj, pd.Timestamp):
        return {"__ts__": obj.isoformat()}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cannot cache an array of dtype {obj.dtype}")
        return {
            "__nd__": {
                "dtype": obj.dtype.str,
                "shape": list(obj.shape),
                "data": obj.ravel().tolist(),
            }
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x) for x in obj]}
    if isinstance(obj, list):
        return [encode(x) for x in obj]
    if isinstance(obj, Mapping):
        return {"__map__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, pd.DataFrame):
        return {
            "__df__": {
                "index": _enc_index(obj.index),
                "columns": _enc_index(obj.columns),
                "dtypes": [str(obj[c].dtype) for c in obj.columns]
                if obj.columns.is_unique
                else [str(d) for d in obj.dtypes],
                "data": [_enc_values(obj.iloc[:, i]) for i in range(obj.shape[1])],
            }
        }
    if isinstance(obj, pd.Series):
        return {
            "__series__": {
                "index": _enc_index(obj.index),
                "name": encode(obj.name),
                "dtype": str(obj.dtype),
                "data": _enc_values(obj),
            }
        }
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        return {
            "__dc__": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        }
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def _dataclass(path: str) -> type:
    module, _, qualname = path.partition(":")
    if not (module == "liqflow" or module.startswith("liqflow.")):
        raise ValueError(f"refusing to rebuild {path!r} from the cache: not a liqflow class")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise ValueError(f"{path!r} is not a dataclass")
    return obj


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(obj, list):
        return [decode(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "__nat__" in obj:
        return pd.NaT
    if "__ts__" in obj:
        return pd.Timestamp(obj["__ts__"])
    if "__tuple__" in obj:
        return tuple(decode(x) for x in obj["__tuple__"])
    if "__nd__" in obj:
        d = obj["__nd__"]
        return np.asarray(d["data"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])
    if "__map__" in obj:
        return {decode(k): decode(v) for k, v in obj["__map__"]}
    if "__df__" in obj:
        d = obj["__df__"]
        index = _dec_index(d["index"])
        cols = [
            _dec_values(vals, dt).set_axis(index)
            for vals, dt in zip(d["data"], d["dtypes"], strict=True)
        ]
        frame = pd.DataFrame(dict(enumerate(cols)), index=index)
        frame.columns = _dec_index(d["columns"])
        return frame
    if "__series__" in obj:
        d = obj["__series__"]
        values = _dec_values(d["data"], d["dtype"]).set_axis(_dec_index(d["index"]))
        return values.rename(decode(d["name"]))
    if "__dc__" in obj:
        cls = _dataclass(obj["__dc__"])
        return cls(**{k: decode(v) for k, v in obj["fields"].items()})
    return {k: decode(v) for k, v in obj.items()}


def cached(
    store: Store | None, key: str, compute: Callable[[], T], *, enabled: bool = True
) -> tuple[T, bool]:
    """``compute()``, or its cached value under ``key``; returns ``(value, from_cache)``.

    A store that cannot be written (opened read-only, locked) only disables caching.
    """
    if store is None or not enabled:
        return compute(), False
    try:
        hit = store.cache_get(key)
    except duckdb.Error:
        hit = None
    if hit is not None:
        try:
            return decode(hit), True
        except (ValueError, TypeError, KeyError, AttributeError, ImportError):
            pass  # written by another version: recompute and overwrite
    value = compute()
    with contextlib.suppress(duckdb.Error, TypeError):
        store.cache_put(key, encode(value))
    return value, False
