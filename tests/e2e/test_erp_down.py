"""When the ERP is down, intake goes on from the local catalogue and stock cache."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.store import Store
from engine.workflow import Workflow
from service.intake import run_intake
from service.report import build_report, compare_with_expected
from service.scenarios import read_scenario


def test_erp_outage_falls_back_to_the_cache(intake: Workflow, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "intake-400-s8.json"
    scenario = generate_scenario(400, 8)
    write_scenario(scenario, path)
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:
        first = asyncio.run(
            run_intake(
                intake, store, sim.systems, since=info.since, until=info.since + timedelta(hours=2)
            )
        )
        assert first.warnings == []
        sim.fault("erp", "down", 50)
        second = asyncio.run(
            run_intake(intake, store, sim.systems, since=info.since, until=info.until)
        )
    assert len(second.warnings) == 3  # catalogue, outbound bills and stock, each once
    assert sum("cached copy" in w for w in second.warnings) == 2
    assert sum("ERP outbound bills not read" in w for w in second.warnings) == 1
    assert all("password" not in w and "sim-erp" not in w for w in second.warnings)
    assert first.pulled + second.pulled >= 400
    assert compare_with_expected(build_report(store), scenario["expected"]) == []
