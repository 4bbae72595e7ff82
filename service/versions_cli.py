"""`orderhub versions …` and `orderhub audit …`: parse the options, call the service, print.

Every command takes `--db` and `--as USER:ROLE`; every read command takes `--json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from service import versioning
from service.cli_common import AS, DB, JSON, call_as, print_json
from service.console import console

versions_app = typer.Typer(
    help="Saved workflow versions: list, show, save, diff, activate, roll back.",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="The hash-chained audit log: list, verify, head.", no_args_is_help=True
)


@versions_app.command("list")
def list_(workflow_id: str, db: str | None = DB, as_: str = AS, as_json: bool = JSON) -> None:
    """Every version of WORKFLOW_ID, oldest first; * marks the active one, ! an edited one."""
    found = call_as(db, as_, lambda s, a: versioning.list_versions(s, a, workflow_id))
    if as_json:
        print_json([v.summary() for v in found])
        return
    table = Table(title=f"{workflow_id} versions")
    for column in ("", "version", "based on", "author", "saved (UTC)", "message"):
        table.add_column(column)
    for v in found:
        table.add_row(
            ("*" if v.active else "") + ("!" if v.tampered else ""),
            f"v{v.number}",
            f"v{v.based_on}" if v.based_on else "",
            v.author,
            v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"EDITED IN THE DATABASE, refused: {v.message}" if v.tampered else v.message,
        )
    console.print(table)


@versions_app.command()
def show(
    workflow_id: str,
    number: int | None = typer.Argument(None, help="version number (default: the active one)"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """One version's record and its document."""
    v = call_as(db, as_, lambda s, a: versioning.show_version(s, a, workflow_id, number))
    if as_json:
        print_json({**v.summary(), "text": v.text})
        return
    typer.echo(
        f"# {v.label}{' (active)' if v.active else ''} by {v.author} at "
        f"{v.created_at:%Y-%m-%d %H:%M:%S} UTC, sha256 {v.content_hash[:12]}: {v.message}"
    )
    typer.echo(v.text, nl=not v.text.endswith("\n"))


