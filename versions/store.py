"""The version store: save, list, show, activate and roll back workflow versions.

A version is an immutable copy of a validated document, numbered 1, 2, 3… per workflow.
A save names the version it was edited from (`base`); when the workflow moved on since,
the save is refused with a `ConflictError`, so no one's change is silently lost. Exactly
one version of a workflow is active: the first save activates itself, later saves wait
for `activate`, and `rollback` saves an earlier content as a new version, active at once.
Each operation is one transaction that writes its audit record with it, and each record of a
save or rollback carries the version's content hash. A version is checked against that hash
whenever it is loaded (`versions.integrity`): an edited one raises `Tampered`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import Conflict, ConflictError, InvalidInput, NotFound
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import utcnow
from engine.workflow import Workflow
from versions import audit
from versions.audit import Acting
from versions.diff import critical_changes, semantic_diff
from versions.integrity import check_row, problem, recorded_hashes
from versions.models import ActiveVersionRow, VersionRow


@dataclass(frozen=True)
class Version:
    """One saved version of a workflow."""

    workflow_id: str
    number: int
    content_hash: str
    text: str
    author: str
    message: str
    created_at: datetime
    based_on: int | None
    confirmed: bool
    active: bool = False
    requires_approval: bool = False
    approved_by: str | None = None
    #: why its text may not be trusted (edited in the database), set only by `list_versions`
    tampered: str | None = None

    @property
    def awaiting_approval(self) -> bool:
        return self.requires_approval and self.approved_by is None

    @property
    def label(self) -> str:
        return f"{self.workflow_id} v{self.number}"

    def workflow(self) -> Workflow:
        """The validated workflow of this version (named ``<id>@v<number>`` in problems); one
        saved before a newer rule loads with that rule's problems as refusals to run."""
        return load_workflow(f"{self.workflow_id}@v{self.number}", text=self.text, saved=True)

    def summary(self) -> dict:
        """Everything but the text, JSON-ready."""
        return {
            "workflow_id": self.workflow_id,
            "number": self.number,
            "content_hash": self.content_hash,
            "author": self.author,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "based_on": self.based_on,
            "confirmed": self.confirmed,
            "active": self.active,
            "tampered": self.tampered,
        }


@dataclass(frozen=True)
class Rollback:
    """What `rollback` did: the new version (active) and how long it took."""

    version: Version
    restored: int
    seconds: float


def save(
    store: Store,
    path_or_text: str | os.PathLike,
    *,
    actor: Acting,
    base: int | None,
    message: str,
    confirm: bool = False,
    evidence: dict | None = None,
) -> Version:
    """Validate a document and save it as the next version of its workflow.

    `evidence` (e.g. a replay's summary) is recorded with the save in the audit log.

    `path_or_text` is a file path, or the document itself when it holds a newline.
    Raises `ValidationError` (nothing written), `ConflictError` when `base` is not the
    latest version, and `InvalidInput` for an unchanged document or a critical node
    removed or bypassed without `confirm` (its field: ``confirm``).
    """
    name, text = read_source(path_or_text)
    wf = load_workflow(name, text=text)
    with _transaction(store) as session:
        latest = _latest(session, wf.id)
        if latest is None and base is not None:
            raise ConflictError(
                f"{wf.id} has no versions yet, so there is no v{base} to base on; "
                "save the first version based on none"
            )
        if latest is not None and base != latest.number:
            seen = f"based on v{base}" if base is not None else "not based on any version"
            review = (
                f"`orderhub versions diff {wf.id} {base} {latest.number}`"
                if base is not None
                else f"`orderhub versions show {wf.id} {latest.number}`"
            )
            raise ConflictError(
                f"{wf.id} is at v{latest.number}, but this save is {seen}; review {review}, "
                f"merge your change into it and save again based on v{latest.number}"
            )
        critical: list[str] = []
        if latest is not None:
            check_row(session, latest)  # an edited latest version is not compared with
            if latest.content_hash == wf.content_hash:
                raise InvalidInput(
                    f"nothing to save: the document is identical to {wf.id} v{latest.number}"
                )
            old = load_workflow(f"{wf.id}@v{latest.number}", text=latest.text, saved=True)
            critical = [str(c) for c in critical_changes(semantic_diff(old, wf))]
            if critical and not confirm:
                raise InvalidInput(
                    f"this save removes or bypasses a critical node ({'; '.join(critical)}); "
                    "if that is intended, save again confirming it",
                    field="confirm",
                )
        row = VersionRow(
            workflow_id=wf.id,
            number=(latest.number + 1) if latest else 1,
            content_hash=wf.content_hash,
            text=text,
            author=actor.user,
            message=message,
            created_at=utcnow(),
            based_on=base,
            confirmed=bool(critical) or bool(evidence and evidence.get("confirmed")),
            requires_approval=wf.require_approval,
        )
        session.add(row)
        detail: dict = {"number": row.number, "based_on": base, "content_hash": row.content_hash}
        if critical:
            detail["confirmed_critical"] = critical
        if evidence:
            detail.update(evidence)
        audit.record(session, actor, "save", wf.id, detail, message)
        active = latest is None and not wf.require_approval  # else it waits for approval
        if active:
            _set_active(session, wf.id, row.number, actor)
            audit.record(session, actor, "activate", wf.id, {"number": row.number}, "first version")
        return _version(row, active=active)


