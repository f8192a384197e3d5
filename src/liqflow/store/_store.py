"""The store handle: every read, write, cache and universe method in one class."""

from __future__ import annotations

from liqflow.store._extras import _Extras
from liqflow.store._reads import _Reads
from liqflow.store._writes import _Writes


class Store(_Writes, _Reads, _Extras):
    """A DuckDB-backed store of observations.

    Parameters
    ----------
    path : path, optional
        The DuckDB file; default ``$LIQFLOW_HOME/liqflow.duckdb`` or the user cache dir.
        ``":memory:"`` gives a throw-away store (tests).
    read_only : bool
        Refuse writes (and do not create the file). Reads never lock the file either way.
    wait : float, optional
        Seconds a write waits for another process's write (default ``$LIQFLOW_STORE_WAIT``
        or 60).

    Notes
    -----
    Reads see the snapshot of the store as of the first read after opening or after this
    handle's last write; see the module docstring for how writes are published.
    """
