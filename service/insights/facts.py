"""Order facts: the narrow rows every insight aggregates, derived from the stored orders.

`refresh(store, key)` brings `insight_orders` / `insight_lines` up to date with `orders`:
it reads only the orders whose facts are missing or stale (their content hash or standing
changed), in id order and batches, so a refresh after a normal pull reads a few hundred
orders, and one after importing 90 days reads each order once. Days are the brand's local
days (China Standard Time, UTC+8). A customer is `customer_key(phone, key)`: an HMAC of the
normalised phone, so one buyer is one customer across channels and spellings, and the phone
is never stored for this purpose. A new key re-derives every order's facts.

Funnel stages, as every insight counts them: *created* every order; *paid* it has a paid
time; *cancelled* the platform closed it (unpaid, or refunded before shipping); *shipped*
the platform (or orderhub) shipped it; *returned* it came back after shipping.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.store import Store
from engine.store import insights as facts_store
from nodes.rules import normalise_phone

LOCAL_OFFSET = timedelta(hours=8)  # the brand's days: China Standard Time (no daylight saving)
BATCH = 5000
_SHIPPED_PLATFORM = {"shipped", "returned"}
_SHIPPED_STANDING = {"shipped", "shipped_elsewhere"}
_FINGERPRINT = "customer_key.fingerprint"


@dataclass(frozen=True)
class RefreshSummary:
    indexed: int
    rekeyed: bool


def customer_key(phone: str | None, key: bytes) -> str | None:
    """The customer a phone belongs to: 32 hex digits of HMAC-SHA256(key, normalised phone)."""
    digits = normalise_phone(phone or "")
    if not digits:
        return None
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def local_day(moment: datetime) -> date:
    """The brand's local day of a stored (naive UTC) time."""
    return (moment + LOCAL_OFFSET).date()


def refresh(store: Store, key: bytes) -> RefreshSummary:
    """Derive the facts of every order whose facts are missing or stale."""
    rekeyed = False
    with store.engine.begin() as conn:
        if not key_is_current(conn, key):
            facts_store.clear_facts(conn)
            facts_store.set_state(conn, _FINGERPRINT, _fingerprint(key))
            rekeyed = True
    indexed, after = 0, 0
    while True:
        with store.engine.begin() as conn:
            rows = facts_store.orders_to_index(conn, after, BATCH)
            if not rows:
                break
            facts, lines = [], []
            for row in rows:
                fact, sold = derive(row, key)
                facts.append(fact)
                lines.extend(sold)
            facts_store.replace_facts(conn, facts, lines)
        indexed += len(rows)
        after = rows[-1].id
    return RefreshSummary(indexed, rekeyed)


def key_is_current(conn: Any, key: bytes) -> bool:
    """Whether the stored facts were keyed with `key` (false on a store never refreshed)."""
    return facts_store.get_state(conn, _FINGERPRINT) == _fingerprint(key)


def _fingerprint(key: bytes) -> str:
    return hmac.new(key, b"orderhub insights", hashlib.sha256).hexdigest()[:16]


def derive(row: Any, key: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fact row of one stored order and the rows of the lines it sold."""
    canonical = row.canonical or {}
    platform = row.platform_status
    paid_at = row.paid_at
    local_paid = paid_at + LOCAL_OFFSET if paid_at is not None else None
    cancelled = platform == "cancelled"
    fact = {
        "order_pk": row.id,
        "content_hash": row.content_hash,
        "standing": row.status,
        "channel": row.channel,
        "created_day": local_day(row.created_at),
        "paid_day": local_paid.date() if local_paid else None,
        "paid_hour": local_paid.hour if local_paid else None,
        "shipped": platform in _SHIPPED_PLATFORM
        or row.status in _SHIPPED_STANDING
        or bool(canonical.get("shipped_at")),
        "returned": platform == "returned" or bool(canonical.get("returned_at")),
        "cancelled": cancelled,
        "amount_cents": _cents(canonical.get("amount")),
        "customer_key": customer_key((canonical.get("receiver") or {}).get("phone"), key),
        "warehouse": row.warehouse or canonical.get("warehouse"),
    }
    sold: dict[str, int] = {}
    if local_paid is not None and not cancelled:
        for item in canonical.get("items") or []:
            qty = item.get("qty") if isinstance(item, dict) else None
            if isinstance(qty, int) and qty > 0 and item.get("sku"):
                sold[item["sku"]] = sold.get(item["sku"], 0) + qty
    day = fact["paid_day"]
    return fact, [{"order_pk": row.id, "sku": s, "qty": q, "day": day} for s, q in sold.items()]


def _cents(amount: Any) -> int:
    try:
        return int((Decimal(str(amount)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0
