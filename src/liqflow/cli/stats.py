"""``liqflow study`` (verdicts on the thesis's claims) and ``liqflow corr`` (return correlation)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from liqflow._errors import DataError
from liqflow.cli._common import (
    AsOfOption,
    CatalogOption,
    CsvOption,
    JsonOption,
    StoreOption,
    console,
    data_format,
    open_catalog,
    open_store,
    parse_date,
    print_data,
    print_fresh,
    print_stage,
    stage_on,
)
from liqflow.study.defaults import ALPHA, DEFAULT_DRAWS

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    from rich.text import Text

    from liqflow.stats.corr import CorrelationResult
    from liqflow.study.channels import ChannelsNow
    from liqflow.study.evidence import Evidence

__all__ = ["corr_command", "register", "study_command"]

_COLORS = {
    "supported": "green",
    "not supported": "red",
    "inconclusive": "yellow",
    "unknown": "magenta",
    "descriptive": "cyan",
}


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x * 100:+.1f}%"


def _num(x: float, unit: str) -> str:
    if not math.isfinite(x):
        return "-"
    if unit == "return":
        return _pct(x)
    if unit == "weeks":
        return f"{x:+.0f}w"
    return f"{x:.2f}"


def _p(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.3f}"


def _verdict(v: str) -> str:
    return f"[{_COLORS.get(v, 'white')}]{escape(v)}[/]"


def _tests_table(ev: Evidence) -> Any:
    from rich.table import Table

    table = Table(
        title=f"Tests (Holm across the {ev.n_family} tests of one family, alpha={ev.alpha})",
        title_justify="left",
    )
    table.add_column("claim: test", overflow="fold", ratio=1, min_width=14)
    for col in ("effect", "interval", "n", "p", "Holm p"):
        table.add_column(col, justify="right", no_wrap=col != "interval")
    table.add_column("verdict", min_width=9)
    for r in ev.rows():
        test = escape(f"[{r.claim}] {r.test}") + (f"\n[dim]{escape(r.note)}[/]" if r.note else "")
        ci = f"[{_num(r.ci_low, r.unit)}, {_num(r.ci_high, r.unit)}]" if r.has_interval else "-"
        table.add_row(
            test,
            _num(r.effect, r.unit),
            escape(ci),
            str(r.n),
            _p(r.p_value),
            _p(r.p_holm),
            _verdict(str(r.verdict)),
        )
    return table


#: Below this width the tests are listed one block each instead of as a table.
WIDE = 120


def _tests_list(ev: Evidence) -> list[Text]:
    """The tests for a narrow screen: the test on one line, its numbers indented below."""
    from rich.text import Text

    out = [
        Text(
            f"Tests (Holm across the {ev.n_family} tests of one family, alpha={ev.alpha})",
            style="bold",
        )
    ]
    for r in ev.rows():
        ci = f"[{_num(r.ci_low, r.unit)}, {_num(r.ci_high, r.unit)}]" if r.has_interval else ""
        numbers = "  ".join(
            x
            for x in (
                f"effect {_num(r.effect, r.unit)}",
                ci,
                f"n {r.n}",
                f"p {_p(r.p_value)}",
                f"Holm p {_p(r.p_holm)}",
            )
            if x
        )
        out.append(Text.assemble((f"[{r.claim}] ", "bold"), r.test))
        out.append(
            Text.assemble(
                "    ", numbers, "  ", (str(r.verdict), _COLORS.get(str(r.verdict), "white"))
            )
        )
        if r.note:
            out.append(Text(f"    {r.note}", style="dim"))
    return out


def _per_event_tables(ev: Evidence) -> list[Any]:
    from rich.table import Table

    per = ev.per_event
    if per.empty:
        return []
    horizons = sorted(set(per["horizon_days"]))
    dates = sorted(set(per["event_date"]))
    tables = []
    for target in dict.fromkeys(per["target"]):
        table = Table(title=f"What followed each breakout: {target}", title_justify="left")
        table.add_column("breakout", no_wrap=True)
        for h in horizons:
            table.add_column(f"+{h}d", justify="right", no_wrap=True)
        table.add_column(f"max drawdown {horizons[-1]}d", justify="right", no_wrap=True)
        rows = per[per["target"] == target]
        for d in dates:
            mine = rows[rows["event_date"] == d]
            if mine.empty:
                continue  # before this target's data starts
            cells = [f"{d:%Y-%m-%d}"]
            for h in horizons:
                hit = mine[mine["horizon_days"] == h]
                if hit.empty:
                    cells.append("[dim]clustered[/]")
                elif not hit["complete"].iloc[0]:
                    cells.append("[dim]open[/]")
                else:
                    cells.append(_pct(float(hit["forward_return"].iloc[0])))
            longest = mine.sort_values("horizon_days")["max_drawdown"]
            cells.append(_pct(float(longest.iloc[-1])))
            table.add_row(*cells)
        tables.append(table)
    return tables


def _channels_table(now: ChannelsNow) -> Any:
    from rich.table import Table

    table = Table(title=f"Channels now ({now.as_of:%Y-%m-%d}): judged from the signals")
    for col in ("thesis: reading", "value", "needs", "verdict"):
        table.add_column(col, overflow="fold")
    for t in now.theses:
        table.add_row(f"[bold]{escape(t.claim)}[/]", "", "", f"[bold]{_verdict(t.verdict)}[/]")
        for r in t.readings:
            value = r.value_text() if r.known else f"unknown ({r.note})"
            needs = r.condition_text()
            state = {True: "met", False: "not met", None: "unknown" if needs else "descriptive"}[
                r.met
            ]
            table.add_row(f"  {escape(r.label)}", escape(value), escape(needs), state)
    return table


def study_command(
    as_of: AsOfOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the run's one random stream.")] = 0,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            help="Bootstrap and placebo draws per test (at least the family size / alpha).",
        ),
    ] = DEFAULT_DRAWS,
    chain: Annotated[
        str, typer.Option("--chain", help="Catalogue chain whose claims are tested.")
    ] = "default",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the evidence as one JSON document.")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the per-test table as CSV.")] = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Put the chain's claims to the test, each test once: the chain's order, small caps
    lead crypto by 1-3 months, breakouts are followed by rallies, alts gain most, and (as
    values only) the 2016-17 / 2020-21 precedents and the recent breakouts, and the lead
    of the fiscal and market-structure channels (daily TGA, Fed MBS, spot-ETF flows,
    funding) on crypto. Prints the as-of date, each claim's verdict, each test's effect,
    interval, n, p-value and Holm-corrected p-value, what followed each breakout, and the
    channels now (fiscal easing, ETF absorption, leverage) judged from the signals."""
    from liqflow.study import LEGEND, study

    fmt = data_format(as_json, as_csv)
    when = parse_date(as_of)
    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        run = study(st, cat, chain, as_of=when, seed=seed, draws=draws, alpha=ALPHA)
        stage = None if fmt is not None else stage_on(st, cat, run.as_of.date)[1]
    ev = run.evidence
    if fmt == "json":
        typer.echo(ev.to_json())
        return
    if fmt == "csv" or stage is None:
        print_data("csv", ev.to_frame())
        return
    print_fresh(run.as_of)
    print_stage(stage)
    for c in ev.claims.to_dict("records"):
        console.print(
            f"[bold]{escape(str(c['claim']))}[/] {escape(str(c['claim_text']))}: "
            f"[bold]{_verdict(str(c['verdict']))}[/] [dim]({escape(str(c['detail']))})[/]",
            highlight=False,
        )
    if console.width >= WIDE:
        console.print(_tests_table(ev))
    else:
        for line in _tests_list(ev):
            console.print(line, highlight=False)
    for table in _per_event_tables(ev):
        console.print(table)
    for note in ev.notes:
        console.print(f"[dim]{escape(note)}[/]", highlight=False)
    if ev.channels is not None:
        console.print(_channels_table(ev.channels))
    if run.bias is not None:
        console.print(f"survivorship: {escape(run.bias.summary())}", highlight=False)
    else:
        console.print(
            "survivorship: no crypto-universe snapshots in the store, so the alt basket holds "
            "today's catalogue coins (biased upwards by the coins that died)",
            highlight=False,
        )
    legend = "; ".join(f"{k}: {v}" for k, v in LEGEND.items())
    console.print(f"[dim]verdicts - {escape(legend)}[/]", highlight=False)
    console.print(
        f"[dim]seed {ev.seed}, {ev.draws} draws, data {ev.data_hash[:12]}. lead-lag: weekly "
        "log returns, positive lag = first series leads, max-statistic bootstrap over the "
        "lead lags. Events: breakouts declustered per horizon, p against placebo dates with "
        "the same count and spacing; n = independent events; 'clustered': within the "
        "horizon of an earlier breakout; 'open': window not complete.[/]",
        highlight=False,
    )


