"""Helpers shared by the CLI commands: consoles, option parsing, opening the store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from liqflow._errors import ConfigError, DataError

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    import pandas as pd
    from rich.text import Text

    from liqflow.align import AsOf
    from liqflow.catalog import Catalog
    from liqflow.signals import StageStatus
    from liqflow.signals.outlook import StageOutlook
    from liqflow.store import Store

__all__ = [
    "AsOfOption",
    "CatalogOption",
    "CsvOption",
    "JsonOption",
    "StoreOption",
    "VerboseOption",
    "command_date",
    "console",
    "data_format",
    "err_console",
    "open_catalog",
    "open_store",
    "parse_date",
    "print_as_of",
    "print_data",
    "print_fresh",
    "print_stage",
    "print_stage_header",
    "small_caps_sessions",
    "stage_header",
    "stage_on",
]

console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="DuckDB store file (default: $LIQFLOW_HOME or the user cache dir).",
        show_default=False,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Decision date YYYY-MM-DD: only data public at the end of that day is used "
        "(default: the latest data).",
        show_default=False,
    ),
]
CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="TOML file adding or replacing catalogue series and chains, used instead of "
        "the user catalogue (catalog.toml in $LIQFLOW_HOME).",
        show_default=False,
    ),
]


def open_store(path: Path | None, *, read_only: bool = False) -> Store:
    """Open the store at ``path`` (or the default location)."""
    from liqflow.store import Store

    return Store(path, read_only=read_only)


def open_catalog(path: Path | None) -> Catalog:
    """The built-in catalogue extended by ``path``, else by the user catalogue if it exists
    (:func:`liqflow.catalog.load_catalog`)."""
    from liqflow.catalog import load_catalog

    return load_catalog(path)


def parse_date(value: str | None, option: str = "--as-of") -> pd.Timestamp | None:
    """Parse a YYYY-MM-DD option value, with an error naming the option."""
    if value is None:
        return None
    import re

    import pandas as pd

    # ISO only: "05/06/2021" is May 6 in one convention and June 5 in another
    bad = ConfigError(f"{option} must be a date like 2021-01-15, got {value!r}")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is None:
        raise bad
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError):
        raise bad from None
    if ts is pd.NaT:
        raise bad
    return ts.normalize()


def small_caps_sessions(
    panel: pd.DataFrame, as_of: pd.Timestamp | None, fetch_hint: str
) -> tuple[pd.Series, pd.Series | None]:
    """Russell 2000 closes and IWM volumes (None without data), each on its own sessions.

    Raises DataError when ``panel`` has no ``small_caps`` data, naming ``as_of`` and the
    command that fills the store (``fetch_hint``, e.g. ``liqflow fetch``).
    """
    from liqflow.align import trading_days

    if "small_caps" not in panel.columns or panel["small_caps"].notna().sum() == 0:
        raise DataError(
            "no small_caps (^RUT) data in the store"
            + ("" if as_of is None else f" up to {as_of:%Y-%m-%d}")
            + f"; run `liqflow import DIR` or `{fetch_hint}` first"
        )
    close = panel["small_caps"].loc[trading_days(panel, "small_caps")]
    volume = None
    if "small_caps_volume" in panel.columns and panel["small_caps_volume"].notna().any():
        volume = panel["small_caps_volume"].loc[trading_days(panel, "small_caps_volume")]
    return close, volume


def command_date(store: Store, catalog: Catalog, as_of: str | None) -> tuple[pd.Timestamp, bool]:
    """The date a command runs on: ``--as-of`` checked against the store, or the one
    default date of every command (:func:`liqflow.align.default_as_of`); and whether it
    is the default."""
    from liqflow.align import resolve_as_of

    return resolve_as_of(store, catalog, "default", parse_date(as_of))


def print_as_of(panel: pd.DataFrame, catalog: Catalog, default: bool) -> None:
    """Print the as-of line first: the date, why, and the stale or missing inputs of the
    chain on ``panel``."""
    from liqflow.align import input_freshness

    if not panel.empty:
        print_fresh(input_freshness(panel, catalog, default=default))


def print_fresh(fresh: AsOf) -> None:
    """The as-of line every command prints first (:meth:`liqflow.align.AsOf.describe`)."""
    console.print(fresh.describe(), highlight=False, markup=False)


def stage_on(
    store: Store, catalog: Catalog, when: pd.Timestamp, *, default: bool = False
) -> tuple[AsOf, StageStatus]:
    """The stage of the chain on ``when``, as ``liqflow status`` computes it: the signals
    on the point-in-time panel of every stored series and the crypto universe; with the
    freshness of the chain's inputs on that panel (the as-of line every command prints;
    ``default``: the date is the default one)."""
    from liqflow.align import input_freshness
    from liqflow.cli.signals import load_signal_panel
    from liqflow.signals import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    panel = load_signal_panel(store, catalog, when)
    universe = alt_universe_from_store(store, catalog, when)
    status = compute_signals(panel, catalog=catalog, universe=universe).stage_status()
    return input_freshness(panel, catalog, default=default), status


def print_stage(status: StageStatus) -> None:
    """The stage line every command prints next to its as-of date:
    ``as of 2026-08-21: stage 3 (small caps) since 2025-09-22`` (or why it is unknown)."""
    console.print(f"as of {status.as_of:%Y-%m-%d}: {status.label}", highlight=False, markup=False)


VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also print every signal's table.", show_default=False),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the table as one JSON document.", show_default=False),
]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="Print the table as CSV.", show_default=False)
]


def data_format(as_json: bool, as_csv: bool) -> str | None:
    """``"json"``, ``"csv"`` or None (a table for people); refuses both at once."""
    if as_json and as_csv:
        raise ConfigError("--json and --csv exclude each other; give one of them")
    return "json" if as_json else "csv" if as_csv else None


def print_data(fmt: str, frame: pd.DataFrame, meta: Mapping[str, object] | None = None) -> None:
    """Print ``frame`` as JSON (with ``meta``) or CSV, through :mod:`liqflow.export`."""
    from liqflow.export import frame_csv, frame_json

    if fmt == "json":
        typer.echo(frame_json(frame, meta))
    else:
        typer.echo(frame_csv(frame), nl=False)


def stage_header(fresh: AsOf, outlook: StageOutlook | None = None) -> list[Text]:
    """The first lines of a command: the date (and why), then the stage line every command
    prints (:func:`print_stage`), then a stage change waiting for its confirmation (plain
    text, never markup)."""
    from rich.text import Text

    lines = [Text(fresh.describe(), style="bold")]  # the line every command prints first
    if outlook is None:
        return lines
    lines.append(
        Text(
            f"as of {outlook.as_of:%Y-%m-%d}: {outlook.label}",
            style="bold" if outlook.known else "bold magenta",
        )
    )
    pending = outlook.pending
    lines.append(
        Text.assemble(
            ("pending: ", "bold"),
            pending.describe() if pending is not None else "no stage change awaiting confirmation",
        )
    )
    return lines


def print_stage_header(fresh: AsOf, outlook: StageOutlook | None = None) -> None:
    """Print :func:`stage_header` (the as-of line, the stage, what is pending)."""
    for line in stage_header(fresh, outlook):
        console.print(line, highlight=False)
