"""liqflow: follow liquidity down the chain and test each link with honest statistics.

Fed liquidity -> credit spreads -> large caps -> small caps (Russell 2000) -> crypto.
"""

from liqflow._errors import (
    CatalogError,
    ConfigError,
    DataError,
    InsufficientDataError,
    LiqflowError,
    ProviderError,
    StoreError,
)
from liqflow.align import load_panel
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
    "load_panel",
]
