"""Data commands: ``import``, ``series``, ``show``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from liqflow._errors import DataError, clip_text
from liqflow.cli._common import (
    CatalogOption,
    CsvOption,
    JsonOption,
    StoreOption,
    console,
    data_format,
    err_console,
    open_catalog,
    open_store,
    parse_date,
    print_data,
)

if TYPE_CHECKING:
    from liqflow.catalog import Catalog
    from liqflow.importer import ImportReport
    from liqflow.store import Store, StoredSeries


def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(help="CSV/JSON files, or folders scanned recursively for *.csv, *.json."),
    ],
    series: Annotated[
        str | None,
        typer.Option("--series", help="Load every given file as this catalogue series id."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Import levels that look implausible for the series (unit or store mismatch).",
        ),
    ] = False,
    revise: Annotated[
        bool,
        typer.Option(
            "--revise",
            help="Make values that differ from the stored ones current (default: keep the "
            "stored ones); both are recorded as revisions.",
        ),
    ] = False,
    rescan: Annotated[
        bool,
        typer.Option("--rescan", help="Read files that are unchanged since the last import."),
    ] = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Import local data files (FRED, Yahoo/yfinance, CoinGecko, Fiscal Data, Farside,
    funding, CFTC) into the store.

    The layout is detected from the content; wide files are split into their series
    (columns are FRED ids or aliases). Single-series files are matched by name (id,
    symbol or alias, e.g. WALCL.csv, RUT_daily.csv, BTC-USD.csv) or by the FRED id in
    their header. Importing the same files again adds nothing and skips files unchanged
    since. A malformed or implausible file, or one that disagrees with another file of the
    same series on their overlap, is refused whole, with file:line. A value that differs
    from the stored one is reported and kept as stored unless --revise. Ctrl-C leaves the
    store unchanged.
    """
    cat = open_catalog(catalog)
    with open_store(store) as st:
        try:
            report = _run_import(st, cat, paths, series, force, revise, rescan)
        except KeyboardInterrupt:
            done = "the import was already written" if st.committed else "nothing was changed"
            err_console.print(f"interrupted, {done}", markup=False, highlight=False)
            raise typer.Exit(130) from None
        where = st.path
    _print_import(report, where)
    if report.errors:
        raise typer.Exit(1)


