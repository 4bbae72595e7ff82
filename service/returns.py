"""Warehouse actions on returned parcels: the expected-returns list, scan in, inspection.

Use cases `(store, actor, …)` for the CLI (`orderhub returns …`), the API and the editor's
queues page. Each checks the role first (the warehouse role, admins and ops managers),
writes an audit record and wakes the request's run where it waits — the engine's `event`
wait ``return:<ref>`` (scan) or ``inspection:<ref>`` (inspection), the step recording who
woke it — all in one transaction. With the systems' settings the woken run goes on in the
same call (scan → refund, or inspection → refund, exchange or refusal), as a queue decision
does; without them, or while `orderhub run` holds after_sales, the next run finishes it.
Phones are masked for every role without ``orders.contact``, the warehouse's included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, NotFound
from engine.store import Store, leases
from engine.store import after_sales as store_after_sales
from engine.store.after_sales_models import AfterSale, ExpectedReturn
from engine.store.models import OrderRow, RunRow, utcnow
from engine.waits import Woken, wake
from nodes.after_sale_item import event_key
from service.access import Actor, allowed, require
from service.intake import check_systems
from service.masking import mask_phone
from service.resume import finish_unless_running
from service.running import lease_name
from versions import audit

RESULTS = ("passed", "damaged", "serial_mismatch", "missing_parts")
#: how long a scan waits for a running `orderhub run` of after_sales before leaving the woken
#: run to it
LEASE_WAIT_S = 20.0


@dataclass(frozen=True)
class ReturnView:
    """A parcel on a warehouse's expected-returns list, as the acting role may see it."""

    ref: str  # the after-sales request, channel:aftersale_id
    original: str  # the original order's ref
    warehouse: str
    tracking_no: str | None
    status: str  # expected, scanned, inspected
    inspect: bool
    buyer: str
    phone: str  # masked unless the role may see contacts
    result: str | None = None
    serials: list[str] = field(default_factory=list)
    woke_run: int | None = None  # the request's run this woke (None: none waited for it)
    continued: bool = False  # that run went on in this call
    state: str | None = None  # where the request stands now (its item's status)


def expected_returns(
    store: Store, actor: Actor, warehouse: str | None = None, status: str | None = "expected"
) -> list[ReturnView]:
    """The parcels a warehouse expects back (or, with `status` None, every one)."""
    require(actor, "returns.list")
    query = select(ExpectedReturn.__table__, AfterSale.channel, AfterSale.aftersale_id,
                   AfterSale.original_ref, AfterSale.original_pk).join(
        AfterSale, AfterSale.id == ExpectedReturn.after_sale_pk
    )  # fmt: skip
    if warehouse is not None:
        query = query.where(ExpectedReturn.warehouse == warehouse)
    if status is not None:
        query = query.where(ExpectedReturn.status == status)
    with store.session() as session:
        rows = session.execute(query.order_by(ExpectedReturn.id)).mappings().all()
        return [_view(session, actor, dict(row)) for row in rows]


async def scan(
    store: Store,
    actor: Actor,
    ref_or_tracking: str,
    *,
    systems: dict[str, dict[str, Any]] | None = None,
) -> ReturnView:
    """Scan a returned parcel in by its tracking number or after-sales ref; the request's
    run, waiting for it, goes on now with connectors built from `systems` (when given)."""
    require(actor, "returns.scan")
    if systems is not None:
        check_systems(systems)  # a run that cannot continue is named before anything is written
    with store.session() as session, session.begin():
        conn = session.connection()
        found = _find(conn, ref_or_tracking)
        if found["status"] != "expected":
            raise Conflict(
                f"{_ref(found)} was scanned in already by {found['scanned_by']} at "
                f"{found['scanned_at']:%Y-%m-%d %H:%M}; record its inspection next"
            )
        store_after_sales.record_scan(conn, found["id"], str(actor), utcnow())
        woken = _wake(store, conn, actor, "return", found, "scanned in")
        where = {"tracking_no": found["tracking_no"], "warehouse": found["warehouse"]}
        audit.record(session, actor, "returns.scan", _ref(found), where)
        found.update(status="scanned")
        view = _view(session, actor, found)
    return await _go_on(store, actor, view, found["item_pk"], woken, systems)


