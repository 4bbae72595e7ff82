"""The shared HTTP layer: error mapping, retries, breaker — against the real simulator."""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors import build_connectors
from connectors.http import (
    CircuitBreaker,
    HttpClient,
    Response,
    _ssl_context,
    check_status,
    json_body,
    pages_backwards,
)
from connectors.response import retry_after
from connectors.simulator.server import free_port
from connectors.wecom import WecomConnector
from engine.errors import RateLimited, Rejected, Timeout, Unavailable
from tests.connectors.conftest import CLIENT_TIMEOUT_S


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 10, 21, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_breaker_opens_after_five_failures_and_half_opens_after_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker("sf", threshold=5, cooldown_s=30, clock=clock)
    for _ in range(4):
        await breaker.record_failure("down")
    await breaker.before_call()  # still closed after 4
    await breaker.record_failure("down")
    assert breaker.state == "open"
    with pytest.raises(Unavailable):
        await breaker.before_call()
    clock.advance(30)
    await breaker.before_call()  # the probe may pass
    assert breaker.state == "half_open"
    await breaker.record_failure("down")  # probe failed: open again, for longer
    assert breaker.state == "open"
    clock.advance(30)
    with pytest.raises(Unavailable):
        await breaker.before_call()
    clock.advance(30)
    await breaker.before_call()
    await breaker.record_success()
    assert breaker.state == "closed"


async def test_a_success_resets_the_count():
    breaker = CircuitBreaker("sf", clock=FakeClock())
    for _ in range(4):
        await breaker.record_failure()
    await breaker.record_success()
    for _ in range(4):
        await breaker.record_failure()
    assert breaker.state == "closed"


@pytest.fixture
async def client(sim):
    http = HttpClient("wecom", sim.base_url, timeout_s=CLIENT_TIMEOUT_S, retries=3, backoff_s=0.01)
    yield http
    await http.aclose()


def _send(http: HttpClient, sim, *, retry: bool = False):
    return http.call(
        "POST",
        "/cgi-bin/webhook/send",
        params={"key": sim.systems["wecom"]["key"]},
        json={"msgtype": "text", "text": {"content": "x"}},
        parse=lambda r: json_body("wecom", r),
        retry=retry,
    )


@pytest.mark.parametrize(
    ("mode", "error"),
    [("down", Unavailable), ("error", Unavailable), ("timeout", Timeout)],
)
async def test_failures_map_to_the_error_tree(client, sim, mode, error):
    sim.fault("wecom", mode, 1)
    with pytest.raises(error) as err:
        await _send(client, sim)
    assert err.value.system == "wecom"
    assert sim.systems["wecom"]["key"] not in str(err.value)


async def test_retry_only_when_the_caller_says_so(client, sim):
    sim.fault("wecom", "down", 2)
    assert (await _send(client, sim, retry=True))["errcode"] == 0
    assert sim.stats()["requests"]["wecom"] == 3
    sim.fault("wecom", "down", 1)
    with pytest.raises(Unavailable):
        await _send(client, sim, retry=False)
    assert sim.stats()["requests"]["wecom"] == 4


async def test_breaker_opens_after_five_failures_without_calling(client, sim):
    sim.fault("wecom", "down", 5)
    for _ in range(5):
        with pytest.raises(Unavailable):
            await _send(client, sim)
    with pytest.raises(Unavailable, match="circuit open"):
        await _send(client, sim)
    assert sim.stats()["requests"]["wecom"] == 5  # the sixth never left


async def test_unreachable_system_is_unavailable():
    http = HttpClient("erp", f"http://127.0.0.1:{free_port()}", timeout_s=0.5)
    try:
        with pytest.raises(Unavailable, match="cannot reach"):
            await http.call("GET", "/", parse=lambda r: r)
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimited), (500, Unavailable), (503, Unavailable), (401, Rejected),
     (403, Rejected), (404, Rejected), (400, Rejected)],
)  # fmt: skip
def test_status_mapping(status, error):
    with pytest.raises(error) as err:
        check_status("h5", Response(status, json.dumps({"error": "why"}).encode()))
    assert err.value.code == str(status)


