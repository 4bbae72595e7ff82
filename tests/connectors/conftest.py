"""Fixtures for the connector tests: the scenario, a real simulator over loopback, connectors.

One simulator per test module (a subprocess, like production use); every test starts from
the scenario as loaded (`POST /_sim/reset`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import Connectors, build_connectors
from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions

SCENARIO_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "intake-1200-s7.json"
#: generous, so that a busy machine never times out a call that was not meant to (hundreds of
#: concurrent calls over loopback took more than 0.5 s here); a `timeout` fault holds its
#: answer far past it, so a Timeout is certain however busy the machine is
CLIENT_TIMEOUT_S = 5.0
TIMEOUT_HOLD_S = 60.0
SIM_OPTIONS = SimOptions(timeout_sleep_s=TIMEOUT_HOLD_S)


@pytest.fixture(scope="session")
def scenario() -> dict[str, Any]:
    return json.loads(SCENARIO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorHandle]:
    with start_simulator(str(SCENARIO_PATH), options=SIM_OPTIONS) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimulatorHandle) -> SimulatorHandle:
    sim_server.reset()
    return sim_server


@pytest.fixture
def systems(sim: SimulatorHandle) -> dict[str, dict[str, Any]]:
    """Settings pointing at the simulator: a generous timeout, quick backoff."""
    return {
        name: {**values, "timeout_s": CLIENT_TIMEOUT_S, "backoff_s": 0.01}
        for name, values in sim.systems.items()
    }


@pytest.fixture
async def hub(systems: dict[str, dict[str, Any]]) -> AsyncIterator[Connectors]:
    connectors = build_connectors(systems)
    yield connectors
    await connectors.aclose()


def day_windows(scenario: dict[str, Any], days: int = 2) -> list[tuple[datetime, datetime]]:
    """24 h windows from the scenario day's start, covering late updates too."""
    start = datetime.fromisoformat(scenario["window"]["start"])
    return [(start + timedelta(days=d), start + timedelta(days=d + 1)) for d in range(days)]


async def pull_all(connector: Any, windows: list[tuple[datetime, datetime]]) -> list[tuple]:
    pulled: list[tuple] = []
    for start, end in windows:
        async for page in connector.pull(start, end):
            pulled.extend(page)
    return pulled


def canonical(scenario: dict[str, Any], channel: str) -> dict[str, dict]:
    return {o["order_id"]: {**o, "channel": channel} for o in scenario["channels"][channel]}


def window_of(scenario: dict[str, Any], channel: str, count: int) -> tuple[datetime, datetime, set]:
    """A window starting at the channel's first update holding `count` orders, and their ids."""
    ordered = sorted(scenario["channels"][channel], key=lambda o: o["updated_at"])
    start = datetime.fromisoformat(ordered[0]["updated_at"])
    end = datetime.fromisoformat(ordered[count]["updated_at"])
    ids = {o["order_id"] for o in ordered if start <= datetime.fromisoformat(o["updated_at"]) < end}
    return start, end, ids


async def assert_round_trip(hub: Connectors, scenario: dict[str, Any], channel: str) -> list:
    """Pull the scenario day in 24 h windows: exactly the canonical orders, each once."""
    pulled = await pull_all(hub.channels[channel], day_windows(scenario))
    expected = canonical(scenario, channel)
    ids = [order["order_id"] for order, _ in pulled]
    assert len(ids) == len(set(ids)) == len(expected)
    for order, _raw in pulled:
        assert order == expected[order["order_id"]]
    return pulled
