"""The canonical order: one shape for every channel's orders, as the scenarios define it.

Connectors turn each platform's record into this shape (as a plain dict, since they import
nothing of the engine); the pull node validates it into `Order` and stores it beside the raw
record.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Buyer(BaseModel):
    model_config = ConfigDict(extra="allow")
    nick: str = ""


class Receiver(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""


class Line(BaseModel):
    model_config = ConfigDict(extra="allow")
    sku: str
    title: str = ""
    qty: int
    price: Decimal = Decimal("0")


class Order(BaseModel):
    """One order of one channel. `ref` (``channel:order_id``) names it everywhere."""

    model_config = ConfigDict(extra="allow")
    channel: str
    order_id: str
    created_at: datetime
    paid_at: datetime | None = None
    updated_at: datetime
    status: str = Field(description="paid, unpaid, cancelled or shipped")
    buyer: Buyer = Field(default_factory=Buyer)
    receiver: Receiver = Field(default_factory=Receiver)
    items: list[Line] = Field(default_factory=list)
    amount: Decimal = Decimal("0")

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.order_id}"

    def as_data(self) -> dict:
        """The order as plain JSON-able data, the form expressions and reports see."""
        return self.model_dump(mode="json")

    def expression_data(self) -> dict:
        """The order as expressions see it: JSON data with money as numbers."""
        data = self.as_data()
        data["ref"] = self.ref
        data["amount"] = float(self.amount)
        for line, item in zip(self.items, data["items"], strict=True):
            item["price"] = float(line.price)
        return data


#: Field paths an expression or a node param may name (checked at validation time).
ORDER_FIELDS: frozenset[str] = frozenset(
    {
        "channel",
        "order_id",
        "ref",
        "created_at",
        "paid_at",
        "updated_at",
        "status",
        "amount",
        "buyer",
        "buyer.nick",
        "receiver",
        "receiver.name",
        "receiver.phone",
        "receiver.province",
        "receiver.city",
        "receiver.district",
        "receiver.address",
        "items",
        "items.sku",
        "items.title",
        "items.qty",
        "items.price",
    }
)
