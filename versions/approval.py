"""Four eyes: a version of a workflow with `require_approval: true` runs only once a second
person has approved it; nobody approves their own change."""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import Conflict, PermissionDenied
from engine.store import Store
from engine.store.models import utcnow
from versions import audit
from versions.audit import Acting
from versions.models import VersionRow
from versions.store import Version, _transaction, _version, get_version


def approve(store: Store, workflow_id: str, number: int, *, actor: Acting) -> Version:
    """Record `actor`'s approval of version `number` (audited); activating it is a next step."""
    current = get_version(store, workflow_id, number)  # a clear error for a missing version
    with _transaction(store) as session:
        row = session.scalars(
            select(VersionRow).where(
                VersionRow.workflow_id == workflow_id, VersionRow.number == number
            )
        ).one()
        if not row.requires_approval:
            raise Conflict(
                f"{workflow_id} v{number} needs no approval (its document does not say "
                "require_approval: true)"
            )
        if row.approved_by is not None:
            raise Conflict(f"{workflow_id} v{number} was approved by {row.approved_by}")
        if row.author == actor.user:
            raise PermissionDenied(
                f"{actor.user} saved {workflow_id} v{number} and cannot approve it; "
                "ask a second person with the role admin or ops_manager"
            )
        row.approved_by, row.approved_at = actor.user, utcnow()
        audit.record(session, actor, "approve", workflow_id, {"number": number})
        return _version(row, active=current.active)
