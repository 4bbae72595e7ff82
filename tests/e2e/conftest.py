"""End-to-end fixtures: a simulator subprocess serving a scenario over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.loader import load_workflow
from engine.store import Store
from engine.workflow import Workflow
from service.intake import IntakeSummary, run_intake
from service.scenarios import read_scenario

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
S1200 = FIXTURES / "intake-1200-s7.json"
S4000 = FIXTURES / "intake-4000-s11.json"


@pytest.fixture(scope="session")
def intake() -> Workflow:
    return load_workflow(WORKFLOW)


@pytest.fixture(scope="module")
def sim1200() -> Iterator[SimulatorHandle]:
    with start_simulator(str(S1200)) as sim:
        yield sim


def expected_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))["expected"]


def run_scenario(
    workflow: Workflow, store: Store, sim: SimulatorHandle, path: Path, concurrency: int = 32
) -> IntakeSummary:
    info = read_scenario(path)
    return asyncio.run(
        run_intake(
            workflow,
            store,
            sim.systems,
            since=info.since,
            until=info.until,
            concurrency=concurrency,
        )
    )
