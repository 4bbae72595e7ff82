"""The `link_order` node: an after-sales request's original order, waybill and serials."""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of


@node("link_order")
class LinkOrder(BaseNode):
    """Link the request to its original order, the order's waybill and the serials shipped."""

    class Params(BaseModel):
        pass

    outcomes = ("linked", "unknown_order")

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        ref = f"{order.channel}:{request['order_id']}"
        view = ctx.store.after_sales()
        view.request(order.channel, request["aftersale_id"], ref, request["type"])
        original = view.original(ref)
        if original is None:
            why = f"original order {ref} is not in orderhub; pull it with order_intake first"
            return Outcome("unknown_order", {"original": ref}, reason=why)
        waybill = view.waybill_of(original["id"])
        view.link(original["id"], original["warehouse"], waybill)
        detail = {
            "original": ref,
            "shipped": waybill is not None or original["status"] == "shipped",
            "warehouse": original["warehouse"],
            "waybill_no": waybill,
            "order_amount": str(original["canonical"].get("amount", "0")),
            "serials": view.serials_shipped(original["id"]),
            "serial_skus": view.serial_skus(sorted({li["sku"] for li in request["lines"]})),
        }
        return Outcome("linked", detail)
