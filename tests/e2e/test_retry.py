"""A run that stops on a passing fault is tried again by the next run, from where it stopped.

SF really answers 503 (the simulator's `down` fault) while the first run goes, so every
waybill step fails; the workflow here has no `on_error` route on its waybill node, so those
runs stop instead of going to the exceptions queue. The next run, with SF back, finishes
them: the report equals the oracle, each shipped order has one waybill and one upload, and
the steps of both tries are kept.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import RunRow, StepRow, Waybill
from engine.workflow import Workflow
from service.access import Actor
from service.cli import app
from service.intake import run_intake
from service.orders import order_history
from service.report import build_report, compare_with_expected
from service.runs import list_stopped, retry
from service.scenarios import read_scenario
from tests.e2e.conftest import WORKFLOW
from versions.audit import list_entries

LI = Actor("li.wei", "ops_manager")


@pytest.fixture(scope="module")
def no_error_route(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """order_intake with the waybill's `on_error: exceptions` and its target taken out."""
    text = WORKFLOW.read_text(encoding="utf-8")
    route = "    on_error: exceptions\n"
    target = (
        "\n  - id: exceptions\n    type: exception_route\n"
        "    with: {queue: exceptions, status: exception, notify: true}\n"
        "    routes: {retry: waybill, reroute: waybill_zto, cancel: release}\n"
    )
    assert route in text and target in text
    path = tmp_path_factory.mktemp("wf") / "order_intake.yaml"
    path.write_text(text.replace(route, "").replace(target, ""), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    scenario = generate_scenario(60, 3)
    path = tmp_path_factory.mktemp("day") / "intake-60-s3.json"
    write_scenario(scenario, path)
    return path, scenario["expected"]


def intake(wf: Workflow, store: Store, sim: SimulatorHandle, path: Path, tries: int = 3):
    info = read_scenario(path)
    return asyncio.run(
        run_intake(
            wf,
            store,
            no_breaker(sim.systems),
            since=info.since,
            until=info.until,
            max_attempts=tries,
        )  # fmt: skip
    )


def no_breaker(systems: dict) -> dict:
    """Settings whose breakers never open: these tests are about tries, not outages (an
    open breaker makes runs wait however many tries they had; tests/e2e/test_sf_outage.py)."""
    return {name: {**values, "breaker_threshold": 1_000_000} for name, values in systems.items()}


def shipped_count(expected: dict) -> int:
    return expected["outcome_totals"]["shipped"]


def test_runs_stopped_by_a_passing_fault_finish_on_the_next_run(
    store: Store, no_error_route: Path, day: tuple[Path, dict]
) -> None:
    path, expected = day
    wf = load_workflow(no_error_route)
    with start_simulator(str(path)) as sim:
        sim.fault("sf", "down", 100_000)
        first = intake(wf, store, sim, path)
        assert first.outcomes["retry"] == shipped_count(expected)
        assert sim.stats()["waybills_created"] == 0
        stopped = list_stopped(store, LI)
        assert {run.status for run in stopped} == {"retry"}
        assert {run.node for run in stopped} == {"waybill"}
        ref = stopped[0].ref

        sim.reset()  # SF is back
        second = intake(wf, store, sim, path)
        stats = sim.stats()
    assert second.runs == shipped_count(expected)  # only the stopped runs went again
    assert second.outcomes == Counter({"shipped": shipped_count(expected)})
    assert stats["waybills_created"] == stats["uploads_total"] == shipped_count(expected)
    report = build_report(store, set(read_scenario(path).refs))
    assert compare_with_expected(report, expected) == []
    assert list_stopped(store, LI) == []
    with store.session() as session:
        tries = Counter(
            session.execute(
                select(StepRow.attempt, StepRow.status).where(StepRow.node_id == "waybill")
            ).all()
        )
        attempts = Counter(session.scalars(select(RunRow.attempt)))
        waybills = session.scalar(select(func.count()).select_from(Waybill))
    assert tries == {(1, "failed"): shipped_count(expected), (2, "succeeded"): waybills}
    assert attempts[2] == shipped_count(expected)
    assert waybills == shipped_count(expected)
    (run,) = order_history(store, LI, ref).runs  # what `orderhub orders show` prints
    assert (run.attempt, run.status, run.outcome) == (2, "completed", "shipped")
    tail = [(step.attempt, step.node_id, step.status) for step in run.steps][-3:]
    assert tail == [
        (1, "waybill", "failed"),
        (2, "waybill", "succeeded"),
        (2, "shipped", "succeeded"),
    ]


def test_a_run_gives_up_after_its_tries_and_a_person_sends_it_back(
    store: Store, no_error_route: Path, day: tuple[Path, dict]
) -> None:
    path, expected = day
    wf = load_workflow(no_error_route)
    with start_simulator(str(path)) as sim:
        sim.fault("sf", "down", 100_000)
        assert intake(wf, store, sim, path, tries=2).outcomes["retry"] == shipped_count(expected)
        second = intake(wf, store, sim, path, tries=2)
        assert second.outcomes["failed"] == shipped_count(expected)
        third = intake(wf, store, sim, path, tries=2)
        assert third.runs == 0  # out of tries: nothing goes again by itself
        stopped = list_stopped(store, LI, status="failed")
        assert len(stopped) == shipped_count(expected)
        assert all("gave up after try 2 of 2" in r.error or r.attempt == 2 for r in stopped)

        one = stopped[0]
        sim.reset()
        assert [r.run_id for r in retry(store, LI, [one.run_id], "SF fixed")] == [one.run_id]
        fourth = intake(wf, store, sim, path, tries=2)
        assert fourth.runs == 1 and fourth.outcomes == Counter({"shipped": 1})
        assert sim.stats()["waybills_created"] == 1
    entries = [(e.action, e.subject, e.reason) for e in list_entries(store)]
    assert entries == [("run.retry", f"run:{one.run_id}", "SF fixed")]


def test_retry_refuses_runs_that_did_not_stop(store: Store) -> None:
    from engine.errors import InvalidInput, NotFound, PermissionDenied

    with pytest.raises(NotFound, match="no run 999"):
        retry(store, LI, [999], "because")
    with pytest.raises(InvalidInput, match="needs a reason"):
        retry(store, LI, [1], " ")
    with pytest.raises(PermissionDenied, match="runs.retry"):
        retry(store, Actor("zhao.min", "auditor"), [1], "because")


def test_runs_cli_lists_stopped_runs_and_sends_them_back(
    tmp_path: Path, no_error_route: Path, day: tuple[Path, dict]
) -> None:
    from engine.settings import render_toml

    path, expected = day
    info = read_scenario(path)
    db, cli = str(tmp_path / "cli.db"), CliRunner()
    as_ops = ["--db", db, "--as", "li.wei:ops_manager"]
    with start_simulator(str(path)) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(no_breaker(sim.systems)), encoding="utf-8")
        run = [
            "run", str(no_error_route), "--config", str(config), "--db", db,
            "--since", info.since.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "--until", info.until.strftime("%Y-%m-%dT%H:%M:%S%z"),
        ]  # fmt: skip
        sim.fault("sf", "down", 100_000)
        first = cli.invoke(app, run)
        assert first.exit_code == 0, first.output
        assert "stopped on a passing fault; the next run tries them again" in first.output

        listed = cli.invoke(app, ["runs", "list", "--status", "retry", "--json", *as_ops])
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.output)
        assert len(rows) == shipped_count(expected)
        assert {(r["node"], r["attempt"]) for r in rows} == {("waybill", 1)}
        assert "503" in rows[0]["error"] or "unavailable" in rows[0]["error"].lower()

        denied = cli.invoke(
            app, ["runs", "retry", str(rows[0]["run_id"]), "--reason", "x", "--db", db,
                  "--as", "zhao.min:auditor"]
        )  # fmt: skip
        assert denied.exit_code == 1 and "runs.retry" in denied.output
        missing = cli.invoke(app, ["runs", "retry", "99999", "--reason", "x", *as_ops])
        assert missing.exit_code == 1 and "no run 99999" in missing.output

        sim.reset()
        second = cli.invoke(app, run)
        assert second.exit_code == 0, second.output
        assert sim.stats()["waybills_created"] == shipped_count(expected)
    empty = cli.invoke(app, ["runs", "list", *as_ops])
    assert "no run stopped on an error" in empty.output
