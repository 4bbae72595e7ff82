"""`orderhub token …`: API tokens — create (shown once), list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from service import tokens
from service.cli_common import AS, DB, JSON, call_as, print_json

token_app = typer.Typer(
    help="API tokens bound to a user and a role: create, list, revoke.", no_args_is_help=True
)
WHY = typer.Option("", "--reason", help="why (recorded in the audit log)")


@token_app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="the user the token acts as"),
    role: str = typer.Option(..., "--role", help="the role it acts in (the user must hold it)"),
    expires: int = typer.Option(
        tokens.DEFAULT_DAYS, "--expires", help="days until it expires", min=1
    ),
    reason: str = WHY,
    db: str | None = DB,
    as_: str | None = AS,
) -> None:
    """Make a token for USER in ROLE and print it once: only its hash is kept (admins only)."""
    made = call_as(
        db, as_, lambda s, a: tokens.create_token(s, a, user, role, days=expires, reason=reason)
    )
    typer.echo(made.secret)
    typer.echo(
        f"token {made.info.id} for {user}:{role}, expires {made.info.expires_at:%Y-%m-%d}; "
        "it is shown only now: keep it (ORDERHUB_TOKEN, or token under [cli])",
        err=True,
    )


@token_app.command("list")
def list_tokens(db: str | None = DB, as_: str | None = AS, as_json: bool = JSON) -> None:
    """Every token: id, user, role, its first characters, expiry, state (never the secret)."""
    listed = call_as(db, as_, tokens.list_tokens)
    now = datetime.now(UTC)
    if as_json:
        print_json([_plain(t, now) for t in listed])
        return
    for t in listed:
        typer.echo(
            f"{t.id:>4} {t.user:<20} {t.role:<12} {t.hint}…  "
            f"expires {t.expires_at:%Y-%m-%d}  {t.state(now)}"
        )


@token_app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="the token's id (token list)"),
    reason: str = WHY,
    db: str | None = DB,
    as_: str | None = AS,
) -> None:
    """Revoke a token at once (admins only)."""
    info = call_as(db, as_, lambda s, a: tokens.revoke_token(s, a, token_id, reason=reason))
    typer.echo(f"token {info.id} of {info.user}:{info.role} is revoked")


def _plain(t: tokens.TokenInfo, now: datetime) -> dict:
    return {
        "id": t.id,
        "user": t.user,
        "role": t.role,
        "hint": t.hint,
        "created_by": t.created_by,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat(),
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "state": t.state(now),
    }
