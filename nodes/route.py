"""End-of-path nodes: `exception_route` (a named queue with a reason) and `finish`."""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node

_SLUG = "^[a-z][a-z0-9_]*$"


@node("exception_route")
class ExceptionRoute(BaseNode):
    """Put the order in a named queue (review, exceptions, held) with its reason."""

    class Params(BaseModel):
        queue: str = Field(pattern=_SLUG, description="queue name, e.g. review or exceptions")
        status: str | None = Field(None, pattern=_SLUG, description="order status to set")
        reason: str | None = Field(None, description="reason; default: the earlier step's")
        notify: bool = Field(False, description="also tell the team on WeCom")

    outcomes = ("queued",)
    terminal = ("queued",)  # the queue is where the order waits: the run may end here

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        p = self.params
        reason = p.reason or ctx.fact("reason") or f"routed to {p.queue}"
        detail = {k: v for k in ("duplicate_of", "warehouse") if (v := ctx.fact(k)) is not None}
        ctx.store.enqueue(p.queue, reason, detail)
        if p.notify:
            ctx.store.notify(f"[{p.queue}] {order.ref}: {reason}")
        return Outcome("queued", {"queue": p.queue}, status=p.status or p.queue, reason=reason)


@node("finish")
class Finish(BaseNode):
    """End the run and set the order's status."""

    class Params(BaseModel):
        status: str = Field(pattern=_SLUG, description="order status to set")

    outcomes = ("done",)
    terminal = ("done",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        return Outcome("done", status=self.params.status)