def test_success_passes_and_non_json_is_unavailable():
    assert check_status("h5", Response(200)).status_code == 200
    with pytest.raises(Unavailable):
        json_body("h5", Response(200, b"<html>gateway</html>"))


def test_one_verifying_tls_context_is_shared():
    context = _ssl_context()
    assert context is _ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_response_json_text_and_headers():
    response = Response(200, "库存".encode("gbk"), {"content-type": "text/plain; charset=gbk"})
    assert response.text == "库存"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert Response(200, b'{"a": 1}').json() == {"a": 1}
    with pytest.raises(ValueError):
        Response(200, b"").json()


async def test_a_connector_opens_its_session_on_the_first_call_and_closes_it(systems, sim):
    wecom = WecomConnector(systems["wecom"])
    http = wecom._http
    assert http._session is None  # nothing is opened at construction
    await wecom.send("one")
    session = http._session
    assert session is not None and not session.closed
    await wecom.send("two")
    assert http._session is session  # one keep-alive session for every call
    await wecom.aclose()
    assert session.closed and http._session is None
    await wecom.aclose()  # closing twice is harmless
    assert len(sim.log("messages")) == 2


def test_connectors_built_outside_a_loop_survive_two_asyncio_runs(systems, sim):
    hub = build_connectors(systems)  # no running loop here
    asyncio.run(hub.wecom.send("first run"))
    asyncio.run(hub.wecom.send("second run"))  # a new loop: a new session, no crash
    asyncio.run(hub.aclose())
    assert [m["content"] for m in sim.log("messages")] == ["first run", "second run"]


async def test_a_timeout_through_a_connector_is_a_timeout(systems, sim):
    wecom = WecomConnector(systems["wecom"])
    try:
        sim.fault("wecom", "timeout", 1)
        with pytest.raises(Timeout, match="may have landed, query before retrying") as err:
            await wecom.send("slow")
        assert err.value.system == "wecom"
        assert systems["wecom"]["key"] not in str(err.value)
        await wecom.send("after")  # the client is still usable
    finally:
        await wecom.aclose()
    assert sim.stats()["requests"]["wecom"] == 2  # the timed-out send was not repeated


@pytest.mark.parametrize(
    "params",
    [{"t": "2024-01-01T00:00:00+08:00", "s": "a b/c?&=", "u": "中", "tilde": "~*"},
     {"flag": True, "off": False, "none": None, "n": 3, "many": ["x", "y"]},
     [("k", "1"), ("k", "2")], {}],
)  # fmt: skip
def test_query_is_encoded_as_httpx_encoded_it(params):
    http = HttpClient("douyin", "http://127.0.0.1:1/prefix/")
    expected = httpx.URL("http://127.0.0.1:1/prefix/order/searchList", params=params)
    assert str(http._url("/order/searchList", params)) == str(expected)


