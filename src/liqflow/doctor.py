"""``liqflow doctor``: is the store sound, which keys are set, what would each command lack.

Every check is one :class:`Check` with a status (``ok``, ``warn`` or ``fail``) and a
one-line detail. Nothing here writes to the store or prints a key's value; providers are
contacted only by :func:`reachability`, which the command runs on ``--network``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from liqflow._errors import LiqflowError, StoreError
from liqflow._sanity import FIRST_DATE
from liqflow.catalog import Catalog
from liqflow.config import ENV_FRED_KEY
from liqflow.store import Store, _WriterLock

__all__ = [
    "COMMAND_NEEDS",
    "DISAGREEMENT_TOLERANCE",
    "KEY_VARIABLES",
    "PROVIDER_URLS",
    "Check",
    "DoctorReport",
    "check_keys",
    "check_store",
    "command_needs",
    "disagreements",
    "reachability",
    "run_doctor",
]

STATUSES = ("ok", "warn", "fail")
#: Environment variables holding provider keys, and what their absence costs.
KEY_VARIABLES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "FRED": (
        (ENV_FRED_KEY,),
        "without it fetch uses the keyless fredgraph.csv route (no ALFRED vintages)",
    ),
    "CoinGecko": (
        ("COINGECKO_API_KEY", "COINGECKO_DEMO_API_KEY"),
        "without it CoinGecko's public rate limit and 365-day history window apply",
    ),
}
#: One URL per provider family, tried by ``liqflow doctor --network``.
PROVIDER_URLS: Mapping[str, str] = {
    "fred": "https://fred.stlouisfed.org/",
    "fred api": "https://api.stlouisfed.org/",
    "yahoo": "https://query1.finance.yahoo.com/",
    "coingecko": "https://api.coingecko.com/api/v3/ping",
    "binance (ccxt)": "https://api.binance.com/api/v3/ping",
}
#: Relative difference above which two sources of one series disagree on a date.
DISAGREEMENT_TOLERANCE = 0.01
#: Series each command reads (``"chain"``: every series of the default chain).
COMMAND_NEEDS: Mapping[str, tuple[str, ...]] = {
    "status": ("chain",),
    "study": ("chain",),
    "report": ("chain",),
    "breakouts": ("small_caps", "small_caps_volume"),
}


@dataclass(frozen=True)
class Check:
    """One finding: which part, its status (one of :data:`STATUSES`) and one line."""

    part: str
    name: str
    status: str
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    """Every check the doctor made, in order."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(c.part, c.name, c.status, c.detail) for c in self.checks],
            columns=["part", "name", "status", "detail"],
        )

    def summary(self) -> str:
        n = {s: sum(c.status == s for c in self.checks) for s in STATUSES}
        return f"{n['ok']} ok, {n['warn']} warnings, {n['fail']} failed"


def check_store(store: Store) -> list[Check]:
    """The store opens, holds sound values, and no write is stuck or half done."""
    out: list[Check] = []
    con = store._con
    rows = store.row_count()
    pairs = len(store.inventory(count_dates=False))
    out.append(
        Check("store", "opens", "ok", f"{store.path}: {rows} values, {pairs} series/sources")
    )
    last = pd.Timestamp(dt.datetime.now(dt.UTC).date()) + pd.Timedelta(days=1)
    bad = con.execute(
        "SELECT count(*) FILTER (WHERE NOT isfinite(value)), "
        "count(*) FILTER (WHERE date < ? OR date > ?) FROM observations",
        [FIRST_DATE.date(), last.date()],
    ).fetchall()[0]
    out.append(
        Check(
            "store",
            "values",
            "fail" if any(bad) else "ok",
            f"{bad[0]} non-finite values, {bad[1]} dates outside "
            f"[{FIRST_DATE:%Y-%m-%d}, {last:%Y-%m-%d}]",
        )
    )
    orphans = con.execute(
        """SELECT DISTINCT o.series_id, o.source FROM observations o
           ANTI JOIN series_meta m ON m.series_id = o.series_id AND m.source = o.source"""
    ).fetchall()
    out.append(
        Check(
            "store",
            "metadata",
            "warn" if orphans else "ok",
            f"{len(orphans)} series/sources without metadata"
            + (": " + ", ".join(f"{s}/{src}" for s, src in orphans[:5]) if orphans else ""),
        )
    )
    out.append(_writer_check(store))
    return out


def _writer_check(store: Store) -> Check:
    staged = store.path.with_name(store.path.name + ".writing")
    try:
        with _WriterLock(store.path, 0.0):
            pass
    except StoreError:
        return Check("store", "writer", "warn", "a write is in progress in another process")
    if staged.exists():
        return Check(
            "store",
            "writer",
            "warn",
            f"{staged} was left by a killed write; the next write removes it",
        )
    return Check("store", "writer", "ok", "no write in progress")


