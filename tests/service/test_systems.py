"""`orderhub systems`: every breaker with its waiting orders; opening and closing by hand."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.errors import InvalidInput, PermissionDenied
from engine.store import Store
from engine.store.models import OutboxMessage
from service.access import Actor
from service.cli import app
from service.systems import SYSTEMS, list_systems, set_breaker
from versions.audit import list_entries

LI = Actor("li.wei", "ops_manager")
ZHAO = Actor("zhao", "reviewer")
WANG = Actor("wang", "auditor")


def breaker_news(store: Store) -> list[str]:
    with store.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [m.payload["kind"] for m in rows if m.payload["kind"].startswith("breaker.")]


def test_every_system_is_listed_closed_until_it_fails(store: Store) -> None:
    views = list_systems(store, WANG)
    assert sorted(v.system for v in views) == sorted(SYSTEMS)
    assert {(v.state, v.waiting) for v in views} == {("closed", 0)}


def test_an_ops_manager_opens_and_closes_a_breaker_by_hand_audited_told_once(
    store: Store,
) -> None:
    view = set_breaker(store, LI, "sf", "open", "SF maintenance 22:00-23:00")
    assert (view.state, view.by_hand, view.changed_by) == ("open", True, "li.wei:ops_manager")
    assert view.retry_at is None  # no probes while opened by hand
    set_breaker(store, LI, "sf", "open", "still maintenance")  # the same outage: no news
    assert breaker_news(store) == ["breaker.opened"]
    closed = set_breaker(store, LI, "sf", "close", "maintenance over")
    assert closed.state == "closed"
    assert breaker_news(store) == ["breaker.opened", "breaker.recovered"]
    entries = [(e.action, e.subject, e.reason) for e in list_entries(store, subject="system:sf")]
    assert entries == [
        ("breaker.open", "system:sf", "SF maintenance 22:00-23:00"),
        ("breaker.open", "system:sf", "still maintenance"),
        ("breaker.close", "system:sf", "maintenance over"),
    ]


def test_a_reviewer_may_not_open(store: Store) -> None:
    with pytest.raises(PermissionDenied, match="systems.change"):
        set_breaker(store, ZHAO, "sf", "open", "why not")
    with pytest.raises(InvalidInput, match="no system 'sff'"):
        set_breaker(store, LI, "sff", "open", "typo")
    with pytest.raises(InvalidInput, match="needs a reason"):
        set_breaker(store, LI, "sf", "open", "  ")
    assert breaker_news(store) == []


def test_the_cli_lists_and_opens(db_url: str) -> None:
    cli, db = CliRunner(), ["--db", db_url]
    opened = cli.invoke(
        app, ["systems", "open", "zto", "--reason", "contract paused", *db, "--as", "li:admin"]
    )
    assert opened.exit_code == 0, opened.output
    assert "zto: open (by hand)" in opened.output
    listed = cli.invoke(app, ["systems", *db, "--as", "wang:auditor"])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if x.startswith("zto"))
    assert "open" in line and "by hand (li:admin)" in line and "contract paused" in line
    as_json = cli.invoke(app, ["systems", "--json", *db, "--as", "wang:auditor"])
    rows = {row["system"]: row for row in json.loads(as_json.output)}
    assert rows["zto"]["state"] == "open" and rows["sf"]["state"] == "closed"
    denied = cli.invoke(
        app, ["systems", "close", "zto", "--reason", "x", *db, "--as", "zhao:reviewer"]
    )
    assert denied.exit_code == 1 and "systems.change" in denied.output
