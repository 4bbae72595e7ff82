"""The HTTP door of push intake: ``POST /hooks/{channel}`` (h5, youzan, douyin).

    app.include_router(hooks_router(store, settings.systems))

The router only maps HTTP onto `service.push`: the body and headers go to `receive_push`;
the answer is the platform's acknowledgement (200), 401 for a signature that does not match
(nothing is written), 400 for a malformed message, 404 for a channel that does not push.
A stored push wakes the router's `PushWorker`, which processes pushes right away
(`PushProcessor`) on its own thread, so acknowledgements never wait for runs. The router's
lifespan (merged into the app's by `include_router`) wakes it at start-up, for pushes a
stopped server left, and closes it at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.errors import NotFound
from engine.store import Store
from service.push import ProcessReport, PushProcessor, PushRefused, receive_push

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

    return router
