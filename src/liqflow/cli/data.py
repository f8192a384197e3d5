"""Data commands: import, fetch, series, show."""

from __future__ import annotations

import typer

from liqflow.cli._common import CatalogOption, StoreOption, console, open_catalog, open_store


def series(store: StoreOption = None, catalog: CatalogOption = None) -> None:
    """List the catalogue: each series with its symbol, unit, release lag and what is stored."""
    from rich.table import Table

    cat = open_catalog(catalog)
    with open_store(store) as st:
        stored = {}
        for item in st.inventory():
            stored.setdefault(item.series_id, []).append(item)
    table = Table(title="liqflow catalogue")
    for col in (
        "id",
        "group",
        "provider:symbol",
        "unit",
        "freq",
        "lag",
        "stored (source: first..last, rows)",
    ):
        table.add_column(col)
    for sid, spec in cat.items():
        held = stored.get(sid, [])
        text = (
            "; ".join(f"{i.source}: {i.first:%Y-%m-%d}..{i.last:%Y-%m-%d}, {i.rows}" for i in held)
            or "-"
        )
        table.add_row(
            sid,
            spec.group,
            f"{spec.provider}:{spec.symbol}",
            spec.unit,
            spec.frequency,
            spec.release_lag,
            text,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("series")(series)
