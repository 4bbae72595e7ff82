"""The after-sales tables (migration 0009 creates them): requests, expected returns, the
serial numbers shipped, serial-tracked SKUs and the stock a return put back.

An after-sales request is run by the engine like an order: its item is a row of `orders`
with ``kind = 'after_sale'`` (the run's item), and `after_sales` holds what the loop
learns about it — the original order, its waybill, the warehouse, the return tracking
number, where it stands and the mark it left on the original order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, Id, utcnow

#: `orders.kind` of an after-sales request's item (an order's is "order")
AFTER_SALE = "after_sale"


class AfterSale(Base):
    """One after-sales request of one channel, linked to its original order."""

    __tablename__ = "after_sales"
    __table_args__ = (UniqueConstraint("channel", "aftersale_id", name="uq_after_sales_request"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    item_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    aftersale_id: Mapped[str] = mapped_column(String(64))
    original_pk: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    original_ref: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))  # refund_only, return_refund, exchange
    warehouse: Mapped[str | None] = mapped_column(String(32))
    waybill_no: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), default="new")
    original_mark: Mapped[str | None] = mapped_column(String(32))
    replacement_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExpectedReturn(Base):
    """A parcel a warehouse expects back (its receiving schedule), then its scan and
    inspection."""

    __tablename__ = "expected_returns"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    after_sale_pk: Mapped[int] = mapped_column(
        ForeignKey("after_sales.id", ondelete="CASCADE"), unique=True
    )
    warehouse: Mapped[str] = mapped_column(String(32), index=True)
    tracking_no: Mapped[str | None] = mapped_column(String(64), index=True)
    carrier: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="expected")
    #: inspect before refunding (high value, serial-tracked, exchange)
    inspect: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_at: Mapped[datetime] = mapped_column(default=utcnow)
    scanned_at: Mapped[datetime | None]
    scanned_by: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str | None] = mapped_column(String(32))
    serials: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[Any]] = mapped_column(JSON, default=list)
    inspected_by: Mapped[str | None] = mapped_column(String(100))
    inspected_at: Mapped[datetime | None]


class ShippedSerial(Base):
    """A serial number shipped in an order, as the warehouse packed it."""

    __tablename__ = "shipped_serials"
    __table_args__ = (UniqueConstraint("order_pk", "sku", "serial", name="uq_shipped_serials"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(32))  # erp_outbound or pack_scan
    bill_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SerialSku(Base):
    """A SKU whose units carry serial numbers (inspection compares them)."""

    __tablename__ = "serial_skus"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnStock(Base):
    """Stock a return put back, once per (request, SKU): sellable or quarantine, and the
    ERP's sales return bill that counted it."""

    __tablename__ = "return_stock"
    __table_args__ = (UniqueConstraint("after_sale_pk", "sku", name="uq_return_stock_once"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    after_sale_pk: Mapped[int] = mapped_column(ForeignKey("after_sales.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # sellable or quarantine
    erp_bill_no: Mapped[str | None] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
