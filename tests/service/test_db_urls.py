"""Database URLs and settings are checked first, in one line each (issue 7, item 7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.errors import InvalidInput
from engine.store.db import check_url
from service.cli import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
cli = CliRunner()


@pytest.fixture(autouse=True)
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no settings file, and no ORDERHUB_* in the environment."""
    for name in [n for n in os.environ if n.startswith("ORDERHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ORDERHUB_LOG", str(tmp_path / "orderhub.log"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize(
    "url", ["mysql://shop:s3cret@db.example/orders", "mssql+pyodbc://x", "oracle://h/x"]
)
def test_other_backends_are_refused_saying_what_is_supported(url: str, bare: Path) -> None:
    for argv in (
        ["run", WORKFLOW, "--db", url],
        ["versions", "list", "order_intake", "--db", url, "--as", "a:auditor"],
    ):
        result = cli.invoke(app, argv)
        assert result.exit_code == 1
        line = one_line(result.output)
        scheme = url.split("://")[0]
        assert line == (
            f"error: {scheme}://… is not supported; orderhub runs on SQLite (a file such as "
            "orders.db) or PostgreSQL (postgresql://user@host/db)"
        )
    assert list(bare.iterdir()) == []


def test_a_bare_name_that_is_not_a_database_file_creates_nothing(bare: Path) -> None:
    result = cli.invoke(app, ["run", WORKFLOW, "--db", "not a url"])
    assert result.exit_code == 1
    assert one_line(result.output) == (
        "error: 'not a url' is neither a database URL nor a SQLite file: a new SQLite "
        "file's name must end in .db, .sqlite, .sqlite3; or give a URL such as "
        "postgresql://user@host/db"
    )
    assert list(bare.iterdir()) == []
    (bare / "legacy-store").write_bytes(b"")  # an existing file is taken as it is
    assert check_url("legacy-store").render_as_string() == "sqlite:///legacy-store"
    assert check_url("orders.sqlite3").render_as_string() == "sqlite:///orders.sqlite3"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_mean_postgresql_through_psycopg(scheme: str) -> None:
    url = check_url(f"{scheme}://shop:pw@db.example:5433/orders")
    assert url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://shop:pw@db.example:5433/orders"
    )
    with pytest.raises(InvalidInput, match="through psycopg"):
        check_url("postgresql+psycopg2://db.example/orders")


def test_a_postgres_url_opens_the_database(tmp_path: Path, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL case of this test; the SQLite case has nothing to show")
    url = "postgres://" + db_url.split("://", 1)[1]  # as Heroku and many tools spell it
    result = cli.invoke(app, ["runs", "list", "--db", url, "--as", "a:auditor"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no run stopped on an error"


def test_run_without_settings_fails_on_them_before_creating_the_database(bare: Path) -> None:
    result = cli.invoke(app, ["run", WORKFLOW, "--db", "orders.db"])
    assert result.exit_code == 1
    assert one_line(result.output) == (
        "error: [youzan] access_token is not set; add it to orderhub.toml or set "
        "ORDERHUB_YOUZAN_ACCESS_TOKEN"
    )
    assert not (bare / "orders.db").exists()
    result = cli.invoke(app, ["run", WORKFLOW])  # the default database neither
    assert result.exit_code == 1 and not (bare / "orderhub.db").exists()
