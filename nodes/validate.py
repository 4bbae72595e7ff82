"""The `validate` node: the invalid reasons of the scenario rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.ingest import PrepareContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.rules import CHECKS, order_problems

Check = Literal["missing_receiver_phone", "unknown_sku", "bad_quantity"]


@node("validate")
class Validate(BaseNode):
    """Check the receiver's phone, every SKU against the ERP catalogue and every quantity."""

    class Params(BaseModel):
        checks: list[Check] = Field(default=list(CHECKS), description="checks to apply, in order")
        sync_catalogue: bool = Field(True, description="refresh the catalogue from the ERP first")

    outcomes = ("valid", "invalid")

    async def prepare(self, ctx: PrepareContext) -> None:
        """Refresh the catalogue from the ERP; when the ERP is down, go on from the cache."""
        if self.params.sync_catalogue:
            await ctx.refresh(
                f"{self.node_id}: ERP catalogue", ctx.connectors.erp.materials, ctx.sync_catalogue
            )

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        problems = order_problems(order, ctx.store.catalogue(), self.params.checks)
        if problems:
            return Outcome("invalid", {"problems": problems}, reason=problems[0])
        return Outcome("valid")
