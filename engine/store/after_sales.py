"""After-sales requests in the store: link, expected returns, serials, restock and the mark on
the original order. (A request's run waits for the warehouse through the engine's waits: see
`nodes.as_await` and `service.returns`.)

Nodes reach it through `NodeStore.after_sales()` (an `AfterSalesView` of the run's item);
the service layer's warehouse actions call the module functions with a connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from engine.store.after_sales_models import (
    AfterSale,
    ExpectedReturn,
    ReturnStock,
    SerialSku,
    ShippedSerial,
)
from engine.store.models import OrderRow, Waybill, utc, utcnow
from engine.store.stock import insert_ignore

_as = AfterSale.__table__
_exp = ExpectedReturn.__table__
_orders = OrderRow.__table__


class AfterSalesView:
    """The after-sales tables as one run of one request sees them."""

    def __init__(self, conn: Any, item: dict[str, Any]) -> None:
        self._c = conn
        self._item = item

    # -- the request
    def request(self, channel: str, aftersale_id: str, original_ref: str, type_: str) -> int:
        """The request's row id, created on its first run."""
        now = utcnow()
        insert_ignore(
            self._c,
            AfterSale,
            {
                "item_pk": self._item["id"],
                "channel": channel,
                "aftersale_id": aftersale_id,
                "original_ref": original_ref,
                "type": type_,
                "state": "new",
                "created_at": now,
                "updated_at": now,
            },
        )
        return self.row()["id"]

    def row(self) -> dict[str, Any]:
        rows = self._c.execute(select(_as).where(_as.c.item_pk == self._item["id"])).mappings()
        return dict(rows.one())

    def original(self, ref: str) -> dict[str, Any] | None:
        """The original order (id, status, warehouse, canonical) by ``channel:order_id``."""
        channel, _, order_id = ref.partition(":")
        query = select(
            _orders.c.id, _orders.c.status, _orders.c.warehouse, _orders.c.canonical
        ).where(
            _orders.c.channel == channel, _orders.c.order_id == order_id, _orders.c.kind == "order"
        )
        found = self._c.execute(query).mappings().first()
        return dict(found) if found else None

    def link(self, original_pk: int, warehouse: str | None, waybill_no: str | None) -> None:
        self._update(original_pk=original_pk, warehouse=warehouse, waybill_no=waybill_no)

    def waybill_of(self, order_pk: int) -> str | None:
        query = select(Waybill.waybill_no).where(Waybill.order_pk == order_pk).order_by(Waybill.id)
        return self._c.execute(query).scalars().first()

    def serials_shipped(self, order_pk: int) -> dict[str, list[str]]:
        query = select(ShippedSerial.sku, ShippedSerial.serial).where(
            ShippedSerial.order_pk == order_pk
        )
        found: dict[str, list[str]] = {}
        for sku, serial in self._c.execute(query.order_by(ShippedSerial.id)).all():
            found.setdefault(sku, []).append(serial)
        return found

    def serial_skus(self, skus: list[str]) -> list[str]:
        query = select(SerialSku.sku).where(SerialSku.sku.in_(skus))
        return sorted(self._c.execute(query).scalars())

    def replacement(
        self, original: dict[str, Any], order_id: str, lines: list[dict], now: datetime
    ) -> str:
        """Create the exchange's replacement order once (a copy of the original's buyer and
        receiver with the returned lines, paid, waiting for order_intake); its ref."""
        canonical = dict(original["canonical"])
        price = {i["sku"]: i.get("price", "0") for i in canonical.get("items", [])}
        canonical.update(
            order_id=order_id,
            status="paid",
            items=[
                {
                    "sku": li["sku"],
                    "title": "",
                    "qty": li["qty"],
                    "price": price.get(li["sku"], "0"),
                }
                for li in lines
            ],  # fmt: skip
            amount="0.00",
            created_at=now.isoformat(),
            paid_at=now.isoformat(),
            updated_at=now.isoformat(),
            replacement_for=self._item["order_id"],
        )
        channel = canonical["channel"]
        insert_ignore(
            self._c,
            OrderRow,
            {
                "channel": channel,
                "order_id": order_id,
                "created_at": utc(now),
                "paid_at": utc(now),
                "updated_at": utc(now),
                "platform_status": "paid",
                "content_hash": "replacement",
                "canonical": canonical,
                "raw": {},
                "status": "new",
                "reason": f"replacement for after-sales {self._item['order_id']}",
                "pulled_at": utcnow(),
                "kind": "order",
            },
        )
        return f"{channel}:{order_id}"

    def set_state(self, state: str, **more: Any) -> None:
        """Where the request stands (and the original order's mark, the replacement …)."""
        self._update(state=state, **more)

    # -- the return parcel
    def expect_return(
        self, warehouse: str, tracking_no: str | None, carrier: str | None, *, inspect: bool
    ) -> None:
        """Put the parcel on the warehouse's expected-returns list, once."""
        insert_ignore(
            self._c,
            ExpectedReturn,
            {
                "after_sale_pk": self.row()["id"],
                "warehouse": warehouse,
                "tracking_no": tracking_no,
                "carrier": carrier,
                "status": "expected",
                "inspect": inspect,
                "expected_at": utcnow(),
                "serials": [],
                "photos": [],
            },
        )

    def expected(self) -> dict[str, Any] | None:
        query = select(_exp).where(_exp.c.after_sale_pk == self.row()["id"])
        found = self._c.execute(query).mappings().first()
        return dict(found) if found else None

    def restock(self, warehouse: str, lines: dict[str, int], kind: str) -> int:
        """Put the returned lines back as `kind` (sellable or quarantine), once per SKU."""
        pk, put = self.row()["id"], 0
        for sku, qty in sorted(lines.items()):
            values = {
                "after_sale_pk": pk,
                "sku": sku,
                "warehouse": warehouse,
                "qty": qty,
                "kind": kind,
                "counted": False,
                "created_at": utcnow(),
            }
            put += insert_ignore(self._c, ReturnStock, values)
        return put

    def count_return_bill(self, bill_no: str) -> int:
        """Mark the restocked lines as counted by the ERP's sales return bill `bill_no`."""
        result = self._c.execute(
            update(ReturnStock.__table__)
            .where(
                ReturnStock.after_sale_pk == self.row()["id"],
                ReturnStock.counted.is_(False),
            )
            .values(counted=True, erp_bill_no=bill_no)
        )
        return result.rowcount or 0

    def _update(self, **values: Any) -> None:
        self._c.execute(
            update(_as)
            .where(_as.c.item_pk == self._item["id"])
            .values(updated_at=utcnow(), **values)
        )


