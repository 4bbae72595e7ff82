"""`orderhub run` says how many orders wait and for what, and exits 3 when they wait for a
system (a scheduler must see it); waits for a person or for stock are the normal course."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from connectors.simulator.server import settings_for
from engine.settings import render_toml
from service.cli import WAITING_EXIT, app
from tests.engine.test_waits import QUEUED, SYSTEM

cli = CliRunner()


def run(tmp_path: Path, text: str) -> tuple[int, str]:
    config = tmp_path / "orderhub.toml"
    config.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    workflow = tmp_path / "flow.yaml"
    workflow.write_text(text, encoding="utf-8")
    db = ["--db", str(tmp_path / "w.db"), "--config", str(config), "--as", "boss:admin"]
    result = cli.invoke(app, ["run", str(workflow), *db])
    return result.exit_code, result.output


def test_orders_waiting_for_a_system_make_run_exit_3_and_say_so(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "w.db"), "--as", "boss:admin"]
    closed = cli.invoke(app, ["systems", "open", "sf", "--reason", "maintenance", *db])
    assert closed.exit_code == 0, closed.output
    code, output = run(tmp_path, SYSTEM.replace("KIND", "system"))
    assert code == WAITING_EXIT == 3, output
    assert "3 orders are waiting: 3 for system sf" in output


def test_orders_waiting_for_a_system_that_is_up_go_on_in_the_same_run(tmp_path: Path) -> None:
    """SF's breaker is closed: the run wakes the orders that wait for it and they finish."""
    code, output = run(tmp_path, SYSTEM.replace("KIND", "system"))
    assert code == 0, output
    assert "orders are waiting" not in output


def test_orders_waiting_for_a_decision_are_told_but_the_run_succeeds(tmp_path: Path) -> None:
    code, output = run(tmp_path, QUEUED)
    assert code == 0, output
    assert "3 orders are waiting: 3 for queue review" in output
