"""`orderhub users …` (who holds which role) and `orderhub queue …` (review decisions)."""

from __future__ import annotations

import typer

from service import passwords, review, roles
from service.cli_common import AS, DB, JSON, call_as, print_json

users_app = typer.Typer(help="Who holds which role: grant, revoke, list.", no_args_is_help=True)
queue_app = typer.Typer(help="Orders waiting for a person: list and decide.", no_args_is_help=True)
REASON = typer.Option(..., "--reason", help="why (recorded in the audit log)")


@users_app.command("grant")
def grant(user: str, role: str, reason: str = REASON, db: str | None = DB, as_: str = AS) -> None:
    """Give USER the role ROLE (admins only; from the first grant on, --as is checked)."""
    new = call_as(db, as_, lambda s, a: roles.grant(s, a, user, role, reason))
    typer.echo(f"{user} now holds {role}" if new else f"{user} already held {role}")


@users_app.command("revoke")
def revoke(user: str, role: str, reason: str = REASON, db: str | None = DB, as_: str = AS) -> None:
    """Take the role ROLE from USER (admins only)."""
    gone = call_as(db, as_, lambda s, a: roles.revoke(s, a, user, role, reason))
    typer.echo(f"{user} no longer holds {role}" if gone else f"{user} did not hold {role}")


@users_app.command("passwd")
def passwd(
    user: str,
    stdin: bool = typer.Option(False, "--stdin", help="read the password from standard input"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Set USER's password for the editor's sign-in (your own, or anyone's as an admin)."""
    if stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    call_as(db, as_, lambda s, a: passwords.set_password(s, a, user, password))
    typer.echo(f"{user}'s password is set")


@users_app.command("list")
def list_users(db: str | None = DB, as_: str = AS, as_json: bool = JSON) -> None:
    """Every grant: user, role, granted by."""
    rows = call_as(db, as_, roles.list_roles)
    if as_json:
        print_json([{"user": u, "role": r, "granted_by": g} for u, r, g in rows])
        return
    for user, role, by in rows:
        typer.echo(f"{user:<20} {role:<12} granted by {by}")


@queue_app.command("list")
def list_queue(
    queue: str | None = typer.Option(None, help="review, exceptions or held"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Orders waiting in a queue, with the reason they wait."""
    items = call_as(db, as_, lambda s, a: review.list_items(s, a, queue))
    if as_json:
        print_json([item.__dict__ for item in items])
        return
    for item in items:
        typer.echo(f"{item.queue:<11} {item.ref:<28} {item.reason}")


@queue_app.command("decide")
def decide(
    ref: str,
    decision: str = typer.Argument(..., help="release or cancel"),
    reason: str = REASON,
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Record a reviewer's decision on an order waiting in a queue (audited)."""
    item = call_as(db, as_, lambda s, a: review.decide(s, a, ref, decision, reason))
    typer.echo(f"{item.ref} in {item.queue}: {item.status}")
