"""``liqflow fetch``: download new observations from the live providers into the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _table(results: Sequence[SeriesFetch]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="liqflow fetch")
    for col in ("series", "source", "rows added", "last date", "error"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(
            escape(r.series_id),
            escape(r.source),
            str(r.rows_added),
            "-" if r.last_date is None else f"{r.last_date:%Y-%m-%d}",
            "" if r.error is None else escape(_short(r)),
        )
    return table


def _by_host(report: FetchReport) -> dict[str, list[SeriesFetch]]:
    """Failures because a host was unreachable (or timed out), grouped by host."""
    groups: dict[str, list[SeriesFetch]] = {}
    for r in report.failed:
        if r.unreachable is not None:
            groups.setdefault(r.unreachable, []).append(r)
    return groups


def _host_line(host: str, results: Sequence[SeriesFetch]) -> str:
    """One line for a host: the first failure's reason and every series it cost."""
    from liqflow.providers import OFFLINE_HINT

    first = (results[0].error or "").removeprefix(f"{results[0].series_id}: ")
    first = first.split("; ", 1)[0]
    names = ", ".join(r.series_id for r in results)
    n = len(results)
    return f"{first}: {n} series not fetched ({names}); {OFFLINE_HINT}"


def _print_report(report: FetchReport) -> None:
    """The table of what was fetched, then one line per unreachable host and per problem."""
    groups = _by_host(report)
    grouped = {id(r) for rs in groups.values() for r in rs}
    rest = [r for r in report.results if id(r) not in grouped]
    if rest:
        console.print(_table(rest))
    console.print(report.summary(), highlight=False, markup=False)
    for r in report.noted:
        console.print(f"{r.series_id}: {r.note}", highlight=False, markup=False)
    for host, results in groups.items():
        err_console.print(_host_line(host, results), soft_wrap=True, highlight=False, markup=False)
    for r in report.failed:
        if id(r) not in grouped:
            err_console.print(r.error, soft_wrap=True, highlight=False, markup=False)


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
    """Fetch new data from FRED, Yahoo, ccxt, CoinGecko, Treasury Fiscal Data and the CFTC into the store, incrementally.

    Only dates after what is stored (minus a few days or weeks, to catch revisions) are requested. A failing series does not stop the others; a host that cannot be reached is reported once, with the series it cost; the exit code is 1 if any failed.

    Keys and settings from the environment: FRED_API_KEY (FRED web service with ALFRED vintages), COINGECKO_API_KEY (Demo) or COINGECKO_PRO_API_KEY, LIQFLOW_CCXT_PROXY (or HTTPS_PROXY) for the crypto exchanges.

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
    _print_report(report)
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``liqflow fetch`` to ``app``."""
    app.command("fetch")(fetch_command)
