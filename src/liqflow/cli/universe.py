"""``liqflow universe``: who was in the crypto top N on a date, dead coins included."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from liqflow._errors import ConfigError
from liqflow.cli._common import (
    CatalogOption,
    StoreOption,
    console,
    open_catalog,
    open_store,
    parse_date,
)

__all__ = ["register", "universe_command"]


def _money(v: float) -> str:
    if v != v:  # NaN
        return "n/a"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if abs(v) >= size:
            return f"${v / size:,.2f}{unit}"
    return f"${v:,.0f}"


def _printable(text: str) -> str:
    """``text`` without invisible characters (zero-width spaces in some coin names)."""
    import unicodedata

    return "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))


def universe_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Date YYYY-MM-DD: the universe from the latest snapshot on or before it "
            "(a snapshot is public at the end of its date). Default: the last snapshot.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            help="Keep the top N ranks (BTC and excluded coins count in the ranks). "
            "Default: every rank of the snapshot in force.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of a table.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the members as CSV instead of a table.")
    ] = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """List the crypto universe as of a date: each member's rank and market cap, whether
    it is excluded (stablecoin, wrapped token), whether it has a price that day and the
    source of that price, with the coverage of the altcoins."""
    if as_json and as_csv:
        raise ConfigError("--json and --csv exclude each other; give one of them")
    if top is not None and top < 1:
        raise ConfigError(f"--top must be a positive integer, got {top!r}")
    when = parse_date(as_of)
    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        from liqflow.universe_store import universe_view

        view = universe_view(st, cat, as_of=when, top_n=top)
    if as_json:
        typer.echo(json.dumps(view.to_json(), indent=2))
        return
    if as_csv:
        typer.echo(view.to_frame().to_csv(index=False), nl=False)
        return
    m = view.members
    table = Table(title=escape(m.summary()), title_justify="left")
    for col in ("rank", "coin", "symbol", "name", "market cap", "excluded", "priced", "source"):
        table.add_column(col, justify="right" if col in ("rank", "market cap") else "left")
    caps = view.frame["market_cap"].to_numpy(dtype=float)
    for cap, row in zip(caps, view.frame.itertuples(index=False), strict=True):
        table.add_row(
            str(row.rank),
            escape(str(row.coin_id)),
            escape(_printable(str(row.symbol))),
            escape(_printable(str(row.name or ""))),
            _money(float(cap)),
            escape(str(row.excluded)),
            "yes" if row.priced else "no",
            escape(str(row.price_source)),
        )
    console.print(table)
    console.print(escape(view.summary()), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``universe`` to ``app``."""
    app.command("universe")(universe_command)
