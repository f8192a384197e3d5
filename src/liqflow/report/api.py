"""Build the report (results -> theses -> charts -> HTML) and write it to a file."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from liqflow._errors import ConfigError
from liqflow.catalog import Catalog
from liqflow.report.charts import Chart, build_charts
from liqflow.report.compute import ProgressFn, compute_results
from liqflow.report.html import render_html
from liqflow.report.results import PartRun, ReportConfig, ReportResults
from liqflow.report.theses import Theses, build_theses
from liqflow.store import Store

__all__ = ["Report", "build_report", "write_report"]


@dataclass(frozen=True, eq=False)
class Report:
    """The report: its results, theses, charts and the HTML page.

    Attributes
    ----------
    results : ReportResults
    theses : Theses
    charts : tuple of Chart
    html : str
        The self-contained page (deterministic: same results, same bytes).
    """

    results: ReportResults
    theses: Theses
    charts: tuple[Chart, ...]
    html: str

    @property
    def as_of(self) -> pd.Timestamp:
        return self.results.as_of

    def to_frame(self) -> pd.DataFrame:
        """The theses table (one row per thesis)."""
        return self.theses.to_frame()

    def summary(self) -> str:
        """Stage, theses and the parts that are not available."""
        lines = [self.theses.summary()]
        lines += [m.summary() for m in self.results.missing()]
        return "\n".join(lines)

    def write(self, path: str | Path) -> Path:
        """Write the HTML page to ``path`` (UTF-8); returns the path."""
        p = Path(path)
        if p.exists() and p.is_dir():
            raise ConfigError(
                f"report output {str(p)!r} is a directory; give a file name such as report.html"
            )
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(self.html, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot write the report to {str(p)!r}: {exc.strerror or exc}"
            ) from None
        return p


def build_report(
    store: Store,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | None = None,
    config: ReportConfig | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Compute every part, judge the theses, draw the charts and render the page.

    Parameters
    ----------
    store : Store
        The data (and the cache of heavy statistics).
    as_of : date, optional
        Report date (default: the last day the chain's required inputs are fresh, as every command); only data public then is used.
    catalog : Catalog, optional
    config : ReportConfig, optional
    progress : callable, optional
        Called with each part's name (``panel``, ``signals``, ``statistics``,
        ``backtest``, ``rendering``) before it runs.

    Returns
    -------
    Report
    """
    results = compute_results(store, as_of=as_of, catalog=catalog, config=config, progress=progress)
    if progress is not None:
        progress("rendering")
    t0 = time.perf_counter()
    theses = build_theses(results)
    charts = build_charts(results)
    page = render_html(results, theses, charts)
    timings = (*results.timings, PartRun("rendering", time.perf_counter() - t0))
    return Report(replace(results, timings=timings), theses, charts, page)


def write_report(
    store: Store,
    path: str | Path,
    *,
    as_of: pd.Timestamp | str | None = None,
    catalog: Catalog | None = None,
    config: ReportConfig | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """:func:`build_report` and write its page to ``path``."""
    report = build_report(store, as_of=as_of, catalog=catalog, config=config, progress=progress)
    report.write(path)
    return report
