"""The `dedup_key` node: an order matching an earlier paid, valid order within a window."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.ingest import IndexContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.rules import key_part, order_problems

DEFAULT_FIELDS = ["receiver.phone", "receiver.address", "items.sku"]


@node("dedup_key")
class DedupKey(BaseNode):
    """Flag an order whose normalised key matches an earlier paid, valid order in the window."""

    class Params(BaseModel):
        fields: list[str] = Field(
            default=DEFAULT_FIELDS,
            min_length=1,
            description="order fields of the key; receiver.phone keys on digits, "
            "receiver.address on the whole address, items.sku on the set of SKUs",
            json_schema_extra={"x-order-fields": True},
        )
        window_minutes: int = Field(60, ge=1, description="how far back an earlier order counts")

    outcomes = ("unique", "duplicate")

    def __init__(self, params: Params, node_id: str) -> None:
        super().__init__(params, node_id)
        self.scope = "dedup:" + hashlib.sha1("|".join(params.fields).encode()).hexdigest()[:16]
        self.window = timedelta(minutes=params.window_minutes)

    def key(self, order: Order) -> str:
        parts = "\x1f".join(key_part(order, field) for field in self.params.fields)
        return hashlib.sha256(parts.encode("utf-8")).hexdigest()

    def index(self, order: Order, ctx: IndexContext) -> list[tuple[str, str, bool]]:
        """Recorded when the order is pulled: its key, and whether it can be an earlier match."""
        eligible = order.status in ("paid", "shipped") and not order_problems(order, ctx.catalogue)
        return [(self.scope, self.key(order), eligible)]

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        earlier = ctx.store.find_earlier(self.scope, self.key(order), self.window)
        if earlier is None:
            return Outcome("unique")
        return Outcome(
            "duplicate", {"duplicate_of": earlier}, reason=f"possible duplicate of {earlier}"
        )