def list_versions(store: Store, workflow_id: str) -> list[Version]:
    """Every version of a workflow, oldest first (the active one flagged, an edited one
    listed with why in `tampered`)."""
    with store.session() as session:
        active = _active_number(session, workflow_id)
        recorded = recorded_hashes(session, workflow_id)
        rows = session.scalars(
            select(VersionRow)
            .where(VersionRow.workflow_id == workflow_id)
            .order_by(VersionRow.number)
        ).all()
        return [
            _version(row, active=row.number == active, tampered=problem(row, recorded))
            for row in rows
        ]


def get_version(store: Store, workflow_id: str, number: int | None = None) -> Version:
    """Version `number` of a workflow, or its active version when `number` is None.

    Raises `NotFound`, and `Tampered` when its text is not what was saved.
    """
    with store.session() as session:
        active = _active_number(session, workflow_id)
        wanted = active if number is None else number
        row = None
        if wanted is not None:
            row = session.scalars(
                select(VersionRow).where(
                    VersionRow.workflow_id == workflow_id, VersionRow.number == wanted
                )
            ).first()
        if row is None:
            what = "no active version" if number is None else f"no version {number}"
            raise NotFound(f"{workflow_id} has {what}; the list of its versions shows them")
        check_row(session, row)
        return _version(row, active=row.number == active)


def find_by_hash(store: Store, workflow_id: str, content_hash: str) -> Version | None:
    """The saved version with exactly this content, if there is one."""
    versions = [
        v
        for v in list_versions(store, workflow_id)
        if v.content_hash == content_hash and v.tampered is None
    ]
    return versions[-1] if versions else None


def version_at(store: Store, workflow_id: str, content_hash: str, when: datetime) -> Version | None:
    """The saved version with this content that a run started at `when` ran on.

    A rollback saves old content again as a new number, so one hash can have several: the
    newest of them saved by `when`, else (a draft run saved later) the first one.
    """
    return pick_version(list_versions(store, workflow_id), content_hash, when)


def pick_version(versions: list[Version], content_hash: str, when: datetime) -> Version | None:
    """`version_at` over versions already read (oldest first)."""
    same = [v for v in versions if v.content_hash == content_hash]
    before = [v for v in same if v.created_at <= when]
    return before[-1] if before else (same[0] if same else None)


def activate(store: Store, workflow_id: str, number: int, *, actor: Acting) -> Version:
    """Make version `number` the one that runs (audited)."""
    get_version(store, workflow_id, number)  # a clear error for a missing version
    with _transaction(store) as session:
        previous = _active_number(session, workflow_id)
        if previous == number:
            raise Conflict(f"{workflow_id} v{number} is already active")
        row = session.scalars(
            select(VersionRow).where(
                VersionRow.workflow_id == workflow_id, VersionRow.number == number
            )
        ).one()
        if row.requires_approval and row.approved_by is None:
            raise Conflict(
                f"{workflow_id} v{number} needs a second person's approval before it can run: "
                "someone other than its author, with the role admin or ops_manager, approves it"
            )
        _set_active(session, workflow_id, number, actor)
        audit.record(
            session, actor, "activate", workflow_id, {"number": number, "previous": previous}
        )
        return _version(row, active=True)


