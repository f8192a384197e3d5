"""The commands' answers as Python objects, one call each (see ``docs/api.md``).

Each function opens the store (a path, an open :class:`~liqflow.store.Store`, or None
for the default store), reads it point in time as of ``as_of`` and returns what the
matching command prints: :func:`load_signals` (``liqflow status``), :func:`load_stages`
(the stage of every day), :func:`load_evidence` (``liqflow study``) and
:func:`load_universe` (``liqflow universe``). Without ``as_of`` they use the one
default date of every command (:func:`liqflow.align.default_as_of`: the last day the
chain's inputs are fresh). The panel itself is :func:`liqflow.align.load_panel`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from liqflow.study.defaults import ALPHA, DEFAULT_DRAWS, DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd

    from liqflow.catalog import Catalog
    from liqflow.signals import SignalSet
    from liqflow.store import Store
    from liqflow.study import Evidence

__all__ = ["load_evidence", "load_signals", "load_stages", "load_universe"]


@contextmanager
def _opened(store: Store | str | Path | None) -> Iterator[Store]:
    """``store`` if it is open already, else the store at that path, read-only."""
    from liqflow.store import Store

    if isinstance(store, Store):
        yield store
        return
    with Store(store, read_only=True) as opened:
        yield opened


def _catalog(catalog: Catalog | str | Path | None) -> Catalog:
    from liqflow.catalog import Catalog, load_catalog

    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog)


def load_signals(
    store: Store | str | Path | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | str | Path | None = None,
) -> SignalSet:
    """Every signal of the chain and the stages, as ``liqflow status`` computes them.

    Parameters
    ----------
    store : Store, path or None
        The store (None: ``$LIQFLOW_HOME/liqflow.duckdb`` or the user cache dir).
    as_of : date, optional
        Use only data public by the end of this day (default: the commands' default date).
    catalog : Catalog or path, optional
        Default: the built-in catalogue merged with the user catalogue.

    Returns
    -------
    SignalSet
        ``.to_frame()`` the calendar-day signals, ``.stage_status()`` the stages on the
        last day, ``.stages`` the :class:`~liqflow.signals.StageTimeline`.

    Raises
    ------
    DataError
        The store holds no data (up to ``as_of``), or ``as_of`` is after its last data.
    """
    from liqflow.align import load_panel, resolve_as_of
    from liqflow.signals import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    cat = _catalog(catalog)
    with _opened(store) as st:
        when, _ = resolve_as_of(st, cat, "default", as_of)
        panel = load_panel(st, catalog=cat, as_of=when)
        universe = alt_universe_from_store(st, cat, when)
    return compute_signals(panel, catalog=cat, universe=universe)


def load_stages(
    store: Store | str | Path | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | str | Path | None = None,
) -> pd.DataFrame:
    """The stage of every day up to ``as_of`` (column ``stage``, 0-4) with each stage's
    strength, from :func:`load_signals` (same parameters)."""
    return load_signals(store, as_of=as_of, catalog=catalog).stages.to_frame()


def load_evidence(
    store: Store | str | Path | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | str | Path | None = None,
    chain: str = "default",
    seed: int = DEFAULT_SEED,
    draws: int = DEFAULT_DRAWS,
    alpha: float = ALPHA,
) -> Evidence:
    """The verdict on each claim of ``chain`` and every test behind it (``liqflow study``).

    Returns
    -------
    Evidence
        ``.claims`` one row per claim, ``.to_frame()`` one row per test (effect,
        interval, n, p, Holm p, verdict), ``.per_event`` what followed each breakout.

    Notes
    -----
    The same ``seed``, ``draws`` and data give the same numbers; a run is cached in the
    store, keyed by the data's hash and the parameters, so a second call with the same arguments is fast.
    """
    from liqflow.study import study

    cat = _catalog(catalog)
    with _opened(store) as st:
        run = study(st, cat, chain, as_of=as_of, seed=seed, draws=draws, alpha=alpha)
    return run.evidence


def load_universe(
    store: Store | str | Path | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    top_n: int | None = None,
    catalog: Catalog | str | Path | None = None,
) -> pd.DataFrame:
    """The crypto universe as of ``as_of`` (dead coins included): one row per member with
    its rank, market cap, exclusion and the source that priced it (``liqflow universe``).

    Raises
    ------
    DataError
        The store holds no universe snapshot on or before ``as_of``.
    """
    import pandas as pd

    from liqflow.universe_store import universe_view

    cat = _catalog(catalog)
    day = None if as_of is None else pd.Timestamp(as_of)
    with _opened(store) as st:
        view = universe_view(st, cat, as_of=day, top_n=top_n)
    return view.to_frame()
