"""``liqflow status`` and ``liqflow breakouts``: the stage of the chain as of a date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from liqflow._errors import DataError
from liqflow.cli._common import (
    AsOfOption,
    CatalogOption,
    StoreOption,
    command_date,
    console,
    open_catalog,
    open_store,
    print_as_of,
    print_stage,
    small_caps_sessions,
    stage_on,
)

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    import pandas as pd

    from liqflow.catalog import Catalog
    from liqflow.signals import BreakoutResult, SignalSet, StageStatus
    from liqflow.store import Store

__all__ = ["breakouts_command", "load_signal_panel", "register", "status_command"]


def load_signal_panel(
    store: Store, catalog: Catalog, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The point-in-time panel for the signals (all fields, so BTC's market cap is there).

    BTC prices come from Yahoo and its market cap from CoinGecko (``load_panel`` takes a
    field the preferred source lacks from the next source), so dominance is a ratio of
    two CoinGecko snapshots.
    """
    from liqflow.align import load_panel

    panel = load_panel(store, catalog=catalog, as_of=as_of)
    if panel.empty:
        when = "" if as_of is None else f" up to {as_of:%Y-%m-%d}"
        raise DataError(
            f"the store has no data{when}; run `liqflow import DIR` or `liqflow fetch` first"
        )
    return panel


def _onoff(on: bool | None) -> str:
    if on is None:
        return "[dim]unknown[/]"
    return "[green]on[/]" if on else "[red]off[/]"


def _status_tables(status: StageStatus) -> list[Any]:
    from rich.table import Table

    from liqflow.signals._result import format_value

    tables = []
    for st in status.stages:
        strength = format_value(st.strength)
        title = (
            f"Stage {st.stage}: {st.name} - {'ON' if st.on else 'off'} "
            f"(strength {strength}, since {format_value(st.since)})"
        )
        table = Table(title=title, title_justify="left")
        for col in ("signal", "value", "threshold", "state", "since", "description"):
            table.add_column(col, overflow="fold")
        for sg in st.signals:
            name = sg.name.split(".", 1)[-1] + (" *" if sg.required else "")
            table.add_row(
                name,
                format_value(sg.value),
                sg.condition,
                _onoff(sg.on),
                format_value(sg.since),
                sg.description,
            )
        tables.append(table)
    return tables


def status_command(
    as_of: AsOfOption = None,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Show each stage of the chain as of a date: every signal, its value, threshold,
    on/off and since when, and the current stage with the date it began (unknown when
    a stage's required inputs are stale or missing)."""
    from liqflow.signals import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        when, default = command_date(st, cat, as_of)
        panel = load_signal_panel(st, cat, when)
        universe = alt_universe_from_store(st, cat, when)
    print_as_of(panel, cat, default)
    signals: SignalSet = compute_signals(panel, catalog=cat, universe=universe)
    status = signals.stage_status()
    for table in _status_tables(status):
        console.print(table)
    console.print("[dim]* required for the stage to be on[/]")
    alts = signals.status.get("crypto.alts")
    if alts:
        console.print(f"[dim]alts: {escape(alts)}[/]", highlight=False)
    notes = [f"{k}: {v}" for k, v in signals.status.items() if v.startswith(("unknown", "unavail"))]
    if notes:
        console.print("[dim]unknown inputs: " + "; ".join(notes) + "[/]")
    console.print(f"[bold]as of {status.as_of:%Y-%m-%d}: {escape(status.label)}[/]")


def _breakout_table(result: BreakoutResult) -> Any:
    from rich.table import Table

    from liqflow.signals._result import format_value

    table = Table(title=f"Russell 2000 all-time-high breakouts as of {format_value(result.as_of)}")
    table.add_column("date", no_wrap=True)
    table.add_column("close", justify="right")
    table.add_column("above old high of", overflow="fold")
    table.add_column("base", justify="right")
    table.add_column("volume (IWM)", overflow="fold")
    table.add_column("breadth")
    table.add_column("persistence", overflow="fold")
    for e in result.events:
        if e.volume_confirmed is None:
            vol = "unknown"
        else:
            vol = f"x{e.volume_ratio:.2f} " + (
                "[green]confirmed[/]" if e.volume_confirmed else "weak"
            )
        if e.status == "pending":
            persist = "[yellow]pending[/]"
        else:
            color = "green" if e.status == "confirmed" else "red"
            persist = (
                f"[{color}]{e.status}[/] {format_value(e.decided_on)} ({e.persistence_return:+.1%})"
            )
        table.add_row(
            f"{e.date:%Y-%m-%d}",
            f"{e.level:,.2f}",
            f"{e.prior_high:,.2f} ({e.prior_high_date:%Y-%m-%d})",
            str(e.base_days),
            vol,
            "unknown" if e.breadth_confirmed is None else f"{e.breadth:.0%}",
            persist,
        )
    return table


def breakouts_command(
    as_of: AsOfOption = None,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """List the Russell 2000 all-time-high breakout events with volume confirmation
    (IWM volume vs its average) and persistence, as known on a date."""
    from liqflow.align import load_panel
    from liqflow.signals import breakouts

    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        when, default = command_date(st, cat, as_of)
        ids = ["small_caps", "small_caps_volume"]
        panel = load_panel(st, ids, catalog=cat, as_of=when)
        close, volume = small_caps_sessions(panel, when, "liqflow fetch small_caps")
        stage = stage_on(st, cat, when)
    print_as_of(panel, cat, default, ids)
    print_stage(stage)
    result = breakouts(close, volume)
    console.print(_breakout_table(result))
    cfg = result.config
    console.print(
        f"[dim]event: close above the prior all-time high after a base of >= {cfg.min_base_days} "
        f"sessions; volume: {cfg.volume_window}-session mean / prior {cfg.volume_average}-session "
        f"mean of IWM volume, confirmed at >= {cfg.volume_threshold}; persistence: close "
        f"{cfg.persistence_days} sessions later above the old high"
        + ("" if volume is not None else "; no small_caps_volume (IWM) data: volume unknown")
        + "[/]"
    )


def register(app: typer.Typer) -> None:
    """Add ``status`` and ``breakouts`` to the app."""
    app.command("status")(status_command)
    app.command("breakouts")(breakouts_command)
