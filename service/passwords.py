"""Passwords for the editor's sign-in: argon2 hashes, and wrong passwords slowed down.

`set_password` stores an argon2id hash (argon2-cffi; never the password) and is audited;
a user sets their own, an admin anyone's. `sign_in` checks a password and returns the roles
the user holds. Every wrong password doubles the wait before that user may try again
(1 s, 2 s, 4 s … at most `MAX_WAIT_S`), kept in the database so that every editor process
and every restart sees it; a right password clears it. While the wait runs, no password is
checked at all, so guessing is no faster from many browsers than from one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.errors import InvalidInput, PermissionDenied
from engine.store import Store
from engine.store.models import Base, utc, utcnow
from service.access import ROLES, Actor, require
from service.roles import UserRoleRow
from versions import audit

MIN_LENGTH = 8
MAX_WAIT_S = 300
WRONG = "wrong user name or password"

_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """The hash checked for unknown users (the same time taken). Made on the first sign-in,
    not at import: every `orderhub` command imports this module, few of them sign anyone in."""
    return _hasher.hash("orderhub: no such user")


class PasswordRow(Base):
    """A user's password hash and how many wrong passwords came since the last right one."""

    __tablename__ = "user_passwords"

    user: Mapped[str] = mapped_column(String(64), primary_key=True)
    hash: Mapped[str] = mapped_column(String(255))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    blocked_until: Mapped[datetime | None]


@dataclass(frozen=True)
class SignedIn:
    """Who signed in and the roles they may act in (granted roles, in `ROLES` order)."""

    user: str
    roles: tuple[str, ...]

    def as_role(self, role: str) -> Actor:
        if role not in self.roles:
            raise PermissionDenied(f"{self.user} does not hold the role {role}")
        return Actor(self.user, role)


def set_password(store: Store, actor: Actor, user: str, password: str) -> None:
    """Store `user`'s new password (audited); their own for anyone, anyone's for an admin."""
    if actor.user != user:
        require(actor, "roles.grant")  # who may give roles may set passwords
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_LENGTH} characters; choose a longer one",
            field="password",
        )
    hashed = _hasher.hash(password)
    with store.session() as session, session.begin():
        row = session.get(PasswordRow, user)
        if row is None:
            session.add(PasswordRow(user=user, hash=hashed, changed_by=actor.user, failures=0))
        else:
            row.hash, row.changed_by, row.changed_at = hashed, actor.user, utcnow()
            row.failures, row.blocked_until = 0, None
        audit.record(session, actor, "password.set", f"user:{user}", {})


def sign_in(store: Store, user: str, password: str, *, now: datetime | None = None) -> SignedIn:
    """Check `user`'s password; the roles they hold, or `PermissionDenied` (one line).

    A wrong password makes the next try wait (`wait_after`); a try during the wait is
    refused without looking at the password.
    """
    now = utc(now) or utcnow()
    refusal: str | None = None
    dummy = _dummy()  # before the lookup, so the first unknown user takes no longer
    with store.session() as session, session.begin():
        row = session.get(PasswordRow, user, with_for_update=True)
        if row is None:
            _verify(dummy, password)
            refusal = WRONG
        elif row.blocked_until is not None and now < row.blocked_until:
            wait = max(1, round((row.blocked_until - now).total_seconds()))
            refusal = f"too many wrong passwords for {user}; try again in {wait} s"
        elif not _verify(row.hash, password):
            row.failures += 1
            row.blocked_until = now + timedelta(seconds=wait_after(row.failures))
            refusal = WRONG
        else:
            row.failures, row.blocked_until = 0, None
            if _hasher.check_needs_rehash(row.hash):
                row.hash = _hasher.hash(password)
        held = set(session.scalars(select(UserRoleRow.role).where(UserRoleRow.user == user)))
    if refusal is not None:
        raise PermissionDenied(refusal)
    roles = tuple(r for r in ROLES if r in held)
    if not roles:
        raise PermissionDenied(f"{user} holds no role yet; an admin must grant one first")
    return SignedIn(user, roles)


def wait_after(failures: int) -> float:
    """Seconds before the next try after `failures` wrong passwords in a row."""
    return float(min(2 ** (failures - 1), MAX_WAIT_S)) if failures > 0 else 0.0


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
