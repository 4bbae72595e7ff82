"""The one HTTP layer every connector shares: client, error mapping, retries and breaker.

A connector owns one `HttpClient` (one keep-alive `httpx.AsyncClient`). Every call goes
through `HttpClient.call`, which applies the timeout, maps failures onto `engine.errors`,
retries with backoff only when the caller says the call is safe to repeat, and feeds the
`CircuitBreaker`. A platform module passes a `parse` function that reads the platform's own
answer and raises `Rejected`, `RateLimited` or `Unavailable` for its error codes, so those
count for retries and the breaker too. Messages never carry URLs, tokens or bodies.
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from engine.errors import (
    ConnectorError,
    RateLimited,
    Rejected,
    SettingsError,
    Timeout,
    Unavailable,
)

T = TypeVar("T")

RETRYABLE: tuple[type[ConnectorError], ...] = (Timeout, RateLimited, Unavailable)


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one probe through after `cooldown_s`.

    States: ``closed`` (calls pass), ``open`` (calls raise `Unavailable` at once),
    ``half_open`` (the cool-down is over: the next call is a probe; success closes the
    breaker, failure opens it again). `clock` is injectable for tests.
    """

    def __init__(
        self,
        system: str,
        *,
        threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise `Unavailable` while the breaker is open."""
        if self.state == "open":
            raise Unavailable(
                self.system,
                f"circuit open after {self.failures} consecutive failures; "
                f"retry after the {self.cooldown_s:g} s cool-down",
            )

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock()


class HttpClient:
    """One keep-alive client for one external system, with timeouts, retries and breaker.

    Any number of callers may call at once; at most `max_connections` requests are in
    flight, the rest wait on a semaphore (httpcore's own pool slows down as connections
    and waiters grow: 10 connections measured ~1.5x faster than 50 on loopback).
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_connections: int = 10,
        retries: int = 3,
        backoff_s: float = 0.05,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.system = system
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.breaker = breaker or CircuitBreaker(system)
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        # queue here, not in httpcore's pool, whose bookkeeping grows with the queue
        self._slots = asyncio.Semaphore(max_connections)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(self.timeout_s, pool=None),
            limits=limits,
            verify=_ssl_context(),
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], T],
        retry: bool = False,
        reconcile: Callable[[], Awaitable[T | None]] | None = None,
        timeout_s: float | None = None,
        **kwargs: Any,
    ) -> T:
        """Send one request and return `parse(response)`.

        `retry=True` only for calls that are safe to repeat (reads, idempotent writes):
        `Timeout`, `RateLimited` and `Unavailable` are then retried with jittered backoff.
        `reconcile`, when given, runs before each retry (e.g. "query by the idempotency
        key"); a result other than None is returned instead of retrying.
        `kwargs` go to `httpx.AsyncClient.request` (params, json, data, content, headers).
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s

        async def once() -> T:
            response = await self._send(method, path, timeout, kwargs)
            return parse(response)

        return await self._with_retries(once, retry, reconcile)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _with_retries(
        self,
        once: Callable[[], Awaitable[T]],
        retry: bool,
        reconcile: Callable[[], Awaitable[T | None]] | None,
    ) -> T:
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            self.breaker.before_call()
            try:
                result = await once()
            except Rejected:
                self.breaker.record_success()  # the system answered: it is up
                raise
            except RETRYABLE:
                self.breaker.record_failure()
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(self.backoff_s * (2**attempt) * (0.5 + random.random()))
                if reconcile is not None:
                    found = await _quietly(reconcile)
                    if found is not None:
                        return found
                continue
            self.breaker.record_success()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, method: str, path: str, timeout: float, kwargs: dict[str, Any]
    ) -> httpx.Response:
        try:
            # waiting for a free pooled connection is local congestion, not the system's fault
            limits = httpx.Timeout(timeout, pool=None)
            async with self._slots:
                response = await self._client.request(method, path, timeout=limits, **kwargs)
        except httpx.TimeoutException:
            raise Timeout(
                self.system,
                f"no answer within {timeout:g} s; the request may have landed, "
                "query before retrying",
            ) from None
        except httpx.TransportError as exc:
            raise Unavailable(
                self.system, f"cannot reach the system ({type(exc).__name__}); is it up?"
            ) from None
        return check_status(self.system, response)


def client_from_config(system: str, config: dict[str, Any]) -> HttpClient:
    """An `HttpClient` from a settings section (base_url, timeout_s, retries, breaker_*)."""
    breaker = CircuitBreaker(
        system,
        threshold=int(config.get("breaker_threshold", 5)),
        cooldown_s=float(config.get("breaker_cooldown_s", 30.0)),
    )
    return HttpClient(
        system,
        require(system, config, "base_url"),
        timeout_s=float(config.get("timeout_s", 5.0)),
        max_connections=int(config.get("max_connections", 10)),
        retries=int(config.get("retries", 3)),
        backoff_s=float(config.get("backoff_s", 0.05)),
        breaker=breaker,
    )


def require(system: str, config: dict[str, Any], key: str) -> str:
    """A required setting of `system`, or `SettingsError` naming the missing key."""
    value = config.get(key)
    if value in (None, ""):
        raise SettingsError(
            f"[{system}] {key} is not set; add it to orderhub.toml or set "
            f"ORDERHUB_{system.upper()}_{key.upper()}"
        )
    return str(value)


async def pages_backwards(
    fetch: Callable[[int], Awaitable[tuple[list[T], int]]], size: int, first: int = 0
) -> AsyncIterator[list[T]]:
    """Read a paged listing last page first, so records leaving it cause repeats, not gaps.

    `fetch(page)` returns (records, total); pages are numbered from `first`.
    """
    records, total = await fetch(first)
    pages = max(1, -(-total // size))
    if pages == 1:
        yield records
        return
    for page in range(first + pages - 1, first, -1):
        more, _ = await fetch(page)
        if more:
            yield more
    # page `first` again: records may have moved into it while we read the others
    records, _ = await fetch(first)
    yield records


def check_status(system: str, response: httpx.Response) -> httpx.Response:
    """Map an HTTP status onto the error tree; return the response when it is 2xx."""
    status = response.status_code
    if status < 400:
        return response
    if status == 429:
        raise RateLimited(system, "too many requests; slow down and retry", code=str(status))
    if status >= 500:
        raise Unavailable(system, f"server error {status}; retry later", code=str(status))
    if status in (401, 403):
        raise Rejected(system, "credentials refused; check the settings", code=str(status))
    raise Rejected(
        system, f"request refused with HTTP {status}{_detail(response)}", code=str(status)
    )


def _detail(response: httpx.Response) -> str:
    """The platform's own short error text, if its answer is JSON with one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("error", "message", "errmsg", "msg"):
            if isinstance(body.get(key), str):
                return ": " + body[key][:200]
    return ""


def json_body(system: str, response: httpx.Response) -> Any:
    """The response's JSON, or `Unavailable` when the system answered something else."""
    try:
        return response.json()
    except ValueError:
        raise Unavailable(system, "answer is not JSON; the gateway may be failing") from None


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client (building one costs ~80 ms)."""
    return httpx.create_ssl_context()


async def _quietly(reconcile: Callable[[], Awaitable[T | None]]) -> T | None:
    try:
        return await reconcile()
    except ConnectorError:
        return None
