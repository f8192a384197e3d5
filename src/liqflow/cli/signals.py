"""``liqflow status`` and ``liqflow breakouts``: the stage of the chain as of a date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from liqflow._errors import DataError
from liqflow.cli._common import (
    AsOfOption,
    CatalogOption,
    CsvOption,
    JsonOption,
    StoreOption,
    VerboseOption,
    command_date,
    console,
    data_format,
    open_catalog,
    open_store,
    parse_date,
    print_data,
    print_fresh,
    print_stage,
    print_stage_header,
    small_caps_sessions,
    stage_on,
)

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    import pandas as pd
    from rich.text import Text

    from liqflow.catalog import Catalog
    from liqflow.signals import BreakoutResult, StageStatus
    from liqflow.signals.outlook import ChainStatus
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


def _onoff(on: bool | None) -> Text:
    from rich.text import Text

    if on is None:
        return Text("unknown", style="dim")
    return Text("on", style="green") if on else Text("off", style="red")


#: Below this width the signal tables drop the description and show the rule short.
WIDE = 120


def _status_tables(status: StageStatus, width: int) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from liqflow.signals._result import format_value

    wide = width >= WIDE
    tables = []
    for st in status.stages:
        title = (
            f"Stage {st.stage}: {st.name} - {'ON' if st.on else 'off'} "
            f"(strength {format_value(st.strength)}, since {format_value(st.since)})"
        )
        table = Table(
            title=Text(title),
            title_justify="left",
            box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
            pad_edge=wide,
        )
        table.add_column("signal", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True)
        table.add_column("threshold" if wide else "rule", overflow="fold", min_width=6)
        table.add_column("state", no_wrap=True)
        table.add_column("since", no_wrap=True)
        if wide:
            table.add_column("description", ratio=1)
        for sg in st.signals:
            name = sg.name.split(".", 1)[-1] + (" *" if sg.required else "")
            rule = sg.condition
            if not wide and not isinstance(sg.value, str):
                rule = rule.split(" ", 1)[-1]  # the value shown is the rule's column
            cells: list[Any] = [
                Text(name),
                Text(format_value(sg.value)),
                Text(rule),
                _onoff(sg.on),
                Text(format_value(sg.since)),
            ]
            if wide:
                cells.append(Text(sg.description))
            table.add_row(*cells)
        tables.append(table)
    return tables


def _outlook_lines(chain: ChainStatus) -> list[Text]:
    """The short answer after the header: stages, next stage, stale and unknown inputs."""
    from rich.text import Text

    out = chain.outlook
    parts = [
        f"{st.stage} {'on' if st.on else 'off' if st.known else 'unknown'} ({st.strength:.0%})"
        if st.strength == st.strength
        else f"{st.stage} unknown"
        for st in chain.status.stages
    ]
    lines = [Text.assemble(("stages (strength): ", "bold"), ", ".join(parts))]
    if out.next_stage is not None:
        briefs = [c.brief for c in out.confirm_items if c.brief]
        lines.append(
            Text.assemble(
                (f"to confirm stage {out.next_stage} ({out.next_name}): ", "bold"),
                "; ".join(briefs),
            )
        )
    if out.deny_items:
        lines.append(
            Text.assemble(
                (f"would end stage {out.stage}: ", "bold"),
                "; ".join(c.brief for c in out.deny_items),
            )
        )
    fresh = chain.fresh
    stale = ", ".join(
        f"{i.series_id} ({i.age_days} days, last {i.last_observation:%Y-%m-%d})"
        for i in fresh.stale
    )
    missing = ", ".join(fresh.missing)
    lines.append(
        Text.assemble(
            ("stale inputs: ", "bold"),
            stale or "none",
            *((("; no data: ", "bold"), missing) if missing else ()),
        )
    )
    if out.unknown_inputs:
        lines.append(Text.assemble(("unknown inputs: ", "bold"), ", ".join(out.unknown_inputs)))
    lines.append(Text("--verbose: every signal; --json or --csv: the signals as data", style="dim"))
    return lines


def status_command(
    as_of: AsOfOption = None,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Where the chain stands on a date: the stage and since when, a change waiting for its confirmation, what would confirm the next stage or end this one, and the stale or unknown inputs. --verbose adds every signal's value, rule, state and since when; a stage whose required inputs are stale or missing is unknown."""
    from liqflow.export import jsonable
    from liqflow.signals.outlook import chain_status

    fmt = data_format(as_json, as_csv)
    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        chain = chain_status(st, cat, parse_date(as_of))
    if fmt is not None:
        out = chain.outlook
        meta = {
            "as_of": chain.fresh.date,
            "default_date": chain.fresh.default,
            "stage": out.stage,
            "stage_name": out.name,
            "since": out.since,
            "known": out.known,
            "label": out.label,
            "pending": None if out.pending is None else jsonable(vars(out.pending)),
            "confirm": list(out.confirm),
            "deny": list(out.deny),
            "stale": [jsonable(vars(i)) for i in chain.fresh.stale],
            "missing": list(chain.fresh.missing),
            "unknown_inputs": list(out.unknown_inputs),
        }
        print_data(fmt, chain.to_frame(), meta)
        return
    print_stage_header(chain.fresh, chain.outlook)
    for line in _outlook_lines(chain):
        console.print(line, highlight=False)
    if not verbose:
        return
    for table in _status_tables(chain.status, console.width):
        console.print(table)
    console.print("* required for the stage to be on", style="dim", markup=False)
    notes = [f"{k}: {v}" for k, v in chain.signals.status.items() if v != "ok"]
    for note in notes:
        console.print(note, style="dim", markup=False, highlight=False)


