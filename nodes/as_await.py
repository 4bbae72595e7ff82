"""The `await_return` node: go on once the warehouse scanned the parcel in; wait till then.

Waiting ends the run with the outcome ``waiting`` (status ``awaiting_return``); the scan
(`service.returns.scan`) wakes it here (`engine.store.after_sales.wake`). When the engine's
own waits land, this is the one node that changes: it returns a wait instead.
"""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("await_return")
class AwaitReturn(BaseNode):
    """Wait for the returned parcel's scan; then inspect it or refund on the scan."""

    class Params(BaseModel):
        pass

    outcomes = ("arrived", "inspect", "waiting")
    terminal = ("waiting",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        expected = ctx.store.after_sales().expected()
        if expected is None or expected["status"] == "expected":
            return Outcome("waiting", status="awaiting_return")
        detail = {"scanned_by": expected["scanned_by"]}
        return Outcome("inspect" if expected["inspect"] else "arrived", detail)
