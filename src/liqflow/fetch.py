"""Incremental download of the catalogue into the store.

:func:`fetch` asks each series' provider only for the dates after what the store already
holds, minus a small overlap so that revisions of recent values are picked up (7 days
for daily series, 35 for weekly, 100 for monthly), or for the full history when nothing
is stored. Each series is written in its own transaction: a failure leaves that series'
stored rows unchanged and never stops the other series. The result is a
:class:`FetchReport` with one row per series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd

from liqflow._errors import ConfigError, LiqflowError
from liqflow.catalog import FREQUENCIES, Catalog, SeriesSpec
from liqflow.providers import (
    DEFAULT_POLICY,
    OFFLINE_HINT,
    ProviderTimeout,
    ProviderUnreachable,
    RetryPolicy,
    fetch_spec,
    get_provider,
)
from liqflow.store import Store

__all__ = ["OVERLAP_DAYS", "FetchReport", "SeriesFetch", "fetch", "fetch_start", "live_ids"]

# Days re-requested before the last stored date, per frequency, to pick up revisions
# (FRED revises recent weeks; H.6 money stock revises the last few months).
OVERLAP_DAYS: Mapping[str, int] = {"D": 7, "W": 35, "M": 100}
# Largest expected step between two observations, per frequency: a longer step between
# the stored and the fetched dates is reported as a gap.
_MAX_STEP_DAYS: Mapping[str, int] = {"D": 10, "W": 21, "M": 100}
# Median relative difference of overlapping closes above which a Yahoo series is taken
# to have been re-based (a dividend since the last fetch) and is re-fetched whole.
BASIS_TOLERANCE = 1e-4

#: Providers whose client is an ``httpx.Client`` (one shared per run).
HTTPX_PROVIDERS = ("fred", "coingecko", "treasury", "cftc")

ProgressFn = Callable[[str, int, int, "SeriesFetch | None"], None]


@dataclass(frozen=True)
class SeriesFetch:
    """Outcome of fetching one series.

    Attributes
    ----------
    series_id, source : str
        The series and the store source written (``fred``, ``yahoo``, ``ccxt:binance``).
    rows_added : int
        Observations (date x field) not stored before; revised values are replaced but
        not counted.
    last_date : Timestamp or None
        Last stored date after the fetch.
    start : Timestamp or None
        First date requested (None: full history).
    error : str or None
        One-line error when the series failed (its stored rows are unchanged).
    note : str or None
        What the user must know about a success: a gap between the stored and the
        fetched dates (CoinGecko serves only the past 365 days), a provider that serves
        less history than is stored (ICE BofA on FRED: three years; the older stored rows
        are kept), an adjusted-close series re-fetched whole after a dividend re-based it.
    unreachable : str or None
        The host, when the series failed because that host could not be reached or timed
        out (the run's later series on it were not tried).
    """

    series_id: str
    source: str
    rows_added: int = 0
    last_date: pd.Timestamp | None = None
    start: pd.Timestamp | None = None
    error: str | None = None
    note: str | None = None
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FetchReport:
    """One :class:`SeriesFetch` per series, in the order fetched."""

    results: tuple[SeriesFetch, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[SeriesFetch, ...]:
        """Series that failed."""
        return tuple(r for r in self.results if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def rows_added(self) -> int:
        return sum(r.rows_added for r in self.results)

    @property
    def noted(self) -> tuple[SeriesFetch, ...]:
        """Series that succeeded with a note (a gap, a shorter provider history...)."""
        return tuple(r for r in self.results if r.note is not None)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``series, source, rows_added, start, last_date, error, note``."""
        return pd.DataFrame(
            {
                "series": [r.series_id for r in self.results],
                "source": [r.source for r in self.results],
                "rows_added": pd.array([r.rows_added for r in self.results], dtype="int64"),
                "start": pd.to_datetime(pd.Series([r.start for r in self.results], dtype=object)),
                "last_date": pd.to_datetime(
                    pd.Series([r.last_date for r in self.results], dtype=object)
                ),
                "error": [r.error for r in self.results],
                "note": [r.note for r in self.results],
            }
        )

    def summary(self) -> str:
        """One line: series fetched, rows added, notes, failures (named when at most five)."""
        n = len(self.results)
        text = f"fetched {n - len(self.failed)}/{n} series, {self.rows_added} rows added"
        if self.noted:
            text += f"; {len(self.noted)} with a note"
        if len(self.failed) > 5:
            text += f"; {len(self.failed)} failed"
        elif self.failed:
            text += f"; failed: {', '.join(r.series_id for r in self.failed)}"
        return text


def live_ids(catalog: Catalog) -> tuple[str, ...]:
    """Catalogue series that have a live provider route (not ``csv``, not CoinGecko ``global``)."""
    return tuple(
        sid
        for sid, spec in catalog.items()
        if get_provider(spec.provider).live_reason(spec) is None
    )


def fetch_start(
    last: pd.Timestamp | None, frequency: str, overlap: Mapping[str, int] = OVERLAP_DAYS
) -> pd.Timestamp | None:
    """First date to request: ``last`` minus the overlap of ``frequency``, or None if nothing is stored."""
    if frequency not in overlap:
        raise ConfigError(
            f"overlap must give days for every frequency {FREQUENCIES}, missing {frequency!r}"
        )
    if last is None:
        return None
    return pd.Timestamp(last).normalize() - pd.Timedelta(days=int(overlap[frequency]))


class _Clients:
    """Clients per provider: injected ones first, else one shared default per kind."""

    def __init__(self, injected: Mapping[str, Any] | None, policy: RetryPolicy) -> None:
        self._injected = dict(injected or {})
        self._policy = policy
        self._http: httpx.Client | None = None
        self._exchanges: dict[str, Any] = {
            k.split(":", 1)[1]: v for k, v in self._injected.items() if k.startswith("ccxt:")
        }

    def for_spec(self, spec: SeriesSpec, source: str) -> Any:
        if spec.provider == "ccxt":
            ex_id = source.split(":", 1)[1]
            for key in (source, "ccxt"):
                if key in self._injected and ex_id not in self._exchanges:
                    self._exchanges[ex_id] = self._injected[key]
        for key in (source, spec.provider):
            if key in self._injected and spec.provider != "ccxt":
                return self._injected[key]
        if spec.provider in HTTPX_PROVIDERS:
            if self._http is None:
                self._http = httpx.Client(follow_redirects=True)
            return self._http
        if spec.provider == "ccxt":
            # a mapping id -> exchange: ccxt builds (and keeps here) the fallbacks it needs
            return self._exchanges
        return None  # yahoo: yfinance.Ticker

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def fetch(
    store: Store,
    catalog: Catalog,
    ids: Iterable[str] | None = None,
    *,
    progress: ProgressFn | None = None,
    clients: Mapping[str, Any] | None = None,
    overlap: Mapping[str, int] = OVERLAP_DAYS,
    full: bool = False,
    end: pd.Timestamp | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> FetchReport:
    """Fetch series from their live providers into ``store``, incrementally.

    Parameters
    ----------
    store : Store
        Written one series at a time (one transaction each).
    catalog : Catalog
        Where each series comes from.
    ids : iterable of str, optional
        Series to fetch; default every series with a live route (:func:`live_ids`). A
        listed series without one (``csv``) is reported as failed with a pointer to
        ``liqflow import``.
    progress : callable, optional
        Called as ``progress(series_id, index, total, None)`` before each series and
        ``progress(series_id, index + 1, total, result)`` after it.
    clients : mapping, optional
        Clients keyed by provider (``"fred"``, ``"yahoo"``, ``"ccxt"``, ``"coingecko"``,
        ``"treasury"``, ``"cftc"``) or by source (``"ccxt:kraken"``): an ``httpx.Client``,
        a yfinance ticker factory, a ccxt exchange (``"ccxt"``: the series' own exchange;
        ``"ccxt:<id>"`` also serves as a fallback). Missing ones are built (and closed)
        here; ccxt exchanges get the proxy of :func:`liqflow.providers.ccxt.proxy`.
    overlap : mapping
        Days re-requested before the last stored date, per frequency.
    full : bool
        Ignore what is stored and request the full history.
    end : Timestamp, optional
        Last date to request (default: up to now).
    policy : RetryPolicy
        Retries of transient failures.

    Returns
    -------
    FetchReport
        One row per series; ``.failed`` lists the failures, each with a one-line error.

    Notes
    -----
    After a host could not be reached at all (no network, DNS failure) or timed out on
    every attempt, the remaining series on that host fail at once with a one-line message
    instead of waiting through their own retries.

    A fetch only adds and updates rows: a provider that now serves a shorter history than
    is stored (ICE BofA series on FRED hold three years) leaves the older stored rows in
    place, and the result's ``note`` says so; so does a gap between the last stored date
    and the first date the provider served.

    Yahoo closes are dividend-adjusted (``auto_adjust``), as the imported files are. A
    dividend re-bases the whole adjusted history: when the overlapping closes differ from
    the stored ones by more than :data:`BASIS_TOLERANCE` (median relative difference),
    the full history is fetched again so that the series stays in one adjustment basis.
    """
    wanted = tuple(dict.fromkeys(ids)) if ids is not None else live_ids(catalog)
    specs: Sequence[SeriesSpec] = [catalog[sid] for sid in wanted]  # unknown id: CatalogError
    pool = _Clients(clients, policy)
    unreachable: dict[str, str] = {}
    results: list[SeriesFetch] = []
    try:
        for i, spec in enumerate(specs):
            if progress is not None:
                progress(spec.id, i, len(specs), None)
            provider = get_provider(spec.provider)
            source = provider.source(spec)
            reason = provider.live_reason(spec)
            start = (
                None
                if full
                else fetch_start(store.last_date(spec.id, source), spec.frequency, overlap)
            )
            if reason is not None:
                error = f"{spec.id}: no live route ({reason}); use `liqflow import PATH`"
                result = _failed(store, spec, source, None, error)
            else:
                result = _guarded(
                    store, spec, source, start, end, pool, policy, provider.host, unreachable
                )
            results.append(result)
            if progress is not None:
                progress(spec.id, i + 1, len(specs), result)
    finally:
        pool.close()
    return FetchReport(tuple(results))


def _guarded(
    store: Store,
    spec: SeriesSpec,
    source: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    pool: _Clients,
    policy: RetryPolicy,
    host_of: Callable[[SeriesSpec], str],
    unreachable: dict[str, str],
) -> SeriesFetch:
    """Fetch one series; any failure becomes the result's one-line error."""
    try:
        host = host_of(spec)
    except Exception:  # a host name is only for messages
        host = spec.provider
    if host in unreachable:
        error = f"{spec.id}: {unreachable[host]}; {OFFLINE_HINT}"
        return _failed(store, spec, source, start, error, host)
    try:
        client = pool.for_spec(spec, source)
        batch = fetch_spec(spec, start, end, client, policy=policy)
        note = _note(store, spec, source, start, batch.frame)
        if start is not None and _rebased(store, spec, source, batch.frame):
            batch = fetch_spec(spec, None, end, client, policy=policy)
            note = "adjusted closes re-based by a dividend: full history fetched again"
        if batch.source != source:  # a fallback exchange answered
            note = f"{source} refused this location; stored as {batch.source}: {batch.origin}"
        added = 0
        if len(batch.frame) and len(batch.frame.columns):
            added = store.write([batch]).get((spec.id, batch.source), 0)
        last = store.last_date(spec.id, batch.source)
        return SeriesFetch(spec.id, batch.source, added, last, start, note=note)
    except ProviderTimeout as exc:
        unreachable[exc.host] = unreachable[host] = (
            f"skipped: {exc.host} timed out for an earlier series"
        )
        return _failed(store, spec, source, start, str(exc), host)
    except ProviderUnreachable as exc:
        unreachable[exc.host] = unreachable[host] = (
            f"cannot reach {exc.host} (no connection for an earlier series); no network?"
        )
        return _failed(store, spec, source, start, str(exc), host)
    except LiqflowError as exc:
        error = str(exc)
    except Exception as exc:  # one broken series must not stop the others
        error = f"{spec.id}: unexpected {type(exc).__name__} from {host}: {exc}"
    return _failed(store, spec, source, start, error)


def _note(
    store: Store,
    spec: SeriesSpec,
    source: str,
    start: pd.Timestamp | None,
    frame: pd.DataFrame,
) -> str | None:
    """A gap between stored and fetched dates, or a provider history shorter than stored."""
    if frame.empty:
        return None
    first = pd.Timestamp(frame.index[0])
    step = pd.Timedelta(days=_MAX_STEP_DAYS[spec.frequency])
    if start is not None:
        last = store.last_date(spec.id, source)
        if last is not None and first - last > step:
            return (
                f"gap: stored to {last:%Y-%m-%d}, {spec.provider} served from {first:%Y-%m-%d} "
                f"({(first - last).days} days missing; import a file to fill them)"
            )
        return None
    stored = store.read(spec.id, source)
    if len(stored) and pd.Timestamp(stored.index[0]) < first - step:
        return (
            f"{spec.provider} serves from {first:%Y-%m-%d} only; the stored rows from "
            f"{pd.Timestamp(stored.index[0]):%Y-%m-%d} are kept"
        )
    return None


def _rebased(store: Store, spec: SeriesSpec, source: str, frame: pd.DataFrame) -> bool:
    """True when fetched Yahoo closes are in another adjustment basis than the stored ones."""
    if spec.provider != "yahoo" or "close" not in frame.columns or frame.empty:
        return False
    stored = store.read(spec.id, source)
    if "close" not in stored.columns:
        return False
    both = pd.concat([stored["close"], frame["close"]], axis=1, keys=["old", "new"]).dropna()
    if both.empty:
        return False
    rel = (both["new"] / both["old"] - 1.0).abs()
    return bool(rel.median() > BASIS_TOLERANCE)


def _failed(
    store: Store,
    spec: SeriesSpec,
    source: str,
    start: pd.Timestamp | None,
    error: str,
    unreachable: str | None = None,
) -> SeriesFetch:
    """The result of a series that failed: its stored rows are unchanged."""
    return SeriesFetch(
        spec.id,
        source,
        last_date=store.last_date(spec.id, source),
        start=start,
        error=error,
        unreachable=unreachable,
    )
