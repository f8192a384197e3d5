"""Caching expensive results (the evidence, report parts) in the store, keyed by a hash
of their inputs.

A cached result is stored as JSON (:meth:`liqflow.store.Store.cache_put`) by a small
codec that round-trips liqflow's frozen result dataclasses exactly: floats are written
with ``repr`` precision (``json`` does that), NaN as ``NaN``, DataFrames column by column
with their dtypes, index and ``attrs``. Columns and indexes of a plain numpy dtype (float,
integer, bool, tz-naive datetime) are written as their raw bytes in base64, which
round-trips every bit (NaN payloads included) and decodes a panel of millions of values
in milliseconds; other values (strings, ``pd.NA``, tz-aware dates) one by one. Only dataclasses defined in ``liqflow`` are ever rebuilt
from the cache, so a tampered cache cannot import arbitrary code.

The key hashes the part's name, :data:`CACHE_VERSION`, the liqflow version, the
parameters (their ``repr``) and the content of every input Series/DataFrame
(``pandas.util.hash_pandas_object``, index included). Any change to the data, the
parameters or the code version gives a new key.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import gc
import hashlib
import importlib
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from liqflow.store import Store

__all__ = [
    "CACHE_VERSION",
    "cache_key",
    "cache_read",
    "cache_write",
    "cached",
    "content_hash",
    "decode",
    "encode",
    "frames_digest",
]

#: Bump when a cached part's definition changes without a liqflow version change.
CACHE_VERSION = 2
#: Key of a cached payload whose arrays are in the entry's bytes (:meth:`Store.cache_blob`).
_BLOB = "__blob__"
#: Compression of an entry's bytes (pyarrow's LZ4 frame codec: about 10x on a panel,
#: decompressed at memory speed).
_CODEC = "lz4"
#: numpy dtype kinds written as raw bytes (see the module docstring).
_RAW_KINDS = "biufmM"

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


def _raw_digest(frame: pd.DataFrame) -> bytes | None:
    """The digest of a frame of one numeric dtype on a numeric or datetime index, from
    its bytes (NaN made one pattern, -0.0 made 0.0: equal values, equal bytes); None for
    any other frame. Some five times faster than :func:`pandas.util.hash_pandas_object`
    on a universe's closes."""
    values, index = frame.to_numpy(), frame.index.to_numpy()
    if values.dtype.kind not in "biuf" or index.dtype.kind not in "iumM":
        return None
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), np.nan, values)  # a copy, C-ordered
        values += 0.0
    h = hashlib.sha256()
    h.update(repr([str(c) for c in frame.columns]).encode())
    # each column's own dtype too: to_numpy() makes one of an int and a float column
    h.update(repr([str(d) for d in frame.dtypes]).encode())
    h.update(f"{values.dtype.str}|{index.dtype.str}|{values.shape}".encode())
    h.update(np.ascontiguousarray(index).view(np.uint8).data)
    h.update(np.ascontiguousarray(values).view(np.uint8).data)
    return h.digest()


def frames_digest(*inputs: object) -> bytes:
    """The digest of ``inputs`` as :func:`content_hash` takes them: a frame of one numeric
    dtype read from its bytes (:func:`_raw_digest`), anything else as in a cache key. For
    large inputs a caller hashes once and carries the digest (a value of its own inputs'
    hash) instead of the data."""
    h = hashlib.sha256()
    for x in inputs:
        raw = _raw_digest(x) if isinstance(x, pd.DataFrame) else None
        h.update(raw if raw is not None else _digest(x))
    return h.digest()


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


class _Raw:
    """Where raw arrays go: inline base64 (``buf`` None) or a side buffer of bytes.

    With a side buffer the JSON holds each array's offset and length in it
    (``{"__raw__": dtype, "at": offset, "n": bytes}``), so a large panel is stored and
    read back as one block of bytes, with no text conversion at all.
    """

    def __init__(self, buf: bytearray | bytes | memoryview | None = None) -> None:
        self.buf = buf

    def put(self, arr: np.ndarray) -> dict[str, Any]:
        data = np.ascontiguousarray(arr).tobytes()
        if not isinstance(self.buf, bytearray):
            return {"__raw__": arr.dtype.str, "b64": base64.b64encode(data).decode("ascii")}
        self.buf.extend(b"\0" * (-len(self.buf) % 8))  # aligned for frombuffer
        at = len(self.buf)
        self.buf.extend(data)
        return {"__raw__": arr.dtype.str, "at": at, "n": len(data)}

    def get(self, d: Mapping[str, Any]) -> np.ndarray:
        dtype = np.dtype(d["__raw__"])
        if "b64" in d:
            return np.frombuffer(base64.b64decode(d["b64"]), dtype=dtype).copy()
        if self.buf is None:
            raise ValueError("the cached payload refers to raw data that was not read")
        view = memoryview(self.buf)[int(d["at"]) : int(d["at"]) + int(d["n"])]
        arr = np.frombuffer(view, dtype=dtype)
        return arr if arr.flags.writeable else arr.copy()  # a writable buffer is shared


