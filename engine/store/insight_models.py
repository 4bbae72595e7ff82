"""The insights' tables (migration 0007 creates them): order facts, ERP stock by day, hot-SKU
episodes and a little state.

`insight_orders` and `insight_lines` are derived from `orders`: one narrow row per order (its
local days, funnel stage, amount, keyed customer and warehouse) and one per line of an order
that sold, kept up to date by `service.insights.facts.refresh` and compared with the order by
its content hash and standing. They are what the insights aggregate, so 90 days of orders are
summed in SQL without reading any order's JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, Id, utcnow


class InsightOrder(Base):
    """The facts of one order the insights read; `customer_key` is an HMAC of its phone."""

    __tablename__ = "insight_orders"
    __table_args__ = (Index("ix_insight_orders_day", "created_day", "channel"),)

    order_pk: Mapped[int] = mapped_column(
        Id, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    standing: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    created_day: Mapped[date] = mapped_column(Date)
    paid_day: Mapped[date | None] = mapped_column(Date)
    paid_hour: Mapped[int | None] = mapped_column(Integer)
    shipped: Mapped[bool] = mapped_column(Boolean)
    returned: Mapped[bool] = mapped_column(Boolean)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    customer_key: Mapped[str | None] = mapped_column(String(32), index=True)
    warehouse: Mapped[str | None] = mapped_column(String(32))


class InsightLine(Base):
    """Units of a SKU an order sold (paid and not refunded before shipping), by paid day."""

    __tablename__ = "insight_lines"
    __table_args__ = (Index("ix_insight_lines_sku_day", "sku", "day"),)

    order_pk: Mapped[int] = mapped_column(
        Id, ForeignKey("insight_orders.order_pk", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    qty: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)


class StockDay(Base):
    """On-hand of a SKU in a warehouse at the end of a day, as the ERP reported it."""

    __tablename__ = "stock_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)


class HotSkuEpisode(Base):
    """A SKU's run of days at risk: opened (with its one alert) when the rule fires, closed
    when its stock covers the cover threshold again."""

    __tablename__ = "hot_sku_episodes"
    __table_args__ = (UniqueConstraint("sku", "started_on", name="uq_hot_sku_episodes_start"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    alert_id: Mapped[int | None] = mapped_column(Id)
    figures: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightState(Base):
    """Small named values: the customer key's fingerprint, the last day checked for alerts."""

    __tablename__ = "insight_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
