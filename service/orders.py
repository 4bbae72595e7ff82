"""What orderhub did with an order: its data, every run with the version that ran it, its steps.

`order_history` reads one order's rows (order, runs, steps, queue items, waybills) and names
each run's workflow version — ``v3`` when its content is a saved version, else a draft.
`list_orders` lists the newest orders. A role without `orders.contact` sees the receiver's
phone masked as ``138****5678`` wherever it could appear (fields, errors, step details).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from engine.errors import InvalidInput, NotFound
from engine.store import Store
from engine.store.models import OrderRow, QueueItem, RunRow, StepRow, WaitRow, Waybill
from service.access import Actor, allowed, require
from service.masking import ContactMask
from versions.store import list_versions, pick_version

MAX_LIMIT = 1000
HIDDEN = "(not shown to this role)"
_RECEIVER_FIELDS = ("name", "phone", "province", "city", "district", "address")
_ORDER_COLUMNS = [c for c in OrderRow.__table__.c if c.key != "raw"]  # raw may be large
_RUN_COLUMNS = [c for c in RunRow.__table__.c if c.key != "state"]


@dataclass(frozen=True)
class Receiver:
    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str


@dataclass(frozen=True)
class OrderInfo:
    """The order as the store holds it: when, where it stands, who receives what."""

    ref: str
    channel: str
    order_id: str
    created_at: datetime
    paid_at: datetime | None
    platform_status: str
    status: str
    reason: str | None
    warehouse: str | None
    amount: str
    buyer_nick: str
    receiver: Receiver
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One node's execution in a run."""

    seq: int
    attempt: int  # the run's try this step belongs to (a retried run tries again from a node)
    node_id: str
    node_type: str
    status: str
    outcome: str | None
    duration_ms: float | None
    error: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Run:
    """The order through one workflow version; `version_number` when it is a saved version."""

    id: int
    workflow_id: str
    version: str  # the workflow content hash
    version_number: int | None
    draft: bool
    status: str
    outcome: str | None
    error: str | None
    attempt: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[Step]
    active_number: int | None = None  # the workflow's active version when this was read

    @property
    def pinned(self) -> str | None:
        """For a run that has not ended on a version no longer active: that it finishes on
        its own version (a waiting run stays pinned to the version it started on)."""
        if self.status not in ("waiting", "woken", "retry", "pending", "running"):
            return None
        if self.active_number is None or self.version_number == self.active_number:
            return None
        return (
            f"pinned to {self.label}; the active version is now v{self.active_number}, "
            f"this run finishes on {self.label}"
        )

    @property
    def label(self) -> str:
        """``v3``, or ``draft 1a2b3c4d5e6f`` (with ``saved later as v3`` when it since was)."""
        if not self.draft and self.version_number is not None:
            return f"v{self.version_number}"
        later = f" (saved later as v{self.version_number})" if self.version_number else ""
        return f"draft {self.version[:12]}{later}"


@dataclass(frozen=True)
class QueueEntry:
    queue: str
    reason: str
    status: str


@dataclass(frozen=True)
class WaitInfo:
    """Something a run of the order waited (or waits) for, and what ended it."""

    run_id: int
    node_id: str
    kind: str  # queue, stock, system, time
    key: str
    reason: str
    since: datetime
    status: str  # open, woken, done, dropped
    offers: list[str]
    deadline: datetime | None
    woken_at: datetime | None
    woken_by: str | None
    route: str | None
    note: str | None


@dataclass(frozen=True)
class WaybillInfo:
    carrier: str
    waybill_no: str
    created_at: datetime
    uploaded_at: datetime | None


