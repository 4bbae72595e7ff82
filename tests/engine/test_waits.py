"""Runs that wait: a node parks the run, `wake` resumes it at the route its waker chose.

A small workflow of pure nodes: a queue node with decisions (release → `released`, cancel →
`cancelled`), and a node that waits for the system ``sf`` once and then goes on. No
connectors: what is under test is parking, claiming, the recorded wake and the version a
woken run finishes on.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import delete, select

from engine.dispatch import EmbeddedDispatcher, Environments, unfinished_runs
from engine.errors import InvalidInput
from engine.ingest import Batch, SourceContext, ingest
from engine.loader import load_workflow
from engine.node import BaseNode, Outcome, Wait
from engine.registry import node
from engine.runner import RunEnv
from engine.store import Store
from engine.store import waits as wait_store
from engine.store.models import OrderRow, RunRow, StepRow, WaitRow, WorkflowDocument
from engine.store.waits import open_waits
from engine.waits import claim_all, wake, wake_due
from engine.workflow import Workflow

FEED = [
    {
        "channel": "h5",
        "order_id": f"W{n}",
        "created_at": f"2026-01-10T08:0{n}:00+08:00",
        "updated_at": f"2026-01-10T08:0{n}:00+08:00",
        "status": "paid",
        "amount": 10,
    }
    for n in range(3)
]


@node("t_wait_feed")
class TWaitFeed(BaseNode):
    """Yield the orders of FEED."""

    class Params(BaseModel):
        pass

    outcomes = ("pulled",)
    source = True

    async def pull(self, ctx: SourceContext):
        yield Batch("t_wait_feed", datetime(2026, 1, 10, tzinfo=UTC), [(o, dict(o)) for o in FEED])


@node("t_needs_sf")
class TNeedsSf(BaseNode):
    """Wait for SF (or a time) on the first try; go on once woken."""

    class Params(BaseModel):
        kind: str = "system"

    outcomes = ("ok",)

    async def run(self, order, ctx) -> Outcome:
        if ctx.fact("woke") is None and self.node_id not in ctx.state:
            until = ctx.now() + timedelta(minutes=5) if self.params.kind == "time" else None
            key = "sf" if self.params.kind == "system" else ""
            wait = Wait(self.params.kind, key, "SF unavailable", until=until)
            return Outcome("ok", {"woke": None}, reason="SF unavailable", waits=(wait,))
        return Outcome("ok", {"woke": True})


QUEUED = """\
id: waiting
name: waiting
nodes:
  - {id: feed, type: t_wait_feed, next: review}
  - id: review
    type: exception_route
    with: {queue: review, status: duplicate_review}
    routes: {release: released, cancel: cancelled}
  - {id: released, type: finish, with: {status: released_v1}}
  - {id: cancelled, type: finish, with: {status: cancelled}}
"""

SYSTEM = """\
id: needs_sf
name: needs_sf
nodes:
  - {id: feed, type: t_wait_feed, next: call}
  - {id: call, type: t_needs_sf, with: {kind: KIND}, next: done}
  - {id: done, type: finish, with: {status: done}}
