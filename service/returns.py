"""Warehouse actions on returned parcels: the expected-returns list, scan in, inspection.

Use cases `(store, actor, …)` for the CLI (`orderhub returns …`), the API and the editor's
queues page. Each checks the role first (the warehouse role, admins and ops managers),
writes an audit record and wakes the request's run where it waits (the next run of
after_sales goes on from there). Phones are masked for every role without
``orders.contact``, the warehouse's included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, NotFound
from engine.store import Store
from engine.store import after_sales as store_after_sales
from engine.store.after_sales_models import AfterSale, ExpectedReturn
from engine.store.models import OrderRow, utcnow
from service.access import Actor, allowed, require
from service.masking import mask_phone
from versions import audit

RESULTS = ("passed", "damaged", "serial_mismatch", "missing_parts")


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
    woke_run: int | None = None


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


def scan(store: Store, actor: Actor, ref_or_tracking: str) -> ReturnView:
    """Scan a returned parcel in by its tracking number or after-sales ref."""
    require(actor, "returns.scan")
    with store.session() as session, session.begin():
        conn = session.connection()
        found = _find(conn, ref_or_tracking)
        if found["status"] != "expected":
            raise Conflict(
                f"{_ref(found)} was scanned in already by {found['scanned_by']} at "
                f"{found['scanned_at']:%Y-%m-%d %H:%M}; record its inspection next"
            )
        store_after_sales.record_scan(conn, found["id"], str(actor), utcnow())
        woke = store_after_sales.wake(conn, found["item_pk"])
        where = {"tracking_no": found["tracking_no"], "warehouse": found["warehouse"]}
        audit.record(session, actor, "returns.scan", _ref(found), where)
        found.update(status="scanned")
        view = _view(session, actor, found)
    return _with_run(view, woke)


def inspect(
    store: Store,
    actor: Actor,
    ref_or_tracking: str,
    result: str,
    note: str = "",
    photos: list[str] | None = None,
    serials: list[str] | None = None,
) -> ReturnView:
    """Record a scanned parcel's inspection: passed, damaged, serial_mismatch or
    missing_parts, with a note, the photos' file names and the serials read off the units."""
    require(actor, "returns.inspect")
    if result not in RESULTS:
        raise InvalidInput(f"result must be one of {', '.join(RESULTS)}", field="result")
    if result != "passed" and not note.strip():
        raise InvalidInput("say what was found in a note; it goes to the buyer", field="note")
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
        woke = store_after_sales.wake(conn, found["item_pk"])
        audit.record(session, actor, "returns.inspect", _ref(found),
                     {"result": result, "photos": values["photos"],
                      "serials": values["serials"]}, note.strip() or None)  # fmt: skip
        found.update(status="inspected", **values)
        view = _view(session, actor, found)
    return _with_run(view, woke)


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


def _with_run(view: ReturnView, run_id: int | None) -> ReturnView:
    return ReturnView(**{**view.__dict__, "woke_run": run_id})
