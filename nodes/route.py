"""End-of-path nodes: `exception_route` (a named queue with a reason) and `finish`.

An `exception_route` node whose workflow routes some of its decisions (``routes: {release:
split, merge: merged, cancel: cancelled}``) parks the run in its queue until a person decides
(`service.review.decide`); the decision is the route the run takes on. When it routes
``restocked`` and an earlier `stock_check` found the order short or low, it also waits for
that stock (`engine.restock`). Without routed
decisions the run ends in the queue, as an order that only a person can deal with.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome, Wait
from engine.order import Order
from engine.registry import node

_SLUG = "^[a-z][a-z0-9_]*$"
#: what may end a wait in a queue: a person's decisions, stock arriving, the wait limit
DECISIONS = ("release", "merge", "cancel", "restocked", "retry", "reroute", "timeout")


@node("exception_route")
class ExceptionRoute(BaseNode):
    """Put the order in a named queue (review, exceptions, held) with its reason."""

    class Params(BaseModel):
        queue: str = Field(pattern=_SLUG, description="queue name, e.g. review or exceptions")
        status: str | None = Field(None, pattern=_SLUG, description="order status to set")
        reason: str | None = Field(None, description="reason; default: the earlier step's")
        notify: bool = Field(False, description="also tell the team on WeCom")
        wait_limit: str | None = Field(
            None,
            pattern=r"^[1-9][0-9]*[mhd]$",
            description="how long an order may wait here for a decision (30m, 4h, 1d): past "
            "it the team is reminded once, and a `timeout` route moves it on",
        )

    outcomes = ("queued", *DECISIONS)
    terminal = ("queued",)  # without routed decisions the run ends in the queue
    decisions = DECISIONS  # a person's decision (or restocked, timeout) picks the route on

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        p = self.params
        reason = p.reason or ctx.fact("reason") or f"routed to {p.queue}"
        detail = {k: v for k in ("duplicate_of", "warehouse") if (v := ctx.fact(k)) is not None}
        ctx.store.enqueue(p.queue, reason, detail)
        if p.notify:
            ctx.store.notify(f"[{p.queue}] {order.ref}: {reason}")
        deadline = ctx.now() + limit_of(p.wait_limit) if p.wait_limit else None
        waits = (
            Wait("queue", p.queue, reason, deadline=deadline),
            *_stock_waits(ctx.fact("restock"), reason),
        )
        return Outcome(
            "queued",
            {"queue": p.queue},
            status=p.status or p.queue,
            reason=reason,
            waits=waits,
        )


def limit_of(text: str) -> timedelta:
    """A wait limit (``30m``, ``4h``, ``1d``) as a duration."""
    unit = {"m": "minutes", "h": "hours", "d": "days"}[text[-1]]
    return timedelta(**{unit: int(text[:-1])})


def _stock_waits(restock: dict | None, reason: str) -> tuple[Wait, ...]:
    """Waits for the stock an earlier `stock_check` found short or low (one per SKU), which
    wake the run on the route `restocked` (dropped unless the workflow routes it)."""
    if not restock:
        return ()
    warehouse = restock["warehouse"]
    skus = restock.get("reserve") or restock.get("skus") or []
    return tuple(
        Wait("stock", f"{sku}@{warehouse}", reason, route="restocked", detail=restock)
        for sku in skus
    )


@node("finish")
class Finish(BaseNode):
    """End the run and set the order's status."""

    class Params(BaseModel):
        status: str = Field(pattern=_SLUG, description="order status to set")

    outcomes = ("done",)
    terminal = ("done",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        return Outcome("done", status=self.params.status)
