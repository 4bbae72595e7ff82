"""The simulated ERP's sales outbound bills (SAL_OUTSTOCK) and the on-hand they lower.

With `SimOptions.erp_outbound_after_s` set, every tracking upload books one approved sales
outbound bill, `erp_outbound_after_s` seconds (on the simulator's clock) after the upload:
from then on STK_Inventory answers the lower on-hand and SAL_OUTSTOCK lists the bill.

What the bill carries, and where the simulator takes it from: the upload names only the
channel and the order id, and SF's create `msgData` carries cargo names and counts but no
SKU and no warehouse. So the bill is booked from the scenario order itself (its current
lines, summed per SKU), in the warehouse the scenario's own `warehouses` / `default_warehouse`
give the receiver's province — the rule the workflow's `split_warehouse` node and the oracle
follow. Its sales order number (``FSoorDerno``) is the order ref ``channel:order_id``, as if
the shop's orders were keyed into the ERP under that number. An order is booked out once,
however many times its tracking is uploaded (a warehouse ships a parcel once).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

ERP_TZ = timezone(timedelta(hours=8))
#: the SAL_OUTSTOCK field keys the simulated ERP answers (header ones repeat on every entry)
FIELD_KEYS = (
    "FBillNo",
    "FDocumentStatus",
    "FApproveDate",
    "FSoorDerno",
    "FSrcBillNo",
    "FMaterialID.FNumber",
    "FStockID.FNumber",
    "FBaseUnitQty",
    "FRealQty",
    "FSerialNo",  # the serial sub-entity: one row per serial of a serial-tracked line
)
_CONDITION = re.compile(r"^\s*(\w+)\s*(>=|=)\s*'([^']*)'\s*$")


class FilterError(ValueError):
    """A FilterString or field key the simulated SAL_OUTSTOCK does not understand."""


@dataclass
class Bill:
    bill_no: str
    order_ref: str
    warehouse: str
    lines: dict[str, int]
    at: float  # when it is approved (the stock leaves), simulator clock


@dataclass
class OutboundBook:
    """The approved sales outbound bills of the simulated ERP, in booking order."""

    bills: list[Bill] = field(default_factory=list)
    booked: set[str] = field(default_factory=set)

    def clear(self) -> None:
        self.bills.clear()
        self.booked.clear()

    def book(self, scenario: dict[str, Any], channel: str, order: dict, at: float) -> None:
        """Book the scenario `order` of `channel` out of its warehouse at `at`, once."""
        ref = f"{channel}:{order['order_id']}"
        if ref in self.booked:
            return
        self.booked.add(ref)
        lines: Counter[str] = Counter()
        for item in order.get("items") or []:
            lines[str(item["sku"])] += int(item.get("qty") or 0)
        warehouse = warehouse_of(scenario, order)
        bill_no = f"XSCKD{len(self.bills) + 1:06d}"
        self.bills.append(Bill(bill_no, ref, warehouse, dict(lines), at))

    def on_hand(self, inventory: list[dict], now: float) -> list[dict]:
        """The scenario's inventory rows less every bill approved by `now`."""
        shipped: Counter[tuple[str, str]] = Counter()
        for bill in self.bills:
            if bill.at <= now:
                for sku, qty in bill.lines.items():
                    shipped[(sku, bill.warehouse)] += qty
        if not shipped:
            return inventory
        return [
            {**r, "on_hand": r["on_hand"] - shipped[(r["sku"], r["warehouse"])]} for r in inventory
        ]

    def rows(
        self, keys: list[str], where: str, now: float, serials: dict | None = None
    ) -> list[list]:
        """Entry rows (columns: the field `keys`) of the bills approved by `now` that match
        `where`, by approve date then bill number. Asked for ``FSerialNo``, a line of a
        serial-tracked SKU (`serials`: ref -> sku -> the serials packed, from the scenario)
        gives one row per serial (quantity 1), as the serial sub-entity does."""
        unknown = [k for k in keys if k not in FIELD_KEYS]
        if unknown:
            raise FilterError(f"字段{unknown[0]}不存在")
        since = _since(where)
        bills = sorted(
            (b for b in self.bills if b.at <= now and (since is None or b.at >= since)),
            key=lambda b: (b.at, b.bill_no),
        )
        entries = [
            {
                "FBillNo": b.bill_no,
                "FDocumentStatus": "C",
                "FApproveDate": erp_time(b.at),
                "FSoorDerno": b.order_ref,
                "FSrcBillNo": "",
                "FMaterialID.FNumber": sku,
                "FStockID.FNumber": b.warehouse,
                "FBaseUnitQty": float(qty),
                "FRealQty": float(qty),
            }
            for b in bills
            for sku, qty in b.lines.items()
        ]
        if "FSerialNo" in keys:
            entries = [e for entry in entries for e in _by_serial(entry, serials or {})]
        return [[entry[k] for k in keys] for entry in entries]


def _by_serial(entry: dict[str, Any], serials: dict) -> list[dict[str, Any]]:
    packed = (serials.get(entry["FSoorDerno"]) or {}).get(entry["FMaterialID.FNumber"]) or []
    if not packed:
        return [{**entry, "FSerialNo": ""}]
    return [{**entry, "FSerialNo": sn, "FBaseUnitQty": 1.0, "FRealQty": 1.0} for sn in packed]


def warehouse_of(scenario: dict[str, Any], order: dict) -> str:
    """The scenario's warehouse for the order's receiver province, else its default."""
    province = (order.get("receiver") or {}).get("province")
    for warehouse in scenario.get("warehouses") or []:
        if province in warehouse.get("provinces", ()):
            return str(warehouse["code"])
    return str(scenario.get("default_warehouse", ""))


def erp_time(ts: float) -> str:
    """K3's local date-time text (no offset, milliseconds) of epoch seconds."""
    local = datetime.fromtimestamp(ts, ERP_TZ).replace(tzinfo=None)
    return local.isoformat(timespec="milliseconds")


def _since(where: str) -> float | None:
    """The epoch of ``FApproveDate >= '…'`` in `where`; approved-status conditions pass."""
    since = None
    for part in re.split(r"\s+and\s+", where.strip(), flags=re.IGNORECASE) if where else []:
        match = _CONDITION.match(part)
        if match is None:
            raise FilterError(f"过滤条件无法解析: {part}")
        key, op, value = match.groups()
        if key == "FDocumentStatus" and op == "=":
            if value != "C":
                return float("inf")  # every simulated bill is approved
        elif key == "FApproveDate" and op == ">=":
            since = datetime.fromisoformat(value).replace(tzinfo=ERP_TZ).timestamp()
        else:
            raise FilterError(f"过滤条件不支持: {part}")
    return since
