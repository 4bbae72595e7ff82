"""Who acts at the command line: --as, else ORDERHUB_AS, else [cli] as in the settings file;
on a store where nobody holds a role yet, the login as admin (issue 9, item 1)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.simulator.server import settings_for
from engine.errors import InvalidInput, PermissionDenied
from engine.settings import render_toml
from engine.store import Store, open_store
from service import roles
from service.access import Actor
from service.cli import app
from service.identity import acting_user
from versions import audit

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
BOSS = Actor("boss", "admin")
cli = CliRunner()


def test_the_first_of_given_environment_and_settings_file_acts(store: Store) -> None:
    env = {"ORDERHUB_AS": "li.wei:ops_manager"}
    assert acting_user(store, "zhao.min:auditor", env=env, configured="wu.lei:warehouse") == (
        Actor("zhao.min", "auditor")
    )
    assert acting_user(store, None, env=env, configured="wu.lei:warehouse") == Actor(
        "li.wei", "ops_manager"
    )
    assert acting_user(store, None, env={}, configured="wu.lei:warehouse") == Actor(
        "wu.lei", "warehouse"
    )


def test_a_fresh_store_trusts_the_login_as_admin_until_roles_are_granted(store: Store) -> None:
    assert acting_user(store, None, env={}) == Actor(getpass.getuser(), "admin")
    roles.grant(store, BOSS, "boss", "admin", "first admin")
    with pytest.raises(InvalidInput, match="say who is acting") as unnamed:
        acting_user(store, None, env={})
    assert unnamed.value.field == "as"
    with pytest.raises(PermissionDenied, match="does not hold the role"):
        acting_user(store, None, env={"ORDERHUB_AS": "li.wei:ops_manager"})
    assert acting_user(store, None, env={"ORDERHUB_AS": "boss:admin"}) == BOSS


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without settings and an environment without ORDERHUB_*."""
    for name in [n for n in os.environ if n.startswith("ORDERHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ORDERHUB_LOG", str(tmp_path / "orderhub.log"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_cli_acts_as_named_by_flag_environment_or_settings_file(
    shell: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", "orders.db"]
    granted = cli.invoke(app, ["users", "grant", "boss", "admin", "--reason", "first", *db])
    assert granted.exit_code == 0, granted.output  # a fresh store: the login acts as admin
    boss = ["--as", "boss:admin"]  # from the first grant on, someone must be named
    cli.invoke(app, ["users", "grant", "zhao.min", "auditor", "--reason", "audit", *db, *boss])
    listed = cli.invoke(app, ["runs", "list", *db])
    assert listed.exit_code == 1
    assert listed.output.strip() == (
        "error: say who is acting: roles are granted on this store, so orderhub cannot assume "
        'an admin; set ORDERHUB_AS=USER:ROLE, or `as = "USER:ROLE"` under [cli] in the '
        "settings file (or pass --as USER:ROLE)"
    )
    (shell / "orderhub.toml").write_text('[cli]\nas = "zhao.min:auditor"\n', encoding="utf-8")
    assert cli.invoke(app, ["runs", "list", *db]).exit_code == 0
    denied = cli.invoke(app, ["users", "grant", "x", "auditor", "--reason", "r", *db])
    assert "zhao.min (auditor) may not roles.grant" in denied.output
    monkeypatch.setenv("ORDERHUB_AS", "boss:admin")  # the environment beats the file
    assert cli.invoke(app, ["users", "grant", "x", "auditor", "--reason", "r", *db]).exit_code == 0
    flagged = cli.invoke(app, ["users", "revoke", "x", "auditor", "--reason", "r", *db])
    assert flagged.exit_code == 0
    as_auditor = ["--as", "zhao.min:auditor"]  # the flag beats both
    denied = cli.invoke(
        app, ["users", "revoke", "boss", "admin", "--reason", "r", *db, *as_auditor]
    )
    assert "zhao.min (auditor) may not roles.revoke" in denied.output


def test_run_on_a_fresh_store_with_nobody_named_runs_as_the_login(shell: Path) -> None:
    """The README's first `run` has no --as: it works, and the audit log names the login."""
    config = shell / "systems.toml"
    config.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    result = cli.invoke(app, ["run", WORKFLOW, "--db", "orders.db", "--config", str(config)])
    assert "was not pulled" in result.output  # nothing listens there; the run itself went
    store = open_store("orders.db")
    try:
        (entry,) = audit.list_entries(store, subject="workflow:order_intake")
    finally:
        store.dispose()
    assert (entry.actor, entry.role, entry.action) == (getpass.getuser(), "admin", "run.start")
