"""Passwords for the editor: argon2 hashes, per-user backoff in the database, `users passwd`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from engine.errors import InvalidInput, PermissionDenied
from engine.store import Store
from engine.store.models import utcnow
from service.access import Actor
from service.cli import app
from service.passwords import WRONG, PasswordRow, set_password, sign_in, wait_after
from service.roles import grant
from versions.audit import list_entries

BOSS = Actor("boss", "admin")
LI = Actor("li.wei", "ops_manager")


def test_a_right_password_signs_in_with_the_roles_held_and_the_hash_is_argon2(
    store: Store,
) -> None:
    grant(store, BOSS, "li.wei", "ops_manager", "new hire")
    grant(store, BOSS, "li.wei", "reviewer", "covers the queue")
    set_password(store, BOSS, "li.wei", "correct horse")
    signed = sign_in(store, "li.wei", "correct horse")
    assert signed.roles == ("ops_manager", "reviewer")
    assert signed.as_role("reviewer") == Actor("li.wei", "reviewer")
    with pytest.raises(PermissionDenied):
        signed.as_role("admin")
    with store.session() as session:
        stored = session.get(PasswordRow, "li.wei").hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    entry = list_entries(store)[-1]
    assert (entry.action, entry.subject, entry.detail) == ("password.set", "user:li.wei", {})


def test_wrong_passwords_make_the_next_try_wait_longer_each_time(store: Store) -> None:
    grant(store, BOSS, "li.wei", "ops_manager", "new hire")
    set_password(store, LI, "li.wei", "correct horse")  # their own
    t0 = utcnow()
    with pytest.raises(PermissionDenied, match=WRONG):
        sign_in(store, "li.wei", "guess 1", now=t0)
    # during the wait even the right password is refused, without being checked
    with pytest.raises(PermissionDenied, match="try again in 1 s"):
        sign_in(store, "li.wei", "correct horse", now=t0)
    t1 = t0 + timedelta(seconds=wait_after(1))
    with pytest.raises(PermissionDenied, match=WRONG):
        sign_in(store, "li.wei", "guess 2", now=t1)
    with pytest.raises(PermissionDenied, match="try again in 2 s"):
        sign_in(store, "li.wei", "correct horse", now=t1 + timedelta(seconds=0.5))
    t2 = t1 + timedelta(seconds=wait_after(2))
    assert sign_in(store, "li.wei", "correct horse", now=t2).roles == ("ops_manager",)
    # a right password clears the count: the next wrong one waits 1 s again
    with pytest.raises(PermissionDenied, match=WRONG):
        sign_in(store, "li.wei", "guess 3", now=t2)
    with pytest.raises(PermissionDenied, match="try again in 1 s"):
        sign_in(store, "li.wei", "correct horse", now=t2)
    assert [wait_after(n) for n in (1, 2, 3, 20)] == [1.0, 2.0, 4.0, 300.0]


def test_unknown_users_short_passwords_and_other_peoples_passwords_are_refused(
    store: Store,
) -> None:
    with pytest.raises(PermissionDenied, match=WRONG):
        sign_in(store, "nobody", "whatever1")
    with pytest.raises(InvalidInput, match="at least 8 characters") as short:
        set_password(store, LI, "li.wei", "short")
    assert short.value.field == "password"
    with pytest.raises(PermissionDenied, match="roles.grant"):
        set_password(store, LI, "wu.lei", "someone else's")
    set_password(store, BOSS, "wu.lei", "warehouse lead")
    with pytest.raises(PermissionDenied, match="holds no role"):
        sign_in(store, "wu.lei", "warehouse lead")


def test_users_passwd_prompts_twice_and_sets_the_password(store: Store, db_url: str) -> None:
    grant(store, BOSS, "boss", "admin", "first admin")
    cli = CliRunner()
    done = cli.invoke(
        app,
        ["users", "passwd", "boss", "--db", db_url, "--as", "boss:admin"],
        input="long enough\nlong enough\n",
    )
    assert done.exit_code == 0, done.output
    assert "boss's password is set" in done.output
    assert sign_in(store, "boss", "long enough").roles == ("admin",)
    done = cli.invoke(
        app,
        ["users", "passwd", "boss", "--stdin", "--db", db_url, "--as", "boss:admin"],
        input="tiny\n",
    )
    assert done.exit_code == 1
    assert "at least 8 characters" in done.output