def disagreements(store: Store, tolerance: float = DISAGREEMENT_TOLERANCE) -> list[Check]:
    """Sources of one series that disagree on common dates, and conflicts kept on import.

    Two sources rarely agree to the cent (CoinGecko snapshots at 00:00 UTC, Yahoo closes
    at 23:59 UTC), so each pair is summarised: common dates, median relative difference,
    dates beyond ``tolerance`` and the worst one.
    """
    rows = store._con.execute(
        """SELECT a.series_id, a.field, a.source, b.source, count(*),
                  median(abs(a.value / b.value - 1)),
                  count(*) FILTER (WHERE abs(a.value / b.value - 1) > ?),
                  arg_max(a.date, abs(a.value / b.value - 1)), max(abs(a.value / b.value - 1))
           FROM observations a JOIN observations b
             ON a.series_id = b.series_id AND a.field = b.field AND a.date = b.date
            AND a.source < b.source
           WHERE b.value <> 0
           GROUP BY ALL ORDER BY 1, 2, 3, 4""",
        [tolerance],
    ).fetchall()
    out = [
        Check(
            "sources",
            f"{sid} {fld}",
            "warn" if over else "ok",
            f"{a} vs {b}: {n} common dates, median difference {med:.2%}, {over} beyond "
            f"{tolerance:.0%}" + (f", worst {worst:.1%} on {when:%Y-%m-%d}" if over else ""),
        )
        for sid, fld, a, b, n, med, over, when, worst in rows
    ]
    kept = store.revisions()
    kept = kept[~kept["applied"].astype(bool)]
    for (sid, src), grp in kept.groupby(["series_id", "source"], sort=True):
        days = grp["date"].drop_duplicates().sort_values()
        out.append(
            Check(
                "sources",
                f"{sid} {src}",
                "warn",
                f"{len(grp)} imported values differ from the stored ones on {len(days)} "
                f"date{'s' if len(days) > 1 else ''} "
                f"({days.iloc[0]:%Y-%m-%d}..{days.iloc[-1]:%Y-%m-%d}); kept as stored "
                "(`liqflow import FILE --revise` applies a file's values)",
            )
        )
    return out


def check_keys(environ: Mapping[str, str] | None = None) -> list[Check]:
    """Which provider keys are set: names only, never values."""
    env = os.environ if environ is None else environ
    out = []
    for provider, (names, without) in KEY_VARIABLES.items():
        found = next((n for n in names if env.get(n, "").strip()), None)
        if found:
            out.append(Check("keys", provider, "ok", f"{found} is set"))
        else:
            out.append(Check("keys", provider, "warn", f"{' / '.join(names)} not set: {without}"))
    return out


def _expand(needs: Sequence[str], catalog: Catalog) -> list[str]:
    out: list[str] = []
    for sid in needs:
        if sid == "chain":
            out.extend(s for stage in catalog.chain().stages for s in stage)
        else:
            out.append(sid)
    return list(dict.fromkeys(out))


def command_needs(store: Store, catalog: Catalog) -> list[Check]:
    """For each command, the series it reads that the store does not hold."""
    held = {(s.series_id, s.source) for s in store.inventory(count_dates=False)}
    out = []
    for command, needs in COMMAND_NEEDS.items():
        missing = [
            sid
            for sid in _expand(needs, catalog)
            if sid in catalog and not any((sid, src) in held for src in catalog[sid].sources)
        ]
        detail = (
            f"lacks {', '.join(missing)} (`liqflow fetch {' '.join(missing[:3])}` or import their files)"
            if missing
            else "has every series it reads"
        )
        out.append(Check("commands", command, "warn" if missing else "ok", detail))
    return out


def reachability(urls: Mapping[str, str] | None = None, timeout: float = 5.0) -> list[Check]:
    """Whether each provider answers an HTTP request (any status counts as reachable).

    ``urls`` defaults to :data:`PROVIDER_URLS`; proxy variables are honoured.
    """
    import httpx

    out = []
    for name, url in (PROVIDER_URLS if urls is None else urls).items():
        try:
            response = httpx.get(url, timeout=timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            out.append(
                Check("network", name, "warn", f"{url} unreachable: {type(exc).__name__}: {exc}")
            )
            continue
        out.append(Check("network", name, "ok", f"{url} answered HTTP {response.status_code}"))
    return out


def run_doctor(
    store_path: str | Path | None,
    catalog: Catalog,
    *,
    network: bool = False,
    tolerance: float = DISAGREEMENT_TOLERANCE,
    probe: Callable[[], list[Check]] = reachability,
) -> DoctorReport:
    """Every check, in order: store, sources, keys, commands and (``network``) providers."""
    checks: list[Check] = []
    try:
        with Store(store_path, read_only=True) as store:
            checks.extend(check_store(store))
            checks.extend(disagreements(store, tolerance))
            checks.extend(command_needs(store, catalog))
    except LiqflowError as exc:
        checks.append(Check("store", "opens", "fail", str(exc)))
    except duckdb.Error as exc:  # a damaged file opens but fails to read
        checks.append(Check("store", "readable", "fail", f"{store_path}: {exc}".splitlines()[0]))
    checks.extend(check_keys())
    if network:
        checks.extend(probe())
    return DoctorReport(tuple(checks))
