"""``liqflow export``: a table of the library as CSV, Parquet or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from liqflow.cli._common import AsOfOption, CatalogOption, StoreOption, open_catalog, open_store
from liqflow.cli._common import parse_date as _parse_date

__all__ = ["export_command", "register"]


def export_command(
    table: Annotated[
        str,
        typer.Argument(
            help="panel, signals, stages, events, evidence or universe.", show_default=False
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, parquet or json.")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: stdout; parquet needs a file).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the study (evidence).")] = 0,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws", help="Draws of the study (evidence; default as study).", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Export a table as the commands compute it: the point-in-time panel, every signal per day, the stage timeline, the breakout events, the evidence of the study (as `liqflow study --json`) or the crypto universe.

    CSV and JSON go to stdout unless -o is given; Parquet needs -o. JSON documents carry the as-of date, then columns and rows.
    """
    from liqflow._errors import ConfigError
    from liqflow.export import FORMATS, TABLES, export_table, write_table

    if table not in TABLES:
        raise ConfigError(f"the table must be one of {TABLES}, got {table!r}")
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {FORMATS}, got {fmt!r}")
    if fmt == "parquet" and output is None:
        raise ConfigError("--format parquet writes a binary file: give -o PATH")
    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        result = export_table(st, cat, table, as_of=_parse_date(as_of), seed=seed, draws=draws)
    text = write_table(result, fmt, output)
    if text is not None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"{result.summary()}; written to {output}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``liqflow export`` to ``app``."""
    app.command("export")(export_command)
