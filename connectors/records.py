"""Turning a page of platform records into canonical orders without one bad record sinking it.

A record the connector cannot read (a field missing, a date it cannot parse) comes out as an
*unreadable* stand-in — the channel, the order id when it can be found, and why — next to
its raw record, so ingest can keep it and put it in the exceptions queue instead of failing
the whole channel's pull.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any


class NotDecrypted(ValueError):
    """A receiver field came encrypted and the platform did not open it (that order only)."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel} did not decrypt the receiver; it cannot be shipped as is")


#: what a conversion of a malformed record raises (anything else is a bug and propagates)
MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def read_page(
    raws: Iterable[dict],
    convert: Callable[[dict], dict],
    channel: str,
    order_id_of: Callable[[dict], Any],
) -> list[tuple[dict, dict]]:
    """(canonical, raw) for every record; an unreadable one as `unreadable(...)`."""
    page = []
    for raw in raws:
        try:
            page.append((convert(raw), raw))
        except MALFORMED as exc:
            page.append((unreadable(channel, _quietly(order_id_of, raw), exc), raw))
    return page


async def decrypted_page(
    raws: list[dict],
    decrypt: Callable[[list[dict]], Awaitable[dict[str, str]]],
    convert: Callable[..., dict],
    channel: str,
    order_id_of: Callable[[dict], Any],
) -> list[tuple[dict, dict]]:
    """`read_page` of records whose receivers come encrypted: one batch `decrypt` for the
    page, then `convert(raw, plain=…)` per record."""
    plain = await decrypt(raws)
    return read_page(raws, lambda raw: convert(raw, plain=plain), channel, order_id_of)


def unreadable(channel: str, order_id: Any, error: BaseException) -> dict[str, Any]:
    """The stand-in canonical order of a record that could not be read."""
    reason = f"{type(error).__name__}: {error}"
    return {"channel": channel, "order_id": str(order_id or ""), "unreadable": reason}


def _quietly(order_id_of: Callable[[dict], Any], raw: dict) -> Any:
    try:
        return order_id_of(raw)
    except MALFORMED:
        return None
