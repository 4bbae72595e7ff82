"""The `settle_request` node: where the request ended, and the mark it leaves on the original
order (refunded, partly refunded or exchanged)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of

_SLUG = "^[a-z][a-z0-9_]*$"


@node("settle_request")
class SettleRequest(BaseNode):
    """End the request with a state and mark the original order."""

    class Params(BaseModel):
        state: str = Field(pattern=_SLUG, description="where the request ends, e.g. refunded")
        mark: Literal["refund", "exchanged", "none"] = Field(
            "none", description="refund: refunded or partly refunded by the amount; exchanged"
        )

    outcomes = ("done",)
    terminal = ("done",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        mark = None
        if self.params.mark == "exchanged":
            mark = "exchanged"
        elif self.params.mark == "refund":
            whole = Decimal(str(ctx.fact("order_amount") or "0"))
            mark = "refunded" if Decimal(request["refund"]) >= whole else "partly_refunded"
        state = self.params.state
        if state == "refunded" and ctx.fact("by_platform"):  # refunded before it came back
            state = "refunded_by_platform"
        view = ctx.store.after_sales()
        if mark is not None:
            view.set_state(state, original_mark=mark)
        else:
            view.set_state(state)
        return Outcome("done", {"mark": mark}, status=state)
