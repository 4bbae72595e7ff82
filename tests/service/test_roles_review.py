"""Role grants (audited, then enforced) and review decisions (audited)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.order import Order
from engine.store import Store
from engine.store import orders as order_store
from engine.store import stock as stock_store
from service.access import Actor
from service.review import decide as decide_async
from service.review import list_items
from service.roles import acting, grant, list_roles, revoke
from versions.audit import list_entries, verify

BOSS = Actor("boss", "admin")
LI = Actor("li.wei", "ops_manager")


def test_roles_are_trusted_until_the_first_grant_then_checked(store: Store) -> None:
    assert acting(store, "li.wei:ops_manager") == LI  # no grants yet: trusted
    assert grant(store, BOSS, "boss", "admin", "first admin") is True
    with pytest.raises(PermissionDenied, match="does not hold the role ops_manager"):
        acting(store, "li.wei:ops_manager")
    with pytest.raises(PermissionDenied):
        grant(store, LI, "li.wei", "admin", "self-promotion")
    assert grant(store, acting(store, "boss:admin"), "li.wei", "ops_manager", "new hire")
    assert acting(store, "li.wei:ops_manager") == LI
    assert grant(store, BOSS, "li.wei", "ops_manager", "again") is False
    assert revoke(store, BOSS, "li.wei", "ops_manager", "left the team") is True
    with pytest.raises(PermissionDenied):
        acting(store, "li.wei:ops_manager")
    assert list_roles(store, BOSS) == [("boss", "admin", "boss")]
    changes = [(e.action, e.subject, e.reason) for e in list_entries(store)]
    assert changes == [
        ("role.grant", "user:boss", "first admin"),
        ("role.grant", "user:li.wei", "new hire"),
        ("role.revoke", "user:li.wei", "left the team"),
    ]
    assert verify(store) == []


def decide(*args, **kwargs):
    return asyncio.run(decide_async(*args, **kwargs))


def waiting_duplicate(store: Store) -> str:
    order = Order.model_validate(
        {
            "channel": "h5",
            "order_id": "H1",
            "created_at": "2026-01-10T10:00:00+08:00",
            "updated_at": "2026-01-10T10:05:00+08:00",
            "status": "paid",
            "items": [{"sku": "LIP-001", "qty": 1, "price": "1"}],
        }
    )
    with store.engine.begin() as conn:
        (stored,) = order_store.upsert_orders(conn, [(order, {})])
        stock_store.enqueue(
            conn,
            "review",
            stored.id,
            None,
            "possible duplicate of h5:H0",
            {"duplicate_of": "h5:H0"},
        )
    return order.ref


def test_a_review_decision_is_recorded_and_audited(store: Store, tmp_path: Path) -> None:
    ref = waiting_duplicate(store)
    reviewer = Actor("sun.li", "reviewer")
    (item,) = list_items(store, reviewer, "review")
    assert (item.ref, item.reason) == (ref, "possible duplicate of h5:H0")
    with pytest.raises(PermissionDenied):
        decide(store, Actor("wu.lei", "warehouse"), ref, "release", "not my job")
    with pytest.raises(InvalidInput, match="needs a reason"):
        decide(store, reviewer, ref, "release", " ")
    with pytest.raises(InvalidInput, match="can only be released or cancelled"):
        decide(store, reviewer, ref, "retry", "no run waits to retry")
    done = decide(store, reviewer, ref, "release", "same buyer ordered twice on purpose")
    assert done.status == "released" and not done.continued
    assert "no run waited for it" in done.note
    assert list_items(store, reviewer, "review") == []
    with pytest.raises(NotFound, match="waits in no queue"):
        decide(store, reviewer, ref, "cancel", "again")
    (entry,) = list_entries(store)
    assert (entry.action, entry.subject, entry.actor, entry.detail["decision"]) == (
        "review.decide",
        ref,
        "sun.li",
        "release",
    )
    assert verify(store) == []


def test_users_and_queue_from_the_cli(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from service.cli import app

    cli = CliRunner()
    db = ["--db", str(tmp_path / "r.db")]
    done = cli.invoke(
        app, ["users", "grant", "boss", "admin", "--reason", "first", *db, "--as", "boss:admin"]
    )
    assert done.exit_code == 0 and "boss now holds admin" in done.output
    denied = cli.invoke(app, ["versions", "list", "order_intake", *db, "--as", "li.wei:auditor"])
    assert denied.exit_code == 1 and "does not hold the role auditor" in denied.output
    listed = cli.invoke(app, ["users", "list", "--json", *db, "--as", "boss:admin"])
    assert json.loads(listed.output) == [{"user": "boss", "role": "admin", "granted_by": "boss"}]
    empty = cli.invoke(app, ["queue", "list", "--queue", "review", *db, "--as", "boss:admin"])
    assert empty.exit_code == 0 and empty.output == ""
