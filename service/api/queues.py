"""The review and exception queues: list, decide, decide many."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service import queues
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset
from service.paging import DEFAULT_LIMIT, Page
from service.queues import Decided, Waiting

router = APIRouter(prefix="/queues", tags=["queues"])


class Decision(BaseModel):
    decision: str = Field(description="release or cancel")
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
def decide_many(body: BulkDecision, store: StoreDep, actor: ActorDep) -> list[Decided]:
    """The same decision on many orders; each result says whether it was taken."""
    return queues.decide_many(store, actor, body.refs, body.decision, body.reason, body.queue)


@router.post("/{ref}/decide", openapi_extra=needs("queue.decide"))
def decide(ref: str, body: Decision, store: StoreDep, actor: ActorDep) -> Decided:
    """Release or cancel one waiting order (audited)."""
    return queues.decide_one(store, actor, ref, body.decision, body.reason, body.queue)
