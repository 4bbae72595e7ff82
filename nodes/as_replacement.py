"""The `replacement_order` node: an exchange's replacement, as a new order linked to the
request (``<original>-EX<aftersale id>``) with the returned lines, to be shipped by
order_intake."""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of


@node("replacement_order")
class ReplacementOrder(BaseNode):
    """Create the replacement order of an exchange, once, linked to the request."""

    class Params(BaseModel):
        pass

    outcomes = ("created",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        view = ctx.store.after_sales()
        original = view.original(ctx.fact("original"))
        if original is None:
            raise ValueError(f"{order.ref}: the original order is gone; link it again")
        order_id = f"{request['order_id']}-EX{request['aftersale_id']}"
        lines = [li for li in request["lines"] if not li.get("gift")]
        ref = view.replacement(original, order_id, lines, ctx.now())
        view.set_state("exchanging", replacement_ref=ref)
        return Outcome("created", {"replacement": ref})
