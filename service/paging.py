"""Pages of a list: `Page` (items, total, limit, offset) and the bounds every list checks.

A use case that lists things takes `limit` and `offset` and returns a `Page`: the database
counts and slices big lists (runs, orders, audit, queues, alerts); `page_of` slices a small
list already in memory (users, tokens, versions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from engine.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 1000
MAX_OFFSET = 2**53  # fits every backend's integer
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    """`items` are rows `offset` … `offset + limit` of `total`."""

    items: list[T]
    total: int
    limit: int
    offset: int


def check_bounds(limit: int, offset: int) -> None:
    """`InvalidInput` unless 1 ≤ limit ≤ MAX_LIMIT and 0 ≤ offset ≤ MAX_OFFSET."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"the limit must be between 1 and {MAX_LIMIT}, not {limit}", field="limit"
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(
            f"the offset must be between 0 and {MAX_OFFSET}, not {offset}", field="offset"
        )


def page_of(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    """A page of a list held in memory."""
    check_bounds(limit, offset)
    return Page(list(items[offset : offset + limit]), len(items), limit, offset)


def count_of(conn: Connection, query: Select) -> int:
    """How many rows `query` would give, before its limit and offset."""
    inner = query.limit(None).offset(None).order_by(None).subquery()
    return conn.execute(select(func.count()).select_from(inner)).scalar_one()
