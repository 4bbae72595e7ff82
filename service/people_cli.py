"""`orderhub users …` (who holds which role) and `orderhub queue …` (review decisions)."""

from __future__ import annotations

import typer

from service import passwords, queues, review, roles
from service.cli_common import AS, DB, JSON, call_as, print_json, settings

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
    args: list[str] = typer.Argument(
        None,
        metavar="REF DECISION [NODE]",
        help="the order (CHANNEL:ORDER_ID), the decision (release, merge, cancel, retry, "
        "reroute, restocked) and, optionally, the queue node it waits at; with --all only "
        "DECISION",
    ),
    reason: str = REASON,
    all_: bool = typer.Option(False, "--all", help="decide every order --queue holds"),
    queue: str | None = typer.Option(None, help="with --all: the queue, e.g. exceptions"),
    reason_contains: str | None = typer.Option(
        None, help='with --all: only orders whose reason contains this, e.g. "SF unavailable"'
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="with --all: do not ask first"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Decide on an order waiting in a queue (audited); its run goes on at once.

    A released duplicate gets its waybill and tracking upload before this returns; a merge
    links the order to the one it duplicates and ships nothing. With --all, every order of
    --queue (whose reason contains --reason-contains) is decided alike, after the count is
    shown and confirmed. The run goes on with the systems of the settings file.
    """
    args = args or []
    if all_:
        _decide_all(args, reason, queue, reason_contains, yes, db, as_)
        return
    if not 2 <= len(args) <= 3 or queue or reason_contains:
        typer.echo(
            "error: give REF DECISION [NODE] (or --all --queue Q DECISION for many orders)",
            err=True,
        )
        raise typer.Exit(2)
    ref, decision, node = args[0], args[1], (args[2] if len(args) == 3 else None)
    systems = settings().systems
    done = call_as(
        db, as_, lambda s, a: review.decide(s, a, ref, decision, reason, node, systems=systems)
    )
    typer.echo(f"{done.ref} in {done.queue}: {done.decision}, now {done.status} ({done.note})")


def _decide_all(
    args: list[str],
    reason: str,
    queue: str | None,
    contains: str | None,
    yes: bool,
    db: str | None,
    as_: str | None,
) -> None:
    if len(args) != 1 or not queue:
        typer.echo("error: with --all give --queue Q and one DECISION", err=True)
        raise typer.Exit(2)
    decision = args[0]
    shown = call_as(db, as_, lambda s, a: queues.matching(s, a, queue, contains))
    found = shown.items
    typer.echo(shown.describe() + ("" if found else ": nothing to decide"))
    if not found:
        return
    for item in found[:5]:
        typer.echo(f"  {item.ref:<28} {item.reason}")
    if len(found) > 5:
        typer.echo(f"  … and {len(found) - 5} more")
    if not yes and not typer.confirm(f"{decision} all {len(found)}?", default=False):
        typer.echo("nothing was decided")
        raise typer.Exit(1)
    systems = settings().systems
    done = call_as(
        db, as_, lambda s, a: queues.decide_matching(s, a, shown, decision, reason, systems)
    )
    typer.echo(done.summary())
