"""Retries of liqflow.providers._http on a fake httpx transport and a fake clock."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from liqflow._errors import ProviderError
from liqflow.providers._http import (
    Failure,
    ProviderHTTPError,
    ProviderTimeout,
    ProviderUnreachable,
    RetryPolicy,
    call_with_retry,
    get,
    parse_retry_after,
)

URL = "https://api.example.org/v1/data"


def _policy(clock, **kw) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, rand=lambda: 0.0, **kw)


def _client(responses: list) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose transport plays ``responses`` in order (an exception is raised)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses[min(len(seen), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_429_then_200_retries_once_with_backoff(fake_clock):
    client, seen = _client([httpx.Response(429), httpx.Response(200, json={"ok": True})])
    resp = get(client, URL, {"a": "1"}, series="s1", policy=_policy(fake_clock))
    assert resp.json() == {"ok": True}
    assert len(seen) == 2
    assert seen[0].url.params["a"] == "1"
    assert fake_clock.sleeps == [1.0]


def test_retry_after_seconds_is_honoured(fake_clock):
    client, _ = _client(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")]
    )
    get(client, URL, series="s1", policy=_policy(fake_clock))
    assert fake_clock.sleeps == [7.0]


def test_retry_after_shorter_than_backoff_keeps_backoff(fake_clock):
    client, _ = _client(
        [
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(200, text="ok"),
        ]
    )
    get(client, URL, series="s1", policy=_policy(fake_clock))
    assert fake_clock.sleeps == [1.0, 2.0]


def test_parse_retry_after_http_date():
    now = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_503_until_giving_up(fake_clock):
    client, seen = _client([httpx.Response(503, text="Service Unavailable")])
    with pytest.raises(
        ProviderError,
        match=r"fed_assets: could not fetch from api\.example\.org after 4 attempts: HTTP 503",
    ) as err:
        get(client, URL, series="fed_assets", policy=_policy(fake_clock))
    assert "`liqflow import PATH`" in str(err.value)
    assert len(seen) == 4
    assert fake_clock.sleeps == [1.0, 2.0, 4.0]


def test_timeouts_are_retried(fake_clock):
    client, seen = _client(
        [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.Response(200, text="x")]
    )
    assert get(client, URL, series="s", policy=_policy(fake_clock)).text == "x"
    assert len(seen) == 3


def test_timeouts_until_giving_up_name_the_timeout(fake_clock):
    client, _ = _client([httpx.ReadTimeout("slow")])
    with pytest.raises(
        ProviderError,
        match=r"s: could not fetch from api\.example\.org after 2 attempts: timed out \(ReadTimeout\)",
    ):
        get(client, URL, series="s", policy=_policy(fake_clock, attempts=2))


def test_client_error_fails_at_once(fake_clock):
    client, seen = _client(
        [
            httpx.Response(
                400,
                json={
                    "error_code": 400,
                    "error_message": "Bad Request. The series does not exist.",
                },
            )
        ]
    )
    with pytest.raises(
        ProviderHTTPError,
        match=r"s: api\.example\.org answered HTTP 400 Bad Request: Bad Request\. The series does not exist\.",
    ) as err:
        get(client, URL, series="s", policy=_policy(fake_clock))
    assert err.value.status == 400
    assert err.value.host == "api.example.org"
    assert len(seen) == 1
    assert fake_clock.sleeps == []


def test_no_network_gives_one_line_naming_the_host(fake_clock):
    client, seen = _client([httpx.ConnectError("[Errno -3] Temporary failure in name resolution")])
    with pytest.raises(
        ProviderUnreachable,
        match=r"^s: cannot reach api\.example\.org \(connection failed: .*name resolution\); no network\? .*`liqflow import PATH`$",
    ) as err:
        get(client, URL, series="s", policy=_policy(fake_clock))
    assert "\n" not in str(err.value)
    assert err.value.host == "api.example.org"
    assert len(seen) == 1  # not retried: a failed name resolution does not mend in seconds
    assert fake_clock.sleeps == []


def test_timeouts_exhausted_mark_the_host(fake_clock):
    client, seen = _client([httpx.ReadTimeout("read timed out")])
    with pytest.raises(
        ProviderTimeout,
        match=r"^s: could not fetch from api\.example\.org after 4 attempts: timed out \(ReadTimeout\)",
    ) as err:
        get(client, URL, series="s", policy=_policy(fake_clock))
    assert err.value.host == "api.example.org"
    assert len(seen) == 4


def test_pacing_spaces_requests_to_a_paced_host(fake_clock):
    client, seen = _client([httpx.Response(200, json={})] * 3)
    policy = RetryPolicy(
        sleep=fake_clock.sleep,
        clock=fake_clock.clock,
        rand=lambda: 0.0,
        pace={"api.example.org": 0.5},
    )
    for _ in range(3):
        get(client, URL, series="s", policy=policy)
    assert fake_clock.sleeps == [0.5, 0.5]
    assert len(seen) == 3


def test_coingecko_style_nested_error_detail_is_kept(fake_clock):
    body = {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}
    client, _ = _client([httpx.Response(429, json=body, headers={"Retry-After": "999"})])
    with pytest.raises(
        ProviderError, match=r"HTTP 429 Too Many Requests: You've exceeded the Rate Limit\."
    ):
        get(client, URL, series="s", policy=_policy(fake_clock))


def test_retry_after_beyond_budget_fails_without_waiting(fake_clock):
    client, seen = _client([httpx.Response(429, headers={"Retry-After": "120"})])
    with pytest.raises(
        ProviderError,
        match=r"after 1 attempt; the next wait \(120 s\) would exceed the 60 s budget: HTTP 429",
    ):
        get(client, URL, series="s", policy=_policy(fake_clock))
    assert len(seen) == 1
    assert fake_clock.sleeps == []


def test_total_budget_bounds_the_attempts(fake_clock):
    # delays 1, 2, 4, 8, ... with a 5 s budget: wait 1 (t=1), wait 2 (t=3), next 4 > 5 - 3
    client, seen = _client([httpx.Response(500)])
    with pytest.raises(ProviderError, match="would exceed the 5 s budget"):
        get(client, URL, series="s", policy=_policy(fake_clock, attempts=10, max_seconds=5))
    assert fake_clock.sleeps == [1.0, 2.0]
    assert len(seen) == 3


def test_backoff_jitter_stays_within_bounds():
    draws = iter([0.0, 1.0, 0.5])
    pol = RetryPolicy(rand=lambda: next(draws), jitter=0.5, base_delay=2.0, max_delay=5.0)
    assert pol.backoff(1) == 2.0  # no jitter drawn
    assert pol.backoff(2) == 2.0  # 4 s reduced by half
    assert pol.backoff(3) == 3.75  # capped at 5 s, reduced by a quarter


def test_policy_validates_its_fields():
    with pytest.raises(ValueError, match="attempts must be >= 1, got 0"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match=r"jitter must be in \[0, 1\], got 2"):
        RetryPolicy(jitter=2)
    with pytest.raises(ValueError, match="max_seconds must be > 0"):
        RetryPolicy(max_seconds=0)


def test_unclassified_exceptions_propagate(fake_clock):
    def boom() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        call_with_retry(
            boom, series="s", host="h", classify=lambda e: None, policy=_policy(fake_clock)
        )


def test_generic_retry_of_a_provider_error(fake_clock):
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("rate limited")
        return "done"

    out = call_with_retry(
        flaky,
        series="s",
        host="h",
        classify=lambda e: Failure(str(e), retryable=True),
        policy=_policy(fake_clock),
    )
    assert out == "done"
    assert fake_clock.sleeps == [1.0, 2.0]


def test_real_sockets_are_blocked():
    """The autouse fixture keeps a forgotten real client from reaching the network."""
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get("https://api.stlouisfed.org/")


def test_brief_keeps_one_bounded_line():
    from liqflow.providers._http import brief

    curl = (
        "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
        "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
    )
    assert brief(curl) == (
        "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com"
    )
    assert brief("a\nb  c") == "a b c"
    assert brief("x" * 200, 10) == "xxxxxxx..."
