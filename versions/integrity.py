"""Tamper evidence for saved versions: a version's text must still hash to what was saved.

Each version row keeps the sha256 of its text (`content_hash`), and the audit record of the
save (or rollback) that wrote it keeps that hash too, inside the hash-chained log. So an
edit of `workflow_versions.text` shows as a text that no longer matches its own hash, and an
edit of text and hash together as a hash the audit log never recorded. `check_row` runs
whenever a version is loaded (to show, diff, run, replay, activate or roll back) and raises
`Tampered`; `verify_versions` lists every such version for `orderhub audit verify`.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Tampered
from engine.store import Store
from versions.models import AuditRow, VersionRow

#: the audit actions that write a version row, each recording its number and content hash
WRITES = ("save", "rollback")


def text_hash(text: str) -> str:
    """sha256 of a document's text, as `Workflow.content_hash` computes it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def problem(row: VersionRow, recorded: dict[tuple[str, int], str]) -> str | None:
    """Why this version may not be trusted, or None when its text is what was saved."""
    label = f"{row.workflow_id} v{row.number}"
    if text_hash(row.text) != row.content_hash:
        return (
            f"{label} was edited in the database after it was saved: its text no longer "
            f"matches its sha256 {row.content_hash[:12]}"
        )
    kept = recorded.get((row.workflow_id, row.number))
    if kept is None:
        return f"{label} has no save record in the audit log: it was written around orderhub"
    if kept != row.content_hash:
        return (
            f"{label} was edited in the database after it was saved: the audit log recorded "
            f"sha256 {kept[:12]} for it, the row now says {row.content_hash[:12]}"
        )
    return None


def check_row(session: Session, row: VersionRow) -> None:
    """Raise `Tampered` when a version's text is not what was saved (see `problem`)."""
    found = problem(row, recorded_hashes(session, row.workflow_id))
    if found is not None:
        raise Tampered(
            f"{found}; it is refused until its saved text is restored (verifying the audit "
            "log lists every such version)"
        )


def recorded_hashes(session: Session, workflow_id: str | None = None) -> dict[tuple[str, int], str]:
    """(workflow id, number) → the content hash the audit log recorded when it was written.

    A rollback recorded before rollbacks carried their hash stands for the restored version's.
    """
    query = select(AuditRow.subject, AuditRow.action, AuditRow.detail).order_by(AuditRow.id)
    query = query.where(AuditRow.action.in_(WRITES))
    if workflow_id is not None:
        query = query.where(AuditRow.subject == workflow_id)
    recorded: dict[tuple[str, int], str] = {}
    for subject, action, detail in session.execute(query):
        number = detail.get("number")
        digest = detail.get("content_hash")
        if digest is None and action == "rollback":
            digest = recorded.get((subject, detail.get("restored")))
        if isinstance(number, int) and isinstance(digest, str):
            recorded[(subject, number)] = digest
    return recorded


def verify_versions(store: Store) -> list[str]:
    """Every saved version whose text is not what was saved; empty when all are intact."""
    with store.session() as session:
        recorded = recorded_hashes(session)
        rows = session.scalars(
            select(VersionRow).order_by(VersionRow.workflow_id, VersionRow.number)
        )
        return [p for p in (problem(row, recorded) for row in rows) if p is not None]
