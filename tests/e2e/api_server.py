"""The API served by a real uvicorn on a loopback socket, over a real database, for tests.

`fresh_database(backend)` makes an empty SQLite file or PostgreSQL schema (as the shared
`db_url` fixture does, but for a whole module); `serving(store)` runs `create_app` on
uvicorn in a thread and yields its base URL once it answers.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from sqlalchemy import create_engine, text

from engine.store import Store, open_store
from service import tokens
from service.access import Actor
from service.api import create_app
from tests.conftest import PG_URL, pg_schema_url

DEADLINE_S = 120.0
ADMIN = Actor("boss", "admin")


@contextmanager
def fresh_database(backend: str) -> Iterator[Store]:
    """An empty store on `backend` (``sqlite`` or ``postgresql``), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="orderhub-api-") as tmp:
            store = open_store(f"sqlite:///{Path(tmp) / 'orderhub.db'}")
            try:
                yield store
            finally:
                store.dispose()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL case: set ORDERHUB_TEST_PG (.ci/run does when the server answers)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    store = open_store(pg_schema_url(schema))
    try:
        yield store
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def serving(
    store: Store,
    systems: dict[str, dict[str, Any]] | None = None,
    routers: Iterable[APIRouter] = (),
) -> Iterator[str]:
    """The API over `store` on a free loopback port; yields ``http://127.0.0.1:PORT``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(store, systems=systems, routers=routers),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the API did not start within {DEADLINE_S:.0f} s")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_S)
        sock.close()


def token_for(store: Store, user: str, role: str) -> str:
    """A fresh token for `user` in `role`, made by the admin."""
    return tokens.create_token(store, ADMIN, user, role).secret


def client(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=DEADLINE_S)
