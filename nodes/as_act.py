"""The `platform_act` node: refund, refuse (with the inspection's reason) or agree the
exchange on the platform — once, whatever happens to the run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of


@node("platform_act")
class PlatformAct(BaseNode):
    """Refund, refuse or agree the exchange on the platform, once per request."""

    class Params(BaseModel):
        act: Literal["refund", "refuse", "exchange"] = Field(description="what to do")

    outcomes = ("done", "closed")
    side_effects = True

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request, act = request_of(order), self.params.act
        key = ctx.effect_key()
        prior = await ctx.begin_effect(key, act)
        if prior is not None and prior.status == "succeeded":
            status, by_platform = prior.result["status"], prior.result.get("by_platform", False)
        else:
            # a STARTED prior (a run stopped during the call) is reconciled by `act`: it
            # reads the request first and does nothing when the act already took effect
            remark = str(ctx.fact("reason") or "") if act == "refuse" else ""
            channel = ctx.connectors.after_sales[order.channel]
            fresh = await channel.act(request["aftersale_id"], act, remark=remark, key=key)
            status, by_platform = fresh["status"], bool(fresh.get("system_refund"))
            ctx.end_effect(key, {"status": status, "by_platform": by_platform})
        if status == "closed":
            return Outcome("closed", {"platform_status": status}, reason="closed by the buyer")
        # the platform may have refunded by itself before the parcel arrived: nothing to do
        return Outcome("done", {"platform_status": status, "act": act, "by_platform": by_platform})
