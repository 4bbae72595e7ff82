"""Bad input gets a clear error naming the file or database, exit 1, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
cli = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> str:
    """Settings with every system's credentials, pointing where nothing listens."""
    from connectors.simulator.server import settings_for
    from engine.settings import render_toml

    path = tmp_path / "orderhub.toml"
    path.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such scenario file"),
        ('{"channels": \n', ":2:1: not valid JSON: Expecting value"),
        ("[1, 2]", "not a scenario file (no 'channels', 'window')"),
        ('{"channels": {}}', "not a scenario file (no 'window')"),
    ],
)
def test_a_bad_scenario_is_named_and_no_database_is_written(
    tmp_path: Path, content: str | None, message: str
) -> None:
    scenario = tmp_path / "day.json"
    if content is not None:
        scenario.write_text(content, encoding="utf-8")
    db = tmp_path / "orders.db"
    result = cli.invoke(app, ["run", WORKFLOW, "--scenario", str(scenario), "--db", str(db)])
    assert result.exit_code == 1
    assert f"error: {scenario}" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not db.exists()
    served = cli.invoke(app, ["simulator", "--scenario", str(scenario)])
    assert served.exit_code == 1 and message in served.output


def test_an_unreachable_database_is_named_without_its_password(config: str) -> None:
    url = "postgresql+psycopg://orderhub:s3cret@127.0.0.1:9/orders"  # port 9: nothing listens
    result = cli.invoke(app, ["run", WORKFLOW, "--db", url, "--config", config])
    assert result.exit_code == 1
    assert "error: cannot open the database postgresql+psycopg://orderhub:***@127.0.0.1:9" in (
        result.output
    )
    assert "s3cret" not in result.output
    listed = cli.invoke(app, ["versions", "list", "order_intake", "--db", url, "--as", "a:auditor"])
    assert listed.exit_code == 1 and "cannot open the database" in listed.output


def test_a_database_path_that_cannot_exist_is_named(tmp_path: Path, config: str) -> None:
    db = tmp_path / "missing-dir" / "orders.db"
    result = cli.invoke(app, ["run", WORKFLOW, "--db", str(db), "--config", config])
    assert result.exit_code == 1
    assert f"cannot open the database sqlite:///{db}" in result.output


def test_a_missing_workflow_file_is_named_as_a_file(tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    result = cli.invoke(app, ["run", str(tmp_path / "flow.yaml"), "--db", str(db)])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'flow.yaml'}: no such workflow file" in result.output
