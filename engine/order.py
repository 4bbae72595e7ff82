"""The canonical order: one shape for every channel's orders, as the scenarios define it.

Connectors turn each platform's record into this shape (as a plain dict, since they import
nothing of the engine); the pull node validates it into `Order` and stores it beside the raw
record. The model is also the one source of what expressions may read: `order_fields` lists
every field with its type and description (the validator, `orderhub fields` and the
workflow schema read it from here).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Buyer(BaseModel):
    model_config = ConfigDict(extra="allow")
    nick: str = Field("", description="the buyer's nickname on the platform")


class Receiver(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field("", description="the receiver's name")
    phone: str = Field("", description="the receiver's phone number")
    province: str = Field("", description="province, e.g. 广东省")
    city: str = Field("", description="city, e.g. 广州市")
    district: str = Field("", description="district or county")
    address: str = Field("", description="street address")


class Line(BaseModel):
    model_config = ConfigDict(extra="allow")
    sku: str = Field(description="the line's SKU, the ERP's material number")
    title: str = Field("", description="the product title")
    qty: int = Field(description="quantity ordered")
    price: Decimal = Field(Decimal("0"), description="unit price in yuan")


class Order(BaseModel):
    """One order of one channel. `ref` (``channel:order_id``) names it everywhere."""

    model_config = ConfigDict(extra="allow")
    channel: str = Field(description="the sales channel: youzan, douyin or h5")
    order_id: str = Field(description="the platform's order number")
    created_at: datetime = Field(description="when the buyer placed the order")
    paid_at: datetime | None = Field(None, description="when it was paid; null while unpaid")
    updated_at: datetime = Field(description="the platform's last change to the order")
    status: str = Field(description="paid, unpaid, cancelled or shipped")
    buyer: Buyer = Field(default_factory=Buyer, description="who bought it")
    receiver: Receiver = Field(default_factory=Receiver, description="who receives the parcel")
    items: list[Line] = Field(default_factory=list, description="the order lines")
    amount: Decimal = Field(Decimal("0"), description="what the buyer paid, in yuan")

    @property
    def ref(self) -> str:
        """channel:order_id, the name of the order everywhere"""
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


@dataclass(frozen=True)
class OrderField:
    """One field an expression may read as ``order.<path>`` (``items.sku``: of each line)."""

    path: str
    #: as expressions see it: string, number, boolean, datetime (ISO 8601 text), list, object
    type: str
    description: str
    nullable: bool = False
    #: a field of each element of a list field (``items.sku``)
    per_line: bool = False

    @property
    def expression(self) -> str:
        """How an expression writes it: ``order.amount``, ``order.items[0].sku``."""
        if self.per_line:
            head, _, rest = self.path.partition(".")
            return f"order.{head}[0].{rest}"
        return f"order.{self.path}"

    def as_data(self) -> dict:
        """The field as `orderhub fields --json` prints it."""
        about = self.description
        if self.per_line:
            head, _, rest = self.path.partition(".")
            about += f"; for every line: map(order.{head}, #.{rest})"
        return {
            "field": self.expression,
            "path": self.path,
            "type": self.type + (" or null" if self.nullable else ""),
            "description": about,
        }


@lru_cache(maxsize=1)
def order_fields() -> tuple[OrderField, ...]:
    """Every field of `Order` (and `ref`) an expression may read, in model order."""
    found = list(_fields(Order, ""))
    ref = OrderField("ref", "string", (Order.ref.__doc__ or "").strip())
    found.insert([f.path for f in found].index("order_id") + 1, ref)
    return tuple(found)


# --- private helpers -------------------------------------------------------------------

_SCALARS = {str: "string", int: "number", float: "number", Decimal: "number", bool: "boolean"}


def _fields(
    model: type[BaseModel], prefix: str, per_line: bool = False
) -> typing.Iterator[OrderField]:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation, nullable = _unwrap(info.annotation)
        about = (info.description or "", nullable, per_line)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield OrderField(path, "object", *about)
            yield from _fields(annotation, f"{path}.", per_line)
        elif typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            yield OrderField(path, "list", *about)
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield from _fields(item, f"{path}.", per_line=True)
        elif annotation is datetime:
            yield OrderField(path, "datetime", *about)
        else:
            yield OrderField(path, _SCALARS.get(annotation, "unknown"), *about)


def _unwrap(annotation: typing.Any) -> tuple[typing.Any, bool]:
    """(the annotation without None, whether None was allowed)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


#: Field paths an expression or a node param may name (checked at validation time).
ORDER_FIELDS: frozenset[str] = frozenset(f.path for f in order_fields())
