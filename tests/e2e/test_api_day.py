"""The API over a real day of orders (a generated 300-order day through the simulator), on a
running uvicorn.

Masking (issue 9, item 3): every GET of the served OpenAPI document, called as every role,
shows no receiver phone to a role without the right to see phones (warehouse, finance,
auditor) and no street address to a role without the right to see addresses (finance), in
lists and details alike. The endpoints come from the document, so a new one is checked
without anyone adding it here. Then what the reads and the queue decisions do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.store.models import OrderRow, QueueItem, RunRow
from engine.workflow import Workflow
from nodes.rules import normalise_phone
from service.access import ALLOWED, ROLES
from tests.e2e.api_server import ADMIN, client, fresh_database, serving, token_for
from tests.e2e.conftest import WORKFLOW, expected_of, run_scenario
from tests.e2e.openapi_cases import minimal_request, operations
from versions import store as vstore

#: orders in the module's day: every outcome, planted duplicates, phones in many spellings
ORDERS = 300


@pytest.fixture(scope="module")
def day_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-day") / f"intake-{ORDERS}-s7.json"
    write_scenario(generate_scenario(ORDERS, 7), path)
    return path


@pytest.fixture(scope="module")
def sim_day(day_file: Path) -> Iterator[SimulatorHandle]:
    with start_simulator(str(day_file)) as sim:
        yield sim


@dataclass
class Day:
    url: str
    tokens: dict[str, str]
    path_values: dict[str, object]
    phones: set[str]  # every spelling and its digits
    addresses: set[str]
    ref: str
    ref_phone: str
    ref_address: str
    paid: int  # orders with a payment time
    queued: int  # orders with an entry in any queue
    expected: dict  # the scenario's oracle


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def day(
    request: pytest.FixtureRequest, intake: Workflow, sim_day: SimulatorHandle, day_file: Path
) -> Iterator[Day]:
    with fresh_database(request.param) as store:
        vstore.save(store, WORKFLOW, actor=ADMIN, base=None, message="first")
        sim_day.reset()
        run_scenario(intake, store, sim_day, day_file)
        with store.engine.connect() as conn:
            receivers = [
                (f"{c}:{o}", (canonical.get("receiver") or {}))
                for c, o, canonical in conn.execute(
                    select(OrderRow.channel, OrderRow.order_id, OrderRow.canonical)
                )
            ]
            queued_pk, run_id = conn.execute(
                select(QueueItem.order_pk, RunRow.id)
                .join(RunRow, RunRow.order_pk == QueueItem.order_pk)
                .order_by(QueueItem.id)
                .limit(1)
            ).one()
            paid = conn.scalar(select(func.count()).where(OrderRow.paid_at.is_not(None)))
            queued = conn.scalar(select(func.count(func.distinct(QueueItem.order_pk))))
            channel, order_id = conn.execute(
                select(OrderRow.channel, OrderRow.order_id).where(OrderRow.id == queued_pk)
            ).one()
        ref = f"{channel}:{order_id}"
        by_ref = dict(receivers)
        phones = {str(r.get("phone") or "") for _, r in receivers} - {""}
        phones |= {normalise_phone(p) for p in phones}
        addresses = {str(r.get("address") or "") for _, r in receivers} - {""}
        tokens = {role: token_for(store, f"{role}.user", role) for role in ROLES}
        with serving(store) as url:
            yield Day(
                url,
                tokens,
                {"workflow_id": "order_intake", "number": 1, "ref": ref, "run_id": run_id},
                phones,
                addresses,
                ref,
                normalise_phone(str(by_ref[ref]["phone"])),
                str(by_ref[ref]["address"]),
                paid,
                queued,
                expected_of(day_file),
            )


def _gets(day: Day) -> tuple[dict, list]:
    with client(day.url) as anonymous:
        document = anonymous.get("/openapi.json").json()
    gets = [op for op in operations(document) if op.method == "get" and not op.public]
    return document, gets


@pytest.mark.parametrize("role", [r for r in ROLES if "orders.contact" not in ALLOWED[r]])
def test_no_get_shows_a_phone_to_a_role_without_the_right(day: Day, role: str) -> None:
    _check(day, role, day.phones, "a phone")


@pytest.mark.parametrize("role", [r for r in ROLES if "orders.address" not in ALLOWED[r]])
def test_no_get_shows_an_address_to_a_role_without_the_right(day: Day, role: str) -> None:
    _check(day, role, day.addresses, "an address")


def test_the_check_can_fail_a_role_with_the_right_sees_them(day: Day) -> None:
    """The twin: the data does hold phones and addresses, and the admin's detail shows them."""
    assert len(day.phones) > ORDERS // 2 and len(day.addresses) > ORDERS // 2
    with client(day.url, day.tokens["admin"]) as admin:
        shown = admin.get(f"/orders/{day.ref}").text
    assert day.ref_phone in shown and day.ref_address in shown
    with client(day.url, day.tokens["warehouse"]) as warehouse:
        masked = warehouse.get(f"/orders/{day.ref}").json()["order"]["receiver"]
    assert masked["phone"] == day.ref_phone[:3] + "****" + day.ref_phone[-4:]
    assert masked["address"] == day.ref_address  # the warehouse ships it


