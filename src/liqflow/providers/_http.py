"""Retries with exponential backoff and jitter, shared by every live provider.

Every network call of a provider goes through :func:`call_with_retry`, which retries
transient failures (timeouts, connection errors, HTTP 429 and 5xx, a provider's own
rate-limit error) with exponential backoff plus jitter, honours ``Retry-After``, and stops
after :attr:`RetryPolicy.attempts` attempts or :attr:`RetryPolicy.max_seconds` seconds.
Other client errors (HTTP 4xx but 429) fail at once. The final failure is a
:class:`~liqflow._errors.ProviderError` whose message names the series, the host and the
last error, and points to ``liqflow import PATH`` for offline use.

:func:`get` is the HTTP GET of the httpx-based providers (FRED, CoinGecko), and
:func:`borrow_client` lends them the caller's ``httpx.Client`` or a new one closed after use.
:func:`spec_batch` builds the :class:`~liqflow.store.Batch` every ``fetch_spec`` returns.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pandas as pd

from liqflow._errors import DataError, ProviderError
from liqflow.catalog import SeriesSpec
from liqflow.store import Batch

__all__ = [
    "DEFAULT_POLICY",
    "OFFLINE_HINT",
    "Failure",
    "ProviderHTTPError",
    "ProviderTimeout",
    "ProviderUnreachable",
    "RetryPolicy",
    "borrow_client",
    "brief",
    "call_with_retry",
    "classify_httpx",
    "get",
    "get_json",
    "host_of",
    "parse_retry_after",
    "spec_batch",
]

T = TypeVar("T")

OFFLINE_HINT = "to work offline, download the data and run `liqflow import PATH`"
USER_AGENT = "liqflow (+https://github.com/liqflow/liqflow)"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure.

    Attributes
    ----------
    attempts : int
        Total attempts, the first included (``1`` disables retries).
    max_seconds : float
        Budget for all attempts and waits together; a wait that would exceed it is not
        taken and the call fails at once.
    base_delay, max_delay : float
        The wait before attempt ``k + 1`` is ``min(max_delay, base_delay * 2**(k - 1))``
        seconds, reduced by up to ``jitter`` of itself at random.
    jitter : float
        Fraction in [0, 1] of the wait drawn at random ("equal jitter" for ``0.5``), so
        that parallel clients do not retry in lockstep.
    timeout : float
        Per-request timeout in seconds for HTTP providers.
    pace : mapping
        Least seconds between two requests to one host (FRED allows 2 requests a second:
        ``0.5`` for its hosts). The time of the last request per host is kept by the
        policy, so every series fetched with one policy shares the pacing.
    sleep, clock, rand : callables
        Injected ``time.sleep``, ``time.monotonic`` and ``random.random`` (tests pass a
        fake clock so nothing sleeps for real).

    Notes
    -----
    A ``Retry-After`` header (seconds or an HTTP date) replaces the computed wait when it
    is longer; if it exceeds the remaining budget the call fails at once, saying so. A host
    that cannot be reached at all (DNS failure, connection refused) is not retried: that
    does not mend within seconds, and offline runs must answer at once.
    """

    attempts: int = 4
    max_seconds: float = 60.0
    base_delay: float = 1.0
    max_delay: float = 20.0
    jitter: float = 0.5
    timeout: float = 30.0
    pace: Mapping[str, float] = field(default_factory=lambda: dict(PACE), repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts!r}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"RetryPolicy.jitter must be in [0, 1], got {self.jitter!r}")
        if self.max_seconds <= 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(
                "RetryPolicy.max_seconds must be > 0 and the delays >= 0, got "
                f"max_seconds={self.max_seconds!r}, base_delay={self.base_delay!r}, "
                f"max_delay={self.max_delay!r}"
            )

    def backoff(self, attempt: int) -> float:
        """Wait in seconds after failed attempt number ``attempt`` (1-based), jitter applied."""
        raw = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return raw * (1.0 - self.jitter * self.rand())

    def wait_turn(self, host: str) -> None:
        """Sleep until ``host`` may be asked again (``pace``), then mark the request."""
        gap = self.pace.get(host)
        if not gap:
            return
        now = self.clock()
        last = _LAST_REQUEST.get((id(self), host))
        if last is not None and last <= now < last + gap:
            self.sleep(last + gap - now)
            now = last + gap
        _LAST_REQUEST[(id(self), host)] = now


