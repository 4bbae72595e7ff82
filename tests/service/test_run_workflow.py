"""`service.run_workflow`: the use case every door calls to run a workflow (issue 9, item 1).

A role check (`runs.start`: admin, ops_manager, the scheduler), one audit record of who ran
which version, a dataclass out; the scheduler's runs are recorded as the scheduler's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.simulator.server import settings_for
from engine.errors import PermissionDenied
from engine.store import Store, leases
from service.access import SCHEDULER, Actor, parse_actor, require
from service.running import RunOutcome, lease_name, run_workflow
from versions import audit

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
#: systems where nothing listens: every channel is "not pulled", nothing else happens
NOWHERE = {
    name: {**values, "retries": 0} for name, values in settings_for("http://127.0.0.1:9").items()
}


def run(store: Store, actor: Actor, ref: str = WORKFLOW) -> RunOutcome:
    return asyncio.run(run_workflow(store, actor, ref, systems=NOWHERE))


@pytest.mark.parametrize("actor", [Actor("li.wei", "ops_manager"), Actor("boss", "admin")])
def test_a_run_is_audited_with_who_ran_which_version(store: Store, actor: Actor) -> None:
    outcome = run(store, actor)
    assert outcome.workflow_id == "order_intake" and outcome.draft
    assert outcome.started_by == str(actor)
    assert set(outcome.report["not_pulled"]) == {"youzan", "douyin", "h5"}
    (entry,) = audit.list_entries(store, subject="workflow:order_intake")
    assert (entry.actor, entry.role, entry.action) == (actor.user, actor.role, "run.start")
    assert entry.detail["version"] == outcome.version
    assert entry.detail["draft"] is True and len(entry.detail["content_hash"]) == 64
    assert leases.current(store, lease_name("order_intake")) is None  # let go at the end


def test_the_schedulers_runs_are_recorded_as_the_schedulers(store: Store) -> None:
    run(store, SCHEDULER)
    (entry,) = audit.list_entries(store, subject="workflow:order_intake")
    assert (entry.actor, entry.role) == ("scheduler", "scheduler")
    with pytest.raises(PermissionDenied):
        require(SCHEDULER, "versions.save")  # it starts runs and does nothing else
    with pytest.raises(PermissionDenied, match="orderhub's own role"):
        parse_actor("mallory:scheduler")  # and nobody can claim to be it


@pytest.mark.parametrize("role", ["reviewer", "warehouse", "finance", "auditor"])
def test_other_roles_may_not_start_runs_and_leave_no_trace(store: Store, role: str) -> None:
    with pytest.raises(PermissionDenied, match="may not runs.start; it needs the role admin"):
        run(store, Actor("sun.li", role))
    assert audit.list_entries(store) == []
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM leases").scalar() == 0
