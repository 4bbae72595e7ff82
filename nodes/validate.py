"""The `validate` node: the invalid reasons of the scenario rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine import erp_sync
from engine.context import RunStepContext
from engine.ingest import PrepareContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.rules import CHECKS, order_problems

Check = Literal["missing_receiver_phone", "unknown_sku", "bad_quantity"]


@node("validate")
class Validate(BaseNode):
    """Check the receiver's phone, every SKU against the ERP catalogue and every quantity.

    A catalogue never synced is no catalogue: while the ERP cannot be reached the order waits
    for it (see `engine.erp_sync`) instead of being ``unknown_sku``.
    """

    class Params(BaseModel):
        checks: list[Check] = Field(default=list(CHECKS), description="checks to apply, in order")
        sync_catalogue: bool = Field(True, description="refresh the catalogue from the ERP first")

    outcomes = ("valid", "invalid")

    def __init__(self, params: Params, node_id: str) -> None:
        super().__init__(params, node_id)
        self.resync = erp_sync.Resync()

    async def prepare(self, ctx: PrepareContext) -> None:
        """Refresh the catalogue from the ERP; when the ERP is down, go on from the cache."""
        if self.params.sync_catalogue:
            synced = await ctx.refresh(
                f"{self.node_id}: ERP catalogue", ctx.connectors.erp.materials, ctx.sync_catalogue
            )
            if not synced and not ctx.dry_run:
                self.resync.failed()  # this trigger's runs wait for it, without calling again

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        if await self._catalogue_missing(ctx):
            wait = erp_sync.waiting_for_erp("its catalogue")
            return Outcome("unavailable", status="waiting", reason=wait.reason, waits=(wait,))
        problems = order_problems(order, ctx.store.catalogue(), self.params.checks)
        if problems:
            return Outcome("invalid", {"problems": problems}, reason=problems[0])
        return Outcome("valid")

    async def _catalogue_missing(self, ctx: RunStepContext) -> bool:
        """True when SKUs are checked, the catalogue was never synced and the ERP cannot give
        it now: a run that waited here before tries once (its call is the breaker's probe)."""
        wanted = "unknown_sku" in self.params.checks and self.params.sync_catalogue
        if not wanted or ctx.dry_run or not erp_sync.WAIT_WHEN_NEVER_SYNCED:
            return False
        if ctx.store.catalogue_known():
            return False
        if self.node_id not in ctx.state and self.resync.failures:
            return True  # this trigger's sync failed a moment ago: no call before a wake

        async def sync() -> None:
            if not ctx.store.catalogue_known():  # another run may have synced it meanwhile
                await ctx.durable()
                ctx.store.sync_catalogue(await ctx.connectors.erp.materials())

        return not await self.resync.attempt(sync)
