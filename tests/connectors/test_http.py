"""The shared HTTP layer: error mapping, retries, breaker — against the real simulator."""

from __future__ import annotations

import asyncio
import json
import ssl

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
)
from connectors.simulator.server import free_port
from connectors.wecom import WecomConnector
from engine.errors import RateLimited, Rejected, Timeout, Unavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_five_failures_and_half_opens_after_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker("sf", threshold=5, cooldown_s=30, clock=clock)
    for _ in range(4):
        breaker.record_failure()
    breaker.before_call()  # still closed after 4
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(Unavailable):
        breaker.before_call()
    clock.now += 30
    assert breaker.state == "half_open"
    breaker.before_call()  # the probe may pass
    breaker.record_failure()  # probe failed: open again for a full cool-down
    assert breaker.state == "open"
    clock.now += 30
    breaker.record_success()
    assert breaker.state == "closed"


def test_a_success_resets_the_count():
    breaker = CircuitBreaker("sf", clock=FakeClock())
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state == "closed"


@pytest.fixture
async def client(sim):
    http = HttpClient("wecom", sim.base_url, timeout_s=0.5, retries=3, backoff_s=0.01)
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
