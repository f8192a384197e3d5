"""``liqflow fetch``: download new observations from the live providers into the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqflow.cli._common import (
    CatalogOption,
    StoreOption,
    console,
    err_console,
    open_catalog,
    open_store,
)

if TYPE_CHECKING:
    from liqflow.fetch import FetchReport, SeriesFetch
    from liqflow.providers import RetryPolicy

__all__ = ["fetch_command", "register"]

# Seams for tests (and embedding): the retry policy (None: the providers' default) and
# injected clients of the command.
RETRY: RetryPolicy | None = None
CLIENTS: Mapping[str, Any] | None = None


def _short(r: SeriesFetch) -> str:
    """The error for the table: no series prefix, no offline hint (the full line follows)."""
    text = (r.error or "").removeprefix(f"{r.series_id}: ")
    if text.startswith("cannot reach "):
        return text.split(" (", 1)[0]
    text = text.split("; ", 1)[0] if "`liqflow import" in text else text
    return text if len(text) <= 80 else text[:77] + "..."


def _table(report: FetchReport) -> Any:
    from rich.table import Table

    table = Table(title="liqflow fetch")
    for col in ("series", "source", "rows added", "last date", "error"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        table.add_row(
            r.series_id,
            r.source,
            str(r.rows_added),
            "-" if r.last_date is None else f"{r.last_date:%Y-%m-%d}",
            "" if r.error is None else _short(r),
        )
    return table


def fetch_command(
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Series ids to fetch (default: every catalogue series with a live provider).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    catalog: CatalogOption = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Ignore what is stored and download the full history."),
    ] = False,
) -> None:
    """Fetch new data from FRED, Yahoo, ccxt and CoinGecko into the store, incrementally.

    Only dates after what is stored (minus a few days or weeks, to catch revisions) are requested. A failing series does not stop the others; the exit code is 1 if any failed.

    Without network access, download the files and use `liqflow import PATH` instead.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from liqflow.fetch import fetch
    from liqflow.providers import DEFAULT_POLICY

    cat = open_catalog(catalog)
    with (
        open_store(store) as st,
        Progress(
            TextColumn("[bold]{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("fetching", total=None)

        def progress(sid: str, done: int, total: int, result: SeriesFetch | None) -> None:
            bar.update(task, total=total, completed=done, description=sid)

        report = fetch(
            st,
            cat,
            ids or None,
            progress=progress,
            full=full,
            clients=CLIENTS,
            policy=RETRY if RETRY is not None else DEFAULT_POLICY,
        )
    console.print(_table(report))
    console.print(report.summary(), highlight=False)
    for r in report.failed:
        err_console.print(r.error, soft_wrap=True, highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``liqflow fetch`` to ``app``."""
    app.command("fetch")(fetch_command)
