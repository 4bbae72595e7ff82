"""Four eyes: with `require_approval: true` a version runs only after a second person approves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.errors import Conflict, PermissionDenied
from engine.store import Store
from service import versioning
from service.access import Actor
from service.versioning import activate_version, approve_version
from versions.audit import list_entries, verify
from versions.store import get_version, rollback

ROOT = Path(__file__).resolve().parents[2]
FOUR_EYES = (
    (ROOT / "workflows" / "order_intake.yaml")
    .read_text(encoding="utf-8")
    .replace("name: 订单聚合中心\n", "name: 订单聚合中心\nrequire_approval: true\n")
)
LI = Actor("li.wei", "ops_manager")


def save_version(*args: object, **kwargs: object) -> versioning.Version:
    return asyncio.run(versioning.save_version(*args, **kwargs))  # the use case is async


WANG = Actor("wang.fang", "ops_manager")
ZHAO = Actor("zhao.min", "auditor")


def test_a_version_runs_only_after_someone_else_approves_it(store: Store) -> None:
    v1 = save_version(store, LI, FOUR_EYES, base=None, message="first")
    assert v1.awaiting_approval and not v1.active
    with pytest.raises(Conflict, match="needs a second person's approval"):
        activate_version(store, LI, "order_intake", 1)
    with pytest.raises(PermissionDenied, match="cannot approve it"):
        approve_version(store, LI, "order_intake", 1)
    with pytest.raises(PermissionDenied):
        approve_version(store, ZHAO, "order_intake", 1)
    approved = approve_version(store, WANG, "order_intake", 1)
    assert approved.approved_by == "wang.fang"
    assert activate_version(store, LI, "order_intake", 1).active
    with pytest.raises(Conflict, match="was approved by wang.fang"):
        approve_version(store, WANG, "order_intake", 1)
    actions = [e.action for e in list_entries(store)]
    assert actions == ["save", "approve", "activate"]
    assert verify(store) == []


def test_rollback_restores_approved_content_at_once(store: Store) -> None:
    save_version(store, LI, FOUR_EYES, base=None, message="first")
    approve_version(store, WANG, "order_intake", 1)
    activate_version(store, LI, "order_intake", 1)
    changed = FOUR_EYES.replace("    default: 10", "    default: 30")
    save_version(store, LI, changed, base=1, message="more safety stock")  # v2, not approved
    done = rollback(store, "order_intake", 1, actor=LI, reason="back to what ran")
    assert done.version.number == 3 and done.version.active
    assert done.version.approved_by == "wang.fang"  # the content it restores was approved
    with pytest.raises(Conflict, match="never approved"):
        rollback(store, "order_intake", 2, actor=LI, reason="try the unapproved one")
    assert get_version(store, "order_intake").number == 3
