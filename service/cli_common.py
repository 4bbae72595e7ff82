"""What the CLI's sub-commands share: `--db`, `--as`, `--json`, and the one call helper.

`call_as` is the CLI's door to the service layer: it reads the settings (the edge is here),
checks the database URL, opens the store, decides who is acting (`service.identity`), runs
the use case — awaiting it when it is async — and maps every orderhub error to one line
(`fail`), adding the command line's own spelling of the input a message is about.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer

from engine.errors import InvalidInput, OrderhubError, ValidationError
from engine.settings import Settings, load_settings
from engine.store import Store, open_store
from engine.store.db import DEFAULT_URL, check_url
from service.access import Actor
from service.identity import acting_user

T = TypeVar("T")

DB = typer.Option(None, "--db", help="database URL (default ORDERHUB_DB or orderhub.db)")
AS = typer.Option(
    None,
    "--as",
    help="who is acting, as USER:ROLE (default ORDERHUB_AS, then [cli] as in orderhub.toml)",
)
JSON = typer.Option(False, "--json", help="print JSON")

#: how the command line spells the inputs `InvalidInput.field` names
HINTS = {
    "reason": 'give it with --reason "…"',
    "base": "give it with --base N",
    "confirm": "add --confirm",
    "as": "or pass --as USER:ROLE",
    "head": "give --head what `orderhub audit head` printed",
    "expires": "give it with --expires DAYS",
}


def settings() -> Settings:
    """The settings file (``$ORDERHUB_CONFIG`` or ./orderhub.toml) and the environment."""
    return load_settings()


def database_url(db: str | None, read: Settings | None = None) -> str:
    """The URL a command opens: `--db`, else the settings' (``ORDERHUB_DB``, ``[db] url``),
    else orderhub.db; checked before anything is created."""
    if db is not None:
        return check_url(db).render_as_string(hide_password=False)
    read = read or settings()
    return check_url(read.db or DEFAULT_URL).render_as_string(hide_password=False)


@contextmanager
def opened(url: str) -> Iterator[Store]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.dispose()


def call_as(db: str | None, as_: str | None, use_case: Callable[[Store, Actor], T]) -> T:
    """Run a use case as the acting user; an orderhub error becomes one line, exit 1."""
    try:
        if db is not None:
            check_url(db)  # a wrong --db is named before the settings are read
        read = settings()
        with opened(database_url(db, read)) as store:
            actor = acting_user(store, as_, configured=read.cli_as, configured_token=read.cli_token)
            result: Any = use_case(store, actor)
            if inspect.isawaitable(result):
                result = asyncio.run(_awaited(result))
            return result
    except OrderhubError as exc:
        fail(exc)


def fail(exc: OrderhubError) -> NoReturn:
    """Print an orderhub error as the CLI shows it and exit 1: a validation error as its
    FILE:LINE:COL lines, any other as ``error: …`` plus the option to use, if any."""
    if isinstance(exc, ValidationError):
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    message = f"error: {exc}"
    hint = HINTS.get(exc.field or "") if isinstance(exc, InvalidInput) else None
    if hint:
        message += f" ({hint})"
    typer.echo(message, err=True)
    raise typer.Exit(1) from exc


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


async def _awaited(result: Any) -> Any:
    return await result
