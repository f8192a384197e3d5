"""The ``liqflow`` command: assembles the commands of each area and handles user errors."""

from __future__ import annotations

import inspect
import sys

import typer
from rich.markup import escape

from liqflow._errors import LiqflowError, clip_text
from liqflow.cli._common import err_console

app = typer.Typer(
    name="liqflow",
    help=(
        "Follow liquidity down the chain: Fed liquidity -> credit -> large caps -> "
        "small caps -> crypto. Import or fetch data, see the stage, test each link."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # The root's --help defaults to False rather than None: typer coerces a value that
    # is not a bool through a pydantic adapter built on first use, and importing
    # pydantic for it costs `liqflow COMMAND --help` about 0.2 s.
    context_settings={"default_map": {"help": False}},
)


@app.callback()
def _root() -> None:
    """Follow liquidity down the chain and test each link with honest statistics."""


# --- command registration (one line per area) ---
from liqflow.cli import data as _data  # noqa: E402

_data.register(app)
from liqflow.cli import fetch as _fetch  # noqa: E402

_fetch.register(app)
from liqflow.cli import signals as _signals  # noqa: E402

_signals.register(app)
from liqflow.cli import report as _report  # noqa: E402

_report.register(app)
from liqflow.cli import stats as _stats  # noqa: E402

_stats.register(app)
from liqflow.cli import backtest as _backtest  # noqa: E402

_backtest.register(app)
from liqflow.cli import universe as _universe  # noqa: E402

_universe.register(app)

from liqflow.cli import doctor as _doctor  # noqa: E402

_doctor.register(app)
from liqflow.cli import export as _export  # noqa: E402

_export.register(app)
from liqflow.cli import catalog_cmd as _catalog_cmd  # noqa: E402

_catalog_cmd.register(app)
# --- end of command registration ---


def _reflow(text: str) -> str:
    """Docstring paragraphs as single lines, so the help wraps at the terminal's width
    (typer keeps a docstring's line breaks, which splits sentences at 80 columns)."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


for _info in app.registered_commands:
    _doc = _info.help or (_info.callback.__doc__ if _info.callback is not None else None)
    if _doc:
        _info.help = _reflow(_doc)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning :class:`LiqflowError` into one line and exit 1."""
    try:
        app(args=argv)
    except LiqflowError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(clip_text(str(exc)))}",
            highlight=False,
            soft_wrap=True,
            markup=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