def _breakout_table(result: BreakoutResult, width: int) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from liqflow.signals._result import format_value

    wide = width >= WIDE
    table = Table(
        title=f"Russell 2000 all-time-high breakouts as of {format_value(result.as_of)}",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
    )
    table.add_column("date", no_wrap=True)
    table.add_column("close", justify="right", no_wrap=True)
    table.add_column("old high", justify="right", no_wrap=True)
    table.add_column("base", justify="right", no_wrap=True)
    table.add_column("IWM vol", no_wrap=True)
    table.add_column("breadth", no_wrap=True)
    table.add_column("persistence", min_width=11)
    sep = " " if wide else "\n"
    for e in result.events:
        if e.volume_confirmed is None:
            vol = Text("unknown")
        else:
            vol = Text.assemble(
                f"x{e.volume_ratio:.2f}{sep}",
                ("confirmed", "green") if e.volume_confirmed else "weak",
            )
        if e.status == "pending":
            persist = Text("pending", style="yellow")
        else:
            color = "green" if e.status == "confirmed" else "red"
            persist = Text.assemble(
                (e.status, color),
                f" {format_value(e.decided_on)} ({e.persistence_return:+.1%})",
            )
        table.add_row(
            f"{e.date:%Y-%m-%d}",
            f"{e.level:,.2f}",
            f"{e.prior_high:,.2f}{sep}({e.prior_high_date:%Y-%m-%d})",
            str(e.base_days),
            vol,
            "unknown" if e.breadth_confirmed is None else f"{e.breadth:.0%}",
            persist,
        )
    return table


def breakouts_command(
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
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
        fmt = data_format(as_json, as_csv)
        close, volume = small_caps_sessions(panel, when, "liqflow fetch small_caps")
        chain = None if fmt is not None else stage_on(st, cat, when, default=default)
    result = breakouts(close, volume)
    if fmt is not None or chain is None:
        print_data(fmt or "json", result.to_frame(), {"as_of": when, "table": "breakouts"})
        return
    fresh, stage = chain
    print_fresh(fresh)
    print_stage(stage)
    console.print(_breakout_table(result, console.width))
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