#: Least seconds between requests per host: FRED answers 429 above 2 requests a second.
PACE: Mapping[str, float] = {"api.stlouisfed.org": 0.5, "fred.stlouisfed.org": 0.5}
_LAST_REQUEST: dict[tuple[int, str], float] = {}


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Failure:
    """How one failed attempt is to be treated.

    ``reason`` is a short human description (``"HTTP 503 Service Unavailable"``);
    ``retryable`` says whether another attempt may help; ``retry_after`` is the server's
    requested wait in seconds; ``offline`` marks a failure to connect at all (DNS, refused);
    ``timeout`` a request that got no answer in time.
    """

    reason: str
    retryable: bool
    retry_after: float | None = None
    offline: bool = False
    timeout: bool = False


class ProviderUnreachable(ProviderError):
    """The host could not be reached at all (no network, DNS failure, refused)."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


class ProviderTimeout(ProviderUnreachable):
    """The host timed out on every attempt: the run's other series on it are skipped."""


class ProviderHTTPError(ProviderError):
    """The host answered with an HTTP error status that retrying cannot fix."""

    def __init__(self, message: str, host: str, status: int) -> None:
        super().__init__(message)
        self.host = host
        self.status = status


def host_of(url: str) -> str:
    """The host name of ``url`` (``api.stlouisfed.org``)."""
    return urlsplit(url).hostname or url


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None.

    References
    ----------
    RFC 9110, section 10.2.3 (Retry-After).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def brief(text: object, limit: int = 160) -> str:
    """A one-line, bounded version of an error text (drops curl's "See https://..." tail)."""
    line = " ".join(str(text).split())
    line = re.sub(r"\.? See https?://\S+.*$", "", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _offline_message(series: str, host: str, reason: str) -> str:
    return f"{series}: cannot reach {host} ({reason}); no network? {OFFLINE_HINT}"


def call_with_retry(
    fn: Callable[[], T],
    *,
    series: str,
    host: str,
    classify: Callable[[BaseException], Failure | None],
    policy: RetryPolicy = DEFAULT_POLICY,
) -> T:
    """Call ``fn()`` until it succeeds, retrying the failures ``classify`` calls retryable.

    Parameters
    ----------
    fn : callable
        The network call (no arguments).
    series, host : str
        Named in the error message.
    classify : callable
        Maps an exception of ``fn`` to a :class:`Failure`, or None to let it propagate
        unchanged (a programming error is not a network failure).
    policy : RetryPolicy
        Attempts, time budget, backoff and the injected sleep/clock.

    Raises
    ------
    ProviderUnreachable
        The last failure was a failure to connect (one line naming the host).
    ProviderHTTPError
        A non-retryable HTTP status (raised at the first occurrence).
    ProviderError
        Retries exhausted, or a non-retryable failure.
    """
    start = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            last = failure
            status = getattr(exc, "status", None)
        if last.offline:  # DNS failure or refused connection: no retry mends it soon
            raise ProviderUnreachable(_offline_message(series, host, last.reason), host)
        if not last.retryable:
            msg = f"{series}: {host} answered {last.reason}"
            if isinstance(status, int):
                raise ProviderHTTPError(msg, host, status) from None
            raise ProviderError(msg) from None
        elapsed = policy.clock() - start
        wait = policy.backoff(attempt)
        if last.retry_after is not None:
            wait = max(wait, last.retry_after)
        out_of_attempts = attempt >= policy.attempts
        out_of_time = elapsed + wait > policy.max_seconds
        if out_of_attempts or out_of_time:
            why = (
                f"after {attempt} attempt{'s' if attempt > 1 else ''}"
                if out_of_attempts
                else f"after {attempt} attempt{'s' if attempt > 1 else ''}; the next wait "
                f"({wait:.0f} s) would exceed the {policy.max_seconds:.0f} s budget"
            )
            msg = f"{series}: could not fetch from {host} {why}: {last.reason}; {OFFLINE_HINT}"
            if last.timeout:
                raise ProviderTimeout(msg, host)
            raise ProviderError(msg)
        policy.sleep(wait)


def classify_httpx(exc: BaseException) -> Failure | None:
    """Treat httpx errors: timeouts, connection errors, 429 and 5xx retryable; other 4xx not."""
    if isinstance(exc, httpx.TimeoutException):
        return Failure(f"timed out ({type(exc).__name__})", retryable=True, timeout=True)
    if isinstance(exc, httpx.ConnectError):
        return Failure(f"connection failed: {brief(exc)}", retryable=True, offline=True)
    if isinstance(exc, httpx.TransportError):
        return Failure(f"network error: {type(exc).__name__}: {brief(exc)}", retryable=True)
    if isinstance(exc, httpx.HTTPStatusError):
        resp = exc.response
        reason = f"HTTP {resp.status_code} {resp.reason_phrase}".rstrip()
        detail = _error_detail(resp)
        if detail:
            reason = f"{reason}: {detail}"
        if resp.status_code == 429 or resp.status_code >= 500:
            return Failure(
                reason,
                retryable=True,
                retry_after=parse_retry_after(resp.headers.get("Retry-After")),
            )
        return Failure(reason, retryable=False)
    return None


def _error_detail(resp: httpx.Response) -> str:
    """A short error text from the body (FRED's ``error_message``, else the first 200 chars)."""
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip().replace("\n", " ")
        return text[:200]
    if isinstance(body, Mapping):
        # CoinGecko nests it: {"status": {"error_code": 429, "error_message": "..."}}
        for doc in (body, body.get("status"), body.get("error")):
            if not isinstance(doc, Mapping):
                continue
            for key in ("error_message", "error", "message", "status"):
                val = doc.get(key)
                if isinstance(val, str) and val:
                    return brief(val, 200)
    return ""


class _StatusError(httpx.HTTPStatusError):
    """An HTTP status error that exposes ``status`` for :func:`call_with_retry`."""

    @property
    def status(self) -> int:
        return self.response.status_code


def get(
    client: httpx.Client,
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    series: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """HTTP GET with retries; returns the successful (2xx) response.

    ``headers`` are added to the request (API keys: never part of a message).
    Raises :class:`~liqflow._errors.ProviderError` (see :func:`call_with_retry`).
    """
    host = host_of(url)

    def once() -> httpx.Response:
        policy.wait_turn(host)
        resp = client.get(
            url,
            params=dict(params or {}),
            timeout=policy.timeout,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
        )
        if resp.status_code >= 400:
            raise _StatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)
        return resp

    return call_with_retry(once, series=series, host=host, classify=classify_httpx, policy=policy)


def get_json(
    client: httpx.Client,
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    series: str,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """:func:`get` and parse the body as JSON.

    Raises
    ------
    DataError
        The body is not JSON (an HTML error page, a truncated answer); the message names
        ``what`` answered and starts the body.
    """
    resp = get(client, url, params, series=series, policy=policy, headers=headers)
    try:
        return resp.json()
    except ValueError:
        raise DataError(
            f"{series}: {what} answered with something that is not JSON "
            f"(truncated or an HTML page?): {brief(resp.text, 120)!r}"
        ) from None


@contextmanager
def borrow_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """``client`` as given (left open), or a new redirect-following client closed on exit."""
    if client is not None:
        yield client
        return
    own = httpx.Client(follow_redirects=True)
    try:
        yield own
    finally:
        own.close()


def spec_batch(
    spec: SeriesSpec,
    source: str,
    frame: pd.DataFrame,
    *,
    origin: str,
    vintages: pd.DataFrame | None = None,
) -> Batch:
    """The :class:`Batch` of ``frame`` for ``spec`` (its id, symbol, unit and frequency)."""
    return Batch(
        spec.id,
        source,
        frame,
        symbol=spec.symbol,
        unit=spec.unit,
        frequency=spec.frequency,
        origin=origin,
        vintages=vintages,
    )
