"""Shared fixtures: a real database per test — SQLite, and PostgreSQL when ORDERHUB_TEST_PG.

`store` is parametrised over both backends; without ORDERHUB_TEST_PG the PostgreSQL case is
skipped with its reason shown in the summary (pytest -ra).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.store import Store, open_store

#: The subprocesses the tests start (simulators, `orderhub` commands, the README's shell) are
#: hundreds of Python start-ups. With PYTHONDONTWRITEBYTECODE set (as on this project's CI
#: machine) each compiled the project's ~180 modules from source again, about a second of CPU
#: apiece; they keep their bytecode in a cache outside the tree instead (nothing is written
#: beside the sources). PYTHONPYCACHEPREFIX, when set, is kept.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "orderhub-test-pycache")
    )

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("ORDERHUB_TEST_PG")
BACKENDS = ["sqlite", "postgresql"]


def pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL of the backend the test is parametrised with."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'orderhub.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL case: set ORDERHUB_TEST_PG (.ci/run does when the server answers)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on SQLite and on PostgreSQL."""
    if "db_url" in metafunc.fixturenames and "db_url" not in getattr(
        metafunc.function, "_sqlite_only", ()
    ):
        metafunc.parametrize("db_url", BACKENDS, indirect=True)


#: tests that take minutes on their own; run first, so that with `-n 2` one worker plays them
#: while the other works through the rest, instead of starting them near the end
LONG_FIRST = ("tests/e2e/test_readme.py::test_the_readme_blocks_run_in_order",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))
