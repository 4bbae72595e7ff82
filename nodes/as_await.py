"""The `await_return` node: go on once the warehouse scanned the parcel in; wait till then.

Waiting parks the run here (status ``awaiting_return``) on the event ``return:<channel>:<
aftersale id>``; the scan (`service.returns.scan`) wakes it and the node runs again, now
finding the parcel scanned. With a `wait_limit`, a parcel not back by then reminds the team
once, and a routed ``timeout`` moves the request on (to a person, say).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome, Wait
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import event_key, request_ref
from nodes.route import limit_of


@node("await_return")
class AwaitReturn(BaseNode):
    """Wait for the returned parcel's scan; then inspect it or refund on the scan."""

    class Params(BaseModel):
        wait_limit: str | None = Field(
            None,
            pattern=r"^[1-9][0-9]*[mhd]$",
            description="how long a parcel may take to come back (7d, 14d): past it the team "
            "is reminded once, and a `timeout` route moves the request on",
        )

    outcomes = ("arrived", "inspect", "waiting", "timeout")
    terminal = ("waiting",)  # an unparked wait (no waker): the run ends awaiting the parcel
    decisions = ("timeout",)  # only the wait limit chooses it

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        expected = ctx.store.after_sales().expected()
        if expected is None or expected["status"] == "expected":
            ref = request_ref(order)
            reason = f"the returned parcel of {ref} is not scanned in yet"
            limit = self.params.wait_limit
            deadline = ctx.now() + limit_of(limit) if limit else None
            waits = [Wait("event", event_key("return", ref), reason, deadline=deadline)]
            if deadline is not None:  # dropped by the runner unless `timeout` is routed
                late = Wait("time", event_key("limit:return", ref), reason, route="timeout",
                            until=deadline)  # fmt: skip
                waits.append(late)
            return Outcome("waiting", status="awaiting_return", waits=tuple(waits))
        detail = {"scanned_by": expected["scanned_by"]}
        return Outcome("inspect" if expected["inspect"] else "arrived", detail)