def _check(day: Day, role: str, secrets: set[str], what: str) -> None:
    document, gets = _gets(day)
    assert len(gets) >= 15
    seen: list[str] = []
    called = 0
    with client(day.url, day.tokens[role]) as as_role:
        for op in gets:
            if op.action not in ALLOWED[role]:
                continue
            names = [p["name"] for p in op.spec.get("parameters", []) if p["in"] == "path"]
            unknown = [n for n in names if n not in day.path_values]
            assert not unknown, f"{op}: give the test a real value for {unknown}"
            request = minimal_request(document, op, day.path_values)
            if any(p["name"] == "limit" for p in op.spec.get("parameters", [])):
                request["params"]["limit"] = 1000
            answer = as_role.request(**request)
            assert answer.status_code == 200, f"{op}: {answer.status_code} {answer.text[:200]}"
            called += 1
            leaked = [s for s in secrets if s in answer.text]
            if leaked:
                seen.append(f"{op} shows {role} {what}: {len(leaked)} of them")
    assert called >= 3
    assert seen == []


def test_orders_are_found_by_phone_in_any_spelling_and_by_reference(day: Day) -> None:
    digits = day.ref_phone
    spelled = f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    with client(day.url, day.tokens["warehouse"]) as warehouse:
        by_phone = warehouse.get("/orders", params={"phone": spelled}).json()
        by_ref = warehouse.get("/orders", params={"ref": day.ref}).json()
        first = warehouse.get("/orders", params={"limit": 10}).json()
        last = warehouse.get("/orders", params={"limit": 10, "offset": ORDERS - 5}).json()
        bad = warehouse.get("/orders", params={"ref": "no-colon"})
    assert day.ref in [o["ref"] for o in by_phone["items"]]
    assert by_phone["total"] == len(by_phone["items"]) >= 1
    assert [o["ref"] for o in by_ref["items"]] == [day.ref] and by_ref["total"] == 1
    assert (first["total"], len(first["items"]), len(last["items"])) == (ORDERS, 10, 5)
    assert not {o["ref"] for o in first["items"]} & {o["ref"] for o in last["items"]}
    assert bad.status_code == 422 and bad.json()["field"] == "ref"


def test_runs_are_filtered_by_order_workflow_version_status_and_time(day: Day) -> None:
    with client(day.url, day.tokens["auditor"]) as auditor:
        of_order = auditor.get("/runs", params={"order": day.ref}).json()
        of_v1 = auditor.get("/runs", params={"workflow": "order_intake", "version": "1"}).json()
        everything = auditor.get("/runs", params={"limit": 1}).json()
        completed = auditor.get("/runs", params={"status": "completed", "limit": 1}).json()
        later = auditor.get("/runs", params={"since": "2099-01-01T00:00:00Z"}).json()
        earlier = auditor.get("/runs", params={"until": "2000-01-01T00:00:00Z"}).json()
        no_workflow = auditor.get("/runs", params={"version": "1"})
        one = auditor.get(f"/runs/{day.path_values['run_id']}").json()
        missing = auditor.get("/runs/999999")
    assert of_order["total"] >= 1 and {r["ref"] for r in of_order["items"]} == {day.ref}
    assert everything["total"] >= ORDERS and of_v1["total"] == everything["total"]
    assert 0 < completed["total"] <= everything["total"]
    assert later["total"] == earlier["total"] == 0
    assert no_workflow.status_code == 422 and no_workflow.json()["field"] == "workflow"
    assert one["ref"] == day.ref and one["label"] == "v1" and one["run"]["steps"]
    assert missing.status_code == 404 and "no run 999999" in missing.json()["detail"]


