"""The HTTP door of push intake: ``POST /hooks/{channel}`` (h5, youzan, douyin) for orders
and ``POST /hooks/{channel}/after-sales`` for after-sales requests.

    app.include_router(hooks_router(store, settings.systems))

The router only maps HTTP onto `service.push`: the body and headers go to `receive_push`;
the answer is the platform's acknowledgement (200), 401 for a signature that does not match
(nothing is written), 400 for a malformed message, 404 for a channel that does not push.
A stored push wakes the router's `PushWorker`, which processes pushes right away
(`PushProcessor`) on its own thread, so acknowledgements never wait for runs. The router's
lifespan (merged into the app's by `include_router`) wakes it at start-up, for pushes a
stopped server left, and closes it at shutdown.

An after-sales push goes to `service.after_sales_push` (the mall's checked by its
``X-Timestamp`` / ``X-Signature`` headers; Youzan's and Douyin's only name requests, which
are read again from the platform): the request is stored once and its run of the after-sales
workflow (the saved ``after_sales`` version when there is one, else the shipped file) is
started, then finished after the acknowledgement when it runs a saved version (a run of the
file waits for the next `orderhub run workflows/after_sales.yaml`). Errors are the app's
typed-error answers (422 a body that is not a push); a bad signature is 401, as for orders.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.errors import NotFound, PermissionDenied
from engine.store import Store
from service.access import Actor
from service.after_sales_push import PushResult, receive_h5_push, receive_platform_push
from service.push import ACKS, ProcessReport, PushProcessor, PushRefused, receive_push
from service.resume import finish_runs
from versions.store import list_versions

#: who the after-sales hooks act as (the push is checked, or only a hint read again)
PUSH_ACTOR = Actor("push-intake", "scheduler")
AFTER_SALES_FILE = Path(__file__).resolve().parent.parent / "workflows" / "after_sales.yaml"

log = logging.getLogger("orderhub.hooks")


class PushWorker:
    """Processes stored pushes as soon as they are stored, one pass at a time, on a thread
    of its own with its own event loop, so the server keeps answering pushes at once while
    runs go on (started by the first `wake`); a pass that finds more stored goes on."""

    def __init__(self, store: Store, systems: Mapping[str, Mapping[str, Any]]) -> None:
        self.store = store
        self.processor = PushProcessor(systems)
        self.passes = 0
        self.last: ProcessReport | None = None
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        """Ask for a pass (from any thread)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._main, name="pushes", daemon=True)
                self._thread.start()
        self._wake.set()

    async def aclose(self) -> None:
        """Stop after the pass under way (if any) and let the connectors go."""
        thread = self._thread
        if thread is None:
            return
        self._stop = True
        self._wake.set()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        self._thread = None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop:
                if not self._wake.wait(timeout=1.0):
                    continue
                self._wake.clear()
                if self._stop:
                    break
                try:
                    self.last = loop.run_until_complete(self.processor.run_once(self.store))
                except Exception:  # noqa: BLE001 - keep serving; the scheduler's pass retries
                    log.exception("pushes not processed; the scheduler tries them again")
                self.passes += 1
        finally:
            loop.run_until_complete(self.processor.aclose())
            loop.close()


def hooks_router(
    store: Store, systems: Mapping[str, Mapping[str, Any]], *, worker: PushWorker | None = None
) -> APIRouter:
    """``POST /hooks/{channel}`` over `store`, verifying with the channels' `systems`
    settings (``[h5] webhook_secret``, ``[youzan] client_id/client_secret``, ``[douyin]
    app_key/app_secret``)."""
    worker = worker or PushWorker(store, systems)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        worker.wake()  # what a stopped server left
        try:
            yield
        finally:
            await worker.aclose()

    router = APIRouter(prefix="/hooks", tags=["push intake"], lifespan=lifespan)
    router.worker = worker  # type: ignore[attr-defined]

    @router.post("/{channel}", summary="A channel's signed push of order messages")
    async def hook(channel: str, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            receipt = await run_in_threadpool(
                receive_push, store, channel, dict(request.headers), body, systems
            )
        except PushRefused as refused:
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        if receipt.stored:
            worker.wake()
        return JSONResponse(receipt.ack)

    @router.post("/{channel}/after-sales", summary="A channel's push of after-sales requests")
    async def after_sales_hook(
        channel: str, request: Request, background: BackgroundTasks
    ) -> JSONResponse:
        try:
            results = await take_after_sales(store, systems, channel, request)
        except PermissionDenied as refused:  # a signature that does not match, as for orders
            return JSONResponse({"error": str(refused)}, status_code=401)
        started = [r.new_run for r in results if r.new_run is not None]
        if started:  # after the acknowledgement: the platform does not wait for the run
            background.add_task(finish_runs, store, dict(systems), started)
        return JSONResponse({**ACKS[channel], "received": [r.ref for r in results]})

    return router


async def take_after_sales(
    store: Store, systems: Mapping[str, Mapping[str, Any]], channel: str, request: Request
) -> list[PushResult]:
    """Store an after-sales push and start its run (see the module docstring)."""
    if channel not in ACKS:
        raise NotFound(f"no push intake for {channel!r} (channels: {', '.join(ACKS)})")
    body, settings = await request.body(), {k: dict(v) for k, v in systems.items()}
    ref = _after_sales_ref(store)
    if channel == "h5":
        headers = request.headers
        result = await receive_h5_push(
            store,
            PUSH_ACTOR,
            ref,
            systems=settings,
            body=body,
            timestamp=headers.get("x-timestamp", ""),
            signature=headers.get("x-signature", ""),
        )
        return [result]
    return await receive_platform_push(
        store, PUSH_ACTOR, ref, systems=settings, channel=channel, body=body
    )


def _after_sales_ref(store: Store) -> str:
    """The saved after-sales workflow's active version when there is one, else the file."""
    return "after_sales" if list_versions(store, "after_sales") else str(AFTER_SALES_FILE)
