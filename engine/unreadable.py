"""Platform records that cannot be read as orders: kept, queued, never run.

A connector hands over a record it could not convert as an `unreadable` stand-in (see
`connectors/records.py`), and a canonical order that fails the `Order` model becomes one
here. The stand-in is stored with its raw record like any order — so nothing is lost and a
later readable copy from the platform replaces it — but no run starts: it goes straight to
the `exceptions` queue with its reason, whatever the workflow says.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from engine.order import Order

QUEUE = "exceptions"
STATUS = "exception"
#: the update time of a stand-in whose record shows none: any readable copy is newer
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def read_order(canonical: dict[str, Any], raw: dict[str, Any]) -> tuple[Order, str | None]:
    """The order, and None; or its stand-in and why the record could not be read."""
    reason = canonical.get("unreadable")
    if reason is None:
        try:
            return Order.model_validate(canonical), None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            reason = f"{where}: {first['msg']}"
    return stand_in(canonical, raw, reason), f"unreadable platform record ({reason})"


def stand_in(canonical: dict[str, Any], raw: dict[str, Any], reason: str) -> Order:
    """An order holding only what is known of an unreadable record, and why."""
    order_id = str(canonical.get("order_id") or "") or "unreadable-" + _digest(raw)
    return Order(
        channel=str(canonical.get("channel") or "unknown"),
        order_id=order_id,
        created_at=_time(canonical.get("created_at")),
        updated_at=_time(canonical.get("updated_at")),
        status="unreadable",
        unreadable=reason,
    )


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return UNKNOWN_TIME
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _digest(raw: dict[str, Any]) -> str:
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
