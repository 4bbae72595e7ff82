"""The `aftersales_pull` source node: after-sales requests from each channel since its cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from pydantic import BaseModel, Field

from engine.errors import ConnectorError, WorkflowError
from engine.ingest import Batch, PrepareContext, SourceContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import item_of
from nodes.pull import _aware


@node("aftersales_pull")
class AfterSalesPull(BaseNode):
    """Pull new and changed after-sales requests; first read the serials the ERP packed."""

    class Params(BaseModel):
        channels: list[str] = Field(
            min_length=1,
            description="sales channels to pull: youzan, douyin, h5",
            json_schema_extra={"x-item": "channel"},
        )
        overlap_minutes: int = Field(
            5, ge=0, le=120, description="re-read this much before the cursor (late records)"
        )
        first_pull_hours: int = Field(72, ge=1, description="how far back a first pull reaches")

    outcomes = ("pulled",)
    source = True

    async def run(self, order: Order, ctx: object) -> Outcome:
        raise WorkflowError(f"{self.node_id} is a source node: it pulls, it does not route")

    async def prepare(self, ctx: PrepareContext) -> None:
        """Serial-managed SKUs and the serials packed in each shipped order (ERP outbound
        bills), so inspection can compare what comes back with what left."""
        erp = ctx.connectors.erp_returns
        skus = await ctx.fetch("ERP serial-managed materials", erp.serial_skus)
        serials = await ctx.fetch("ERP serials shipped", erp.shipped_serials)
        if skus is not None or serials is not None:
            ctx.record_serials(skus or [], serials or [])

    async def pull(self, ctx: SourceContext) -> AsyncIterator[Batch]:
        """One batch per channel, from its cursor (less the overlap) up to now: requests
        change after orderhub acts on them, so the read always reaches the present."""
        until = ctx.now()
        for channel in self.params.channels:
            connector = ctx.connectors.after_sales.get(channel)
            if connector is None:
                raise WorkflowError(f"no [{channel}] section in the settings; add one")
            cursor = _aware(ctx.cursor(channel))
            if cursor is not None:
                start = cursor - timedelta(minutes=self.params.overlap_minutes)
            else:
                start = _aware(ctx.since) or until - timedelta(hours=self.params.first_pull_hours)
            try:
                items = []
                async for page in connector.pull(start, until):
                    items.extend((item_of(channel, req), raw) for req, raw in page)
            except ConnectorError as exc:
                ctx.not_pulled(channel, exc)
                continue
            yield Batch(ctx.cursor_name(channel), until, items)
