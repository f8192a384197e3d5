"""The report: the seed's theses judged from the results, and charts, in one HTML file.

* :mod:`~liqflow.report.build`: every part (panel, signals, statistics, backtests) from
  the store, each one a result or an :class:`Unavailable` with the reason;
* :mod:`~liqflow.report.compute`: the parts built in order, timed and cached
  (:func:`compute_results`);
* :mod:`~liqflow.report.theses`: the theses, their numbers and one line of why;
* :mod:`~liqflow.report.charts`: one function per chart;
* :mod:`~liqflow.report.html`: the self-contained page (Jinja2, autoescaped);
* :mod:`~liqflow.report.api`: :func:`build_report` and :func:`write_report`.
"""

from liqflow.report.api import Report, build_report, write_report
from liqflow.report.charts import Chart, build_charts
from liqflow.report.compute import compute_results
from liqflow.report.html import render_html
from liqflow.report.results import (
    BacktestSet,
    EventPaths,
    PartRun,
    ReportConfig,
    ReportResults,
    SeriesInfo,
    Unavailable,
)
from liqflow.report.theses import (
    STATUSES,
    Evidence,
    Reading,
    StageOutlook,
    Theses,
    Thesis,
    build_theses,
)

__all__ = [
    "STATUSES",
    "BacktestSet",
    "Chart",
    "EventPaths",
    "Evidence",
    "PartRun",
    "Reading",
    "Report",
    "ReportConfig",
    "ReportResults",
    "SeriesInfo",
    "StageOutlook",
    "Theses",
    "Thesis",
    "Unavailable",
    "build_charts",
    "build_report",
    "build_theses",
    "compute_results",
    "render_html",
    "write_report",
]