class SleepLog:
    """A fake clock and sleep: sleeping records the delay and moves the clock on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def _h5_client(sim, log: SleepLog, **kwargs) -> HttpClient:
    return HttpClient(
        "h5", sim.base_url, timeout_s=CLIENT_TIMEOUT_S, backoff_s=0.01, clock=log.clock,
        sleep=log.sleep,
        **kwargs,
    )  # fmt: skip


def _h5_orders(http: HttpClient, sim, *, retry: bool = True):
    params = {"updated_after": "2026-01-10T00:00:00+08:00", "limit": "5"}
    headers = {"Authorization": "Bearer " + sim.systems["h5"]["api_key"]}
    return http.call(
        "GET", "/h5/api/orders", params=params, headers=headers,
        parse=lambda r: json_body("h5", r), retry=retry,
    )  # fmt: skip


async def test_a_429_retry_after_is_honoured_before_asking_again(sim):
    log = SleepLog()
    http = _h5_client(sim, log)
    try:
        sim.arm({"system": "h5", "mode": "http_429", "retry_after_s": 7, "count": 1})
        assert (await _h5_orders(http, sim))["orders"]
    finally:
        await http.aclose()
    assert sim.stats()["requests"]["h5"] == 2
    assert log.slept and max(log.slept) >= 7  # not the 10 ms backoff: what it asked for


async def test_every_caller_of_the_client_waits_out_a_retry_after(sim):
    log = SleepLog()
    http = _h5_client(sim, log)
    try:
        sim.arm({"system": "h5", "mode": "http_429", "retry_after_s": 5, "count": 1})
        with pytest.raises(RateLimited) as err:
            await _h5_orders(http, sim, retry=False)  # not retried, but the client holds
        assert err.value.retry_after_s == 5
        assert log.slept == []
        await _h5_orders(http, sim, retry=False)  # another caller: sent after the hold
    finally:
        await http.aclose()
    assert log.slept == [5]


async def test_a_retry_after_past_the_budget_gives_up_at_once(sim):
    log = SleepLog()
    http = _h5_client(sim, log, rate_limit_wait_s=30)
    try:
        sim.arm({"system": "h5", "mode": "http_429", "retry_after_s": 120, "count": 1})
        with pytest.raises(RateLimited, match="asks for 120 s"):
            await _h5_orders(http, sim)
    finally:
        await http.aclose()
    assert log.slept == []  # no sleeping into a certain failure
    assert sim.stats()["requests"]["h5"] == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0", 0.0), ("-2", 0.0), ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
     ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0), ("soon", None), (None, None)],
)  # fmt: skip
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()
    assert retry_after(header, now) == seconds


def test_a_429_carries_its_retry_after():
    with pytest.raises(RateLimited) as err:
        check_status("h5", Response(429, b"{}", {"Retry-After": "12"}))
    assert (err.value.retry_after_s, err.value.code) == (12.0, "429")


async def test_a_create_that_cannot_be_reconciled_is_not_sent_again(client, sim):
    """retry_unreconciled=False: after a timeout, if asking by the key fails, stop."""

    async def cannot_ask() -> None:
        raise Unavailable("wecom", "down")

    sim.fault("wecom", "timeout", 1)
    with pytest.raises(Timeout):
        await client.call(
            "POST", "/cgi-bin/webhook/send", params={"key": sim.systems["wecom"]["key"]},
            json={"msgtype": "text", "text": {"content": "x"}},
            parse=lambda r: json_body("wecom", r), retry=True, reconcile=cannot_ask,
            retry_unreconciled=False,
        )  # fmt: skip
    assert sim.stats()["requests"]["wecom"] == 1
    sim.fault("wecom", "timeout", 1)
    await client.call(
        "POST", "/cgi-bin/webhook/send", params={"key": sim.systems["wecom"]["key"]},
        json={"msgtype": "text", "text": {"content": "x"}},
        parse=lambda r: json_body("wecom", r), retry=True, reconcile=cannot_ask,
    )  # fmt: skip
    assert sim.stats()["requests"]["wecom"] == 3  # the default: tried again


async def test_pages_backwards_asks_again_for_a_page_served_twice():
    pages = {0: ["a", "b"], 1: ["c", "d"], 2: ["e"]}
    answers = [pages[0], pages[0], pages[2], pages[1], pages[1], pages[0]]  # stale copies
    asked: list[int] = []

    async def fetch(page: int) -> tuple[list[str], int]:
        asked.append(page)
        return answers[len(asked) - 1], 5

    read = [page async for page in pages_backwards(fetch, 2)]
    assert read == [pages[2], pages[1], pages[0]]
    assert asked == [0, 2, 2, 1, 0, 0]  # page 2 and page 0 came back stale once each
