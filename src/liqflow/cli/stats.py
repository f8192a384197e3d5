"""``liqflow study`` (verdicts on the thesis's claims) and ``liqflow corr`` (return correlation)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqflow._errors import ConfigError, DataError
from liqflow.cli._common import (
    AsOfOption,
    CatalogOption,
    StoreOption,
    console,
    open_catalog,
    open_store,
    parse_date,
    small_caps_sessions,
)

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    import pandas as pd

    from liqflow.catalog import Catalog
    from liqflow.stats.claims import ClaimsResult
    from liqflow.stats.corr import CorrelationResult
    from liqflow.store import Store

__all__ = ["corr_command", "register", "study_command", "study_inputs"]

STUDY_IDS = ("small_caps", "small_caps_volume", "large_caps", "btc", "hy_spread")
ALPHA = 0.05
_COLORS = {"supported": "green", "not supported": "red", "inconclusive": "yellow"}


def study_inputs(
    store: Store, catalog: Catalog, as_of: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """The point-in-time panel for the claims and the Russell breakout events.

    Events are the all-time-high breakouts of :func:`liqflow.signals.breakouts` (close
    above the prior all-time high after a base of at least 60 sessions) computed on the
    ``small_caps`` sessions with IWM volume, as known on ``as_of``.
    """
    from liqflow.align import load_panel
    from liqflow.signals import breakouts

    ids = [*STUDY_IDS, *catalog.altcoins()]
    panel = load_panel(store, ids, catalog=catalog, as_of=as_of, fields="primary")
    close, volume = small_caps_sessions(panel, as_of, "liqflow fetch")
    daily = breakouts(close, volume).daily
    events = (daily["event"] == 1).astype(bool).rename("breakout")
    return panel, events


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


def _verdict_table(result: ClaimsResult) -> Any:
    from rich.table import Table

    when = "latest data" if result.as_of is None else f"data public by {result.as_of:%Y-%m-%d}"
    table = Table(
        title=f"Claims on {when} (Holm across all tests, alpha={result.alpha})",
        title_justify="left",
    )
    table.add_column("claim: test", overflow="fold", ratio=1, min_width=14)
    for col in ("effect", "interval", "n", "p", "Holm p"):
        # the interval may wrap at its space so the test name keeps room on 80 columns
        table.add_column(col, justify="right", no_wrap=col != "interval")
    table.add_column("verdict", min_width=9)
    for _, r in result.table.iterrows():
        color = _COLORS[r["verdict"]]
        test = f"({r['claim']}) {r['test']}" + (f"\n[dim]{r['note']}[/]" if r["note"] else "")
        table.add_row(
            test,
            _num(r["effect"], r["unit"]),
            f"[{_num(r['ci_low'], r['unit'])}, {_num(r['ci_high'], r['unit'])}]",
            str(int(r["n"])),
            _p(r["p_value"]),
            _p(r["p_holm"]),
            f"[{color}]{r['verdict']}[/]",
        )
    return table


def _per_event_tables(result: ClaimsResult) -> list[Any]:
    import pandas as pd
    from rich.table import Table

    from liqflow.stats.claims import PRECEDENT_WINDOWS, RECENT_WINDOW

    per = result.events["b"].per_event
    horizons = sorted(set(per["horizon_days"]))
    dates = sorted(set(per["event_date"]))
    tables = []
    for target in dict.fromkeys(per["target"]):
        table = Table(
            title=f"What followed each Russell 2000 breakout: {target}", title_justify="left"
        )
        table.add_column("breakout", no_wrap=True)
        table.add_column("claims", no_wrap=True)
        for h in horizons:
            table.add_column(f"+{h}d", justify="right", no_wrap=True)
        table.add_column(f"max drawdown {horizons[-1]}d", justify="right", no_wrap=True)
        rows = per[per["target"] == target]
        for d in dates:
            tags = ["b"]
            if any(pd.Timestamp(a) <= d <= pd.Timestamp(b) for a, b in PRECEDENT_WINDOWS):
                tags.append("c")
            if pd.Timestamp(RECENT_WINDOW[0]) <= d <= pd.Timestamp(RECENT_WINDOW[1]):
                tags.append("d")
            mine = rows[rows["event_date"] == d]
            if mine.empty:
                continue  # before this target's data starts
            cells = [f"{d:%Y-%m-%d}", ",".join(tags)]
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


def study_command(
    as_of: AsOfOption = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the bootstrap and placebo draws.")
    ] = 0,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            help="Bootstrap and placebo draws per test (at least 17/alpha for Holm).",
        ),
    ] = 1999,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Put the thesis's claims to the test: (a) small caps lead crypto 1-3 months,
    (b) Russell breakouts are followed by crypto rallies, (c) the 2017/2021 precedents,
    (d) what followed the late-2025/2026 breakouts, (e) the chain's order. Prints each
    test's effect, interval, n, p-value, Holm-corrected p-value and verdict, and what
    followed each breakout."""
    from liqflow.stats.claims import CLAIMS, N_TESTS, assess_claims

    when = parse_date(as_of)
    if draws < math.ceil(N_TESTS / ALPHA):
        raise ConfigError(
            f"--draws must be at least {math.ceil(N_TESTS / ALPHA)} (a bootstrap p-value of "
            f"1/(draws+1) must be able to pass Holm over {N_TESTS} tests at {ALPHA}), got {draws}"
        )
    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        panel, events = study_inputs(st, cat, when)
    result = assess_claims(
        panel,
        events,
        alt_columns=[c for c in cat.altcoins() if c in panel.columns],
        as_of=when,
        alpha=ALPHA,
        n_null=draws,
        n_boot=draws,
        n_placebo=draws,
        seed=seed,
    )
    console.print(_verdict_table(result))
    for claim, row in result.claim_verdicts.iterrows():
        color = _COLORS[row["verdict"]]
        console.print(
            f"({claim}) {CLAIMS[str(claim)]}: [bold {color}]{row['verdict']}[/] "
            f"[dim]({row['detail']})[/]"
        )
    if "b" in result.events:
        for table in _per_event_tables(result):
            console.print(table)
    for note in result.notes:
        console.print(f"[dim]{note}[/]")
    console.print(
        "[dim]lead-lag: weekly log returns (W-FRI closes), positive lag = first series leads; "
        "p from a max-statistic block bootstrap over the lead lags. Events: breakouts "
        "declustered per horizon (one per window), forward returns as-of, p against "
        "placebo dates with the same count and spacing; n = independent events. "
        "'clustered': within the horizon of an earlier breakout; 'open': window not "
        "complete. alts = equal-weight basket of the coins priced each day.[/]"
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
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Correlation of daily returns of two series on the dates both trade: overall, per
    period (with a block-bootstrap interval) and the latest rolling value."""
    import numpy as np

    from liqflow.align import load_panel, trading_days
    from liqflow.stats.corr import return_correlation

    when = parse_date(as_of)
    cat = open_catalog(catalog)
    for sid in (a, b):
        _ = cat[sid]  # an unknown id raises CatalogError naming it
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
