"""``liqflow doctor``: check the store, the keys and what each command would lack."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from liqflow.cli._common import (
    CatalogOption,
    CsvOption,
    JsonOption,
    StoreOption,
    console,
    data_format,
    open_catalog,
    print_data,
)

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor(
    network: Annotated[
        bool,
        typer.Option("--network", help="Also try to reach each provider (one request each)."),
    ] = False,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            min=0.0,
            max=1.0,
            help="Relative difference above which two sources of a series disagree on a "
            "date (default 0.01).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Check the store opens and is sound, where sources disagree, which API keys are set
    (never their values) and which series each command would lack. Exits 1 if a check
    fails; warnings do not."""
    fmt = data_format(as_json, as_csv)
    cat = open_catalog(catalog)
    from liqflow.doctor import DISAGREEMENT_TOLERANCE, run_doctor

    tol = DISAGREEMENT_TOLERANCE if tolerance is None else tolerance
    report = run_doctor(store, cat, network=network, tolerance=tol)
    if fmt is not None:
        print_data(fmt, report.to_frame(), {"ok": report.ok, "summary": report.summary()})
        if not report.ok:
            raise typer.Exit(1)
        return
    table = Table(title="liqflow doctor")
    for col in ("part", "check", "status", "detail"):
        table.add_column(col, overflow="fold")
    for c in report.checks:
        table.add_row(
            Text(c.part), Text(c.name), Text(c.status, style=_STYLE[c.status]), Text(c.detail)
        )
    console.print(table)
    console.print(report.summary(), markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
