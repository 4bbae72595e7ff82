"""`orderhub orders show/list`: what happened to an order, and which workflow version decided it.

A generated 100-order day runs through the real workflow against the simulator (over
loopback HTTP) into a real store, SQLite and PostgreSQL; then the orders are looked at.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.loader import load_workflow
from engine.store import Store
from nodes.rules import normalise_phone
from service.access import ROLES, Actor, allowed
from service.cli import app
from service.intake import run_intake
from service.orders import HIDDEN, QueueEntry, list_orders, order_history
from service.scenarios import read_scenario
from service.versioning import save_version

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
LI = Actor("li.wei", "ops_manager")
WU = Actor("wu.lei", "warehouse")
cli = CliRunner()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A generated day: 85 shipped, 2 possible duplicates, held, invalid and unpaid orders."""
    scenario = generate_scenario(100, 2)
    path = tmp_path_factory.mktemp("orders") / "intake-100-s2.json"
    write_scenario(scenario, path)
    return path, scenario


@pytest.fixture(scope="module")
def sim(day: tuple[Path, dict[str, Any]]) -> Iterator[SimulatorHandle]:
    with start_simulator(str(day[0])) as handle:
        yield handle


def run_day(store: Store, sim: SimulatorHandle, path: Path, *, saved: bool) -> None:
    """The day through workflows/order_intake.yaml: as saved version 1, or as a draft."""
    sim.reset()
    if saved:
        asyncio.run(save_version(store, LI, WORKFLOW, base=None, message="first"))
    info = read_scenario(path)
    workflow = load_workflow(WORKFLOW)
    asyncio.run(
        run_intake(
            workflow, store, sim.systems, since=info.since, until=info.until, draft=not saved
        )
    )


def refs_ending(scenario: dict[str, Any], outcome: str) -> list[str]:
    return sorted(ref for ref, out in scenario["expected"]["outcomes"].items() if out == outcome)


def show(db_url: str, ref: str, who: str, *extra: str) -> Any:
    return cli.invoke(app, ["orders", "show", ref, "--db", db_url, "--as", who, *extra])


def test_a_shipped_order_shows_every_step_ending_in_its_waybill(
    store: Store, db_url: str, sim: SimulatorHandle, day: tuple[Path, dict[str, Any]]
) -> None:
    path, scenario = day
    run_day(store, sim, path, saved=True)
    ref = refs_ending(scenario, "shipped")[0]

    history = order_history(store, LI, ref)
    assert (history.order.ref, history.order.status) == (ref, "shipped")
    (run,) = history.runs
    assert (run.workflow_id, run.version_number, run.draft, run.label) == (
        "order_intake",
        1,
        False,
        "v1",
    )
    assert (run.status, run.outcome) == ("completed", "shipped")
    nodes = [step.node_id for step in run.steps]
    assert nodes == ["paid", "validate", "dedup", "split", "stock", "waybill", "shipped"]
    assert [step.seq for step in run.steps] == list(range(1, len(nodes) + 1))
    waybill_step = run.steps[-2]
    (waybill,) = history.waybills
    assert waybill_step.detail["waybill_no"] == waybill.waybill_no
    assert waybill.uploaded_at is not None
    order_id = ref.partition(":")[2]
    at_sf = [r["waybillNo"] for r in sim.log("waybills") if order_id in r["orderId"]]
    assert at_sf == [waybill.waybill_no]  # what SF itself handed out for this order
    assert history.queue == []

    text = show(db_url, ref, "li.wei:ops_manager")
    assert text.exit_code == 0, text.output
    assert "order_intake v1  completed  shipped" in text.output
    assert waybill.waybill_no in text.output
    lines = text.output.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("  try "))) :]
    assert [line.split()[:2] for line in table] == [["try", "node"]] + [["1", n] for n in nodes]
    assert table[-2].split()[-1] == f"waybill_no={waybill.waybill_no}"


