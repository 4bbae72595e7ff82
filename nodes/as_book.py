"""The `book_return` node: agree the return on the platform and put the parcel on the
warehouse's expected-returns list, booking an SF pickup when the buyer sends none."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of, request_ref


class Address(BaseModel):
    contact: str
    mobile: str
    province: str
    city: str
    county: str
    address: str


@node("book_return")
class BookReturn(BaseNode):
    """Agree the return (once), then expect the parcel in the order's warehouse."""

    class Params(BaseModel):
        default_warehouse: str = Field(description="warehouse when the order names none")
        warehouses: dict[str, Address] = Field(
            min_length=1,
            description="warehouse code -> its address (where parcels come back)",
            json_schema_extra={"x-key": "warehouse"},
        )

    outcomes = ("booked", "closed")
    side_effects = True

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        warehouse = ctx.fact("warehouse") or self.params.default_warehouse
        channel = ctx.connectors.after_sales[order.channel]
        key = ctx.effect_key("agree")
        prior = await ctx.begin_effect(key, "agree_return")
        if prior is not None and prior.status == "succeeded":
            agreed = prior.result
        else:
            fresh = await channel.act(request["aftersale_id"], "agree_return", key=key)
            agreed = {"status": fresh["status"], "tracking": fresh["tracking"]}
            ctx.end_effect(key, agreed)
        if agreed["status"] == "closed":
            return Outcome("closed", {"warehouse": warehouse}, reason="closed by the buyer")
        tracking = agreed.get("tracking") or await self._pickup(order, ctx, warehouse)
        ctx.store.after_sales().expect_return(
            warehouse,
            tracking["tracking_no"],
            tracking["company"],
            inspect=bool(ctx.fact("inspect")),
        )
        detail = {"warehouse": warehouse, "tracking_no": tracking["tracking_no"]}
        return Outcome("booked", detail, status="awaiting_return")

    async def _pickup(self, order: Order, ctx: RunStepContext, warehouse: str) -> dict[str, Any]:
        """Book SF's reverse pickup at the buyer's address, once per request."""
        key = ctx.effect_key("pickup")
        prior = await ctx.begin_effect(key, "return_pickup")
        if prior is not None and prior.status == "succeeded":
            return prior.result
        original = ctx.store.after_sales().original(ctx.fact("original"))
        customer = (original or {}).get("canonical", {}).get("receiver", {})
        site = (
            self.params.warehouses.get(warehouse)
            or self.params.warehouses[self.params.default_warehouse]
        )
        to = {"name": site.contact, "phone": site.mobile, "province": site.province,
              "city": site.city, "district": site.county, "address": site.address}  # fmt: skip
        cargo = [{"name": item.sku, "count": item.qty, "unit": "件"} for item in order.items]
        waybill = await ctx.connectors.sf_returns.create_return(
            key, request_ref(order), customer, to, cargo
        )
        result = {"company": "SF", "tracking_no": waybill}
        ctx.end_effect(key, result)
        return result