def _raw_dtype(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in _RAW_KINDS


class _Encoder:
    def __init__(self, raw: _Raw) -> None:
        self.raw = raw

    def index(self, idx: pd.Index) -> dict[str, Any]:
        if isinstance(idx, pd.MultiIndex):
            return {
                "multi": [self.index(idx.get_level_values(i)) for i in range(idx.nlevels)],
                "names": [self.enc(n) for n in idx.names],
            }
        out: dict[str, Any] = {
            "values": self.values(idx),
            "dtype": str(idx.dtype),
            "name": self.enc(idx.name),
        }
        if isinstance(idx, pd.DatetimeIndex) and idx.freq is not None:
            out["freq"] = idx.freqstr
        return out

    def values(self, values: pd.Index | pd.Series) -> list[Any] | dict[str, Any]:
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in _RAW_KINDS:
            return self.raw.put(np.asarray(values, dtype=dtype))
        if values.dtype.kind == "M":
            return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values]
        if isinstance(values.dtype, pd.StringDtype):
            # a few distinct labels on every day: their codes, raw (-1: missing)
            codes, labels = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
            return {
                "__labels__": [str(x) for x in labels],
                "codes": self.raw.put(codes.astype(np.int32)),
            }
        return [self.enc(v) for v in values.tolist()]

    def frame(self, obj: pd.DataFrame) -> dict[str, Any]:
        dtypes = [str(d) for d in obj.dtypes]
        out: dict[str, Any] = {
            "index": self.index(obj.index),
            "columns": self.index(obj.columns),
            "dtypes": dtypes,
            "attrs": self.enc(dict(obj.attrs)),
        }
        if obj.shape[1] and len(set(dtypes)) == 1 and _raw_dtype(obj.dtypes.iloc[0]):
            # one dtype: one block, column after column (decoded without a copy per column)
            block = obj.to_numpy(dtype=obj.dtypes.iloc[0]).T
            out["block"] = self.raw.put(block)
        else:
            out["data"] = [self.values(obj.iloc[:, i]) for i in range(obj.shape[1])]
        return out

    def enc(self, obj: Any) -> Any:
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
        if obj is pd.NA:
            return {"__na__": 1}
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
            return {"__tuple__": [self.enc(x) for x in obj]}
        if isinstance(obj, frozenset):
            return {"__frozenset__": [self.enc(x) for x in sorted(obj, key=repr)]}
        if isinstance(obj, list):
            return [self.enc(x) for x in obj]
        if isinstance(obj, Mapping):
            return {"__map__": [[self.enc(k), self.enc(v)] for k, v in obj.items()]}
        return self.pandas_or_dataclass(obj)

    def pandas_or_dataclass(self, obj: Any) -> Any:
        if isinstance(obj, pd.Index):
            return {"__index__": self.index(obj)}
        if isinstance(obj, pd.DataFrame):
            return {"__df__": self.frame(obj)}
        if isinstance(obj, pd.Series):
            return {
                "__series__": {
                    "index": self.index(obj.index),
                    "name": self.enc(obj.name),
                    "dtype": str(obj.dtype),
                    "data": self.values(obj),
                }
            }
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            cls = type(obj)
            return {
                "__dc__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: self.enc(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
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


class _Decoder:
    def __init__(self, raw: _Raw) -> None:
        self.raw = raw

    def index(self, d: Mapping[str, Any]) -> pd.Index:
        if "multi" in d:
            levels = [self.index(x) for x in d["multi"]]
            return pd.MultiIndex.from_arrays(levels, names=[self.dec(n) for n in d["names"]])
        values = self.values(d["values"], d["dtype"])
        if "freq" in d:
            return pd.DatetimeIndex(values, name=self.dec(d["name"]), freq=d["freq"])
        return pd.Index(values, name=self.dec(d["name"]))

    def values(self, values: list[Any] | dict[str, Any], dtype: str) -> Any:
        """A numpy array (raw dtypes) or a Series of ``dtype``."""
        if isinstance(values, dict) and "__labels__" in values:
            codes = self.raw.get(values["codes"])
            labels = np.array([*values["__labels__"], None], dtype=object)
            out: Any = pd.Series(labels[codes], dtype=object)
            return out.astype(dtype)
        if isinstance(values, dict):
            return self.raw.get(values)
        if dtype.startswith("datetime64"):
            return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype=dtype)
        raw: Any = pd.Series([self.dec(v) for v in values], dtype=object)
        return raw if dtype == "object" else raw.astype(dtype)

    def frame(self, d: Mapping[str, Any]) -> pd.DataFrame:
        index = self.index(d["index"])
        columns = self.index(d["columns"])
        if "block" in d:
            block = self.raw.get(d["block"]).reshape(len(columns), len(index)).T
            frame = pd.DataFrame(block, index=index, columns=columns, copy=False)
        else:
            cols = {}  # arrays, not Series: nothing to align on the index
            for i, (vals, dt) in enumerate(zip(d["data"], d["dtypes"], strict=True)):
                v = self.values(vals, dt)
                cols[i] = v.array if isinstance(v, pd.Series) else v
            frame = pd.DataFrame(cols, index=index, copy=False)
            frame.columns = columns
        frame.attrs.update(self.dec(d.get("attrs", {"__map__": []})))
        return frame

    def dec(self, obj: Any) -> Any:
        if isinstance(obj, list):
            return [self.dec(x) for x in obj]
        if not isinstance(obj, dict):
            return obj
        if "__nat__" in obj:
            return pd.NaT
        if "__na__" in obj:
            return pd.NA
        if "__ts__" in obj:
            return pd.Timestamp(obj["__ts__"])
        if "__tuple__" in obj:
            return tuple(self.dec(x) for x in obj["__tuple__"])
        if "__frozenset__" in obj:
            return frozenset(self.dec(x) for x in obj["__frozenset__"])
        if "__nd__" in obj:
            d = obj["__nd__"]
            return np.asarray(d["data"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])
        if "__map__" in obj:
            return {self.dec(k): self.dec(v) for k, v in obj["__map__"]}
        return self.pandas_or_dataclass(obj)

    def pandas_or_dataclass(self, obj: dict[str, Any]) -> Any:
        if "__index__" in obj:
            return self.index(obj["__index__"])
        if "__df__" in obj:
            return self.frame(obj["__df__"])
        if "__series__" in obj:
            d = obj["__series__"]
            values = self.values(d["data"], d["dtype"])
            arr = values.to_numpy() if isinstance(values, pd.Series) else values
            return pd.Series(
                arr, index=self.index(d["index"]), dtype=d["dtype"], name=self.dec(d["name"])
            )
        if "__dc__" in obj:
            cls = _dataclass(obj["__dc__"])
            return cls(**{k: self.dec(v) for k, v in obj["fields"].items()})
        return {k: self.dec(v) for k, v in obj.items()}


