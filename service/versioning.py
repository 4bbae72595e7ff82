"""Version and audit use cases: check the actor's role, then call `versions`.

The CLI (and later the API and the editor) call these; none of them checks roles itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.errors import InvalidInput, NotFound
from engine.loader import load_workflow
from engine.store import Store
from service.access import Actor, require
from service.scenarios import load_scenario
from versions import audit
from versions import store as vstore
from versions.approval import approve
from versions.audit import AuditEntry
from versions.diff import Change, semantic_diff, text_diff
from versions.integrity import verify_versions
from versions.replay import (
    ReplayReport,
    input_from_scenario,
    input_from_store,
    order_dates,
    replay,
)
from versions.store import Rollback, Version


@dataclass(frozen=True)
class VersionDiff:
    """Two versions compared: the semantic changes and the unified text diff."""

    workflow_id: str
    old: int
    new: int
    changes: list[Change]
    text: str

    def as_dict(self) -> dict:
        return {
            "workflow_id": self.workflow_id,
            "old": self.old,
            "new": self.new,
            "changes": [c.as_dict() for c in self.changes],
            "text": self.text,
        }


def list_versions(store: Store, actor: Actor, workflow_id: str) -> list[Version]:
    require(actor, "versions.list")
    return vstore.list_versions(store, workflow_id)


def show_version(store: Store, actor: Actor, workflow_id: str, number: int | None) -> Version:
    require(actor, "versions.show")
    return vstore.get_version(store, workflow_id, number)


async def save_version(
    store: Store,
    actor: Actor,
    path_or_text: str | os.PathLike,
    *,
    base: int | None,
    message: str,
    confirm: bool = False,
    replay_scenario: str | None = None,
    replay_days: int | None = None,
) -> Version:
    """Save a version; with a replay, changed outcomes must be confirmed and are recorded.

    Async because a replay runs both versions over real orders; without one it does not
    wait on anything.
    """
    require(actor, "versions.save")
    evidence = None
    if replay_scenario is not None or replay_days is not None:
        evidence = await _replay_evidence(
            store, path_or_text, replay_scenario, replay_days, confirm
        )
    return vstore.save(
        store,
        path_or_text,
        actor=actor,
        base=base,
        message=message,
        confirm=confirm,
        evidence=evidence,
    )


async def _replay_evidence(
    store: Store,
    path_or_text: str | os.PathLike,
    scenario: str | None,
    days: int | None,
    confirm: bool,
) -> dict | None:
    name, text = vstore.read_source(path_or_text)
    candidate = load_workflow(name, text=text)
    try:
        active = vstore.get_version(store, candidate.id).workflow()
    except NotFound:
        return None  # nothing runs yet: nothing to compare with
    data = (
        input_from_scenario(load_scenario(scenario))
        if scenario
        else input_from_store(store, days or 7, datetime.now(UTC))
    )
    report = await replay(data, active, candidate)
    if not report.changed:
        return {"replay": {"orders": report.orders, "changed": 0}}
    summary = {
        "orders": report.orders,
        "changed": len(report.changed),
        "groups": {k: len(v) for k, v in report.groups.items()},
        "oversold": len(report.oversold),
    }
    if not confirm:
        groups = "; ".join(f"{n} {k}" for k, n in summary["groups"].items())
        raise InvalidInput(
            f"replay: {summary['changed']} of {report.orders} orders would be decided "
            f"differently ({groups}); {summary['oversold']} would oversell; if that is "
            "intended, save again confirming it",
            field="confirm",
        )
    return {"replay": summary, "confirmed": True}


def diff_versions(store: Store, actor: Actor, workflow_id: str, old: int, new: int) -> VersionDiff:
    require(actor, "versions.diff")
    a = vstore.get_version(store, workflow_id, old)
    b = vstore.get_version(store, workflow_id, new)
    return VersionDiff(
        workflow_id,
        old,
        new,
        semantic_diff(a.workflow(), b.workflow()),
        text_diff(a.text, b.text, f"{workflow_id}@v{old}", f"{workflow_id}@v{new}"),
    )


async def replay_version(
    store: Store,
    actor: Actor,
    workflow_id: str,
    candidate: str,
    *,
    against: int | None = None,
    scenario: str | None = None,
    days: int | None = None,
) -> ReplayReport:
    """What `candidate` (a version number or a file) would decide differently on real orders.

    Against the active version (or version `against`), over a scenario's orders or the
    orders of the last `days` days in the store; nothing real is touched.
    """
    require(actor, "versions.replay")
    base = vstore.get_version(store, workflow_id, against).workflow()
    if candidate.isdigit():
        new = vstore.get_version(store, workflow_id, int(candidate)).workflow()
    else:
        new = load_workflow(candidate)
    if scenario is not None:
        return await replay(input_from_scenario(load_scenario(scenario)), base, new)
    now = datetime.now(UTC)
    report = await replay(input_from_store(store, days or 7, now), base, new)
    if report.orders == 0:
        report.hint = _empty_range_hint(store, days or 7, now)
    return report


def _empty_range_hint(store: Store, days: int, now: datetime) -> str:
    """Why a replay of the last `days` days found no orders, and what would find some."""
    held = order_dates(store)
    if held is None:
        return "the store holds no orders yet: replay a scenario's orders instead"
    first, last = held
    needed = (now.replace(tzinfo=None) - first).days + 1
    return (
        f"no order in the store was created in the last {days} day(s); it holds orders "
        f"created {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC): replay the last {needed} days "
        "to include them all, or a scenario's orders"
    )


def approve_version(store: Store, actor: Actor, workflow_id: str, number: int) -> Version:
    require(actor, "versions.approve")
    return approve(store, workflow_id, number, actor=actor)


def activate_version(store: Store, actor: Actor, workflow_id: str, number: int) -> Version:
    require(actor, "versions.activate")
    return vstore.activate(store, workflow_id, number, actor=actor)


def rollback_version(
    store: Store, actor: Actor, workflow_id: str, number: int, *, reason: str
) -> Rollback:
    require(actor, "versions.rollback")
    return vstore.rollback(store, workflow_id, number, actor=actor, reason=reason)


def audit_entries(
    store: Store, actor: Actor, *, subject: str | None = None, limit: int | None = None
) -> list[AuditEntry]:
    require(actor, "audit.list")
    return audit.list_entries(store, subject=subject, limit=limit)


def verify_audit(
    store: Store, actor: Actor, *, head: str | None = None
) -> tuple[list[str], tuple[int, str] | None]:
    """The problems of the chain and of every saved version's text (empty when all is
    intact) and the chain's head, to keep a copy of elsewhere.

    `head` is such a copy (``HASH`` or ``ID:HASH``): the chain must still hold that row.
    """
    require(actor, "audit.verify")
    return audit.verify(store, head) + verify_versions(store), audit.head(store)


def audit_head(store: Store, actor: Actor) -> tuple[int, str] | None:
    """(id, hash) of the newest audit record; None while the log is empty."""
    require(actor, "audit.verify")
    return audit.head(store)
