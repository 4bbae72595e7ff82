"""Prepared statements: SQLAlchemy builds and compiles them once per dialect, the DB-API runs them.

The per-order path runs a dozen small statements per order. Through SQLAlchemy's execution
machinery each costs ~60 µs here; compiled once and handed to the driver's cursor with
SQLAlchemy's own bind and result processors (JSON, timestamps), ~15-20 µs. Everything else
in the project uses plain SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Executable
from sqlalchemy.engine import Dialect


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional parameter order, or None for named styles
    binds: dict[str, Any]
    literals: dict[str, Any]  # values the statement carries itself (e.g. kind == "reserve")
    columns: tuple[str, ...]
    results: tuple[Any, ...]


class Prepared:
    """One statement, compiled per dialect on first use and run on the raw cursor."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def run(self, cursor: Any, dialect: Dialect, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Execute with `params`; returns the rows as dicts (empty without a result)."""
        c = self._compile(dialect)
        cursor.execute(c.sql, self._bind(c, params))
        if cursor.description is None:
            return []
        return [self._row(c, row) for row in cursor.fetchall()]

    def run_many(self, cursor: Any, dialect: Dialect, rows: list[dict[str, Any]]) -> None:
        c = self._compile(dialect)
        cursor.executemany(c.sql, [self._bind(c, params) for params in rows])

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            columns = tuple(col[0] for col in compiled._result_columns)
            results = tuple(
                col[3]._cached_result_processor(dialect, None) for col in compiled._result_columns
            )
            if dialect.name == "sqlite":
                results = tuple(
                    _fast_datetime_result(p) if _is_datetime(col[3]) else p
                    for col, p in zip(compiled._result_columns, results, strict=True)
                )
            names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
            literals = {k: v for k, v in compiled.params.items() if v is not None}
            binds = dict(compiled._bind_processors)
            if dialect.name == "sqlite":
                for name, param in compiled.binds.items():
                    if name in binds and _is_datetime(param.type):
                        binds[name] = _fast_datetime_bind(binds[name])
            found = _Compiled(compiled.string, names, binds, literals, columns, results)
            self._compiled[dialect.name] = found
        return found

    @staticmethod
    def _bind(c: _Compiled, params: dict[str, Any]) -> Any:
        binds = c.binds
        if c.literals:
            params = {**c.literals, **params}
        if c.names is not None:
            out = []
            for name in c.names:
                value = params[name]
                process = binds.get(name)
                out.append(process(value) if process is not None and value is not None else value)
            return out
        return {
            name: (binds[name](value) if name in binds and value is not None else value)
            for name, value in params.items()
        }

    @staticmethod
    def _row(c: _Compiled, row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            name: (process(value) if process is not None else value)
            for name, process, value in zip(c.columns, c.results, row, strict=False)
        }


def _is_datetime(type_: Any) -> bool:
    return isinstance(type_, DateTime)


def _fast_datetime_bind(fallback: Any) -> Any:
    """SQLite's DATETIME text (``2026-01-10 01:00:00.000000``, as SQLAlchemy writes it) by
    `isoformat`, about 5x SQLAlchemy's formatting; anything unusual goes to SQLAlchemy."""

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return process


def _fast_datetime_result(fallback: Any) -> Any:
    """SQLite's DATETIME text back to a naive datetime by `fromisoformat` (SQLAlchemy's regex
    parser as the fallback for a text it does not read)."""

    def process(value: Any) -> Any:
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return fallback(value) if fallback is not None else value

    return process


def run(conn: Any, prepared: Prepared, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run `prepared` on the writer's fast path, or through SQLAlchemy on any other connection."""
    if hasattr(conn, "run"):
        return conn.run(prepared, params)
    result = conn.execute(prepared.statement, params)
    return [dict(row) for row in result.mappings()] if result.returns_rows else []