def test_metrics_count_runs_by_version_node_latency_and_queue_depth(day: Day) -> None:
    with client(day.url, day.tokens["auditor"]) as auditor:
        text = auditor.get("/metrics").text
        depth = auditor.get("/queues", params={"limit": 1}).json()["total"]
    runs = [line for line in text.splitlines() if line.startswith("orderhub_runs_total{")]
    assert runs and all('workflow="order_intake"' in r and 'version="v1"' in r for r in runs)
    assert sum(float(r.rsplit(" ", 1)[1]) for r in runs) >= ORDERS
    assert 'orderhub_node_seconds_count{node_type="stock_check"}' in text
    queued = [line for line in text.splitlines() if line.startswith("orderhub_queue_depth{")]
    assert sum(float(q.rsplit(" ", 1)[1]) for q in queued) == depth > 0


def test_daily_figures_per_channel_agree_with_the_scenario(day: Day) -> None:
    with client(day.url, day.tokens["finance"]) as finance:
        answer = finance.get(
            "/reports/daily", params={"since": "2026-01-01", "until": "2026-01-31"}
        )
        backwards = finance.get(
            "/reports/daily", params={"since": "2026-01-31", "until": "2026-01-01"}
        )
        unknown_zone = finance.get(
            "/reports/daily", params={"since": "2026-01-01", "until": "2026-01-02", "tz": "Mars"}
        )
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert {r["channel"] for r in rows} == {"youzan", "douyin", "h5"}
    assert sum(r["paid"] for r in rows) == day.paid
    assert sum(r["shipped"] for r in rows) == day.expected["outcome_totals"]["shipped"]
    assert sum(r["needed_person"] for r in rows) <= day.queued
    assert sum(r["needed_person"] for r in rows) > 0
    for r in rows:
        if r["shipped"]:
            assert 0 < r["processing_median_s"] <= r["processing_p90_s"]
        else:
            assert r["processing_median_s"] is r["processing_p90_s"] is None
        assert r["not_shipped"] <= r["paid"] - r["shipped"]
        assert 0 <= r["wrong_or_missed_rate"] <= 1 and 0 <= r["needed_person_share"] <= 1
    assert backwards.status_code == 422 and backwards.json()["field"] == "until"
    assert unknown_zone.status_code == 422 and unknown_zone.json()["field"] == "tz"


def test_queue_decisions_one_and_many_each_audited(day: Day) -> None:
    """Last in the module: it changes the queues the other tests read."""
    with client(day.url, day.tokens["reviewer"]) as reviewer:
        waiting = reviewer.get("/queues", params={"limit": 3}).json()["items"]
        first, second, third = (item["ref"] for item in waiting)
        no_reason = reviewer.post(f"/queues/{first}/decide", json={"decision": "release"})
        empty = reviewer.post(
            f"/queues/{first}/decide", json={"decision": "release", "reason": " "}
        )
        one = reviewer.post(
            f"/queues/{first}/decide", json={"decision": "release", "reason": "checked"}
        )
        again = reviewer.post(
            f"/queues/{first}/decide", json={"decision": "release", "reason": "checked"}
        )
        many = reviewer.post(
            "/queues/decide",
            json={"refs": [second, first, third], "decision": "cancel", "reason": "fraud"},
        )
        after = reviewer.get("/queues", params={"limit": 1000}).json()
    assert no_reason.status_code == 422  # the body itself is incomplete
    assert empty.status_code == 422 and empty.json()["field"] == "reason"
    assert one.status_code == 200 and one.json()["status"] == "released"
    assert again.status_code == 404
    assert [(d["ref"], d["ok"], d["status"]) for d in many.json()] == [
        (second, True, "cancelled"),
        (first, False, None),
        (third, True, "cancelled"),
    ]
    assert not {first, second, third} & {item["ref"] for item in after["items"]}
    with client(day.url, day.tokens["auditor"]) as auditor:
        decided = auditor.get("/audit", params={"action": "review.decide"}).json()
    assert decided["total"] == 3
    assert {(e["subject"], e["actor"]) for e in decided["items"]} == {
        (first, "reviewer.user"),
        (second, "reviewer.user"),
        (third, "reviewer.user"),
    }
