"""Command-line interface (typer + rich) over the Python API."""

from liqflow.cli.main import app, main

__all__ = ["app", "main"]
