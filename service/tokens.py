"""API tokens: a secret bound to a user and a role, with an expiry; created and revoked by an
admin (audited), shown once, stored only as a hash.

A token is ``oht_`` plus 32 random bytes (`secrets.token_urlsafe`); the store keeps its
SHA-256 and its first characters (`hint`, to recognise it in a list). A plain SHA-256 is the
right hash here, unlike for a password: a password is short and guessable, so it needs a
slow, salted hash (scrypt, argon2) to make guessing it from a stolen hash expensive; a token
has 256 bits of randomness, so nobody can guess it from its hash however fast the hash is,
and a fast hash lets every API request find its token by an indexed lookup of the digest
instead of trying each stored salt in turn.

`authenticate` turns a presented token into the `Actor` it acts as, or raises
`Unauthenticated` (unknown, expired, revoked) or `PermissionDenied` (its user no longer holds
its role). `has_credentials` tells the CLI whether `--as` is still believed (a store where
no token was ever created).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from engine.store import Store
from engine.store.models import Base, Id, utc, utcnow
from service.access import ROLES, Actor, require
from service.roles import UserRoleRow
from versions import audit

PREFIX = "oht_"
HINT_CHARS = 10  # "oht_" and six characters of the secret: enough to tell tokens apart
DEFAULT_DAYS = 90
MAX_DAYS = 3650


class TokenRow(Base):
    """One API token: whose, in which role, until when; only the SHA-256 of the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    id: int
    user: str
    role: str
    hint: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or datetime.now(UTC)) else "active"


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown this once and never stored."""

    info: TokenInfo
    secret: str


def create_token(
    store: Store,
    actor: Actor,
    user: str,
    role: str,
    *,
    days: int = DEFAULT_DAYS,
    reason: str = "",
    now: datetime | None = None,
) -> NewToken:
    """A new token for `user` in `role`, valid for `days` days (audited, shown once).

    Once roles are granted on the store, `user` must hold `role`.
    """
    require(actor, "tokens.create")
    user = user.strip()
    if not user:
        raise InvalidInput("name the user the token acts as", field="user")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (roles: {', '.join(ROLES)})", field="role")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a token lasts 1 to {MAX_DAYS} days, not {days}", field="expires")
    secret = PREFIX + secrets.token_urlsafe(32)
    created = utc(now) if now is not None else utcnow()
    with store.session() as session, session.begin():
        grants = session.scalar(select(func.count()).select_from(UserRoleRow))
        if grants and session.get(UserRoleRow, (user, role)) is None:
            raise InvalidInput(
                f"{user} does not hold the role {role}; grant it first, then make the token",
                field="role",
            )
        row = TokenRow(
            user=user,
            role=role,
            digest=digest(secret),
            hint=secret[:HINT_CHARS],
            created_by=actor.user,
            created_at=created,
            expires_at=created + timedelta(days=days),
        )
        session.add(row)
        session.flush()
        detail = {"token": row.id, "role": role, "hint": row.hint, "days": days}
        audit.record(session, actor, "token.create", f"user:{user}", detail, reason or None)
        info = _info(row)
    return NewToken(info, secret)


def list_tokens(store: Store, actor: Actor) -> list[TokenInfo]:
    """Every token ever made, oldest first (revoked and expired ones too)."""
    require(actor, "tokens.list")
    with store.session() as session:
        return [_info(row) for row in session.scalars(select(TokenRow).order_by(TokenRow.id))]


def revoke_token(store: Store, actor: Actor, token_id: int, *, reason: str = "") -> TokenInfo:
    """Revoke token `token_id` at once (audited); revoking it again changes nothing."""
    require(actor, "tokens.revoke")
    with store.session() as session, session.begin():
        row = session.get(TokenRow, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}; the list of tokens shows their ids")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = utcnow(), actor.user
            detail = {"token": row.id, "role": row.role, "hint": row.hint}
            audit.record(session, actor, "token.revoke", f"user:{row.user}", detail, reason or None)
        return _info(row)


def authenticate(store: Store, secret: str, *, now: datetime | None = None) -> Actor:
    """The actor a presented token acts as; `Unauthenticated` when it is unknown, expired or
    revoked, `PermissionDenied` when its user no longer holds its role."""
    presented = secret.strip()
    if not presented:
        raise Unauthenticated("no token given: present an API token (an admin creates one)")
    moment = utc(now) if now is not None else utcnow()
    with store.session() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.digest == digest(presented))).first()
        if row is None or not secrets.compare_digest(row.digest, digest(presented)):
            raise Unauthenticated("unknown token: check it, or ask an admin for a new one")
        if row.revoked_at is not None:
            raise Unauthenticated(f"token {row.hint}… was revoked; ask an admin for a new one")
        if row.expires_at <= moment:
            raise Unauthenticated(f"token {row.hint}… has expired; ask an admin for a new one")
        grants = session.scalar(select(func.count()).select_from(UserRoleRow))
        if grants and session.get(UserRoleRow, (row.user, row.role)) is None:
            raise PermissionDenied(
                f"{row.user} no longer holds the role {row.role}; an admin must grant it again"
            )
        return Actor(row.user, row.role)


def has_credentials(store: Store) -> bool:
    """Whether any token was ever made here (revoked ones count: revoking every token does
    not make the store trust a bare USER:ROLE again)."""
    with store.session() as session:
        return bool(session.scalar(select(func.count()).select_from(TokenRow)))


def digest(secret: str) -> str:
    """The SHA-256 (hex) a token is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: TokenRow) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.user,
        row.role,
        row.hint,
        row.created_by,
        _aware(row.created_at),
        _aware(row.expires_at),
        _aware(row.revoked_at),
    )


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
