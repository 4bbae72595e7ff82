"""Order rules several node types share: what makes an order invalid, and key normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from engine.order import Order

#: invalid reasons, in the order they are checked
CHECKS = ("missing_receiver_phone", "unknown_sku", "bad_quantity")

_WHITESPACE = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")


def order_problems(
    order: Order, catalogue: frozenset[str], checks: Iterable[str] = CHECKS
) -> list[str]:
    """The invalid reasons of an order, in the order of `CHECKS` (empty when valid)."""
    wanted = set(checks)
    found = []
    if "missing_receiver_phone" in wanted and not normalise_phone(order.receiver.phone):
        found.append("missing_receiver_phone")
    if "unknown_sku" in wanted and any(line.sku not in catalogue for line in order.items):
        found.append("unknown_sku")
    if "bad_quantity" in wanted and any(line.qty <= 0 for line in order.items):
        found.append("bad_quantity")
    return found


def normalise_phone(phone: str) -> str:
    """Digits only (after NFKC), without a leading ``86`` on a 13-digit number."""
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", phone or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def normalise_text(text: str) -> str:
    """NFKC with all white space removed (full-width digits become ASCII)."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def full_address(order: Order) -> str:
    """Province, city, district and street address, normalised as one string."""
    r = order.receiver
    return normalise_text(f"{r.province}{r.city}{r.district}{r.address}")


def key_part(order: Order, field: str) -> str:
    """One field of a dedup key, normalised the way that field needs."""
    special = _SPECIAL.get(field)
    if special is not None:
        return special(order)
    head, _, rest = field.partition(".")
    if head == "items":
        return ",".join(sorted({normalise_text(str(getattr(i, rest, ""))) for i in order.items}))
    value: object = order
    for part in field.split("."):
        value = getattr(value, part, "")
    return normalise_text(str(value))


_SPECIAL: dict[str, Callable[[Order], str]] = {
    "receiver.phone": lambda order: normalise_phone(order.receiver.phone),
    "receiver.address": full_address,
}