# -- warehouse actions (service layer) ---------------------------------------------------


def find_return(conn: Any, ref_or_tracking: str) -> dict[str, Any] | None:
    """The expected return by after-sales ref (``youzan:R123`` or its item ``youzan:as-R123``)
    or by return tracking number, with its request."""
    channel, sep, rest = ref_or_tracking.partition(":")
    cols = (_exp, _as.c.channel, _as.c.aftersale_id, _as.c.item_pk, _as.c.original_pk,
            _as.c.original_ref, _as.c.type.label("request_type"), _as.c.state)  # fmt: skip
    query = select(*cols).join(_as, _as.c.id == _exp.c.after_sale_pk)
    if sep:
        aftersale_id = rest.removeprefix("as-")
        query = query.where(and_(_as.c.channel == channel, _as.c.aftersale_id == aftersale_id))
    else:
        query = query.where(_exp.c.tracking_no == ref_or_tracking)
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


def record_scan(conn: Any, expected_pk: int, who: str, at: datetime) -> None:
    conn.execute(
        update(_exp)
        .where(_exp.c.id == expected_pk)
        .values(status="scanned", scanned_at=at, scanned_by=who)
    )


def record_inspection(conn: Any, expected_pk: int, who: str, values: dict[str, Any]) -> None:
    conn.execute(
        update(_exp)
        .where(_exp.c.id == expected_pk)
        .values(status="inspected", inspected_by=who, inspected_at=utcnow(), **values)
    )


def record_serials(conn: Any, rows: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Serials shipped, from ERP outbound bill rows ``{order_ref, sku, serial, bill_no}``;
    (rows recorded, refs orderhub does not know)."""
    refs = {r["order_ref"] for r in rows}
    pks: dict[str, int] = {}
    for ref in refs:
        channel, _, order_id = ref.partition(":")
        pk = conn.execute(
            select(_orders.c.id).where(_orders.c.channel == channel, _orders.c.order_id == order_id)
        ).scalar()
        if pk is not None:
            pks[ref] = pk
    put = 0
    for r in rows:
        if r["order_ref"] in pks and r.get("serial"):
            values = {
                "order_pk": pks[r["order_ref"]],
                "sku": r["sku"],
                "serial": r["serial"],
                "source": r.get("source", "erp_outbound"),
                "bill_no": r.get("bill_no"),
                "created_at": utcnow(),
            }
            put += insert_ignore(conn, ShippedSerial, values)
    return put, sorted(refs - set(pks))


def mark_serial_skus(conn: Any, skus: list[str]) -> int:
    return sum(insert_ignore(conn, SerialSku, {"sku": s, "since": utcnow()}) for s in skus)


def count_requests(conn: Any) -> int:
    return conn.execute(select(func.count()).select_from(_as)).scalar() or 0
