"""``liqflow add-series``: add a FRED, Yahoo or exchange series to the user catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from liqflow._errors import ConfigError
from liqflow.cli._common import console

__all__ = ["add_series_command", "register", "validate_symbol"]

#: Symbol shapes each provider accepts (checked before anything is written).
_SYMBOLS = {
    "fred": (re.compile(r"[A-Z0-9_]{1,40}"), "letters, digits and '_' (e.g. DGS30)"),
    "yahoo": (
        re.compile(r"\^?[A-Z0-9][A-Z0-9.=\-]{0,24}"),
        "a Yahoo ticker (e.g. ^VIX, EWJ, SOL-USD)",
    ),
    "ccxt": (
        re.compile(r"[A-Z0-9]{1,20}/[A-Z0-9]{1,20}"),
        "a ccxt market BASE/QUOTE (e.g. SOL/USDT)",
    ),
}
#: Defaults per provider: fields, release lag, group.
_DEFAULTS = {
    "fred": (("value",), "1B", "macro"),
    "yahoo": (("close", "open", "high", "low", "adj_close", "volume"), "0D", "macro"),
    "ccxt": (("close", "open", "high", "low", "volume"), "0D", "crypto"),
}


def validate_symbol(symbol: str, provider: str) -> str:
    """``symbol`` in the provider's canonical (upper) case, or ConfigError naming it."""
    if provider not in _SYMBOLS:
        raise ConfigError(f"--provider must be one of {sorted(_SYMBOLS)}, got {provider!r}")
    pattern, accepted = _SYMBOLS[provider]
    canonical = symbol.strip().upper()
    if not pattern.fullmatch(canonical):
        raise ConfigError(f"{provider} symbol must be {accepted}, got {symbol!r}")
    return canonical


def add_series_command(
    symbol: Annotated[
        str, typer.Argument(help="Provider symbol: DGS30 (FRED), ^VIX (Yahoo), SOL/USDT (ccxt).")
    ],
    provider: Annotated[
        str, typer.Option("--provider", help="fred, yahoo or ccxt.", show_default=False)
    ],
    series_id: Annotated[
        str | None,
        typer.Option("--id", help="Catalogue id (default: from the symbol, e.g. dgs30, sol_usdt)."),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="Link of the chain (group): liquidity, credit, large_caps, small_caps, segment, crypto, alt, macro (default: macro; crypto for ccxt).",
        ),
    ] = None,
    frequency: Annotated[str, typer.Option("--frequency", help="D, W or M.")] = "D",
    release_lag: Annotated[
        str | None,
        typer.Option(
            "--release-lag",
            help="Days after the observation date the value is public: '1B' (business days) or '0D' (default: 1B for FRED, 0D for Yahoo and ccxt).",
        ),
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit (default: USD for Yahoo).")
    ] = None,
    description: Annotated[
        str, typer.Option("--description", help="One line shown by `liqflow series`.")
    ] = "",
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="ccxt exchange id (default: binance).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an entry with the same id or symbol.")
    ] = False,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="Catalogue file to write (default: the user catalogue, catalog.toml in "
            "$LIQFLOW_HOME).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Add a series to the user catalogue; every command then knows it (no --catalog needed).

    Nothing is downloaded: run `liqflow fetch ID` next, or `liqflow import FILE`.
    """
    from liqflow.catalog import SeriesSpec
    from liqflow.catalog._user import add_series, id_from_symbol

    provider = provider.strip().lower()
    sym = validate_symbol(symbol, provider)
    if exchange and provider != "ccxt":
        raise ConfigError(f"--exchange applies to --provider ccxt only, got --provider {provider}")
    fields, lag, group = _DEFAULTS[provider]
    quote = sym.split("/")[1] if provider == "ccxt" else ""
    spec = SeriesSpec(
        id=series_id if series_id is not None else id_from_symbol(sym),
        provider=provider,
        symbol=sym,
        fields=fields,
        unit=unit if unit is not None else {"fred": "", "yahoo": "USD", "ccxt": quote}[provider],
        frequency=frequency,
        release_lag=release_lag or lag,
        group=stage or group,
        description=description,
        options={"exchange": exchange} if exchange else {},
    )
    path = add_series(spec, force=force, path=catalog)
    console.print(
        f"added {spec.id} ({provider} {sym}, group {spec.group}, release lag "
        f"{spec.release_lag}) to {path}; next: liqflow fetch {spec.id}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``liqflow add-series`` to ``app``."""
    app.command("add-series")(add_series_command)
