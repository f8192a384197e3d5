"""The catalogue: every series the chain uses, as data.

Each :class:`SeriesSpec` says where a series comes from (provider and symbol), what
fields it has, its unit and frequency, and its ``release_lag``: how long after its
observation date a value becomes public. ``align.py`` uses the lag to build a panel
that a decision taken at the *end* of day *t* could have seen.

Decision time. liqflow timestamps a decision at the end of calendar day *t*: after the
US equity close (4 pm ET, 21:00 UTC) and the Yahoo crypto daily close (23:59:59 UTC).
A value observed on date *d* with lag *L* is usable from the end of day ``d + L``.

Units in the panel. Dollar amounts of the liquidity block are in **USD millions**:
WALCL, WSHOBL, WTREGEN and WDTGAL are published in millions; RRPONTSYD is published in
billions and is multiplied by 1000 (``scale``). Spreads and rates are in percent.

Lookup. ``catalog[key]`` accepts a series id in any case (``BTC``, ``btc``) and the
symbol of a FRED or Yahoo series (``WALCL``, ``^RUT`` or ``RUT``, ``IWM``); iteration
and the returned :attr:`SeriesSpec.id` always give the canonical id.

A user TOML file (see :func:`load_catalog` and :mod:`liqflow.catalog._user`) can add or
replace series and define other chains without code; ``$LIQFLOW_HOME/catalog.toml`` (see
:func:`user_catalog_path`) is read by every command::

    [series.qqq]
    provider = "yahoo"
    symbol = "QQQ"
    fields = ["open", "high", "low", "close", "adj_close", "volume"]
    unit = "USD"
    frequency = "D"
    release_lag = "0D"
    group = "large_caps"

    [chains.tech]
    stages = [["hy_spread"], ["qqq"], ["small_caps"], ["btc"]]

Modules: :mod:`._spec` (the entry types and the vocabulary), :mod:`._builtin` (the
built-in series), :mod:`._user` (TOML files, the user catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from liqflow._errors import CatalogError, ConfigError
from liqflow.catalog._builtin import BUILTIN, DEFAULT_CHAIN, FUNDS, REVISED
from liqflow.catalog._spec import (
    COINGECKO,
    COT_TFF,
    FREQUENCIES,
    FUNDING,
    GROUPS,
    IMPORT_ONLY,
    OHLCV,
    PROVIDERS,
    SEGMENTS,
    STABLECOINS,
    Chain,
    SeriesSpec,
    is_excluded_coin,
)

__all__ = [
    "COINGECKO",
    "COT_TFF",
    "FREQUENCIES",
    "FUNDING",
    "FUNDS",
    "GROUPS",
    "IMPORT_ONLY",
    "OHLCV",
    "PROVIDERS",
    "REVISED",
    "SEGMENTS",
    "STABLECOINS",
    "SYMBOL_PROVIDERS",
    "Catalog",
    "Chain",
    "SeriesSpec",
    "default_catalog",
    "is_excluded_coin",
    "load_catalog",
    "user_catalog_path",
]

#: Providers whose symbols are accepted wherever a series id is (``WALCL``, ``^RUT``).
SYMBOL_PROVIDERS = ("fred", "yahoo")


def _symbol_keys(spec: SeriesSpec) -> set[str]:
    if spec.provider not in SYMBOL_PROVIDERS:
        return set()
    return {spec.symbol.lower(), spec.symbol.lstrip("^").lower()}


class Catalog(Mapping[str, SeriesSpec]):
    """An immutable mapping ``id -> SeriesSpec`` plus named chains.

    Keys are looked up by :meth:`resolve`: the id in any case, or the symbol of a FRED or
    Yahoo series; iteration yields canonical ids only.
    """

    def __init__(self, specs: Iterable[SeriesSpec], chains: Iterable[Chain] = ()) -> None:
        self._specs: dict[str, SeriesSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec
        self._symbols: dict[str, set[str]] = {}
        for spec in self._specs.values():
            for key in _symbol_keys(spec):
                self._symbols.setdefault(key, set()).add(spec.id)
        #: file stem (lower case) -> the first series, in catalogue order, answering to it
        self._file_names: dict[str, str] = {}
        for spec in self._specs.values():
            for name in spec.match_names():
                self._file_names.setdefault(name, spec.id)
        self._chains = {c.name: c for c in chains}
        for chain in self._chains.values():
            for sid in (s for stage in chain.stages for s in stage):
                if sid not in self._specs:
                    raise ConfigError(f"chain {chain.name!r} names unknown series {sid!r}")

    def resolve(self, key: str) -> str:
        """The canonical id ``key`` names: an id in any case, or a FRED or Yahoo symbol.

        An id wins over a symbol (``spy`` is the series ``spy`` even if another series
        had the symbol ``SPY``).

        Raises
        ------
        CatalogError
            ``key`` names no series, or is the symbol of several.
        """
        if key in self._specs:
            return key
        low = key.lower()
        if low in self._specs:
            return low
        ids = self._symbols.get(low, set())
        if len(ids) == 1:
            return next(iter(ids))
        if ids:
            raise CatalogError(
                f"symbol {key!r} belongs to several series ({', '.join(sorted(ids))}); "
                "give the series id"
            )
        raise CatalogError(
            f"unknown series {key!r}; known series: {', '.join(sorted(self._specs))} "
            "(in any case, or the FRED or Yahoo symbol of one, e.g. WALCL)"
        )

    def __getitem__(self, key: str) -> SeriesSpec:
        return self._specs[self.resolve(key)]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self.resolve(key)
        except CatalogError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def chains(self) -> Mapping[str, Chain]:
        """The named chains (``default`` and any a user file defines)."""
        return dict(self._chains)

    def chain(self, name: str = "default") -> Chain:
        """The chain called ``name``."""
        if name not in self._chains:
            raise CatalogError(
                f"unknown chain {name!r}; known chains: {', '.join(sorted(self._chains))}"
            )
        return self._chains[name]

    def group(self, group: str) -> tuple[str, ...]:
        """Ids of the series in ``group`` (in catalogue order)."""
        if group not in GROUPS:
            raise CatalogError(f"group must be one of {GROUPS}, got {group!r}")
        return tuple(s.id for s in self._specs.values() if s.group == group)

    def altcoins(self) -> tuple[str, ...]:
        """The altcoin universe: group ``alt`` minus stablecoins and wrapped tokens."""
        return tuple(s for s in self.group("alt") if not is_excluded_coin(self._specs[s].symbol))

    def match_file(self, stem: str) -> SeriesSpec | None:
        """The series whose id, symbol or alias equals the file stem (case-insensitive)."""
        sid = self._file_names.get(stem.lower())
        return None if sid is None else self._specs[sid]

    def merged(self, specs: Iterable[SeriesSpec], chains: Iterable[Chain] = ()) -> Catalog:
        """A new catalogue where ``specs`` and ``chains`` add to or replace these."""
        return Catalog([*self._specs.values(), *specs], [*self._chains.values(), *chains])


def default_catalog() -> Catalog:
    """The built-in chain: Fed liquidity, credit, S&P 500, Russell 2000, BTC and altcoins."""
    return Catalog(BUILTIN, [DEFAULT_CHAIN])


# After Catalog and default_catalog: the loader builds on both.
from liqflow.catalog._user import load_catalog, user_catalog_path  # noqa: E402
