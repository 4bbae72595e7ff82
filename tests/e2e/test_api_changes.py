"""Changing things through the API, on a running uvicorn over SQLite and PostgreSQL: saving,
comparing, activating and rolling back workflow versions; roles and tokens; each change in
the audit log, each refusal with its status (404, 409, 422 with the field or the problems)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from engine.store import Store
from tests.e2e.api_server import client, serving, token_for
from tests.e2e.conftest import WORKFLOW

TEXT = WORKFLOW.read_text(encoding="utf-8")


@dataclass
class Api:
    admin: httpx.Client
    ops: httpx.Client
    auditor: httpx.Client
    url: str


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    with serving(store) as url:
        people = [("admin", "admin"), ("ops", "ops_manager"), ("aud", "auditor")]
        clients = [client(url, token_for(store, user, role)) for user, role in people]
        yield Api(*clients, url)
        for each in clients:
            each.close()


def test_versions_saved_compared_activated_and_rolled_back(api: Api) -> None:
    base = "/workflows/order_intake"
    assert api.ops.get("/workflows").json()["total"] == 0
    first = api.ops.post(f"{base}/versions", json={"text": TEXT, "message": "first"})
    assert first.status_code == 201, first.text
    assert (first.json()["number"], first.json()["active"]) == (1, True)
    more = TEXT.replace("    default: 10\n", "    default: 12\n", 1)
    second = api.ops.post(f"{base}/versions", json={"text": more, "message": "more", "base": 1})
    assert second.status_code == 201 and second.json()["active"] is False
    diff = api.auditor.get(f"{base}/diff", params={"old": 1, "new": 2}).json()
    assert any(c["path"].endswith("safety_stock.default") for c in diff["changes"]), diff
    assert "+    default: 12" in diff["text"]
    assert api.ops.post(f"{base}/versions/2/activate").json()["active"] is True
    again = api.ops.post(f"{base}/versions/2/activate")
    assert again.status_code == 409 and "already active" in again.json()["detail"]
    assert api.auditor.get(f"{base}/active").json()["number"] == 2
    back = api.ops.post(f"{base}/rollback", json={"to": 1, "reason": "stock is fine"})
    assert back.status_code == 200, back.text
    assert (back.json()["version"]["number"], back.json()["restored"]) == (3, 1)
    active = api.auditor.get(f"{base}/active").json()
    assert active["number"] == 3 and active["text"] == TEXT
    pages = [
        api.auditor.get(f"{base}/versions", params={"limit": 2, "offset": o}).json() for o in (0, 2)
    ]
    assert [v["number"] for p in pages for v in p["items"]] == [1, 2, 3]
    assert pages[0]["total"] == 3
    replay = api.auditor.post(f"{base}/replay", json={"number": 2, "days": 7})
    assert replay.status_code == 200 and replay.json()["orders"] == 0
    audited = api.auditor.get("/audit", params={"subject": "order_intake"}).json()["items"]
    assert {"activate", "rollback"} <= {e["action"] for e in audited}
    assert {e["actor"] for e in audited} == {"ops"}


def test_refusals_say_why(api: Api) -> None:
    base = "/workflows/order_intake"
    api.ops.post(f"{base}/versions", json={"text": TEXT, "message": "first"})
    other = api.ops.post("/workflows/other/versions", json={"text": TEXT, "message": "m"})
    assert other.status_code == 422 and other.json()["field"] == "text"
    broken = api.ops.post(
        f"{base}/versions", json={"text": TEXT.replace("type: pull", "type: pul"), "message": "m"}
    )
    assert broken.status_code == 422
    assert broken.json()["problems"][0].startswith("<text>:")  # file:line:col, each problem
    one_line = api.ops.post(f"{base}/versions", json={"text": "/etc/passwd", "message": "m"})
    assert one_line.status_code == 422  # a text, never a path on the server
    assert "root:" not in one_line.text
    missing = api.auditor.get(f"{base}/versions/99")
    assert missing.status_code == 404 and "no version 99" in missing.json()["detail"]
    no_reason = api.ops.post(f"{base}/rollback", json={"to": 1, "reason": ""})
    assert no_reason.status_code in (409, 422)
    denied = api.auditor.post(f"{base}/versions/1/activate")
    assert denied.status_code == 403 and "may not versions.activate" in denied.json()["detail"]


def test_roles_and_tokens_through_the_api(api: Api) -> None:
    made = api.admin.post("/tokens", json={"user": "wu.lei", "role": "warehouse", "days": 1})
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["info"]["id"]
    with client(api.url, secret) as wu:
        assert wu.get("/orders").status_code == 200
        assert wu.get("/runs").status_code == 403
        listed = api.admin.get("/tokens").json()
        assert secret not in str(listed) and listed["total"] == 4
        assert api.admin.delete(f"/tokens/{token_id}", params={"reason": "left"}).status_code == 200
        gone = wu.get("/orders")
        assert gone.status_code == 401 and "was revoked" in gone.json()["detail"]
    granted = api.admin.post("/users/admin/roles", json={"role": "admin", "reason": "first"})
    assert granted.json() == {"changed": True}
    # from the first grant on, a token acts only while its user holds its role
    assert api.ops.get("/runs").status_code == 403
    api.admin.post("/users/ops/roles", json={"role": "ops_manager", "reason": "ops"})
    assert api.ops.get("/runs").status_code == 200
    users = api.admin.get("/users").json()
    assert [(u["user"], u["role"]) for u in users["items"]] == [
        ("admin", "admin"),
        ("ops", "ops_manager"),
    ]
    revoked = api.admin.delete("/users/ops/roles/ops_manager", params={"reason": "moved"})
    assert revoked.json() == {"changed": True}
    assert api.ops.get("/runs").status_code == 403
    actions = [e["action"] for e in api.admin.get("/audit").json()["items"]]
    assert actions[:6] == [
        "role.revoke",
        "role.grant",
        "role.grant",
        "token.revoke",
        "token.create",
        "token.create",
    ]
    check = api.admin.get("/audit/verify").json()
    assert check["intact"] is True and check["head_id"] == len(actions)


def test_a_breaker_opened_and_closed_through_the_api_shows_in_systems_audited(
    store: Store,
) -> None:
    settings = {"sf": {"base_url": "http://127.0.0.1:9", "app_key": "k", "secret": "s"}}
    with serving(store, systems=settings) as url:
        ops = client(url, token_for(store, "ops", "ops_manager"))
        aud = client(url, token_for(store, "aud", "auditor"))
        listed = aud.get("/systems").json()["items"]
        assert [(s["name"], s["breaker_state"], s["waiting"]) for s in listed] == [
            ("sf", "closed", 0)
        ]
        refused = aud.post("/systems/sf/open", json={"reason": "maintenance"})
        assert refused.status_code == 403
        opened = ops.post("/systems/sf/open", json={"reason": "SF maintenance 22:00-23:00"})
        assert opened.status_code == 200, opened.text
        (sf,) = aud.get("/systems").json()["items"]
        assert (sf["breaker_state"], sf["breaker_by_hand"]) == ("open", True)
        assert sf["breaker_reason"] == "SF maintenance 22:00-23:00"
        unknown = ops.post("/systems/fedex/open", json={"reason": "x"})
        assert unknown.status_code == 422 and unknown.json()["field"] == "system"
        closed = ops.post("/systems/sf/close", json={"reason": "maintenance over"})
        assert closed.status_code == 200 and closed.json()["state"] == "closed"
        actions = [
            e["action"] for e in aud.get("/audit", params={"subject": "system:sf"}).json()["items"]
        ]
        assert sorted(actions) == ["breaker.close", "breaker.open"]
        ops.close()
        aud.close()