def _corr_table(result: CorrelationResult) -> Any:
    from rich.table import Table

    pct = round(result.confidence * 100)
    table = Table(
        title=f"Correlation of daily returns: {result.a} vs {result.b} "
        f"(common dates, {pct}% stationary-bootstrap interval)",
        title_justify="left",
    )
    for col in ("period", "from", "to", "n", "correlation", "interval"):
        table.add_column(col, justify="right" if col in ("n", "correlation") else "left")
    for label, r in result.periods.iterrows():
        corr = r["correlation"]
        table.add_row(
            str(label),
            f"{r['start']:%Y-%m-%d}",
            f"{r['end']:%Y-%m-%d}",
            str(int(r["n"])),
            "-" if not math.isfinite(corr) else f"{corr:+.3f}",
            "-" if not math.isfinite(r["ci_low"]) else f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
        )
    return table


def corr_command(
    a: Annotated[str, typer.Argument(help="First series id (e.g. small_caps).")],
    b: Annotated[str, typer.Argument(help="Second series id (e.g. btc).")],
    periods: Annotated[
        str | None,
        typer.Option(
            "--periods",
            help="Sub-periods: years (2021), year ranges (2017-2019) or dates "
            "(2020-03-01..2020-06-30), comma-separated.",
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        int, typer.Option("--window", help="Rolling window in common daily returns.")
    ] = 90,
    as_of: AsOfOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Correlation of daily returns of two series on the dates both trade: overall, per
    period (with a block-bootstrap interval) and the latest rolling value."""
    import numpy as np

    from liqflow.align import load_panel, trading_days
    from liqflow.stats.corr import return_correlation
    from liqflow.study.defaults import check_seed

    check_seed(seed)
    fmt = data_format(as_json, as_csv)
    when = parse_date(as_of)
    cat = open_catalog(catalog)
    a, b = cat.resolve(a), cat.resolve(b)  # WALCL -> fed_assets; unknown: CatalogError
    with open_store(store, read_only=True) as st:
        panel = load_panel(st, [a, b], catalog=cat, as_of=when, fields="primary")
    series = []
    for sid in (a, b):
        if sid not in panel.columns or panel[sid].notna().sum() < 3:
            raise DataError(
                f"no data for {sid!r} in the store"
                + ("" if when is None else f" up to {when:%Y-%m-%d}")
                + f"; run `liqflow fetch {sid}` or `liqflow import DIR` first"
            )
        # each series on its own sessions: forward-filled weekend rows are not returns
        series.append(panel[sid].loc[trading_days(panel, sid)].astype(np.float64).rename(sid))
    result = return_correlation(series[0], series[1], periods=periods, window=window, seed=seed)
    if fmt is not None:
        meta: dict[str, object] = {"a": a, "b": b, "as_of": when, "window": result.window}
        if len(result.rolling):
            meta["rolling_date"] = result.rolling.index[-1]
            meta["rolling_correlation"] = float(result.rolling.iloc[-1])
        print_data(fmt, result.to_frame(), meta)
        return
    console.print(_corr_table(result))
    if len(result.rolling):
        last = result.rolling.iloc[-1]
        console.print(
            f"rolling {result.window}-return correlation on {result.rolling.index[-1]:%Y-%m-%d}: "
            f"{last:+.3f} (range {result.rolling.min():+.3f} to {result.rolling.max():+.3f})"
        )


def register(app: typer.Typer) -> None:
    """Add ``study`` and ``corr`` to the app."""
    app.command("study")(study_command)
    app.command("corr")(corr_command)
