"""What the CLI's sub-commands share: `--db`, `--as USER:ROLE`, `--json`, error printing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from engine.errors import OrderhubError, ValidationError
from engine.store import Store, open_store
from service.access import Actor
from service.roles import acting

T = TypeVar("T")

DB = typer.Option(None, "--db", help="database URL (default ORDERHUB_DB or orderhub.db)")
AS = typer.Option(..., "--as", help="who is acting, as USER:ROLE (e.g. li.wei:ops_manager)")
JSON = typer.Option(False, "--json", help="print JSON")


@contextmanager
def _opened(db: str | None) -> Iterator[Store]:
    store = open_store(db)
    try:
        yield store
    finally:
        store.dispose()


def call_as(db: str | None, as_: str, use_case: Callable[[Store, Actor], T]) -> T:
    """Run a use case as the `--as` actor; an orderhub error becomes `error: …`, exit 1."""
    try:
        with _opened(db) as store:
            return use_case(store, acting(store, as_))
    except ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except OrderhubError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
