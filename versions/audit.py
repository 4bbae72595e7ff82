"""The audit log: append-only, each row chained to the one before by a sha256 hash.

A row's `hash` is ``sha256(prev_hash + canonical JSON of the row)`` where the row is its id,
time, actor, role, action, subject, detail and reason; the first row's `prev_hash` is empty.
Ids are assigned 1, 2, 3… by `record` itself, so two writers racing for the same place
collide on the primary key instead of forking the chain. `verify` recomputes the chain and
names every edited, deleted or reordered row. The head row (id and hash of the newest row)
is rewritten with every record; a copy of it kept outside the database (`head`, then
`verify(store, head=…)`) also catches a log rewritten together with its head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.store import Store
from engine.store.models import utcnow
from versions.models import AuditHeadRow, AuditRow

HEAD = "audit_log"


class Acting(Protocol):
    """Who is acting: a user name and a role (the service layer's `Actor` is one)."""

    user: str
    role: str


@dataclass(frozen=True)
class AuditEntry:
    """One audit record as read back."""

    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, Any]
    reason: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def record(
    session: Session,
    actor: Acting,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one audit row in the caller's transaction (it commits or rolls back with it)."""
    last = session.execute(
        select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)
    ).first()
    row = AuditRow(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor=actor.user,
        role=actor.role,
        action=action,
        subject=subject,
        detail=detail or {},
        reason=reason,
        prev_hash=last.hash if last else "",
    )
    row.hash = _hash(row.prev_hash, row)
    session.add(row)
    head = session.get(AuditHeadRow, HEAD) or AuditHeadRow(name=HEAD)
    head.last_id, head.last_hash, head.updated_at = row.id, row.hash, utcnow()
    session.add(head)
    session.flush()
    return _entry(row)


def verify(store: Store, head: str | None = None) -> list[str]:
    """Every problem in the chain (edited, deleted or reordered rows); empty when intact.

    Deleting the newest rows leaves a shorter chain that is consistent in itself; the head
    row (written with every record) no longer matches it. Someone who rewrites the head too
    is caught only by a copy of `head()` kept outside the database: pass it as `head`
    (``HASH`` or ``ID:HASH``), and the chain must still hold that row, unchanged.
    """
    kept = _parse_head(head) if head is not None else None
    problems: list[str] = []
    prev_hash, expected_id = "", 1
    sound: dict[str, int] = {}  # hash -> id of each row that is itself unchanged and linked
    with store.session() as session:
        for row in session.scalars(select(AuditRow).order_by(AuditRow.id)):
            if row.prev_hash == prev_hash and _hash(row.prev_hash, row) == row.hash:
                sound[row.hash] = row.id
            if row.id != expected_id:
                problems.append(
                    f"audit row {expected_id}"
                    + (f"..{row.id - 1}" if row.id - 1 > expected_id else "")
                    + " is missing (deleted)"
                )
            if row.prev_hash != prev_hash:
                problems.append(
                    f"audit row {row.id} does not follow the row before it "
                    "(a row was deleted, inserted or reordered)"
                )
            if _hash(row.prev_hash, row) != row.hash:
                problems.append(f"audit row {row.id} was edited after it was written")
            prev_hash, expected_id = row.hash, row.id + 1
        head = session.get(AuditHeadRow, HEAD)
    last = (expected_id - 1, prev_hash)
    if head is None and last[0] > 0:
        problems.append("the audit head is missing (it was deleted)")
    elif head is not None and (head.last_id, head.last_hash) != last:
        problems.append(
            f"the audit log ends at row {last[0]} but its head says row {head.last_id}: "
            "the newest rows were deleted (or the head edited)"
        )
    if kept is not None:
        kept_id, kept_hash = kept
        found = sound.get(kept_hash)
        if found is None or (kept_id is not None and found != kept_id):
            where = f"row {kept_id}, " if kept_id is not None else ""
            problems.append(
                f"the head kept elsewhere ({where}{kept_hash[:12]}…) is not in the audit log: "
                "the log was rewritten, or cut back before that row"
            )
    return problems


def head(store: Store) -> tuple[int, str] | None:
    """(id, hash) of the newest audit row as the head records it; keep a copy elsewhere."""
    with store.session() as session:
        row = session.get(AuditHeadRow, HEAD)
        return (row.last_id, row.last_hash) if row else None


def list_entries(
    store: Store, *, subject: str | None = None, limit: int | None = None
) -> list[AuditEntry]:
    """Audit records, oldest first (the newest `limit` when given), optionally of one subject."""
    query = select(AuditRow).order_by(AuditRow.id.desc())
    if subject is not None:
        query = query.where(AuditRow.subject == subject)
    if limit is not None:
        query = query.limit(limit)
    with store.session() as session:
        return [_entry(row) for row in reversed(session.scalars(query).all())]


def count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRow)) or 0


# --- private helpers -------------------------------------------------------------------


def _parse_head(head: str) -> tuple[int | None, str]:
    """``HASH`` or ``ID:HASH`` as `head` prints it; anything else is `InvalidInput`."""
    text = head.strip()
    kept_id: int | None = None
    if ":" in text:
        number, _, text = text.partition(":")
        if not number.strip().isdigit():
            raise InvalidInput(f"a kept audit head is HASH or ID:HASH, not {head!r}", field="head")
        kept_id = int(number)
    text = text.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(
            f"a kept audit head is a 64-digit sha256 (HASH or ID:HASH), not {head!r}",
            field="head",
        )
    return kept_id, text


def _hash(prev_hash: str, row: AuditRow) -> str:
    body = {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "subject": row.subject,
        "detail": row.detail,
        "reason": row.reason,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        row.id,
        row.at,
        row.actor,
        row.role,
        row.action,
        row.subject,
        dict(row.detail),
        row.reason,
        row.prev_hash,
        row.hash,
    )
