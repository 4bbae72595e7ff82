"""The `waybill` node: a carrier's e-waybill per order, its number uploaded to the channel.

The carrier is SF Express or the backup carrier ZTO (`carrier: zto`); a workflow sends orders
to a ZTO waybill node while SF is unavailable with `on_unavailable` (see `engine.faults`).

It never ships an order the platform does not show as paid, whatever the graph before it
checked: such an order (with no waybill of ours yet) takes the outcome `not_paid`, which a
workflow must route like any other (`order_intake` sends it to awaiting_payment).

The tracking upload happens once per order, across crashes too. Its effect is marked
started (durably) before the call; when a run resumes and finds it started but not finished
(the process died during the call or before its result was committed), the channel is asked
for the number it holds (`tracking_of`) where it can be (`can_tell_tracking`: Youzan, Douyin
and the H5 mall): it is not sent again when the channel holds it, and the order goes to a
person when the channel holds another number. A channel that cannot be asked gets its
upload's result committed the moment the call returns, so only a death while the call itself
is in flight can send it a second time.

An exchange's replacement (an order orderhub made, ``replacement_for`` its request) has no
trade on the platform to upload a number to: it gets its waybill and ships, and the step
says the upload was not made.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.errors import ConflictError, Rejected
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node

#: ask the channel before an interrupted upload is sent again; tests switch it off to show the
#: second upload it prevents
ASK_CHANNEL = True
#: commit an upload to a channel that cannot be asked the moment it returns; tests switch it
#: off to show the second upload it prevents
COMMIT_AT_ONCE = True


class Contact(BaseModel):
    contact: str = "orderhub 仓库"
    mobile: str = "4008111111"
    province: str = "上海市"
    city: str = "上海市"
    county: str = "青浦区"
    address: str = "华新镇华志路1号"


@node("waybill")
class Waybill(BaseNode):
    """Create the order's e-waybill once and upload its number; `not_paid` if unpaid."""

    class Params(BaseModel):
        carrier: str = Field(
            "sf", pattern="^(sf|zto)$", description="carrier: sf (SF Express) or zto (ZTO)"
        )
        upload_tracking: bool = Field(True, description="upload the number to the channel")
        senders: dict[str, Contact] = Field(
            default_factory=dict,
            description="warehouse code -> sender contact",
            json_schema_extra={"x-key": "warehouse"},
        )

    outcomes = ("done", "not_paid")
    side_effects = True

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        if order.status != "paid" and ctx.store.waybill_no() is None:  # one of ours goes on
            reason = f"not paid (the platform shows it {order.status}): no waybill made"
            return Outcome("not_paid", {"status": order.status}, reason=reason)
        if ctx.dry_run:
            return Outcome("done", {"dry_run": True}, status="shipped")
        key = ctx.effect_key()
        waybill_no = await self._create(order, ctx, key)
        detail = {"waybill_no": waybill_no}
        if self.params.upload_tracking and replacement_for(order) is not None:
            detail["upload"] = "none: a replacement order has no platform trade"
        elif self.params.upload_tracking:
            await self._upload(order, ctx, key, waybill_no)
        return Outcome("done", detail, status="shipped")

    async def _create(self, order: Order, ctx: RunStepContext, key: str) -> str:
        prior = await ctx.begin_effect(key, "waybill")
        if prior is not None and prior.status == "succeeded":
            made_for = prior.result.get("shipment")
            if made_for is not None and made_for != shipment(order):
                raise ConflictError(
                    f"the receiver or the items changed after waybill "
                    f"{prior.result['waybill_no']} was created: check the parcel, then cancel "
                    "and reissue the waybill by hand"
                )
            return prior.result["waybill_no"]
        carrier = self._carrier(ctx)
        # an earlier attempt started but is not known to have finished: ask by the key first
        waybill_no = await carrier.search_order(key) if prior is not None else None
        if waybill_no is None:
            other = ctx.store.waybill_no()
            if other is not None:  # another node made one (SF before a backup route): never two
                raise ConflictError(
                    f"the order already has waybill {other} from another carrier; check the "
                    "parcel before making a second one"
                )
            warehouse = ctx.fact("warehouse") or ctx.store.warehouse() or ""
            sender = self.params.senders.get(warehouse, Contact()).model_dump()
            waybill_no = await carrier.create_order(key, order.as_data(), sender)
        ctx.store.record_waybill(key, self.params.carrier, waybill_no)
        ctx.end_effect(key, {"waybill_no": waybill_no, "shipment": shipment(order)})
        return waybill_no

    async def _upload(self, order: Order, ctx: RunStepContext, key: str, waybill_no: str) -> None:
        upload_key = ctx.effect_key("upload")
        prior = await ctx.begin_effect(upload_key, "upload")
        if prior is not None and prior.status == "succeeded":
            return
        channel = ctx.connectors.channels[order.channel]
        # an earlier attempt started and may have landed: ask the channel where it can tell
        if prior is None or not await self._landed(channel, order, waybill_no):
            await channel.upload_tracking(order.order_id, self._carrier(ctx).code, waybill_no)
        ctx.store.mark_uploaded(key)
        ctx.end_effect(upload_key, {"waybill_no": waybill_no})
        if COMMIT_AT_ONCE and not can_tell_tracking(channel):  # nothing to ask after a crash
            await ctx.durable()

    async def _landed(self, channel: Any, order: Order, waybill_no: str) -> bool:
        """Whether an interrupted upload of `waybill_no` reached the channel; a channel that
        holds another number for the order is a conflict for a person."""
        if not (ASK_CHANNEL and can_tell_tracking(channel)):
            return False
        held = await channel.tracking_of(order.order_id)
        if held is not None and held != waybill_no:
            raise ConflictError(
                f"the channel already shows tracking number {held} for this order, not our "
                f"waybill {waybill_no}: check the order in the channel's back office"
            )
        return held == waybill_no

    def _carrier(self, ctx: RunStepContext) -> Any:
        carriers = ctx.connectors.carriers
        if self.params.carrier not in carriers:
            raise Rejected(
                self.params.carrier,
                "no settings for this carrier: add its section (credentials) to orderhub.toml",
            )
        return carriers[self.params.carrier]


def can_tell_tracking(channel: Any) -> bool:
    """Whether the channel connector can say which tracking number an order holds."""
    return bool(getattr(channel, "can_tell_tracking", False))


def replacement_for(order: Order) -> str | None:
    """The after-sales item an exchange's replacement order was made for, else None."""
    found = (order.model_extra or {}).get("replacement_for")
    return str(found) if found else None


def shipment(order: Order) -> str:
    """A digest of what a waybill carries: the receiver and the lines (SKU, quantity)."""
    r = order.receiver
    parts = [r.name, r.phone, r.province, r.city, r.district, r.address]
    parts += [f"{line.sku}x{line.qty}" for line in order.items]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
