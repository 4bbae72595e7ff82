"""Masking through the API (issue 9, item 3): after a real day of orders, every GET of the
served OpenAPI document, called as every role, shows no receiver phone to a role without
the right to see phones (warehouse, finance, auditor) and no street address to a role
without the right to see addresses (finance), in lists and details alike. The endpoints
come from the document, so a new one is checked without anyone adding it here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from connectors.simulator.server import SimulatorHandle
from engine.store.models import OrderRow, QueueItem, RunRow
from engine.workflow import Workflow
from nodes.rules import normalise_phone
from service.access import ALLOWED, ROLES
from tests.e2e.api_server import ADMIN, client, fresh_database, serving, token_for
from tests.e2e.conftest import S1200, WORKFLOW, run_scenario
from tests.e2e.openapi_cases import minimal_request, operations
from versions import store as vstore


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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def day(
    request: pytest.FixtureRequest, intake: Workflow, sim1200: SimulatorHandle
) -> Iterator[Day]:
    with fresh_database(request.param) as store:
        vstore.save(store, WORKFLOW, actor=ADMIN, base=None, message="first")
        sim1200.reset()
        run_scenario(intake, store, sim1200, S1200)
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
    assert len(day.phones) > 500 and len(day.addresses) > 500
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