async def inspect(
    store: Store,
    actor: Actor,
    ref_or_tracking: str,
    result: str,
    note: str = "",
    photos: list[str] | None = None,
    serials: list[str] | None = None,
    *,
    systems: dict[str, dict[str, Any]] | None = None,
) -> ReturnView:
    """Record a scanned parcel's inspection: passed, damaged, serial_mismatch or
    missing_parts, with a note, the photos' file names and the serials read off the units;
    the request's run goes on now with `systems` (when given)."""
    require(actor, "returns.inspect")
    if result not in RESULTS:
        raise InvalidInput(f"result must be one of {', '.join(RESULTS)}", field="result")
    if result != "passed" and not note.strip():
        raise InvalidInput("say what was found in a note; it goes to the buyer", field="note")
    if systems is not None:
        check_systems(systems)
    with store.session() as session, session.begin():
        conn = session.connection()
        found = _find(conn, ref_or_tracking)
        if found["status"] == "expected":
            raise Conflict(f"{_ref(found)} has not been scanned in; scan it first")
        if found["status"] == "inspected":
            raise Conflict(f"{_ref(found)} was inspected already ({found['result']})")
        values = {
            "result": result,
            "note": note.strip() or None,
            "photos": list(photos or []),
            "serials": [s.strip() for s in serials or [] if s.strip()],
        }
        store_after_sales.record_inspection(conn, found["id"], str(actor), values)
        woken = _wake(store, conn, actor, "inspection", found, f"inspected: {result}")
        audit.record(session, actor, "returns.inspect", _ref(found),
                     {"result": result, "photos": values["photos"],
                      "serials": values["serials"]}, note.strip() or None)  # fmt: skip
        found.update(status="inspected", **values)
        view = _view(session, actor, found)
    return await _go_on(store, actor, view, found["item_pk"], woken, systems)


def _wake(
    store: Store, conn: Any, actor: Actor, event: str, found: dict[str, Any], note: str
) -> Woken | None:
    """Wake the request's run where it waits for `event` (in the caller's transaction); the
    step it records there names `actor` as who woke it."""
    woken = wake(store, "event", event_key(event, _ref(found)), None, str(actor), note=note,
                 conn=conn)  # fmt: skip
    return woken[0] if woken else None


async def _go_on(
    store: Store,
    actor: Actor,
    view: ReturnView,
    item_pk: int,
    woken: Woken | None,
    systems: dict[str, dict[str, Any]] | None,
) -> ReturnView:
    """Finish the woken run now when `systems` are given and no runner holds its workflow
    (the lease `orderhub run` holds: that runner finishes it before it ends instead)."""
    continued = (
        woken is not None
        and systems is not None
        and await finish_unless_running(
            store,
            systems,
            [lease_name(woken.workflow_id)],
            [woken.run_id],
            leases.holder_name(f"{actor} at the returns desk"),
            wait_s=LEASE_WAIT_S,
        )
    )
    with store.session() as session:
        state = session.scalar(select(OrderRow.status).where(OrderRow.id == item_pk))
        if woken is not None:
            continued = continued and session.scalar(
                select(RunRow.status).where(RunRow.id == woken.run_id)
            ) not in ("woken", "running")
    run_id = woken.run_id if woken is not None else None
    return ReturnView(**{**view.__dict__, "woke_run": run_id, "continued": continued,
                         "state": state})  # fmt: skip


def _find(conn: Any, ref_or_tracking: str) -> dict[str, Any]:
    text = ref_or_tracking.strip()
    if not text:
        raise InvalidInput("give a tracking number or an after-sales ref", field="ref")
    found = store_after_sales.find_return(conn, text)
    if found is None:
        raise NotFound(
            f"no expected return {text!r}: check the tracking number, or give the "
            "after-sales ref as channel:aftersale_id"
        )
    return found


def _ref(found: dict[str, Any]) -> str:
    return f"{found['channel']}:{found['aftersale_id']}"


def _view(session: Any, actor: Actor, row: dict[str, Any]) -> ReturnView:
    receiver: dict[str, Any] = {}
    if row.get("original_pk") is not None:
        canonical = session.scalar(
            select(OrderRow.canonical).where(OrderRow.id == row["original_pk"])
        )
        receiver = (canonical or {}).get("receiver") or {}
    phone = str(receiver.get("phone", ""))
    return ReturnView(
        ref=_ref(row),
        original=row["original_ref"],
        warehouse=row["warehouse"],
        tracking_no=row["tracking_no"],
        status=row["status"],
        inspect=bool(row["inspect"]),
        buyer=str(receiver.get("name", "")),
        phone=phone if allowed(actor, "orders.contact") else mask_phone(phone),
        result=row.get("result"),
        serials=list(row.get("serials") or []),
    )
