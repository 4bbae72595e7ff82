"""A store that never synced the ERP, and the ERP down: orders wait for it, not `unknown_sku`.

The ERP is down for the whole first run of a fresh store: there is no catalogue to check
SKUs against, so every paid order waits for the ERP (a `system` wait on ``erp``) and
`orderhub run` says so. The ERP back, the next run syncs the catalogue, wakes them, and the
day ends exactly as the scenario's oracle says — duplicates included, although the orders'
dedup keys were recorded before there was a catalogue. The twin switches the waiting off:
the same day leaves the never-checked orders `invalid` (`unknown_sku`) for good.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.breaker import BreakerState
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine import erp_sync
from engine.settings import render_toml
from engine.store import Store, open_store
from engine.store import breakers as breaker_store
from engine.store.models import utcnow
from engine.store.waits import waiting_counts
from engine.workflow import Workflow
from service.cli import WAITING_EXIT, app
from service.intake import IntakeSummary, run_intake
from service.report import build_report, compare_with_expected
from service.scenarios import read_scenario
from tests.e2e.conftest import WORKFLOW

cli = CliRunner()
ERP_DOWN = {"system": "erp", "mode": "down", "id": "erp-down"}  # every call, until cleared
#: ERP calls one run may make while it is down: the trigger's syncs (with their retries) and
#: a probe or two of the woken runs — not one per order (the day has 200)
MOST_CALLS_WHILE_DOWN = 40


def unknown_sku(report: dict[str, Any]) -> int:
    """Orders invalid for an unknown SKU (`invalid_reasons` maps each ref to its reason)."""
    return sum(reason == "unknown_sku" for reason in report["invalid_reasons"].values())


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    scenario = generate_scenario(200, 9)
    expected = scenario["expected"]
    assert unknown_sku(expected) > 0  # the check has work to do
    assert expected["duplicates"]  # and so has dedup
    path = tmp_path_factory.mktemp("day") / "intake-200-s9.json"
    write_scenario(scenario, path)
    return path, expected


def systems_of(sim: SimulatorHandle) -> dict[str, dict[str, Any]]:
    """The simulator's settings with short ERP cool-downs (the test waits them out)."""
    systems = {name: dict(values) for name, values in sim.systems.items()}
    systems["erp"].update(breaker_cooldown_s=0.2, breaker_max_cooldown_s=1.0)
    return systems


def until_a_probe_may_go(store: Store) -> None:
    """Wait out the ERP breaker's cool-down, so that the next run's first call is the probe."""
    retry_at = breaker_store.read(store, "erp", BreakerState).retry_at
    if retry_at is not None:
        time.sleep(max(0.0, (retry_at - utcnow()).total_seconds()) + 0.1)


def erp_calls(sim: SimulatorHandle) -> int:
    return sum(sim.stats()["calls"].get("erp", {}).values())


def run_day(workflow: Workflow, store: Store, sim: SimulatorHandle, path: Path) -> IntakeSummary:
    info = read_scenario(path)
    return asyncio.run(
        run_intake(
            workflow, store, systems_of(sim), since=info.since, until=info.until, system_wait_s=3
        )
    )


def test_orders_wait_for_an_erp_never_synced_and_finish_when_it_is_back(
    intake: Workflow, store: Store, day: tuple[Path, dict[str, Any]]
) -> None:
    path, expected = day
    with start_simulator(str(path)) as sim:
        sim.arm(ERP_DOWN)
        first = run_day(intake, store, sim, path)
        calls = erp_calls(sim)
        with store.engine.connect() as conn:
            waiting = waiting_counts(conn, intake.id)
        report = build_report(store)
        assert unknown_sku(report) == 0
        assert report["outcome_totals"].get("invalid", 0) == 0  # nothing was checked at all
        paid_seen = expected["orders_total"] - sum(
            expected["outcome_totals"].get(s, 0)
            for s in ("awaiting_payment", "cancelled", "shipped_elsewhere")
        )
        assert waiting == {("system", "erp"): paid_seen}
        assert 0 < calls <= MOST_CALLS_WHILE_DOWN, calls  # no call per order, no busy loop
        assert any("ERP catalogue not refreshed" in w for w in first.warnings)

        sim.clear_faults("erp-down")
        until_a_probe_may_go(store)
        run_day(intake, store, sim, path)
    with store.engine.connect() as conn:
        assert waiting_counts(conn, intake.id).get(("system", "erp"), 0) == 0
    assert compare_with_expected(build_report(store), expected) == []


