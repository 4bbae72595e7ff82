"""`orders show` of an order whose run waits: what it waits for, and the version it is
pinned to once the active version moved on; a woken run finishes on that version."""

from __future__ import annotations

import asyncio

from engine.runner import RunEnv
from engine.store import Store
from engine.waits import wake
from service.access import Actor
from service.orders import order_history
from service.orders_cli import history_lines
from service.resume import environments_around
from tests.engine.test_waits import QUEUED, park_all
from versions.store import activate, get_version, save

LI = Actor("li.wei", "ops_manager")


def test_orders_show_says_what_a_run_waits_for_and_the_version_it_is_pinned_to(store: Store):
    v1 = save(store, QUEUED, actor=LI, base=None, message="first")
    park_all(store, v1.workflow())
    (run,) = order_history(store, LI, "h5:W0").runs
    assert (run.status, run.label, run.pinned) == ("waiting", "v1", None)
    lines = history_lines(order_history(store, LI, "h5:W0"))
    assert any(
        line.startswith("waits     queue review at review since")
        and line.endswith("(decisions: release, cancel)")
        for line in lines
    ), lines

    v2 = save(store, QUEUED.replace("released_v1", "released_v2"), actor=LI, base=1, message="x")
    activate(store, "waiting", v2.number, actor=LI)
    (run,) = order_history(store, LI, "h5:W0").runs
    assert run.pinned == ("pinned to v1; the active version is now v2, this run finishes on v1")
    assert f"  {run.pinned}" in history_lines(order_history(store, LI, "h5:W0"))

    # woken, it finishes on v1 although the process runs v2
    wake(store, "queue", "review", "release", "sun.li:reviewer", run_ids=[run.id])

    async def go() -> str | None:
        envs = environments_around(RunEnv(get_version(store, "waiting").workflow(), store, None))
        try:
            return await envs.finish(run.id)
        finally:
            envs.close()

    assert asyncio.run(go()) == "released_v1"
    history = order_history(store, LI, "h5:W0")
    assert history.runs[0].pinned is None  # it ended
    (wait,) = history.waits
    assert (wait.status, wait.woken_by, wait.route) == ("done", "sun.li:reviewer", "release")
    assert any("woken by sun.li:reviewer" in line for line in history_lines(history))
