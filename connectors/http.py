"""The one HTTP layer every connector shares: client, error mapping, retries and breaker.

A connector owns one `HttpClient` (one keep-alive `aiohttp.ClientSession`, opened on the
first call inside the running loop). Every call goes through `HttpClient.call`, which
applies the timeout, maps failures onto `engine.errors`, retries with backoff only when the
caller says the call is safe to repeat, and feeds the `CircuitBreaker`. A platform module
passes a `parse` function that reads the platform's own answer (a `Response`: status, body
bytes, headers) and raises `Rejected`, `RateLimited` or `Unavailable` for its error codes,
so those count for retries and the breaker too. Messages never carry URLs, tokens or bodies.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from connectors.breaker import CircuitBreaker
from connectors.pacing import Hold, Pacer, Patience
from connectors.response import Response, check_status, json_body
from engine.errors import (
    BreakerOpen,
    ConnectorError,
    RateLimited,
    Rejected,
    SettingsError,
    Timeout,
    Unavailable,
)

T = TypeVar("T")

RETRYABLE: tuple[type[ConnectorError], ...] = (Timeout, RateLimited, Unavailable)

__all__ = [
    "CircuitBreaker",
    "HttpClient",
    "Response",
    "check_status",
    "client_from_config",
    "json_body",
    "pages_backwards",
    "require",
]


DEFAULT_MAX_CONNECTIONS = 32
#: how often a page answered as a copy of the page before it is asked for again
REPEAT_ASKS = 3
# Idle connections are dropped after 2 s, well inside the common 5 s server idle timeout
# (uvicorn's, Node's): aiohttp reuses a pooled connection unless its loop has already
# seen the server's FIN, and a loop busy for a while sees it late; a POST on such a
# connection fails with ServerDisconnectedError (not retried for non-idempotent calls).
KEEPALIVE_S = 2.0
_PATH_SAFE = "/:@!$&'()*+,;=%~"


class HttpClient:
    """One keep-alive client for one external system, with timeouts, retries and breaker.

    Any number of callers may call at once; at most `max_connections` requests are in
    flight, the rest queue in aiohttp's connection pool (no extra semaphore: it did not
    help). Default 32: on loopback with 32-64 callers it beat 10 and matched 64 with half
    the sockets. The `aiohttp.ClientSession` is opened on the first call, inside the
    running event loop, so a client may be built outside one; `aclose` closes it, and so
    does the loop's shutdown (the end of `asyncio.run`) if `aclose` was not called; a call
    from a later loop then opens a new session.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        retries: int = 3,
        backoff_s: float = 0.05,
        breaker: CircuitBreaker | None = None,
        rate_per_s: float | None = None,
        rate_limit_wait_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.max_connections = int(max_connections)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.breaker = breaker or CircuitBreaker(system)
        self.pacer = Pacer(rate_per_s, clock, sleep) if rate_per_s else None
        self.rate_limit_wait_s = float(rate_limit_wait_s)
        self.clock, self.sleep = clock, sleep
        self.hold = Hold(clock, sleep)  # set by a 429's Retry-After, for every caller
        self._session: aiohttp.ClientSession | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[Response], T],
        retry: bool = False,
        reconcile: Callable[[], Awaitable[T | None]] | None = None,
        retry_unreconciled: bool = True,
        timeout_s: float | None = None,
        **kwargs: Any,
    ) -> T:
        """Send one request and return `parse(response)`.

        `retry=True` only for calls that are safe to repeat (reads, idempotent writes):
        `Timeout`, `RateLimited` and `Unavailable` are then retried with jittered backoff.
        `reconcile`, when given, runs before each retry (e.g. "query by the idempotency
        key"); a result other than None is returned instead of retrying. When the reconcile
        itself fails (the system could not be asked), the call is retried anyway if
        `retry_unreconciled` (the system refuses a repeated key by itself), else it ends
        with the error that stopped it (a repeat could make the effect twice).
        `kwargs`: `params` (query, encoded like a form), `json`, `data` (a form dict, or
        bytes/str sent as is), `content` (bytes, same as `data`), `headers`.
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        url = self._url(path, kwargs.pop("params", None))
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")

        async def once() -> T:
            response = await self._send(method, url, timeout, kwargs)
            return parse(response)

        return await self._with_retries(once, retry, reconcile, retry_unreconciled)

    async def aclose(self) -> None:
        """Close the session if one was opened; a later call opens a new one."""
        session, guard, loop = self._session, self._guard, self._loop
        self._session = self._guard = self._loop = None
        if session is None or session.closed:
            return
        if guard is not None and loop is asyncio.get_running_loop():
            await guard.aclose()  # closes the session
        else:
            await _abandon(session, loop)

    async def _with_retries(
        self,
        once: Callable[[], Awaitable[T]],
        retry: bool,
        reconcile: Callable[[], Awaitable[T | None]] | None,
        retry_unreconciled: bool = True,
    ) -> T:
        failures = tries = 0
        patience = Patience(self.rate_limit_wait_s, self.backoff_s, self.clock, self.sleep)
        while True:
            try:
                await self.breaker.before_call()
            except BreakerOpen as exc:
                exc.untouched = failures == 0 and tries == 0  # nothing of this call went out
                raise
            tries += 1
            await self.hold.wait(self.rate_limit_wait_s)
            if self.pacer is not None:
                await self.pacer.wait()
            try:
                result = await once()
            except (Rejected, RateLimited) as exc:
                await self.breaker.record_success()  # the system answered: it is up
                if isinstance(exc, Rejected):
                    raise
                if exc.retry_after_s is not None:  # it said when: nobody calls before then
                    self.hold.extend(min(exc.retry_after_s, self.rate_limit_wait_s))
                if not retry or not await patience.wait_or_give_up(exc.retry_after_s):
                    raise  # "slow down", not "down"; past rate_limit_wait_s: give up
                continue
            except RETRYABLE as exc:
                await self.breaker.record_failure(_reason(exc))
                failures += 1
                if not retry or failures > self.retries:
                    raise
                await self.sleep(self.backoff_s * (2**failures) * (0.25 + random.random() / 2))
                if reconcile is not None:
                    try:
                        found = await reconcile()
                    except ConnectorError:
                        if not retry_unreconciled:
                            raise exc from None
                        found = None
                    if found is not None:
                        return found
                continue
            await self.breaker.record_success()
            return result

    async def _send(
        self, method: str, url: URL, timeout: float, kwargs: dict[str, Any]
    ) -> Response:
        session = await self._session_for_this_loop()
        try:
            async with session.request(
                method, url, timeout=_client_timeout(timeout), **kwargs
            ) as answer:
                body = await answer.read()
                response = Response(answer.status, body, answer.headers)
        except TimeoutError:  # aiohttp's ServerTimeoutError is one too
            raise Timeout(
                self.system,
                f"no answer within {timeout:g} s; the request may have landed, "
                "query before retrying",
            ) from None
        except aiohttp.ClientError as exc:
            raise Unavailable(
                self.system, f"cannot reach the system ({type(exc).__name__}); is it up?"
            ) from None
        return check_status(self.system, response)

    async def _session_for_this_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        if session is not None and not session.closed:
            await _abandon(session, self._loop)  # its loop never shut down its async generators
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=0,
            keepalive_timeout=KEEPALIVE_S,
            # plain http (the simulator, an intranet ERP) needs no TLS context (~80 ms to build)
            ssl=_ssl_context() if self.base_url.startswith("https:") else False,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # sessions are explicit headers, per call
            json_serialize=_dumps,
            raise_for_status=False,
        )
        guard = _closed_with_the_loop(session)
        await anext(guard)  # the loop now tracks it and closes it when it shuts down
        self._session, self._guard, self._loop = session, guard, loop
        return session

    def _url(self, path: str, params: Any) -> URL:
        """`base_url` + `path`, with `params` encoded as a form (space as '+', like httpx)."""
        text = self.base_url + quote(path if path.startswith("/") else "/" + path, _PATH_SAFE)
        if params:
            pairs = params.items() if isinstance(params, Mapping) else params
            query = urlencode(
                [(str(k), _primitive(v)) for k, value in pairs for v in _values(value)]
            )
            if query:
                text += ("&" if "?" in text else "?") + query
        return URL(text, encoded=True)


def client_from_config(system: str, config: dict[str, Any]) -> HttpClient:
    """An `HttpClient` from a settings section (base_url, timeout_s, retries, breaker_*,
    rate_per_s, rate_limit_wait_s)."""
    breaker = CircuitBreaker(
        system,
        threshold=int(config.get("breaker_threshold", 5)),
        cooldown_s=float(config.get("breaker_cooldown_s", 2.0)),
        max_cooldown_s=float(config.get("breaker_max_cooldown_s", 300.0)),
    )
    return HttpClient(
        system,
        require(system, config, "base_url"),
        timeout_s=float(config.get("timeout_s", 5.0)),
        max_connections=int(config.get("max_connections", DEFAULT_MAX_CONNECTIONS)),
        retries=int(config.get("retries", 3)),
        backoff_s=float(config.get("backoff_s", 0.05)),
        breaker=breaker,
        rate_per_s=float(config["rate_per_s"]) if config.get("rate_per_s") else None,
        rate_limit_wait_s=float(config.get("rate_limit_wait_s", 60.0)),
    )


def _reason(exc: ConnectorError) -> str:
    """A failure as a breaker keeps it: the message without the system's name in front."""
    text = str(exc)
    prefix = f"{exc.system}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


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
    fetch: Callable[[int], Awaitable[tuple[list[T], int]]],
    size: int,
    first: int = 0,
    *,
    asks: int = REPEAT_ASKS,
) -> AsyncIterator[list[T]]:
    """Read a paged listing last page first, so records leaving it cause repeats, not gaps.

    `fetch(page)` returns (records, total); pages are numbered from `first`. A page that
    comes back exactly as the page before it (a gateway serving a stale answer) is asked
    for again, up to `asks` times: two pages of one listing never hold the same records.
    """
    records, total = await fetch(first)
    pages = max(1, -(-total // size))
    if pages == 1:
        yield records
        return
    previous = records
    for page in range(first + pages - 1, first, -1):
        more = await _not_a_repeat(fetch, page, previous, asks)
        if more:
            yield more
            previous = more
    # page `first` again: records may have moved into it while we read the others
    yield await _not_a_repeat(fetch, first, previous, asks)


async def _not_a_repeat(
    fetch: Callable[[int], Awaitable[tuple[list[T], int]]], page: int, previous: list[T], asks: int
) -> list[T]:
    records, _ = await fetch(page)
    for _ in range(asks):
        if not records or records != previous:
            break
        records, _ = await fetch(page)
    return records


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (building one costs ~80 ms).

    CA bundle: SSL_CERT_FILE / SSL_CERT_DIR when set, else certifi's, else the system's.
    """
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


@functools.lru_cache(maxsize=64)
def _client_timeout(timeout: float) -> aiohttp.ClientTimeout:
    """Connect and read timeouts of `timeout` s; waiting for a pooled connection is not
    limited (that is local congestion, not the system's fault)."""
    return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=timeout, sock_read=timeout)


def _dumps(value: Any) -> str:
    """Request JSON as httpx sent it: compact, UTF-8 kept (orjson: a few times json's speed)."""
    return orjson.dumps(value).decode()


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _primitive(value: Any) -> str:
    """A query value as httpx wrote it: true/false for booleans, '' for None."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


async def _closed_with_the_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Close `session` when this generator is closed: by `HttpClient.aclose`, or by the
    event loop shutting down its async generators (the end of `asyncio.run`), so a session
    never outlives the loop whose sockets it holds."""
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


async def _abandon(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop | None) -> None:
    """Forget a session opened in another event loop that did not close it on shutdown."""
    connector = session.connector
    session.detach()  # counts as closed: no "unclosed session" warning
    if connector is not None and loop is not None and loop.is_closed():
        await connector.close()  # marks it closed; its loop cannot close the sockets any more
