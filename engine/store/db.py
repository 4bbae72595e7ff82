"""Opening a store: the engine, its sessions and its schema (brought up to date by Alembic).

SQLite by default (`orderhub.db`, WAL mode), or PostgreSQL (production); the doors decide
which (`--db`, `ORDERHUB_DB`, `[db] url`) and pass the URL in. `check_url` says in one line
what is wrong with a URL before anything is created: other backends are refused,
``postgres://`` and ``postgresql://`` mean PostgreSQL through psycopg, and a bare path is a
SQLite file only when it exists or ends in `.db`, `.sqlite` or `.sqlite3` (so a typo does
not become a new empty database).

Engines hide statement parameters from their errors (`hide_parameters`): an error about an
order's row never carries the order (its receiver's phone and address) with it. Migrations
run under a lock (SQLite's write lock, a PostgreSQL advisory lock), so two processes opening
one fresh database do not both create its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import InvalidInput, StoreError

DEFAULT_URL = "sqlite:///orderhub.db"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: what `check_url` accepts, for its messages
SUPPORTED = "SQLite (a file such as orders.db) or PostgreSQL (postgresql://user@host/db)"
_PG_MIGRATION_LOCK = 0x6F726465  # pg_advisory_xact_lock key: "orde"


def json_dumps(value: object) -> str:
    """JSON columns' text: orjson (5-10x the standard library's speed on run state and steps)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


_JSON = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass
class Store:
    """A database the project can use: an engine and a session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def check_url(url: str) -> URL:
    """`url` as a SQLAlchemy URL orderhub can open, or `InvalidInput` saying why not.

    Nothing is created or connected to: a door calls this first, before settings or
    files, so a wrong URL costs nothing.
    """
    text = url.strip()
    if "://" not in text:  # a bare path means a SQLite file
        path = Path(text)
        if not text or not (path.suffix.lower() in SQLITE_SUFFIXES or path.is_file()):
            raise InvalidInput(
                f"{text!r} is neither a database URL nor a SQLite file: a new SQLite file's "
                f"name must end in {', '.join(SQLITE_SUFFIXES)}; or give a URL such as "
                "postgresql://user@host/db",
                field="db",
            )
        return URL.create("sqlite", database=text)
    scheme = text.split("://", 1)[0]
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise InvalidInput(
            f"cannot read the database URL ({scheme}://…); write it as {SUPPORTED}", field="db"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")  # names only: loads no dialect
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg"):
            raise InvalidInput(
                f"{scheme}://…: orderhub talks to PostgreSQL through psycopg; write "
                "postgresql://… or postgresql+psycopg://…",
                field="db",
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite" or driver not in ("", "pysqlite"):
        raise InvalidInput(
            f"{scheme}://… is not supported; orderhub runs on {SUPPORTED}", field="db"
        )
    return parsed


def open_store(url: str | None = None, *, migrate: bool = True, pool_size: int = 20) -> Store:
    """Open the database at `url` (default orderhub.db) and bring its schema up to date."""
    parsed = check_url(url or DEFAULT_URL)
    common = {"pool_size": pool_size, "max_overflow": pool_size, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30}, **common, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, **common, **_JSON)
    store = Store(engine, sessionmaker(engine, expire_on_commit=False))
    if migrate:
        try:
            upgrade(store)
        except (OperationalError, InterfaceError) as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()
            raise StoreError(
                f"cannot open the database {store.url}: {reason[0] if reason else exc}"
            ) from None
    return store


def insert_for(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT of the connection's dialect, so it can say ON CONFLICT … (both have it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upgrade(store: Store, revision: str = "head") -> None:
    """Apply every Alembic migration up to `revision`, one process at a time."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if revision == "head" and _at_head(store, config):
        return  # the common case: nothing to do, and no lock to wait for
    with store.engine.begin() as connection:
        if store.is_sqlite:  # take the write lock now, not at the first CREATE
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _at_head(store: Store, config: object) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(config).get_heads())
    with store.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def table_names(store: Store) -> list[str]:
    return sorted(inspect(store.engine).get_table_names())


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
