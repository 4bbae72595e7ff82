"""`orderhub run` by stored workflow id: the active version runs; other files run as drafts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from engine.store import open_store
from engine.store.models import RunRow
from service.cli import app
from service.report import compare_with_expected
from versions.store import get_version

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
SCENARIO = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
LI = ["--as", "li.wei:ops_manager"]
cli = CliRunner()


def runs_of(db: Path) -> set[tuple[str, bool]]:
    store = open_store(f"sqlite:///{db}")
    try:
        with store.session() as session:
            return set(session.execute(select(RunRow.version, RunRow.draft).distinct()).all())
    finally:
        store.dispose()


def test_rollback_makes_the_old_content_run_next(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        WORKFLOW.read_text(encoding="utf-8").replace("    default: 10", "    default: 0"),
        encoding="utf-8",
    )
    dbopt = ["--db", str(db)]
    assert (
        cli.invoke(app, ["versions", "save", str(WORKFLOW), "-m", "first", *LI, *dbopt]).exit_code
        == 0
    )
    assert (
        cli.invoke(
            app,
            ["versions", "save", str(edited), "-m", "no safety stock", "--base", "1", *LI, *dbopt],
        ).exit_code
        == 0
    )
    assert (
        cli.invoke(app, ["versions", "activate", "order_intake", "2", *LI, *dbopt]).exit_code == 0
    )
    done = cli.invoke(
        app, ["versions", "rollback", "order_intake", "1", "--reason", "oversold", *LI, *dbopt]
    )
    assert done.exit_code == 0, done.output

    report = tmp_path / "r.json"
    result = cli.invoke(
        app, ["run", "order_intake", "--scenario", str(SCENARIO), *dbopt, "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "workflow: order_intake v3" in result.output
    store = open_store(f"sqlite:///{db}")
    v1 = get_version(store, "order_intake", 1)
    store.dispose()
    assert runs_of(db) == {(v1.content_hash, False)}  # v3 has v1's content
    expected = json.loads(SCENARIO.read_text(encoding="utf-8"))["expected"]
    assert compare_with_expected(json.loads(report.read_text(encoding="utf-8")), expected) == []


def test_a_file_that_is_not_a_saved_version_runs_as_a_draft(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    report = tmp_path / "d.json"
    result = cli.invoke(
        app,
        [
            "run",
            str(WORKFLOW),
            "--scenario",
            str(SCENARIO),
            "--db",
            str(db),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "draft from" in result.output
    assert {draft for _, draft in runs_of(db)} == {True}
    assert json.loads(report.read_text(encoding="utf-8"))["workflow"]["draft"] is True


def test_an_unknown_stored_workflow_is_a_clear_error(tmp_path: Path) -> None:
    from connectors.simulator.server import settings_for
    from engine.settings import render_toml

    config = tmp_path / "orderhub.toml"  # settings are checked first; these are fine
    config.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    db = ["--db", str(tmp_path / "e.db"), "--config", str(config)]
    result = cli.invoke(app, ["run", "no_such_flow", *db])
    assert result.exit_code == 1
    assert "no_such_flow has no active version" in result.output
