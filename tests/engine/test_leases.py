"""Leases in the database: one holder at a time, taken over only once expired."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from engine.errors import LeaseHeld
from engine.store import Store, leases

T0 = datetime(2026, 1, 10, 8, 0, 0)


def at(seconds: float):  # noqa: ANN201 - a clock for `leases`
    return lambda: T0 + timedelta(seconds=seconds)


def test_a_second_holder_is_refused_naming_the_first_and_since_when(store: Store) -> None:
    first = leases.acquire(store, "run:wf", "li.wei (pid 1 on a)", ttl_s=60, clock=at(0))
    with pytest.raises(LeaseHeld) as refused:
        leases.acquire(store, "run:wf", "wang.fang (pid 2 on b)", ttl_s=60, clock=at(30))
    assert refused.value.holder == "li.wei (pid 1 on a)"
    assert refused.value.since == T0
    assert "held by li.wei (pid 1 on a) since 2026-01-10 08:00:00 UTC" in str(refused.value)
    other = leases.acquire(store, "run:other", "wang.fang (pid 2 on b)", clock=at(30))
    assert other.holder == "wang.fang (pid 2 on b)"  # another name is another lease
    leases.release(store, first)
    second = leases.acquire(store, "run:wf", "wang.fang (pid 2 on b)", clock=at(31))
    assert second.since == T0 + timedelta(seconds=31)


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it(store: Store) -> None:
    dead = leases.acquire(store, "scheduler", "a", ttl_s=60, clock=at(0))
    assert leases.renew(store, dead, clock=at(50))  # renewed: good until 110
    with pytest.raises(LeaseHeld):
        leases.acquire(store, "scheduler", "b", ttl_s=60, clock=at(100))
    taker = leases.acquire(store, "scheduler", "b", ttl_s=60, clock=at(111))
    assert taker.holder == "b"
    assert not leases.renew(store, dead, clock=at(112))
    assert dead.lost
    leases.release(store, dead)  # releasing what it no longer holds touches nothing
    with pytest.raises(LeaseHeld) as refused:
        leases.acquire(store, "scheduler", "c", ttl_s=60, clock=at(113))
    assert refused.value.holder == "b"


def test_hold_renews_from_a_thread_and_releases_at_the_end(store: Store) -> None:
    # ttl 12 s: renewed every 4 s, and a busy machine has 12 s between the renewal seen and
    # the look at it (with 0.3 s a late beat let the lease expire under load)
    with leases.hold(store, "run:wf", "me", ttl_s=12) as lease:
        first = lease.expires_at
        deadline = time.monotonic() + 300
        while lease.expires_at == first:  # the keeper renews every ttl/3
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)
        assert leases.current(store, "run:wf") is not None
    assert leases.current(store, "run:wf") is None


def test_wait_for_tells_once_who_holds_it_then_goes_on_when_it_is_free(store: Store) -> None:
    held = leases.acquire(store, "run:wf", "first (pid 1 on a)")
    told: list[LeaseHeld] = []

    async def scenario() -> leases.Lease:
        waiter = asyncio.create_task(
            leases.wait_for(store, "run:wf", "second", wait_s=600, poll_s=0.05, on_wait=told.append)
        )
        deadline = time.monotonic() + 300
        while not told:
            assert time.monotonic() < deadline, "the waiter never said it was waiting"
            await asyncio.sleep(0.05)
        assert not waiter.done()
        leases.release(store, held)
        return await waiter

    lease = asyncio.run(scenario())
    assert lease.holder == "second"
    assert len(told) == 1 and told[0].holder == "first (pid 1 on a)"


def test_wait_for_gives_up_after_its_deadline(store: Store) -> None:
    leases.acquire(store, "run:wf", "first")
    with pytest.raises(LeaseHeld) as refused:
        asyncio.run(leases.wait_for(store, "run:wf", "second", wait_s=0))
    assert refused.value.holder == "first"


def holder_of(proc: subprocess.Popen) -> str:
    return f"li.wei:ops_manager (pid {proc.pid} on {socket.gethostname()})"


@pytest.mark.parametrize("take_over", [True, False])
def test_a_lease_whose_holder_was_killed_is_taken_over_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, take_over: bool
) -> None:
    """A runner SIGKILLed on this machine leaves its lease for the ttl (an hour here); the
    next one takes it over at once — and, switched off (the twin), is refused."""
    monkeypatch.setattr(leases, "TAKE_OVER_DEAD", take_over)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        leases.acquire(store, "run:order_intake", holder_of(proc), ttl_s=3600)
        with pytest.raises(LeaseHeld):  # alive: never taken
            leases.acquire(store, "run:order_intake", "li.wei:ops_manager (pid 1 on elsewhere)")
    finally:
        proc.kill()
        proc.wait()
    if take_over:
        lease = leases.acquire(store, "run:order_intake", leases.holder_name("li.wei"))
        assert leases.current(store, "run:order_intake").holder == lease.holder
    else:
        with pytest.raises(LeaseHeld):
            leases.acquire(store, "run:order_intake", leases.holder_name("li.wei"))


def test_a_holder_of_another_machine_is_waited_out(store: Store) -> None:
    """Only processes of this machine can be looked at: another host's holder keeps it."""
    leases.acquire(store, "scheduler", "scheduler (pid 999999 on another-host)", ttl_s=3600)
    with pytest.raises(LeaseHeld):
        leases.acquire(store, "scheduler", leases.holder_name("scheduler"))
