"""The `pull` source node: incremental pulls from each sales channel by update-time window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from engine.errors import ConnectorError, WorkflowError
from engine.ingest import Batch, SourceContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("pull")
class Pull(BaseNode):
    """Pull new and changed orders from each channel since its saved cursor."""

    class Params(BaseModel):
        channels: list[str] = Field(
            min_length=1,
            description="sales channels to pull: youzan, douyin, h5",
            json_schema_extra={"x-item": "channel"},
        )
        window_minutes: int = Field(360, ge=1, le=1440, description="update-time window size")
        overlap_minutes: int = Field(
            5, ge=0, le=120, description="re-read this much before the cursor (late records)"
        )
        lag_seconds: int = Field(60, ge=0, description="stay this far behind the platform clock")
        first_pull_hours: int = Field(24, ge=1, description="how far back a first pull reaches")

    outcomes = ("pulled",)
    source = True
    #: orders orderhub made itself (an exchange's replacement) get their runs in this
    #: workflow, on the version a trigger runs (`engine.ingest.adopt_made_orders`)
    adopts_made_orders = True

    async def run(self, order: Order, ctx: object) -> Outcome:
        raise WorkflowError(f"{self.node_id} is a source node: it pulls, it does not route orders")

    async def pull(self, ctx: SourceContext) -> AsyncIterator[Batch]:
        """One batch per channel and window; each batch carries the cursor to save with it.

        A channel that fails (token expired, platform down after retries) keeps its cursor at
        the last window stored and is reported; the other channels are pulled all the same.
        """
        until = _aware(ctx.until) or ctx.now() - timedelta(seconds=self.params.lag_seconds)
        for channel in self.params.channels:
            try:
                async for batch in self._channel(ctx, channel, until):
                    yield batch
            except ConnectorError as exc:
                ctx.not_pulled(channel, exc)

    async def _channel(
        self, ctx: SourceContext, channel: str, until: datetime
    ) -> AsyncIterator[Batch]:
        p = self.params
        connector = ctx.connectors.channels[channel]
        cursor = _aware(ctx.cursor(channel))
        if cursor is not None:
            start = cursor - timedelta(minutes=p.overlap_minutes)
        else:
            start = _aware(ctx.since) or until - timedelta(hours=p.first_pull_hours)
        while start < until:
            end = min(start + timedelta(minutes=p.window_minutes), until)
            items: list[tuple[dict, dict]] = []
            async for page in connector.pull(start, end):
                items.extend(page)
            yield Batch(ctx.cursor_name(channel), end, items)
            start = end


def _aware(moment: datetime | None) -> datetime | None:
    """Stored cursors are naive UTC; connectors want aware times."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