def rollback(
    store: Store, workflow_id: str, number: int, *, actor: Acting, reason: str
) -> Rollback:
    """Save version `number`'s content as a new version based on the latest, active at once."""
    started = time.perf_counter()
    if not reason.strip():
        raise InvalidInput("a rollback needs a reason; it goes in the audit log", field="reason")
    target = get_version(store, workflow_id, number)
    target.workflow().check_runnable()  # still valid under today's node types and rules
    if target.awaiting_approval:
        raise Conflict(
            f"{workflow_id} v{number} was never approved; approve it before rolling back to it"
        )
    with _transaction(store) as session:
        latest = _latest(session, workflow_id)
        assert latest is not None  # `target` exists
        if latest.number == number:
            raise Conflict(
                f"v{number} is the latest version of {workflow_id}; to run it, activate it"
            )
        previous = _active_number(session, workflow_id)
        row = VersionRow(
            workflow_id=workflow_id,
            number=latest.number + 1,
            content_hash=target.content_hash,
            text=target.text,
            author=actor.user,
            message=f"rollback to v{number}: {reason}",
            created_at=utcnow(),
            based_on=latest.number,
            confirmed=False,
            # the restored content was approved (or needed none) when it ran before
            requires_approval=target.requires_approval,
            approved_by=target.approved_by,
        )
        session.add(row)
        _set_active(session, workflow_id, row.number, actor)
        audit.record(
            session,
            actor,
            "rollback",
            workflow_id,
            {
                "restored": number,
                "number": row.number,
                "previous_active": previous,
                "content_hash": row.content_hash,
            },
            reason,
        )
        version = _version(row, active=True)
    return Rollback(version, number, time.perf_counter() - started)


# --- private helpers -------------------------------------------------------------------


class _transaction:
    """A session in one transaction; a race on a unique key becomes a `ConflictError`."""

    def __init__(self, store: Store) -> None:
        self.session = store.session()

    def __enter__(self) -> Session:
        self.session.begin()
        return self.session

    def __exit__(self, exc_type, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        try:
            if exc_type is None:
                try:
                    self.session.commit()
                except IntegrityError as error:
                    exc = error
            if exc is not None:
                self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, IntegrityError):  # a flush or the commit lost a race
            raise ConflictError(
                "someone else changed this workflow at the same moment; "
                "list its versions and try again"
            ) from exc
        return False


def read_source(path_or_text: str | os.PathLike) -> tuple[str, str]:
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return "<text>", path_or_text
    path = Path(path_or_text)
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return str(path), ""  # load_workflow reports it (an empty document) at path:1:1


def _latest(session: Session, workflow_id: str) -> VersionRow | None:
    number = session.scalar(
        select(func.max(VersionRow.number)).where(VersionRow.workflow_id == workflow_id)
    )
    if number is None:
        return None
    return session.scalars(
        select(VersionRow).where(VersionRow.workflow_id == workflow_id, VersionRow.number == number)
    ).one()


def _active_number(session: Session, workflow_id: str) -> int | None:
    return session.scalar(
        select(ActiveVersionRow.number).where(ActiveVersionRow.workflow_id == workflow_id)
    )


def _set_active(session: Session, workflow_id: str, number: int, actor: Acting) -> None:
    row = session.get(ActiveVersionRow, workflow_id)
    if row is None:
        session.add(
            ActiveVersionRow(
                workflow_id=workflow_id,
                number=number,
                activated_at=utcnow(),
                activated_by=actor.user,
            )
        )
    else:
        row.number, row.activated_at, row.activated_by = number, utcnow(), actor.user
    session.flush()


def _version(row: VersionRow, *, active: bool, tampered: str | None = None) -> Version:
    return Version(
        row.workflow_id,
        row.number,
        row.content_hash,
        row.text,
        row.author,
        row.message,
        row.created_at,
        row.based_on,
        row.confirmed,
        active,
        bool(row.requires_approval),
        row.approved_by,
        tampered,
    )
