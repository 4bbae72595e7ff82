"""Workflow use cases the API needs beside `service.versioning`: the list of workflows, pages
of versions, and saving or replaying a document given as text (never as a server path).

`versioning.save_version` and `replay_version` take a path or a text; a door that receives a
document over the network must not let it be read as a file name on the server, so these
wrappers always pass text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.loader import load_workflow
from engine.store import Store
from service import versioning
from service.access import Actor, require
from service.paging import Page, page_of
from versions import store as vstore
from versions.models import ActiveVersionRow, VersionRow
from versions.replay import input_from_store, replay
from versions.store import Version


@dataclass(frozen=True)
class WorkflowInfo:
    """A stored workflow: how many versions it has and which one runs."""

    workflow_id: str
    versions: int
    active: int | None
    latest: int


@dataclass(frozen=True)
class VersionInfo:
    """A version without its text."""

    workflow_id: str
    number: int
    content_hash: str
    author: str
    message: str
    created_at: datetime
    based_on: int | None
    confirmed: bool
    active: bool
    requires_approval: bool
    approved_by: str | None
    tampered: str | None  # why its text may not be trusted (edited in the database)


@dataclass(frozen=True)
class VersionText(VersionInfo):
    """A version with its YAML text."""

    text: str


def list_workflows(store: Store, actor: Actor, limit: int, offset: int) -> Page[WorkflowInfo]:
    """Every workflow with saved versions, by id."""
    require(actor, "versions.list")
    query = (
        select(VersionRow.workflow_id, func.count(), func.max(VersionRow.number))
        .group_by(VersionRow.workflow_id)
        .order_by(VersionRow.workflow_id)
    )
    with store.session() as session:
        active = dict(
            session.execute(select(ActiveVersionRow.workflow_id, ActiveVersionRow.number)).all()
        )
        rows = session.execute(query).all()
    listed = [WorkflowInfo(wf, n, active.get(wf), latest) for wf, n, latest in rows]
    return page_of(listed, limit, offset)


def version_page(
    store: Store, actor: Actor, workflow_id: str, limit: int, offset: int
) -> Page[VersionInfo]:
    """The versions of a workflow, oldest first."""
    return page_of(
        [info(v) for v in versioning.list_versions(store, actor, workflow_id)], limit, offset
    )


def version_text(store: Store, actor: Actor, workflow_id: str, number: int | None) -> VersionText:
    """One version (the active one when `number` is None) with its text."""
    version = versioning.show_version(store, actor, workflow_id, number)
    return VersionText(**info(version).__dict__, text=version.text)


async def save_text(
    store: Store,
    actor: Actor,
    workflow_id: str,
    text: str,
    *,
    base: int | None,
    message: str,
    confirm: bool = False,
    replay_days: int | None = None,
) -> VersionInfo:
    """Save `text` as the next version of `workflow_id` (the document's own id must match)."""
    require(actor, "versions.save")
    document = _as_text(text)
    named = load_workflow("<text>", text=document).id
    if named != workflow_id:
        raise InvalidInput(
            f"the document is workflow {named!r}, not {workflow_id!r}: save it under its own id",
            field="text",
        )
    saved = await versioning.save_version(
        store, actor, document, base=base, message=message, confirm=confirm, replay_days=replay_days
    )
    return info(saved)


async def replay_text(
    store: Store,
    actor: Actor,
    workflow_id: str,
    *,
    number: int | None = None,
    text: str | None = None,
    against: int | None = None,
    days: int = 7,
) -> dict[str, Any]:
    """What version `number`, or the document `text`, would decide differently from the
    active version (or version `against`) on the orders of the last `days` days."""
    require(actor, "versions.replay")
    if (number is None) == (text is None):
        raise InvalidInput("give either a version number or a document text", field="candidate")
    if number is not None:
        report = await versioning.replay_version(
            store, actor, workflow_id, str(number), against=against, days=days
        )
        return report.as_dict()
    base = vstore.get_version(store, workflow_id, against).workflow()
    candidate = load_workflow("<text>", text=_as_text(text or ""))
    data = input_from_store(store, days, datetime.now(UTC))
    return (await replay(data, base, candidate)).as_dict()


def info(version: Version) -> VersionInfo:
    return VersionInfo(
        version.workflow_id,
        version.number,
        version.content_hash,
        version.author,
        version.message,
        version.created_at,
        version.based_on,
        version.confirmed,
        version.active,
        version.requires_approval,
        version.approved_by,
        version.tampered,
    )


def _as_text(text: str) -> str:
    """A document as text, even one of a single line (which would otherwise be a path)."""
    if not text.strip():
        raise InvalidInput("the document is empty", field="text")
    return text if "\n" in text else text + "\n"
