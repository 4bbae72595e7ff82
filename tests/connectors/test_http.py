"""The shared HTTP layer: error mapping, retries, breaker — against the real simulator."""

from __future__ import annotations

import json

import pytest

from connectors.http import CircuitBreaker, HttpClient, Response, check_status, json_body
from connectors.simulator.server import free_port
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