@dataclass(frozen=True)
class OrderHistory:
    """One order and everything orderhub did with it, runs oldest first."""

    order: OrderInfo
    runs: list[Run]
    queue: list[QueueEntry]
    waybills: list[WaybillInfo]
    waits: list[WaitInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC, each run with its `label`."""
        data = asdict(self)
        for run, plain in zip(self.runs, data["runs"], strict=True):
            plain["label"] = run.label
            plain["pinned"] = run.pinned
        return _jsonable(data)


@dataclass(frozen=True)
class OrderSummary:
    ref: str
    created_at: datetime
    status: str
    reason: str | None
    warehouse: str | None

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def order_history(store: Store, actor: Actor, ref: str) -> OrderHistory:
    """Everything orderhub did with the order ``CHANNEL:ORDER_ID``."""
    require(actor, "orders.show")
    channel, order_id = _parse_ref(ref)
    with store.engine.connect() as conn:
        order = conn.execute(
            select(*_ORDER_COLUMNS).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        ).first()
        if order is None:
            raise NotFound(f"no order {ref}; the list of orders shows the newest ones")
        mask = ContactMask(allowed(actor, "orders.contact"), _receiver(order.canonical)["phone"])
        runs = conn.execute(
            select(*_RUN_COLUMNS).where(RunRow.order_pk == order.id).order_by(RunRow.id)
        ).all()
        steps = _steps_of(conn, [run.id for run in runs], mask)
        queue = _queue_of(conn, order.id, mask)
        waybills = _waybills_of(conn, order.id)
        waits = _waits_of(conn, order.id, mask)
    numbers, active = _version_numbers(store, runs)
    return OrderHistory(
        order=_order_info(order, mask, allowed(actor, "orders.address")),
        runs=[
            _run(run, numbers[run.id], steps[run.id], mask, active.get(run.workflow_id))
            for run in runs
        ],
        queue=queue,
        waybills=waybills,
        waits=waits,
    )


def list_orders(
    store: Store,
    actor: Actor,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
) -> list[OrderSummary]:
    """The newest orders (by creation time), optionally of one status or channel."""
    require(actor, "orders.list")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"the limit must be between 1 and {MAX_LIMIT}, not {limit}", field="limit"
        )
    query = select(
        OrderRow.channel,
        OrderRow.order_id,
        OrderRow.created_at,
        OrderRow.status,
        OrderRow.reason,
        OrderRow.warehouse,
    )
    if status is not None:
        query = query.where(OrderRow.status == status)
    if channel is not None:
        query = query.where(OrderRow.channel == channel)
    query = query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    mask = ContactMask(allowed(actor, "orders.contact"))
    return [
        OrderSummary(
            f"{r.channel}:{r.order_id}", _aware(r.created_at), r.status, mask(r.reason), r.warehouse
        )
        for r in rows
    ]


def _parse_ref(ref: str) -> tuple[str, str]:
    channel, sep, order_id = ref.strip().partition(":")
    if not sep or not channel or not order_id:
        raise InvalidInput(
            f"order {ref!r}: write it as CHANNEL:ORDER_ID, e.g. youzan:E20260110000001",
            field="ref",
        )
    return channel, order_id


def _steps_of(conn: Connection, run_ids: list[int], mask: ContactMask) -> dict[int, list[Step]]:
    steps: dict[int, list[Step]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        query = select(StepRow).where(StepRow.run_id.in_(run_ids))
        order = (StepRow.run_id, StepRow.attempt, StepRow.seq)
        for s in conn.execute(query.order_by(*order)):
            detail, error = mask(s.detail or {}), mask(s.error)
            step = Step(
                s.seq,
                s.attempt,
                s.node_id,
                s.node_type,
                s.status,
                s.outcome,
                s.duration_ms,
                error,
                detail,
            )
            steps[s.run_id].append(step)
    return steps


def _queue_of(conn: Connection, order_pk: int, mask: ContactMask) -> list[QueueEntry]:
    query = select(QueueItem.queue, QueueItem.reason, QueueItem.status)
    rows = conn.execute(query.where(QueueItem.order_pk == order_pk).order_by(QueueItem.id))
    return [QueueEntry(q.queue, mask(q.reason), q.status) for q in rows]


def _waybills_of(conn: Connection, order_pk: int) -> list[WaybillInfo]:
    query = select(Waybill.carrier, Waybill.waybill_no, Waybill.created_at, Waybill.uploaded_at)
    rows = conn.execute(query.where(Waybill.order_pk == order_pk).order_by(Waybill.id))
    return [
        WaybillInfo(w.carrier, w.waybill_no, _aware(w.created_at), _aware(w.uploaded_at))
        for w in rows
    ]


def _version_numbers(
    store: Store, runs: list[Row]
) -> tuple[dict[int, int | None], dict[str, int | None]]:
    """run id -> the number of the saved version it ran on (None: never saved), and
    workflow id -> its active version's number."""
    versions = {wf: list_versions(store, wf) for wf in {run.workflow_id for run in runs}}
    numbers: dict[int, int | None] = {}
    for run in runs:
        saved = pick_version(versions[run.workflow_id], run.version, run.created_at)
        numbers[run.id] = saved.number if saved is not None else None
    active = {
        wf: next((v.number for v in listed if v.active), None) for wf, listed in versions.items()
    }
    return numbers, active


def _waits_of(conn: Connection, order_pk: int, mask: ContactMask) -> list[WaitInfo]:
    rows = conn.execute(select(WaitRow).where(WaitRow.order_pk == order_pk).order_by(WaitRow.id))
    return [
        WaitInfo(
            run_id=w.run_id,
            node_id=w.node_id,
            kind=w.kind,
            key=w.key,
            reason=mask(w.reason),
            since=_aware(w.since),
            status=w.status,
            offers=list(w.offers or []),
            deadline=_aware(w.deadline),
            woken_at=_aware(w.woken_at),
            woken_by=w.woken_by,
            route=w.woken_route,
            note=mask(w.note),
        )
        for w in rows
    ]


def _order_info(order: Row, mask: ContactMask, address: bool) -> OrderInfo:
    data = order.canonical
    receiver = _receiver(data)
    phone = receiver.pop("phone")
    if not address:  # finance: amounts and settlement, no address
        receiver["address"] = HIDDEN
    return OrderInfo(
        ref=f"{order.channel}:{order.order_id}",
        channel=order.channel,
        order_id=order.order_id,
        created_at=_aware(order.created_at),
        paid_at=_aware(order.paid_at),
        platform_status=order.platform_status,
        status=order.status,
        reason=mask(order.reason),
        warehouse=order.warehouse,
        amount=str(data.get("amount", "")),
        buyer_nick=mask(str(data.get("buyer", {}).get("nick", ""))),
        receiver=Receiver(phone=mask.phone_field(phone), **mask(receiver)),
        items=mask(list(data.get("items", []))),
    )


def _run(
    run: Row, number: int | None, steps: list[Step], mask: ContactMask, active: int | None
) -> Run:
    return Run(
        id=run.id,
        workflow_id=run.workflow_id,
        version=run.version,
        version_number=number,
        draft=bool(run.draft),
        status=run.status,
        outcome=run.outcome,
        error=mask(run.error),
        attempt=run.attempt,
        created_at=_aware(run.created_at),
        started_at=_aware(run.started_at),
        finished_at=_aware(run.finished_at),
        steps=steps,
        active_number=active,
    )


def _receiver(canonical: dict[str, Any]) -> dict[str, str]:
    receiver = canonical.get("receiver") or {}
    return {key: str(receiver.get(key) or "") for key in _RECEIVER_FIELDS}


def _aware(dt: datetime | None) -> datetime | None:
    """A stored naive-UTC time as an aware one."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
