"""``liqflow backtest`` and ``liqflow sweep``: rotation rules on the point-in-time panel."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqflow.cli._common import (
    CatalogOption,
    CsvOption,
    JsonOption,
    StoreOption,
    command_date,
    console,
    data_format,
    err_console,
    open_catalog,
    open_store,
    print_as_of,
    print_data,
    print_stage,
)

if TYPE_CHECKING:  # imported by the functions that use them: start-up stays fast
    import pandas as pd
    from rich.table import Table

    from liqflow.backtest import MarketData, Metrics, Rule, SweepGrid, WalkForwardResult

__all__ = ["backtest_command", "load_market_data", "neighbourhood", "register", "sweep_command"]

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Last decision date YYYY-MM-DD: only data public at the end of that day is "
        "used (default: the latest data).",
        show_default=False,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Where the combos run: 'processes' (local processes) or a Dask scheduler "
        "address tcp://HOST:PORT (default: this process). Results are identical.",
        show_default=False,
    ),
]


def load_market_data(
    store: Path | None, catalog: Path | None, as_of: str | None, *, quiet: bool = False
) -> tuple[MarketData, str]:
    """Prices (btc, eth, alt basket), the stage timeline and small-cap sessions.

    Returns the data and a note on what went into it; prints the as-of line unless
    ``quiet`` (``--json``/``--csv``: nothing but the data on stdout).
    """
    from liqflow.backtest import market_data_from_panel
    from liqflow.cli.signals import load_signal_panel
    from liqflow.signals import compute_signals
    from liqflow.universe_store import alt_universe_from_store

    cat = open_catalog(catalog)
    with open_store(store, read_only=True) as st:
        when, default = command_date(st, cat, as_of)
        panel = load_signal_panel(st, cat, when)
        universe = alt_universe_from_store(st, cat, when)
    if not quiet:
        print_as_of(panel, cat, default)
    signals = compute_signals(panel, catalog=cat, universe=universe)
    if not quiet:
        print_stage(signals.stage_status())
    stage = signals.stages.frame["stage"]
    data = market_data_from_panel(panel, stage=stage, alts=cat.altcoins(), universe=universe)
    cols = ", ".join(map(str, data.prices.columns))
    small = "none" if data.small_caps is None else f"{len(data.small_caps)} sessions"
    alts = "today's catalogue coins (survivorship-biased)" if universe is None else universe.label
    note = (
        f"assets: {cols} (alts: {alts}); small-cap sessions: {small}; stage timeline from "
        f"liqflow.signals; as of {when:%Y-%m-%d}"
    )
    return data, "; ".join((note, *data.notes))


def neighbourhood(rule: Rule) -> SweepGrid:
    """Candidates for walk-forward around ``rule``: half and double the hold, nearby
    stage thresholds, all-time vs 1-year highs, with and without volume/persistence."""
    from liqflow.backtest import SweepGrid

    b = rule.breakout
    return SweepGrid(
        signal=(rule.signal,),
        lookback=tuple(sorted({0, 252, b.lookback})),
        volume_threshold=tuple(sorted({0.0, b.volume_threshold})),
        persistence=tuple(sorted({0, b.persistence})),
        hold_days=tuple(sorted({max(1, rule.hold_days // 2), rule.hold_days, 2 * rule.hold_days})),
        min_stage=tuple(
            sorted({max(0, rule.min_stage - 1), rule.min_stage, min(4, rule.min_stage + 1)})
        ),
        asset=(rule.asset,),
        fallback=(rule.fallback,),
        fee_bps=rule.fee_bps,
        slippage_bps=rule.slippage_bps,
        volume_window=b.volume_window,
        volume_average=b.volume_average,
    )


def _pct(x: float, signed: bool = False) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _num(x: float, fmt: str = ".2f") -> str:
    return format(x, fmt) if math.isfinite(x) else "-"


_METRIC_ROWS: tuple[tuple[str, str], ...] = (
    ("CAGR", "cagr"),
    ("volatility", "volatility"),
    ("Sharpe", "sharpe"),
    ("Sortino", "sortino"),
    ("max drawdown", "max_drawdown"),
    ("  its length (days)", "max_drawdown_days"),
    ("Calmar", "calmar"),
    ("turnover / year", "turnover"),
    ("exposure", "exposure"),
    ("trades", "n_trades"),
    ("hit rate", "hit_rate"),
)


def _cell(field: str, value: float) -> str:
    if field == "cagr":
        return _pct(value, signed=True)
    if field in ("volatility", "max_drawdown", "exposure", "hit_rate"):
        return _pct(value)
    if field in ("max_drawdown_days", "n_trades"):
        return str(int(value))
    if field == "turnover":
        return _num(value, ".1f")
    return _num(value)


def _metrics_table(title: str, columns: list[tuple[str, Metrics]]) -> Any:
    """One column per series (the rule, then buy-and-hold), one row per metric."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("")
    for label, _ in columns:
        table.add_column(label, justify="right")
    for name, field in _METRIC_ROWS:
        table.add_row(name, *(_cell(field, getattr(m, field)) for _, m in columns))
    return table