def encode(obj: Any, raw: bytearray | None = None) -> Any:
    """A JSON-serialisable form of ``obj`` (see the module docstring).

    With ``raw``, the bytes of numeric arrays are appended to it instead of being written
    inline as base64; :func:`decode` then needs the same bytes.
    """
    return _Encoder(_Raw(raw)).enc(obj)


def decode(obj: Any, raw: bytes | memoryview | None = None) -> Any:
    """Inverse of :func:`encode` (``raw``: the bytes it appended, when it was given some)."""
    enabled = gc.isenabled()
    gc.disable()  # a large result allocates many small objects: no collection pass per batch
    try:
        return _Decoder(_Raw(raw)).dec(obj)
    finally:
        if enabled:
            gc.enable()


def cache_read(store: Store, key: str) -> tuple[Any, bool]:
    """``(value, True)`` when ``key`` is in the store's cache and decodes, else
    ``(None, False)`` (a value written by another version is a miss)."""
    try:
        hit = store.cache_get(key)
        blob = store.cache_blob(key) if isinstance(hit, dict) and _BLOB in hit else None
    except duckdb.Error:
        return None, False
    if hit is None:
        return None, False
    try:
        if isinstance(hit, dict) and _BLOB in hit:
            return decode(hit[_BLOB], _decompress(blob, hit)), True
        return decode(hit), True
    except (ValueError, TypeError, KeyError, AttributeError, ImportError, OSError):
        return None, False  # written by another version (or its bytes are missing)


