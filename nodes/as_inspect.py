"""The `check_inspection` node: the warehouse's inspection, with the returned serials
compared against those shipped — a serial that is not one shipped in the order never
restocks and never refunds by itself.

Till the inspection is recorded the run parks here (status ``awaiting_inspection``) on the
event ``inspection:<channel>:<aftersale id>``, which `service.returns.inspect` wakes.
"""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome, Wait
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import event_key, request_of, request_ref

#: tests switch the comparison off to show that a twin test then fails (never in production)
COMPARE_SERIALS = True


@node("check_inspection")
class CheckInspection(BaseNode):
    """Passed, failed (damaged, missing parts) or serial mismatch; wait for the inspection."""

    class Params(BaseModel):
        pass

    #: passed_exchange: passed, and the request is an exchange (its replacement goes out)
    outcomes = ("passed", "passed_exchange", "failed", "serial_mismatch", "waiting")
    terminal = ("waiting",)  # an unparked wait (no waker): the run ends awaiting it

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        found = ctx.store.after_sales().expected()
        if found is None or found["status"] != "inspected":
            ref = request_ref(order)
            reason = f"the returned parcel of {ref} is not inspected yet"
            wait = Wait("event", event_key("inspection", ref), reason)
            return Outcome("waiting", status="awaiting_inspection", waits=(wait,))
        detail = {"result": found["result"], "serials": list(found["serials"] or [])}
        if found["result"] == "serial_mismatch" or (
            COMPARE_SERIALS and _mismatch(order, ctx, detail["serials"])
        ):
            return Outcome("serial_mismatch", detail, reason="serial_mismatch")
        if found["result"] in ("damaged", "missing_parts"):
            return Outcome("failed", detail, reason=found["result"])
        if request_of(order)["type"] == "exchange":
            return Outcome("passed_exchange", detail)
        return Outcome("passed", detail)


def _mismatch(order: Order, ctx: RunStepContext, seen: list[str]) -> bool:
    """A serial-tracked unit came back without one shipped in the order (or too few)."""
    tracked = set(ctx.fact("serial_skus") or [])
    if not tracked:
        return False
    shipped = {sn for sns in (ctx.fact("serials") or {}).values() for sn in sns}
    wanted = sum(
        int(line["qty"])
        for line in request_of(order)["lines"]
        if line["sku"] in tracked and not line.get("gift")
    )
    return len(seen) < wanted or any(sn not in shipped for sn in seen)