"""


def park_all(store: Store, workflow: Workflow, clock=None) -> list[str | None]:
    """Ingest FEED and finish every run: each parks."""

    async def go() -> list[str | None]:
        env = RunEnv(workflow, store, None, **({"clock": clock} if clock else {}))
        try:
            await ingest(env)
            outcomes: list[str | None] = []
            runs = unfinished_runs(store, workflow.id, env.version)
            await EmbeddedDispatcher(Environments.of(env)).run_all(
                runs, lambda _r, o: outcomes.append(o)
            )
            return outcomes
        finally:
            env.close()

    return asyncio.run(go())


def finish(store: Store, envs_of, run_ids: list[int]) -> list[str | None]:
    async def go() -> list[str | None]:
        envs = envs_of()
        try:
            return [await envs.finish(r) for r in run_ids]
        finally:
            envs.close()

    return asyncio.run(go())


def run_ids(store: Store) -> list[int]:
    with store.session() as session:
        return list(session.scalars(select(RunRow.id).order_by(RunRow.id)))


def test_a_queue_decision_resumes_the_run_at_its_route_recorded_with_who(store: Store):
    wf = load_workflow("waiting.yaml", text=QUEUED)
    assert park_all(store, wf) == ["duplicate_review"] * 3  # the order's status
    with store.session() as session:
        assert set(session.scalars(select(RunRow.status))) == {"waiting"}
        assert set(session.scalars(select(OrderRow.status))) == {"duplicate_review"}
        waits = session.scalars(select(WaitRow)).all()
    assert {(w.kind, w.key, tuple(w.offers), w.status) for w in waits} == {
        ("queue", "review", ("release", "cancel"), "open")
    }
    first, second, third = run_ids(store)
    with pytest.raises(InvalidInput, match="decisions are release, cancel; 'merge'"):
        wake(store, "queue", "review", "merge", "sun.li:reviewer", run_ids=[first])

    woken = wake(store, "queue", "review", "release", "sun.li:reviewer", note="ok", run_ids=[first])
    assert [(w.run_id, w.ref, w.route) for w in woken] == [(first, "h5:W0", "release")]
    # the run is claimed once: a second waker (another person, another process) finds nothing
    assert wake(store, "queue", "review", "cancel", "wu.lei:reviewer", run_ids=[first]) == []
    assert wake(store, "queue", "review", "cancel", "wu.lei:reviewer", run_ids=[second])

    assert finish(store, lambda: Environments.of(RunEnv(wf, store, None)), [first, second]) == [
        "released_v1",
        "cancelled",
    ]
    with store.session() as session:
        statuses = {r.id: r.status for r in session.execute(select(RunRow.id, RunRow.status))}
        step = session.scalars(
            select(StepRow).where(StepRow.run_id == first, StepRow.node_id == "review")
        ).one()
        by_wait = {w.run_id: w.status for w in session.scalars(select(WaitRow))}
    assert statuses == {first: "completed", second: "completed", third: "waiting"}
    assert by_wait == {first: "done", second: "done", third: "open"}
    assert step.outcome == "release"
    assert step.detail["woken_by"] == "sun.li:reviewer"
    assert step.detail["note"] == "ok"
    assert step.detail["waited_for"] == "queue review"


def test_a_woken_run_finishes_on_its_own_version(store: Store):
    """The version it parked on, not the one the process runs now (built by the loader)."""
    old = load_workflow("waiting.yaml", text=QUEUED)
    new = load_workflow("waiting.yaml", text=QUEUED.replace("released_v1", "released_v2"))
    park_all(store, old)
    first = run_ids(store)[0]
    wake(store, "queue", "review", "release", "sun.li:reviewer", run_ids=[first])

    def load(workflow_id: str, version: str) -> Workflow | None:
        return old if (workflow_id, version) == (old.id, old.content_hash) else None

    def envs() -> Environments:
        return Environments.of(RunEnv(new, store, None), load=load)

    assert finish(store, envs, [first]) == ["released_v1"]


def test_without_its_version_a_woken_run_stays_woken_for_a_process_that_has_it(store: Store):
    old = load_workflow("waiting.yaml", text=QUEUED)
    new = load_workflow("waiting.yaml", text=QUEUED.replace("released_v1", "released_v2"))
    park_all(store, old)
    first = run_ids(store)[0]
    wake(store, "queue", "review", "release", "sun.li:reviewer", run_ids=[first])
    # any process finds the document its runs started on (a draft too) …
    with store.engine.begin() as conn:
        kept = conn.execute(select(WorkflowDocument)).all()
        conn.execute(delete(WorkflowDocument))
    assert len(kept) == 1 and kept[0].content_hash == old.content_hash
    # … and without it (a store from before) the run waits for a process that has it
    assert finish(store, lambda: Environments.of(RunEnv(new, store, None)), [first]) == [None]
    with store.session() as session:
        assert session.get(RunRow, first).status == "woken"


def test_a_system_wake_runs_the_waiting_node_again(store: Store):
    wf = load_workflow("needs_sf.yaml", text=SYSTEM.replace("KIND", "system"))
    assert park_all(store, wf) == ["pending"] * 3
    assert wake(store, "system", "other", None, "breaker other") == []
    woken = wake(store, "system", "sf", None, "breaker sf closed")
    assert len(woken) == 3 and {w.route for w in woken} == {None}
    assert (
        finish(store, lambda: Environments.of(RunEnv(wf, store, None)), run_ids(store))
        == ["done"] * 3
    )
    with store.session() as session:
        steps = session.scalars(select(StepRow).where(StepRow.node_id == "call")).all()
    assert len(steps) == 3
    assert {(s.outcome, s.detail["woke"], s.detail["woken_by"]) for s in steps} == {
        ("ok", True, "breaker sf closed")
    }


def test_a_time_wait_wakes_when_its_time_comes(store: Store):
    now = [datetime(2026, 1, 10, 2, 0, tzinfo=UTC)]
    wf = load_workflow("needs_sf.yaml", text=SYSTEM.replace("KIND", "time"))
    assert park_all(store, wf, clock=lambda: now[0]) == ["pending"] * 3
    assert wake_due(store, now[0] + timedelta(minutes=4)) == []
    assert len(wake_due(store, now[0] + timedelta(minutes=5))) == 3
    assert (
        finish(store, lambda: Environments.of(RunEnv(wf, store, None)), run_ids(store))
        == ["done"] * 3
    )


def test_decisions_are_validated_like_any_route_and_only_they_may_lead_back():
    from engine.loader import check_workflow

    def problems(routes: str) -> list[str]:
        text = QUEUED.replace("routes: {release: released, cancel: cancelled}", routes)
        return [p.message for p in check_workflow("waiting.yaml", text=text)]

    # an unrouted decision is simply not offered
    assert problems("routes: {release: released, merge: cancelled}") == []
    assert any("no node 'relased'" in m for m in problems("routes: {release: relased}"))
    typo = "routes: {relase: released, cancel: cancelled}"
    assert any("has no outcome 'relase'" in m for m in problems(typo))
    # a wake may lead back
    assert problems("routes: {retry: review, release: released, cancel: cancelled}") == []
    looped = SYSTEM.replace("KIND", "system").replace("next: done}", "next: call}")
    assert any("cycle" in p.message for p in check_workflow("s.yaml", text=looped))


@pytest.mark.parametrize(
    "claim_once",
    [
        True,
        pytest.param(
            False,
            marks=pytest.mark.xfail(strict=True, reason="claim switched off: woken twice"),
        ),
    ],
)
def test_two_wakers_that_both_saw_the_wait_open_wake_the_run_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, claim_once: bool
):
    monkeypatch.setattr(wait_store, "CLAIM_ONCE", claim_once)
    park_all(store, load_workflow("waiting.yaml", text=QUEUED))
    first = run_ids(store)[0]
    with store.engine.connect() as conn:
        seen = open_waits(conn, "queue", "review", run_ids=[first])  # both read it open
    assert len(claim_all(store, seen, "release", "sun.li:reviewer")) == 1
    assert claim_all(store, seen, "cancel", "wu.lei:reviewer") == []
    with store.session() as session:
        (wait,) = session.scalars(select(WaitRow).where(WaitRow.run_id == first))
    assert (wait.woken_by, wait.woken_route) == ("sun.li:reviewer", "release")