def test_stock_never_synced_makes_orders_wait_for_the_erp_not_out_of_stock(
    intake: Workflow, store: Store, day: tuple[Path, dict[str, Any]]
) -> None:
    """Only the ERP's stock call fails (four tries: its breaker stays closed). The orders
    wait at stock_check; the run wakes them, one of them tries the ERP — and trips its
    breaker — and the rest wait on without calling; the ERP back, the day matches."""
    path, expected = day
    with start_simulator(str(path)) as sim:
        sim.arm({"system": "erp", "call": "inventory", "mode": "down", "id": "stock-down"})
        run_day(intake, store, sim, path)
        inventory_calls = sim.stats()["calls"]["erp"].get("inventory", 0)
        with store.engine.connect() as conn:
            waiting = waiting_counts(conn, intake.id)
        report = build_report(store)
        assert report["outcome_totals"].get("out_of_stock", 0) == 0
        assert report["outcome_totals"].get("held_low_stock", 0) == 0
        assert waiting.get(("system", "erp"), 0) > 0
        assert 4 < inventory_calls <= MOST_CALLS_WHILE_DOWN, inventory_calls  # a run tried
        sim.clear_faults("stock-down")
        until_a_probe_may_go(store)
        run_day(intake, store, sim, path)
    with store.engine.connect() as conn:
        assert waiting_counts(conn, intake.id).get(("system", "erp"), 0) == 0
    assert compare_with_expected(build_report(store), expected) == []


def test_twin_without_waiting_the_never_checked_orders_stay_unknown_sku(
    intake: Workflow,
    store: Store,
    day: tuple[Path, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(erp_sync, "WAIT_WHEN_NEVER_SYNCED", False)
    path, expected = day
    with start_simulator(str(path)) as sim:
        sim.arm(ERP_DOWN)
        run_day(intake, store, sim, path)
        sim.clear_faults("erp-down")
        until_a_probe_may_go(store)
        run_day(intake, store, sim, path)
    report = build_report(store)
    assert unknown_sku(report) > unknown_sku(expected)
    assert compare_with_expected(report, expected) != []


def test_twin_without_rekeying_dedup_misses_the_duplicates_pulled_before_the_catalogue(
    intake: Workflow,
    store: Store,
    day: tuple[Path, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dedup keys are recorded when an order is pulled, with whether it can be an earlier
    valid order: without a catalogue none can, unless the first sync records them again."""
    monkeypatch.setattr(erp_sync, "REKEY_ON_FIRST_SYNC", False)
    path, expected = day
    with start_simulator(str(path)) as sim:
        sim.arm(ERP_DOWN)
        run_day(intake, store, sim, path)
        sim.clear_faults("erp-down")
        until_a_probe_may_go(store)
        run_day(intake, store, sim, path)
    report = build_report(store)
    assert unknown_sku(report) == unknown_sku(expected)  # the wait itself did its part
    assert len(report["duplicates"]) < len(expected["duplicates"])
    diffs = compare_with_expected(report, expected)
    assert any(d.startswith("duplicates") for d in diffs), diffs


def test_orderhub_run_says_the_orders_wait_for_the_erp(
    tmp_path: Path, day: tuple[Path, dict[str, Any]]
) -> None:
    """The door people use: exit 3 and "N for system erp" while it is down; 0 once back."""
    path, expected = day
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(systems_of(sim)), encoding="utf-8")
        args = [
            "run",
            str(WORKFLOW),
            *("--db", str(tmp_path / "day.db"), "--config", str(config), "--as", "boss:admin"),
            *("--since", info.since.strftime("%Y-%m-%dT%H:%M:%S%z")),
            *("--until", info.until.strftime("%Y-%m-%dT%H:%M:%S%z")),
            *("--report", str(tmp_path / "report.json")),
        ]
        sim.arm(ERP_DOWN)
        down = cli.invoke(app, args)
        assert down.exit_code == WAITING_EXIT, down.output
        assert " for system erp" in down.output, down.output
        sim.clear_faults("erp-down")
        until_a_probe_may_go(open_store(f"sqlite:///{tmp_path / 'day.db'}"))
        back = cli.invoke(app, args)
    assert back.exit_code == 0, back.output
    assert "for system erp" not in back.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert compare_with_expected(report, expected) == []
