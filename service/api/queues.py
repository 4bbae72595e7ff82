"""The review and exception queues: list, decide, decide many."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from service import queues
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset
from service.paging import DEFAULT_LIMIT, Page
from service.queues import Decided, Waiting

router = APIRouter(prefix="/queues", tags=["queues"])


class Decision(BaseModel):
    decision: str = Field(
        description="release, merge, cancel, restocked, retry or reroute (what the order's "
        "queue node routes)"
    )
    reason: str = Field(description="why (recorded in the audit log)")
    queue: str | None = Field(None, description="the queue, when the order waits in several")


class BulkDecision(Decision):
    refs: list[str] = Field(description="the orders, as CHANNEL:ORDER_ID")


@router.get("", openapi_extra=needs("queue.list"))
def list_queue(
    store: StoreDep,
    actor: ActorDep,
    queue: str | None = None,
    status: str | None = "open",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Waiting]:
    """Orders waiting for a person (`status` open by default), oldest first."""
    return queues.list_queue(store, actor, queue=queue, status=status, limit=limit, offset=offset)


@router.post("/decide", openapi_extra=needs("queue.decide"))
async def decide_many(
    body: BulkDecision, store: StoreDep, actor: ActorDep, request: Request
) -> list[Decided]:
    """The same decision on many orders; each result says whether it was taken."""
    return await queues.decide_many(
        store, actor, body.refs, body.decision, body.reason, body.queue, _systems(request)
    )


@router.post("/{ref}/decide", openapi_extra=needs("queue.decide"))
async def decide(
    ref: str, body: Decision, store: StoreDep, actor: ActorDep, request: Request
) -> Decided:
    """Decide on one waiting order (audited); its run goes on at once."""
    return await queues.decide_one(
        store, actor, ref, body.decision, body.reason, body.queue, _systems(request)
    )


def _systems(request: Request) -> dict | None:
    """The settings' systems the run goes on with (None: the next run continues it)."""
    return request.app.state.systems or None
