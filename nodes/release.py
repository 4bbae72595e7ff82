"""Orders the platform moved on without us: `release_stock` and `shipment_owner`.

`release_stock`: what a cancelled order held goes back, unless it already left.

An order the platform closes after it was paid may hold a reservation (held for low stock,
or waiting for its waybill). This node gives the reservation back and closes the order's
open queue items. An order that already has a waybill is not touched: its parcel may be on
the way, so it takes the `waybill` outcome for a person to intercept it (the reservation
stays until the ERP books the outbound or someone decides).

`shipment_owner`: an order the platform already shows as shipped was shipped by orderhub
(its waybill is in the store: `ours`) or by someone else (`elsewhere`: nothing is sent, so
it never ships twice).
"""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("release_stock")
class ReleaseStock(BaseNode):
    """Give back a cancelled order's reservations; route it on when a waybill exists."""

    class Params(BaseModel):
        """No settings."""

    outcomes = ("released", "nothing", "waybill")
    side_effects = True

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        waybill = ctx.store.waybill_no()
        if waybill is not None:
            reason = f"cancelled after waybill {waybill} was created: intercept the parcel"
            return Outcome("waybill", {"waybill_no": waybill}, reason=reason)
        if ctx.dry_run:
            return Outcome("nothing", {"dry_run": True})
        released = ctx.store.release_stock()
        ctx.store.close_queue_items("cancelled")
        if released:
            return Outcome("released", {"released": released})
        return Outcome("nothing")


@node("shipment_owner")
class ShipmentOwner(BaseNode):
    """Whether orderhub made this order's waybill (`ours`) or it shipped `elsewhere`."""

    class Params(BaseModel):
        """No settings."""

    outcomes = ("ours", "elsewhere")

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        waybill = ctx.store.waybill_no()
        if waybill is not None:
            return Outcome("ours", {"waybill_no": waybill})
        return Outcome("elsewhere", reason="the platform shows it shipped without our waybill")
