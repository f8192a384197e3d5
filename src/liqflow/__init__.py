"""liqflow: follow liquidity down the chain and test each link with honest statistics.

Fed liquidity -> credit spreads -> large caps -> small caps (Russell 2000) -> crypto.

The names below are imported on first use (``from liqflow import Store`` works as
usual), so that ``import liqflow`` and ``liqflow --help`` stay fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from liqflow._errors import (
    CatalogError,
    ConfigError,
    DataError,
    InsufficientDataError,
    LiqflowError,
    ProviderError,
    StoreError,
)
from liqflow._lazy import lazy_exports

if TYPE_CHECKING:
    from liqflow.align import load_panel
    from liqflow.api import load_evidence, load_signals, load_stages, load_universe
    from liqflow.catalog import Catalog, SeriesSpec, default_catalog, load_catalog
    from liqflow.store import Store

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "CatalogError",
    "ConfigError",
    "DataError",
    "InsufficientDataError",
    "LiqflowError",
    "ProviderError",
    "SeriesSpec",
    "Store",
    "StoreError",
    "__version__",
    "default_catalog",
    "load_catalog",
    "load_evidence",
    "load_panel",
    "load_signals",
    "load_stages",
    "load_universe",
]

#: Where each lazily imported name is defined (see liqflow._lazy).
_SOURCES = {
    "Catalog": "catalog",
    "SeriesSpec": "catalog",
    "default_catalog": "catalog",
    "load_catalog": "catalog",
    "load_panel": "align",
    "load_evidence": "api",
    "load_signals": "api",
    "load_stages": "api",
    "load_universe": "api",
    "Store": "store",
}


def _numba_cache_dir() -> None:
    """Point numba's on-disk cache at liqflow's cache folder, unless the user chose one.

    numba reads ``NUMBA_CACHE_DIR`` when it is imported; liqflow's kernels are compiled
    with ``cache=True`` and would otherwise write next to the installed package.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    home = os.environ.get("LIQFLOW_HOME")
    if not home:
        import platformdirs

        home = platformdirs.user_cache_dir("liqflow", appauthor=False)
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(home, "numba")


_numba_cache_dir()


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
