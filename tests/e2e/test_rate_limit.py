"""SF's rate limit (30 calls a second in its test environment) slows a day down, no more.

Before pacing, a burst of waybill calls met A1005, opened the breaker and sent most orders
to the exceptions queue within a second. Now a rate-limited call waits and tries again.
"""

from __future__ import annotations

from pathlib import Path

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.store import Store
from engine.workflow import Workflow
from service.report import build_report, compare_with_expected
from service.scenarios import read_scenario
from tests.e2e.conftest import run_scenario


def test_a_day_under_sfs_rate_limit_still_reproduces_its_oracle(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(80, 12)
    path = tmp_path / "intake-80-s12.json"
    write_scenario(scenario, path)
    shipped = scenario["expected"]["outcome_totals"]["shipped"]
    assert shipped > 30  # more than one second's worth of waybills
    with start_simulator(str(path), options=SimOptions(sf_rate_limit_per_s=30)) as sim:
        summary = run_scenario(intake, store, sim, path)
        stats = sim.stats()
    assert "exception" not in summary.outcomes
    assert stats["waybills_created"] == stats["uploads_total"] == shipped
    assert stats["requests"]["sf"] > shipped  # some were refused with A1005 and asked again
    report = build_report(store, set(read_scenario(path).refs))
    assert compare_with_expected(report, scenario["expected"]) == []
