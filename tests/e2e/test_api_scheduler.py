"""A rollback through the API changes what the next scheduled pull runs, without a restart:
the scheduler runs beside a running uvicorn on the same database; versions are saved,
activated and rolled back over HTTP, and the scheduler's runs follow (their `run.start`
audit entries name the version each ran)."""

from __future__ import annotations

import asyncio

import httpx

from engine.store import Store
from service.scheduler import Scheduler
from tests.e2e.api_server import client, serving, token_for
from tests.service.test_scheduler import NOWHERE, QUICK, every_2s, scheduled_versions, until


async def test_a_rollback_through_the_api_changes_the_next_scheduled_pull(store: Store) -> None:
    base = "/workflows/order_intake"
    with serving(store) as url, client(url, token_for(store, "ops", "ops_manager")) as ops:
        saved = ops.post(f"{base}/versions", json={"text": every_2s(), "message": "v1"})
        assert saved.status_code == 201, saved.text
        stop = asyncio.Event()
        task = asyncio.create_task(Scheduler(store, NOWHERE, QUICK).run(stop))
        try:
            await until(lambda: "order_intake v1" in scheduled_versions(store), "v1 never ran")
            second = {"text": every_2s("v2"), "message": "v2", "base": 1}
            await call(ops, "post", f"{base}/versions", json=second)
            await call(ops, "post", f"{base}/versions/2/activate")
            await until(lambda: scheduled_versions(store)[-1] == "order_intake v2", "no v2")
            back = {"to": 1, "reason": "v2 misroutes"}
            rolled = await call(ops, "post", f"{base}/rollback", json=back)
            assert rolled.json()["version"]["number"] == 3
            await until(lambda: scheduled_versions(store)[-1] == "order_intake v3", "no v3")
        finally:
            stop.set()
            await task


async def call(http: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response:
    """One request off the event loop (the scheduler runs on it meanwhile)."""
    response = await asyncio.to_thread(getattr(http, method), path, **kwargs)
    assert response.status_code < 300, response.text
    return response