def _metrics_frame(
    metrics: Metrics, benchmarks: tuple[Metrics, ...], wf: WalkForwardResult
) -> pd.DataFrame:
    """One row per (sample, series): every field of :class:`Metrics`."""
    import dataclasses

    import pandas as pd

    rows = [
        {"sample": sample, **dataclasses.asdict(m)}
        for sample, ms in (
            ("in sample", (metrics, *benchmarks)),
            ("walk-forward", (wf.metrics, *wf.benchmarks)),
        )
        for m in ms
    ]
    return pd.DataFrame(rows)


def _bench(metrics: tuple[Metrics, ...]) -> list[tuple[str, Metrics]]:
    return [(m.name.replace("buy & hold ", "hold "), m) for m in metrics]


def backtest_command(
    rule_file: Annotated[
        Path | None,
        typer.Option(
            "--rule",
            help="TOML file with a \\[rule] table (signal, asset, fallback, min_stage, "
            "hold_days, fee_bps, slippage_bps, \\[rule.breakout]); default: hold the alt "
            "basket for 60 days after a confirmed Russell 2000 all-time-high breakout.",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOption = None,
    grid_file: Annotated[
        Path | None,
        typer.Option(
            "--grid",
            help="Walk-forward candidates from a sweep grid TOML (default: a small "
            "neighbourhood of the rule's parameters).",
            show_default=False,
        ),
    ] = None,
    train_days: Annotated[
        int, typer.Option("--train-days", help="Walk-forward training window (days).")
    ] = 730,
    test_days: Annotated[
        int, typer.Option("--test-days", help="Walk-forward test window (days).")
    ] = 182,
    expanding: Annotated[
        bool, typer.Option("--expanding", help="Expanding instead of rolling training windows.")
    ] = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Backtest a rotation rule: in-sample and walk-forward metrics next to buy-and-hold.

    Decisions at the close of day t trade at the close of t+1; costs are charged per
    unit of turnover. Walk-forward picks, on each training window, the candidate with
    the best Sharpe ratio and trades it on the next test window (embargo = the longest
    holding period); the stitched out-of-sample path is what the rule would have earned.
    """
    from liqflow.backtest import Rule, backtest, load_grid, load_rule, walk_forward

    fmt = data_format(as_json, as_csv)
    rule = load_rule(rule_file) if rule_file is not None else Rule()
    data, note = load_market_data(store, catalog, as_of, quiet=fmt is not None)
    res = backtest(rule, data)
    grid = load_grid(grid_file) if grid_file is not None else neighbourhood(rule)
    wf = walk_forward(grid, data, train_days=train_days, test_days=test_days, expanding=expanding)
    if fmt is not None:
        print_data(fmt, _metrics_frame(res.metrics, res.benchmarks, wf), {"rule": rule.label})
        return
    console.print(f"[bold]{rule.label}[/]  [dim]({note})[/]")
    m = res.metrics
    console.print(
        _metrics_table(
            f"In sample: {m.start:%Y-%m-%d} to {m.end:%Y-%m-%d} ({m.n_obs} days), "
            f"costs {rule.fee_bps + rule.slippage_bps:g} bp per unit turnover",
            [("rule", m), *_bench(res.benchmarks)],
        )
    )
    w = wf.metrics
    kind = "expanding" if expanding else "rolling"
    console.print(
        _metrics_table(
            f"Walk-forward out of sample: {w.start:%Y-%m-%d} to {w.end:%Y-%m-%d} "
            f"({len(wf.folds)} folds, {kind} {train_days} d train, {test_days} d test, "
            f"embargo {wf.embargo_days} d, {wf.n_candidates} candidates)",
            [("walk-forward", w), *_bench(wf.benchmarks)],
        )
    )
    console.print(_folds_table(wf))


def _folds_table(wf: WalkForwardResult) -> Table:
    """The walk-forward folds: each test window, the rule chosen on its training window."""
    from rich.table import Table

    folds = Table(
        title="Walk-forward folds",
        title_justify="left",
        caption="test Sharpe '-': the chosen rule held no position in that window",
        caption_justify="left",
    )
    for col in ("test window", "chosen rule", "train Sharpe", "test Sharpe"):
        folds.add_column(col, justify="right" if "Sharpe" in col else "left")
    for f in wf.folds:
        folds.add_row(
            f"{f.test_start:%Y-%m-%d}..{f.test_end:%Y-%m-%d}",
            f.rule.label,
            _num(f.train_sharpe),
            _num(f.test_sharpe),
        )
    return folds


def sweep_command(
    grid_file: Annotated[
        Path,
        typer.Option(
            "--grid",
            help="TOML grid (\\[grid] lists of signal, lookback, volume_threshold, "
            "persistence, hold_days, min_stage, asset, fallback; \\[costs]; \\[cscv]); see "
            "examples/sweep_grid.toml.",
        ),
    ],
    scheduler: SchedulerOption = None,
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option("--top", help="How many of the best combos to list.")] = 10,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    store: StoreOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Sweep a grid of rotation rules; list the best, with the deflated Sharpe and PBO.

    The deflated Sharpe ratio (Bailey & López de Prado 2014) asks whether the best
    Sharpe ratio beats what the number of combos tried would give by luck; the PBO
    (CSCV, Bailey et al. 2017) is how often the in-sample best ranks below the median
    out of sample.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from liqflow.backtest import load_grid, run_sweep

    fmt = data_format(as_json, as_csv)
    grid = load_grid(grid_file)
    data, note = load_market_data(store, catalog, as_of, quiet=fmt is not None)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"sweeping {len(grid)} combos", total=len(grid))
        res = run_sweep(
            grid,
            data,
            scheduler=scheduler,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    if fmt is not None:
        meta = {
            "combos": len(res.table),
            "start": res.start,
            "end": res.end,
            "deflated_sharpe": None if res.deflated is None else res.deflated.summary(),
            "pbo": None if res.pbo is None else res.pbo.pbo,
        }
        print_data(fmt, res.best(top), meta)
        return
    console.print(
        f"[bold]sweep of {len(res.table)} combos[/], {res.start:%Y-%m-%d} to "
        f"{res.end:%Y-%m-%d} ({res.n_obs} days)  [dim]({note})[/]"
    )
    _print_best(res.best(top))
    if res.deflated is not None:
        d = res.deflated
        style = "green" if d.significant else "yellow"
        console.print(f"[{style}]{d.summary()}[/]")
    if res.pbo is not None:
        p = res.pbo
        level = "high: likely overfit" if p.pbo >= 0.5 else "low" if p.pbo < 0.2 else "moderate"
        style = "red" if p.pbo >= 0.5 else "green" if p.pbo < 0.2 else "yellow"
        console.print(f"[{style}]{p.summary()}[/] (PBO {level})")


def _param(value: object, fmt: str = "") -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "·"
    return format(value, fmt)


#: Below this width the best combos show their parameters in one wrapping column.
WIDE = 132


def _print_best(best: pd.DataFrame) -> None:
    from rich.table import Table

    if console.width < WIDE:
        _print_best_narrow(best)
        return

    table = Table(
        title="Best combos by Sharpe ratio (in sample)",
        title_justify="left",
        caption="lookback 0 = all-time high; · = not used by the signal",
        caption_justify="left",
    )
    for col in ("#", "signal", "hold", "else", "lookback", "volume", "persist", "days"):
        table.add_column(col, justify="right" if col in ("#", "lookback", "days") else "left")
    table.add_column("stage≥")
    for col in ("Sharpe", "CAGR", "max DD", "exposure", "trades"):
        table.add_column(col, justify="right")
    for i, row in best.iterrows():
        table.add_row(
            str(i),
            str(row["signal"]),
            str(row["asset"]),
            str(row["fallback"]),
            _param(row["lookback"]),
            _param(row["volume_threshold"], "g"),
            _param(row["persistence"]),
            _param(row["hold_days"]),
            _param(row["min_stage"]),
            _num(float(row["sharpe"])),
            _pct(float(row["cagr"]), signed=True),
            _pct(float(row["max_drawdown"])),
            _pct(float(row["exposure"])),
            str(int(row["n_trades"])),
        )
    console.print(table)


def _print_best_narrow(best: pd.DataFrame) -> None:
    """The best combos, each rule's parameters in one column (``lb=252, vol=1.2``)."""
    from rich import box
    from rich.table import Table

    table = Table(
        title="Best combos by Sharpe ratio (in sample)",
        title_justify="left",
        caption="rule: signal, asset/fallback, then the parameters it uses (lb=0: all-time high)",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("rule", ratio=1, min_width=16)
    for col in ("Sharpe", "CAGR", "max DD", "exposure", "trades"):
        table.add_column(col, justify="right", no_wrap=True)
    for i, row in best.iterrows():
        params = [
            f"{row['signal']}",
            f"{row['asset']}/{row['fallback']}",
            *(
                f"{label}={_param(row[key], fmt)}"
                for label, key, fmt in (
                    ("lb", "lookback", ""),
                    ("vol", "volume_threshold", "g"),
                    ("persist", "persistence", ""),
                    ("hold", "hold_days", ""),
                    ("min_stage", "min_stage", ""),
                )
                if _param(row[key]) != "·"
            ),
        ]
        table.add_row(
            str(i),
            ", ".join(params),
            _num(float(row["sharpe"])),
            _pct(float(row["cagr"]), signed=True),
            _pct(float(row["max_drawdown"])),
            _pct(float(row["exposure"])),
            str(int(row["n_trades"])),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` and ``sweep`` to ``app``."""
    app.command("backtest")(backtest_command)
    app.command("sweep")(sweep_command)