def _run_import(
    st: Store,
    cat: Catalog,
    paths: list[Path],
    series: str | None,
    force: bool,
    revise: bool,
    rescan: bool,
) -> ImportReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from liqflow.importer import import_paths

    with Progress(
        TextColumn("[bold]import[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def tick(path: Path) -> None:
            bar.update(task, advance=1, description=escape(path.name))

        return import_paths(
            st,
            cat,
            paths,
            series_id=series,
            progress=tick,
            force=force,
            revise=revise,
            rescan=rescan,
        )


#: Revisions listed one per line after an import; the rest are counted.
SHOWN_REVISIONS = 10


def _print_import(report: ImportReport, where: Path) -> None:
    from rich import box

    from liqflow.importer import NOT_SUPPORTED_YET

    wide = console.width >= 120
    table = Table(
        title=Text(f"imported into {where}"),
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
    )
    table.add_column("series", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("file", overflow="fold", min_width=8)
    for col in ("rows", "new rows" if wide else "new", "differing" if wide else "diff"):
        table.add_column(col, justify="right", no_wrap=True)
    if wide:
        table.add_column("first", no_wrap=True)
        table.add_column("last", no_wrap=True)
    else:
        table.add_column("first, last", min_width=10)
    for f in sorted(report.loaded, key=lambda f: (f.series_id, f.source, str(f.path))):
        dates = [f"{f.first:%Y-%m-%d}", f"{f.last:%Y-%m-%d}"]
        table.add_row(
            f.series_id,
            f.source,
            Text(f.path.name + ("" if f.column == "*" else f" [{f.column}]")),
            f"{f.rows:,}",
            "unchanged" if f.unchanged else f"{f.added:,}",
            "" if f.unchanged else f"{f.revised:,}",
            *(dates if wide else [" ".join(dates)]),
        )
    if report.loaded:
        console.print(table)
    for path, reason in report.unmatched:
        console.print(f"[yellow]skipped[/] {escape(f'{path}: {reason}')}", highlight=False)
    skipped_cols: dict[Path, list[str]] = {}
    for path, col, _why in report.columns:
        skipped_cols.setdefault(path, []).append(col)
    for path, cols in skipped_cols.items():
        console.print(
            f"{escape(str(path))}: [dim]columns not imported (no catalogue series): "
            f"{escape(', '.join(cols))}[/]",
            highlight=False,
        )
    for path, note in report.notes:
        console.print(f"[dim]note[/] {escape(f'{path}: {note}')}", highlight=False)
    for path, _detail in report.unsupported:
        console.print(f"{escape(str(path))}: [dim]{NOT_SUPPORTED_YET}[/]", highlight=False)
    _print_revisions(report)
    for _path, message in report.errors:
        err_console.print(
            f"[bold red]refused[/] {escape(clip_text(message))}", highlight=False, soft_wrap=True
        )
    console.print(report.summary(), markup=False, highlight=False)


def _print_revisions(report: ImportReport) -> None:
    """One line per value that differed from the stored one (the first few)."""
    verb = "revised" if report.revisions_applied else "kept stored"
    for r in report.revisions.head(SHOWN_REVISIONS).itertuples(index=False):
        console.print(
            f"{verb}: {r.series_id} {r.source} {r.field} {r.date:%Y-%m-%d}: "
            f"stored {r.old_value:,.10g}, file {r.new_value:,.10g} ({r.origin})",
            markup=False,
            highlight=False,
        )
    if len(report.revisions) > SHOWN_REVISIONS:
        more = len(report.revisions) - SHOWN_REVISIONS
        console.print(f"... and {more} more (liqflow doctor lists them)", markup=False)


#: Longest endpoint symbol shown whole (longer ones: ``treasury:…:deposits``).
SYMBOL_WIDTH = 32


def _short_symbol(symbol: str) -> str:
    """The provider's symbol, without the middle of a long endpoint path."""
    head, *mid, tail = symbol.split(":")
    return symbol if len(symbol) <= SYMBOL_WIDTH or not mid else f"{head}:…:{tail}"


def series(
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """List the catalogue: each series, its symbol, release lag and last stored date per source.

    Series with no live provider (spot-ETF flows from Farside) are marked "import only".
    """
    cat = open_catalog(catalog)
    with open_store(store) as st:
        stored: dict[str, dict[str, StoredSeries]] = {}
        for item in st.inventory():
            stored.setdefault(item.series_id, {})[item.source] = item
    rows = _catalogue_rows(cat, stored)
    fmt = data_format(as_json, as_csv)
    if fmt is not None:
        import pandas as pd

        print_data(fmt, pd.DataFrame(rows), {"store": str(st.path)})
        return
    console.print(_catalogue_table(rows, wide=console.width >= 120))


def _catalogue_rows(
    cat: Catalog, stored: dict[str, dict[str, StoredSeries]]
) -> list[dict[str, Any]]:
    """One row per (series, stored source), the source the panel uses first; one for an empty series."""
    from liqflow.catalog import IMPORT_ONLY

    rows: list[dict[str, Any]] = []
    for sid, spec in cat.items():
        held = stored.get(sid, {})
        used = next((s for s in spec.sources if s in held), next(iter(sorted(held)), None))
        head: dict[str, Any] = {
            "id": sid,
            "symbol": f"{spec.provider}:{spec.symbol}",
            "freq": spec.frequency,
            "lag": spec.release_lag,
        }
        only = {"import_only": spec.provider in IMPORT_ONLY}
        if used is None:
            rows.append(
                {**head, "last_date": None, "source": "-", "rows": 0, "used": False, **only}
            )
        for src in sorted(held, key=lambda s: s != used):
            item = held[src]
            rows.append(
                {
                    **head,
                    "last_date": item.last,
                    "source": src,
                    "rows": item.rows,
                    "used": src == used,
                    **only,
                }
            )
    return rows


def _catalogue_table(rows: list[dict[str, Any]], *, wide: bool) -> Table:
    """The catalogue as a table; on a narrow screen the symbol column gives way to the source's."""
    from rich import box

    only = ", ".join(sorted({r["id"] for r in rows if r["import_only"]}))
    table = Table(
        title="liqflow catalogue (* = source the panel uses"
        + ("" if wide else "; import-only series: " + only)
        + ")",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
        collapse_padding=not wide,
    )
    table.add_column("id", no_wrap=True)
    if wide:  # on a narrow screen the source names the provider; --json lists symbols
        table.add_column("symbol", no_wrap=True)
    for name in ("lag", "last date", "source"):
        table.add_column(name, no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    last_id = None
    for r in rows:
        first = r["id"] != last_id
        last_id = r["id"]
        head = [
            r["id"],
            *([_short_symbol(r["symbol"])] if wide else []),
            f"{r['lag']} ({r['freq']})",
        ]
        marks = ("*" if r["used"] else "") + (
            " (import only)"
            if r["import_only"] and wide and (r["used"] or r["source"] == "-")
            else ""
        )
        table.add_row(
            *(head if first else [""] * len(head)),
            "-" if r["last_date"] is None else f"{r['last_date']:%Y-%m-%d}",
            r["source"] + marks,
            f"{r['rows']:,}",
        )
    return table


def show(
    series_id: Annotated[
        str, typer.Argument(help="Catalogue id, e.g. small_caps, btc, fed_assets.")
    ],
    rows: Annotated[
        int, typer.Option("--rows", "-n", min=1, help="How many of the last rows to show.")
    ] = 10,
    source: Annotated[
        str | None, typer.Option("--source", help="Stored source to read (default: preferred).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Show only rows dated on or before this day.")
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Show the tail of a stored series (all its fields), as stored (before release lags)."""
    cat = open_catalog(catalog)
    spec = cat[series_id]
    series_id = spec.id  # the catalogue accepts WALCL or BTC for fed_assets or btc
    end = parse_date(as_of)
    with open_store(store) as st:
        held = st.sources(series_id)
        if not held:
            raise DataError(
                f"nothing stored for {series_id!r}; run `liqflow import PATH` or `liqflow fetch {series_id}`"
            )
        src = source or next((s for s in spec.sources if s in held), held[0])
        if src not in held:
            raise DataError(f"--source must be one of {held} for {series_id!r}, got {src!r}")
        frame = st.read(series_id, src, end=end)
    tail = frame.tail(rows)
    fmt = data_format(as_json, as_csv)
    if fmt is not None:
        meta = {"series": series_id, "source": src, "unit": spec.unit, "rows_stored": len(frame)}
        print_data(fmt, tail, meta)
        return
    console.print(
        Text(
            f"{series_id} ("
            + "; ".join(x for x in (spec.description, spec.unit) if x)
            + f"; source {src}; {len(frame):,} rows)"
        ),
        highlight=False,
    )
    table = Table(title=None)
    table.add_column("date", no_wrap=True)
    for col in tail.columns:
        table.add_column(str(col), justify="right", no_wrap=True)
    for date, values in tail.iterrows():
        table.add_row(f"{date:%Y-%m-%d}", *(_level(v) for v in values))
    console.print(table)


def _level(value: float) -> str:
    """A stored level with thousands separators and a precision that suits its size."""
    if value != value:  # NaN
        return ""
    mag = abs(value)
    if mag >= 1e4:
        return f"{value:,.0f}"
    if mag >= 100:
        return f"{value:,.1f}"
    if mag >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("series")(series)
    app.command("show")(show)