def test_a_draft_run_and_an_order_waiting_for_review(
    store: Store, sim: SimulatorHandle, day: tuple[Path, dict[str, Any]]
) -> None:
    path, scenario = day
    run_day(store, sim, path, saved=False)
    duplicates = refs_ending(scenario, "duplicate_review")
    assert duplicates

    for ref in duplicates:
        history = order_history(store, Actor("sun.li", "reviewer"), ref)
        (run,) = history.runs
        assert run.draft and run.version_number is None
        assert run.label == f"draft {load_workflow(WORKFLOW).content_hash[:12]}"
        dedup = run.steps[-1]  # the review node records its step when a person decides
        original = dedup.detail["duplicate_of"]
        assert (dedup.outcome, run.status) == ("duplicate", "waiting")
        (wait,) = history.waits
        assert (wait.node_id, wait.kind, wait.key, wait.status) == (
            "review",
            "queue",
            "review",
            "open",
        )
        assert history.queue == [QueueEntry("review", f"possible duplicate of {original}", "open")]
        assert history.waybills == []

    listed = list_orders(store, Actor("zhao.min", "auditor"), status="duplicate_review")
    assert sorted(o.ref for o in listed) == duplicates
    assert [o.created_at for o in listed] == sorted((o.created_at for o in listed), reverse=True)
    newest = list_orders(store, WU, channel="h5", limit=3)
    assert len(newest) == 3 and all(o.ref.startswith("h5:") for o in newest)
    assert newest[0].created_at >= newest[-1].created_at


def test_warehouse_sees_phones_masked_and_ops_managers_see_them_whole(
    store: Store, db_url: str, sim: SimulatorHandle, day: tuple[Path, dict[str, Any]]
) -> None:
    path, scenario = day
    run_day(store, sim, path, saved=False)
    refs = [refs_ending(scenario, "shipped")[0], *refs_ending(scenario, "duplicate_review")]
    for ref in refs:
        stored = order_history(store, LI, ref).order.receiver.phone
        digits = normalise_phone(stored)
        masked = f"{digits[:3]}****{digits[-4:]}"
        for who in ("wu.lei:warehouse", "zhao.min:auditor"):
            result = show(db_url, ref, who, "--json")
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["order"]["receiver"]["phone"] == masked
            assert digits not in result.output and stored not in result.output
            text = show(db_url, ref, who)
            assert masked in text.output and stored not in text.output
        whole = json.loads(show(db_url, ref, "li.wei:ops_manager", "--json").output)
        assert whole["order"]["receiver"]["phone"] == stored
        seen = json.loads(show(db_url, ref, "wu.lei:warehouse", "--json").output)
        assert seen["order"]["receiver"]["address"] == whole["order"]["receiver"]["address"]
        street = whole["order"]["receiver"]["address"]
        money = show(db_url, ref, "qian.yu:finance", "--json")
        assert street and street not in money.output and stored not in money.output
        assert json.loads(money.output)["order"]["receiver"]["address"] == HIDDEN


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("youzan:E20260110999999", "no order youzan:E20260110999999"),
        ("E20260110999999", "write it as CHANNEL:ORDER_ID"),
        ("youzan:", "write it as CHANNEL:ORDER_ID"),
    ],
)
def test_unknown_and_malformed_refs_are_clear_errors(db_url: str, ref: str, message: str) -> None:
    result = show(db_url, ref, "zhao.min:auditor")
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_list_prints_only_its_header_for_an_empty_store_and_checks_the_limit(db_url: str) -> None:
    result = cli.invoke(app, ["orders", "list", "--db", db_url, "--as", "wu.lei:warehouse"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["ref", "created", "status", "warehouse", "reason"]
    bad = cli.invoke(app, ["orders", "list", "--limit", "0", "--db", db_url, "--as", "a:admin"])
    assert bad.exit_code != 0


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_look_and_only_some_see_contacts(role: str) -> None:
    actor = Actor("someone", role)
    assert allowed(actor, "orders.show") and allowed(actor, "orders.list")
    contact = {"admin", "ops_manager", "reviewer"}
    assert allowed(actor, "orders.contact") is (role in contact)
    assert allowed(actor, "orders.address") is (role != "finance")  # DESIGN.md: no address


def test_the_use_cases_check_the_role_and_their_arguments(store: Store) -> None:
    with pytest.raises(PermissionDenied):
        order_history(store, Actor("x", "intern"), "h5:H1")
    with pytest.raises(PermissionDenied):
        list_orders(store, Actor("x", "intern"))
    with pytest.raises(NotFound, match="no order h5:H1"):
        order_history(store, WU, "h5:H1")
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        list_orders(store, WU, limit=1001)
    assert list_orders(store, WU) == []
    assert list_orders(store, WU) == []
