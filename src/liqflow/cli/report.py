"""``liqflow report``: the theses and charts in one self-contained HTML file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from liqflow._errors import DataError
from liqflow.cli._common import (
    CatalogOption,
    StoreOption,
    console,
    err_console,
    open_catalog,
    open_store,
    parse_date,
    print_fresh,
    print_stage,
)

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    from liqflow.catalog import Catalog
    from liqflow.fetch import FetchReport, SeriesFetch
    from liqflow.report.api import Report
    from liqflow.report.results import ReportConfig
    from liqflow.store import Store

__all__ = ["register", "report_command"]

# Seams for tests (and embedding): clients injected into the fetch of an empty store, and
# the report's settings (None: the documented defaults of ReportConfig).
CLIENTS: Mapping[str, Any] | None = None
CONFIG: ReportConfig | None = None

_STYLE = {
    "supported": "green",
    "not supported": "red",
    "inconclusive": "yellow",
    "unknown": "magenta",
    "descriptive": "cyan",
}


def fetch(store: Store, catalog: Catalog, ids: list[str], **kw: Any) -> FetchReport:
    """:func:`liqflow.fetch.fetch`, imported on first call (a seam for tests)."""
    from liqflow.fetch import fetch as fetch_

    return fetch_(store, catalog, ids, **kw)


def _has_data(store: Store, catalog: Catalog) -> bool:
    from liqflow.report.build import report_ids

    wanted = set(report_ids(catalog))
    return any(item.series_id in wanted for item in store.inventory(count_dates=False))


def _fetch_first(store: Store, catalog: Catalog) -> FetchReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from liqflow.report.build import report_ids

    with Progress(
        TextColumn("[bold]fetching {task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(sid: str, done: int, total: int, result: SeriesFetch | None) -> None:
            bar.update(task, total=total, completed=done, description=sid)

        ids = [sid for sid in report_ids(catalog) if sid in catalog]
        return fetch(store, catalog, ids, progress=progress, clients=CLIENTS)


def _print_summary(report: Report, path: Path) -> None:
    from rich.table import Table

    from liqflow.report.results import available

    th = report.theses
    size = path.stat().st_size / 1e6
    fresh = report.results.freshness
    if fresh is not None:
        print_fresh(fresh)
    console.print(f"[bold]report written:[/] {escape(str(path))} ({size:.1f} MB)", highlight=False)
    if available(report.results.signals):
        print_stage(report.results.signals.stage_status())
    table = Table(show_header=True, header_style="bold")
    table.add_column("thesis", overflow="fold")
    table.add_column("status")
    for t in th.theses:
        table.add_row(t.claim, f"[{_STYLE[t.status]}]{t.status}[/]")
    console.print(table)
    stale = report.results.stale()
    if stale:
        names = ", ".join(f"{s.id} ({s.stale_days} d)" for s in stale)
        console.print(
            f"stale on {report.as_of:%Y-%m-%d} (signals unknown; fetch or pass an earlier --as-of): {names}",
            style="yellow",
            highlight=False,
            markup=False,
        )
    for m in report.results.missing():
        console.print(m.summary(), style="yellow", highlight=False, markup=False)
    cached = [k for k, v in report.results.cached.items() if v]
    if cached:
        console.print(f"from cache: {', '.join(cached)}", style="dim", highlight=False)


def report_command(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="HTML file to write.", dir_okay=False),
    ] = Path("liqflow-report.html"),
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Report date (YYYY-MM-DD): use only data public by then (default: the last day the chain's required inputs are fresh, as every command).",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Never fetch, even when the store is empty."),
    ] = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Write the report: current stage, each thesis with its evidence, and the charts.

    Uses the store; when it holds none of the report's series and --offline is not
    given, it fetches them first. The page is one HTML file that opens offline.
    """
    from liqflow.report.api import write_report

    cat = open_catalog(catalog)
    day = parse_date(as_of)
    with open_store(store) as st:
        if not _has_data(st, cat):
            if offline:
                raise DataError(
                    f"the store {st.path} holds none of the report's series; run "
                    "`liqflow import PATH` (or drop --offline to fetch them)"
                )
            err_console.print("the store is empty: fetching the report's series first")
            result = _fetch_first(st, cat)
            err_console.print(result.summary(), highlight=False, markup=False)
            if not _has_data(st, cat):
                raise DataError(
                    "the store is still empty after fetching (no network?); run "
                    "`liqflow import PATH` with downloaded files instead"
                )
        with console.status("building the report", spinner="dots") as status:

            def progress(part: str) -> None:
                status.update(f"building the report: {part}")

            report = write_report(
                st, output, as_of=day, catalog=cat, config=CONFIG, progress=progress
            )
    _print_summary(report, output)


def register(app: typer.Typer) -> None:
    """Add ``liqflow report`` to ``app``."""
    app.command("report")(report_command)
