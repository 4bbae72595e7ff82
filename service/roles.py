"""Who holds which role: grants and revocations (audited), and checking who is acting.

While nobody has been granted a role, orderhub trusts the `--as USER:ROLE` it is given (a
single-brand machine, or a fresh store); from the first grant on, acting in a role needs
that role to have been granted to that user — grant an admin first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.errors import InvalidInput, PermissionDenied
from engine.store import Store
from engine.store.models import Base, utcnow
from service.access import ROLES, Actor, parse_actor, require
from versions import audit


class UserRoleRow(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


def acting(store: Store, text: str) -> Actor:
    """The actor `--as USER:ROLE` names, checked against the grants once there are any."""
    actor = parse_actor(text)
    with store.session() as session:
        grants = session.scalar(select(func.count()).select_from(UserRoleRow))
        if grants and session.get(UserRoleRow, (actor.user, actor.role)) is None:
            raise PermissionDenied(
                f"{actor.user} does not hold the role {actor.role}; an admin must grant it "
                "first (the list of users shows who holds which role)"
            )
    return actor


def grant(store: Store, actor: Actor, user: str, role: str, reason: str) -> bool:
    """Give `user` the role `role` (audited); False when they held it already."""
    require(actor, "roles.grant")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (roles: {', '.join(ROLES)})", field="role")
    with store.session() as session, session.begin():
        if session.get(UserRoleRow, (user, role)) is not None:
            return False
        session.add(UserRoleRow(user=user, role=role, granted_by=actor.user))
        audit.record(session, actor, "role.grant", f"user:{user}", {"role": role}, reason)
    return True


def revoke(store: Store, actor: Actor, user: str, role: str, reason: str) -> bool:
    """Take the role from `user` (audited); False when they did not hold it."""
    require(actor, "roles.revoke")
    with store.session() as session, session.begin():
        gone = session.execute(
            delete(UserRoleRow).where(UserRoleRow.user == user, UserRoleRow.role == role)
        ).rowcount
        if gone:
            audit.record(session, actor, "role.revoke", f"user:{user}", {"role": role}, reason)
    return bool(gone)


def list_roles(store: Store, actor: Actor) -> list[tuple[str, str, str]]:
    """(user, role, granted_by) for every grant."""
    require(actor, "roles.list")
    with store.session() as session:
        rows = session.execute(
            select(UserRoleRow.user, UserRoleRow.role, UserRoleRow.granted_by).order_by(
                UserRoleRow.user, UserRoleRow.role
            )
        ).all()
    return [tuple(r) for r in rows]
