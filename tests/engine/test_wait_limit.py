"""Waiting too long is noticed: past a queue's `wait_limit` the team gets one reminder per
queue node through the outbox, and a `timeout` route moves the order on. Clock mocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.dispatch import Environments
from engine.loader import load_workflow
from engine.runner import RunEnv
from engine.store import Store
from engine.store.models import OrderRow, OutboxMessage, RunRow
from engine.waits import sweep
from tests.engine.test_waits import QUEUED, finish, park_all, run_ids

T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
LIMITED = QUEUED.replace(
    "with: {queue: review, status: duplicate_review}",
    "with: {queue: review, status: duplicate_review, wait_limit: 4h}",
)
TIMEOUT = (
    LIMITED.replace(
        "routes: {release: released, cancel: cancelled}",
        "routes: {release: released, cancel: cancelled, timeout: too_late}",
    )
    + "  - {id: too_late, type: finish, with: {status: undecided}}\n"
)


def reminders(store: Store) -> list[str]:
    with store.session() as session:
        return [m.payload["text"] for m in session.scalars(select(OutboxMessage))]


def test_past_the_limit_one_reminder_per_queue_and_the_orders_wait_on(store: Store):
    wf = load_workflow("waiting.yaml", text=LIMITED)
    park_all(store, wf, clock=lambda: T0)
    assert sweep(store, T0 + timedelta(hours=3, minutes=59)).reminded == 0
    swept = sweep(store, T0 + timedelta(hours=4))
    assert (swept.reminded, swept.timed_out) == (3, [])  # no timeout route: they wait on
    (text,) = reminders(store)
    assert "[review] 3 orders waiting at waiting/review past their wait limit" in text
    assert "h5:W0, h5:W1, h5:W2" in text
    assert sweep(store, T0 + timedelta(days=2)).reminded == 0  # once, not every sweep
    assert len(reminders(store)) == 1
    with store.session() as session:
        assert set(session.scalars(select(RunRow.status))) == {"waiting"}


def test_a_timeout_route_moves_the_order_on(store: Store):
    wf = load_workflow("waiting.yaml", text=TIMEOUT)
    park_all(store, wf, clock=lambda: T0)
    swept = sweep(store, T0 + timedelta(hours=5))
    assert swept.reminded == 3 and len(swept.timed_out) == 3
    assert {w.route for w in swept.timed_out} == {"timeout"}
    assert (
        finish(store, lambda: Environments.of(RunEnv(wf, store, None)), run_ids(store))
        == ["undecided"] * 3
    )
    with store.session() as session:
        assert set(session.scalars(select(OrderRow.status))) == {"undecided"}