@versions_app.command()
def save(
    file: Path,
    message: str = typer.Option(..., "-m", "--message", help="what changed and why"),
    base: int | None = typer.Option(None, "--base", help="the version this was edited from"),
    confirm: bool = typer.Option(
        False, "--confirm", help="yes: remove or bypass a critical node / change replayed outcomes"
    ),
    replay_scenario: str | None = typer.Option(
        None, help="first replay this scenario's orders through it and the active version"
    ),
    replay_days: int | None = typer.Option(
        None, min=1, help="first replay the last N days of recorded orders"
    ),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Validate FILE and save it as the next version (refused if --base is not the latest).

    With a replay, a save that would change any order's outcome needs --confirm, and the
    replay's summary is recorded with the version.
    """
    v = call_as(
        db,
        as_,
        lambda s, a: versioning.save_version(
            s,
            a,
            file,
            base=base,
            message=message,
            confirm=confirm,
            replay_scenario=replay_scenario,
            replay_days=replay_days,
        ),
    )
    typer.echo(f"saved {v.label}" + (" (active)" if v.active else ""))


@versions_app.command()
def diff(
    workflow_id: str, old: int, new: int, db: str | None = DB, as_: str = AS, as_json: bool = JSON
) -> None:
    """What changed from version OLD to NEW: the semantic changes, then the text diff."""
    d = call_as(db, as_, lambda s, a: versioning.diff_versions(s, a, workflow_id, old, new))
    if as_json:
        print_json(d.as_dict())
        return
    typer.echo(f"# {workflow_id} v{old} → v{new}: {len(d.changes)} semantic change(s)")
    for change in d.changes:
        typer.echo(str(change))
    if d.text:
        typer.echo("")
        typer.echo(d.text, nl=False)


@versions_app.command()
def approve(workflow_id: str, number: int, db: str | None = DB, as_: str = AS) -> None:
    """Approve version NUMBER (workflows with require_approval: true; not your own change)."""
    v = call_as(db, as_, lambda s, a: versioning.approve_version(s, a, workflow_id, number))
    typer.echo(f"{workflow_id} v{v.number} approved by {v.approved_by}; activate it to run it")


@versions_app.command()
def activate(workflow_id: str, number: int, db: str | None = DB, as_: str = AS) -> None:
    """Make version NUMBER the one that runs."""
    v = call_as(db, as_, lambda s, a: versioning.activate_version(s, a, workflow_id, number))
    typer.echo(f"{v.label} is active")


@versions_app.command()
def rollback(
    workflow_id: str,
    number: int,
    reason: str = typer.Option(..., "--reason", help="why (recorded in the audit log)"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Save version NUMBER's content as a new version and make it active at once."""
    r = call_as(
        db, as_, lambda s, a: versioning.rollback_version(s, a, workflow_id, number, reason=reason)
    )
    typer.echo(
        f"rolled back {workflow_id} to v{r.restored}'s content as v{r.version.number}, "
        f"active ({r.seconds * 1000:.0f} ms)"
    )


@versions_app.command()
def replay(
    workflow_id: str,
    candidate: str = typer.Argument(..., help="a version number or a workflow file"),
    against: int | None = typer.Option(None, help="compare with this version (default active)"),
    scenario: str | None = typer.Option(None, help="replay a scenario file's orders"),
    days: int = typer.Option(7, min=1, help="else the orders of the last N days in the store"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """What CANDIDATE would decide differently, on recorded orders, with nothing real touched."""
    r = call_as(
        db,
        as_,
        lambda s, a: versioning.replay_version(
            s, a, workflow_id, candidate, against=against, scenario=scenario, days=days
        ),
    )
    if as_json:
        print_json(r.as_dict())
        return
    typer.echo(
        f"# replayed {r.orders} orders through both versions in {r.seconds:.2f} s "
        f"({r.orders_per_second:.0f} orders/s)"
    )
    if r.hint:
        typer.echo(f"hint: {r.hint}")
    for change in r.changes:
        typer.echo(f"change: {change}")
    typer.echo(f"{len(r.changed)} order(s) would be decided differently")
    for group, refs in sorted(r.groups.items(), key=lambda kv: -len(kv[1])):
        shown = ", ".join(sorted(refs)[:5]) + (" …" if len(refs) > 5 else "")
        typer.echo(f"  {len(refs):5d}  {group}: {shown}")
    if r.oversold:
        typer.echo(
            f"OVERSELL: {len(r.oversold)} order(s) would ship with no stock left: "
            + ", ".join(r.oversold[:10])
            + (" …" if len(r.oversold) > 10 else "")
        )


@audit_app.command("list")
def audit_list(
    subject: str | None = typer.Option(None, help="only records about this (a workflow id)"),
    limit: int | None = typer.Option(None, min=1, help="only the newest N records"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Audit records, oldest first: who did what, when, to what, and why."""
    entries = call_as(
        db, as_, lambda s, a: versioning.audit_entries(s, a, subject=subject, limit=limit)
    )
    if as_json:
        print_json([e.as_dict() for e in entries])
        return
    table = Table(title="audit log")
    for column in ("#", "at (UTC)", "who", "action", "subject", "detail", "reason"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            str(e.id),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{e.actor}:{e.role}",
            e.action,
            e.subject,
            json.dumps(e.detail, ensure_ascii=False),
            e.reason or "",
        )
    console.print(table)


@audit_app.command()
def verify(
    head: str | None = typer.Option(
        None, "--head", help="a head kept elsewhere (HASH or ID:HASH from `orderhub audit head`)"
    ),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Recompute the audit chain and every saved version's hash; exit 1 naming each row or
    version that was edited or deleted."""
    problems, current = call_as(db, as_, lambda s, a: versioning.verify_audit(s, a, head=head))
    if as_json:
        print_json({"intact": not problems, "problems": problems, "head": current})
    elif problems:
        for problem in problems:
            typer.echo(problem, err=True)
    else:
        where = f"; head {current[0]}:{current[1]} (keep a copy elsewhere)" if current else ""
        checked = " and matches the head kept elsewhere" if head else ""
        typer.echo(f"audit log intact{checked}" + where)
    if problems:
        raise typer.Exit(1)


@audit_app.command("head")
def head_(db: str | None = DB, as_: str = AS, as_json: bool = JSON) -> None:
    """Print the newest audit record as ID:HASH, to keep outside the database (verify --head)."""
    current = call_as(db, as_, versioning.audit_head)
    if as_json:
        print_json({"id": current[0], "hash": current[1]} if current else None)
    elif current is None:
        typer.echo("error: the audit log is empty; it has no head yet", err=True)
        raise typer.Exit(1)
    else:
        typer.echo(f"{current[0]}:{current[1]}")


# --- private helpers -------------------------------------------------------------------