def _decompress(blob: bytes | None, head: Mapping[str, Any]) -> memoryview:
    """The entry's bytes, decompressed into a writable buffer (the arrays share it)."""
    import pyarrow as pa

    if blob is None:
        raise ValueError("the cached entry's bytes are missing")
    out = pa.decompress(blob, decompressed_size=int(head["size"]), codec=str(head["codec"]))
    return memoryview(out)


def cache_write(store: Store, key: str, value: object, *, supersedes: str | None = None) -> None:
    """Cache ``value`` under ``key``, best effort (see :meth:`Store.cache_put`); its
    arrays go to the entry's bytes. ``supersedes``: a key prefix whose other entries
    the write deletes."""
    with contextlib.suppress(duckdb.Error, TypeError):
        raw = bytearray()
        payload = encode(value, raw)
        if raw:
            import pyarrow as pa

            size = len(raw)
            blob = pa.compress(raw, codec=_CODEC, asbytes=True)
            del raw
            head = {_BLOB: payload, "codec": _CODEC, "size": size}
            store.cache_put(key, head, blob=blob, supersedes=supersedes)
        else:
            store.cache_put(key, payload, supersedes=supersedes)


def cached(
    store: Store | None, key: str, compute: Callable[[], T], *, enabled: bool = True
) -> tuple[T, bool]:
    """``compute()``, or its cached value under ``key``; returns ``(value, from_cache)``.

    A store that cannot be written (opened read-only, locked) only disables caching.
    """
    if store is None or not enabled:
        return compute(), False
    value, hit = cache_read(store, key)
    if hit:
        return value, True
    fresh = compute()
    cache_write(store, key, fresh)
    return fresh, False


def in_background(
    name: str, compute: Callable[[], T], *, deferred: bool = False
) -> Callable[[], T]:
    """``compute()`` begun on a thread of its own (named ``liqflow-<name>``); returns the
    function that waits for its value (and raises its error).

    ``deferred``: a part whose value is waited for last (the report's survivorship bias
    and event paths, needed only to draw the page): its thread runs at a lower
    scheduling priority (:data:`DEFERRED_NICENESS` on Linux, that thread alone), so the
    work on the path to the evidence takes the cores first and this part fills the time
    they leave idle (the building thread's wait for the statistics). The value is the
    same; where the priority cannot be set the thread runs as any other.
    """
    from concurrent.futures import ThreadPoolExecutor

    job = partial(_with_lower_priority, compute) if deferred else compute
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"liqflow-{name}")
    future = pool.submit(job)
    pool.shutdown(wait=False)
    return future.result


#: How much lower the scheduling priority of a deferred part's thread is (``nice``
#: steps): a thread at +5 gets about a third of the CPU time of one at 0 when they
#: compete for a core, and all of a core no other thread wants.
DEFERRED_NICENESS = 5


def _with_lower_priority(compute: Callable[[], T]) -> T:
    """``compute()`` on this thread at :data:`DEFERRED_NICENESS` (Linux; the thread ends
    with the job: the priority goes with it)."""
    import os
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # a container may forbid it: run as is
            os.setpriority(
                os.PRIO_PROCESS,
                threading.get_native_id(),
                os.getpriority(os.PRIO_PROCESS, 0) + DEFERRED_NICENESS,
            )
    return compute()


def cached_in_background(
    store: Store | None,
    key: str,
    compute: Callable[[], T],
    *,
    name: str,
    enabled: bool = True,
    deferred: bool = False,
) -> Callable[[], tuple[T, bool]]:
    """:func:`cached` begun in the background: returns the function that waits for
    ``(value, from_cache)``.

    The cache is read now, on the calling thread; on a miss ``compute`` starts on a thread
    of its own (:func:`in_background`), and the waiting function writes the cache, again
    on the calling thread (a :class:`Store` handle is used by one thread only). An error
    of ``compute`` is raised by the waiting function, and nothing is cached.
    ``deferred``: as in :func:`in_background`.
    """
    cache = store if enabled else None
    if cache is not None:
        stored, hit = cache_read(cache, key)
        if hit:
            return lambda: (stored, True)
    result = in_background(name, compute, deferred=deferred)

    def wait() -> tuple[T, bool]:
        value = result()
        if cache is not None:
            cache_write(cache, key, value)
        return value, False

    return wait
