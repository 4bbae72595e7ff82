"""API tokens (issue 9, item 3): made by an admin and shown once, kept only as a SHA-256,
expiring, revocable, audited; and the CLI acts as a token's user once any token exists."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from engine.store import Store, open_store
from service import roles, tokens
from service.access import Actor
from service.cli import app
from service.identity import acting_user
from versions import audit

BOSS = Actor("boss", "admin")
cli = CliRunner()


def test_a_token_acts_as_its_user_and_role_until_it_expires(store: Store) -> None:
    made = tokens.create_token(store, BOSS, "wu.lei", "warehouse", days=30, reason="scanner")
    assert made.secret.startswith("oht_") and len(made.secret) > 40
    assert tokens.authenticate(store, made.secret) == Actor("wu.lei", "warehouse")
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(Unauthenticated, match="has expired"):
        tokens.authenticate(store, made.secret, now=later)
    with pytest.raises(Unauthenticated, match="unknown token"):
        tokens.authenticate(store, made.secret + "x")
    with pytest.raises(Unauthenticated, match="no token given"):
        tokens.authenticate(store, " ")


def test_only_the_hash_is_stored(store: Store) -> None:
    made = tokens.create_token(store, BOSS, "wu.lei", "warehouse")
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM api_tokens")).one()
    stored = " ".join(str(value) for value in row)
    assert made.secret not in stored
    assert made.secret[len(tokens.PREFIX) + 8 :] not in stored  # not even most of it
    assert tokens.digest(made.secret) in stored
    assert made.info.hint == made.secret[: tokens.HINT_CHARS]


def test_revoking_stops_it_at_once_and_both_are_audited(store: Store) -> None:
    made = tokens.create_token(store, BOSS, "li.wei", "ops_manager", reason="ERP scripts")
    revoked = tokens.revoke_token(store, BOSS, made.info.id, reason="laptop lost")
    assert revoked.state() == "revoked"
    with pytest.raises(Unauthenticated, match="was revoked"):
        tokens.authenticate(store, made.secret)
    tokens.revoke_token(store, BOSS, made.info.id)  # again: nothing more happens
    entries = audit.list_entries(store, subject="user:li.wei")
    assert [(e.action, e.reason) for e in entries] == [
        ("token.create", "ERP scripts"),
        ("token.revoke", "laptop lost"),
    ]
    assert made.secret not in str([e.detail for e in entries])
    with pytest.raises(NotFound, match="no token 99"):
        tokens.revoke_token(store, BOSS, 99)


def test_only_admins_manage_tokens_and_a_token_needs_a_granted_role(store: Store) -> None:
    ops = Actor("li.wei", "ops_manager")
    with pytest.raises(PermissionDenied, match="may not tokens.create"):
        tokens.create_token(store, ops, "li.wei", "admin")
    with pytest.raises(PermissionDenied, match="may not tokens.revoke"):
        tokens.revoke_token(store, ops, 1)
    roles.grant(store, BOSS, "boss", "admin", "first admin")
    with pytest.raises(InvalidInput, match="does not hold the role reviewer") as refused:
        tokens.create_token(store, BOSS, "li.wei", "reviewer")
    assert refused.value.field == "role"
    roles.grant(store, BOSS, "li.wei", "reviewer", "reviews")
    made = tokens.create_token(store, BOSS, "li.wei", "reviewer")
    assert tokens.authenticate(store, made.secret) == Actor("li.wei", "reviewer")
    roles.revoke(store, BOSS, "li.wei", "reviewer", "moved on")  # the grant goes, the token too
    with pytest.raises(PermissionDenied, match="no longer holds the role reviewer"):
        tokens.authenticate(store, made.secret)
    with pytest.raises(InvalidInput, match="1 to 3650 days"):
        tokens.create_token(store, BOSS, "boss", "admin", days=0)


def test_once_a_token_exists_a_bare_user_role_is_not_believed(store: Store) -> None:
    assert acting_user(store, "boss:admin", env={}) == BOSS  # no credentials yet
    made = tokens.create_token(store, BOSS, "boss", "admin")
    with pytest.raises(Unauthenticated, match="no longer believed"):
        acting_user(store, "boss:admin", env={})
    with pytest.raises(Unauthenticated, match="no longer believed"):
        acting_user(store, None, env={"ORDERHUB_AS": "boss:admin"}, configured="boss:admin")
    # the token wins over a USER:ROLE given beside it
    env = {"ORDERHUB_TOKEN": made.secret}
    assert acting_user(store, "mallory:admin", env=env) == BOSS
    assert acting_user(store, None, env={}, configured_token=made.secret) == BOSS
    tokens.revoke_token(store, BOSS, made.info.id)  # revoking every token reopens nothing
    with pytest.raises(Unauthenticated, match="no longer believed"):
        acting_user(store, "boss:admin", env={})


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("ORDERHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ORDERHUB_LOG", str(tmp_path / "orderhub.log"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_token_commands(shell: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = ["--db", "orders.db"]
    made = cli.invoke(app, ["token", "create", "--user", "boss", "--role", "admin", *db])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("oht_") and "\n" not in secret  # stdout: the token alone
    assert "shown only now" in made.stderr
    refused = cli.invoke(app, ["token", "list", "--as", "boss:admin", *db])
    assert refused.exit_code == 1
    assert "a bare USER:ROLE is no longer believed" in refused.output
    (shell / "orderhub.toml").write_text(f'[cli]\ntoken = "{secret}"\n', encoding="utf-8")
    listed = cli.invoke(app, ["token", "list", "--json", *db])
    assert listed.exit_code == 0, listed.output
    assert '"state": "active"' in listed.stdout and secret not in listed.stdout
    second = cli.invoke(app, ["token", "create", "--user", "boss", "--role", "admin", *db])
    monkeypatch.setenv("ORDERHUB_TOKEN", second.stdout.strip())  # the environment beats the file
    assert cli.invoke(app, ["token", "revoke", "1", "--reason", "rotated", *db]).exit_code == 0
    assert "revoked" in cli.invoke(app, ["token", "list", *db]).stdout
    monkeypatch.delenv("ORDERHUB_TOKEN")  # the file's token was the one revoked
    gone = cli.invoke(app, ["token", "list", *db])
    assert gone.exit_code == 1 and "was revoked" in gone.output
    store = open_store("orders.db")
    try:
        actions = [e.action for e in audit.list_entries(store)]
    finally:
        store.dispose()
    assert actions == ["token.create", "token.create", "token.revoke"]
    bad = cli.invoke(app, ["token", "create", "--user", "x", "--role", "nope", *db])
    assert bad.exit_code == 1  # the revoked file token speaks first: one line, no trace
    assert bad.output.count("\n") == 1
