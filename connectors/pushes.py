"""What the channels push to orderhub, as each channel module reads it.

Every channel module that takes pushes offers ``read_push(body, headers, config, now)``: it
checks the signature (`PushRefused` 401 when it does not match, before anything is parsed),
then reads the message (`PushRefused` 400 with the reason when it is malformed) into
`Pushed` entries, and names the answer the platform expects (`ACK`). Its connector turns a
pushed record into a (canonical, raw) order with ``pushed_order(record)``, fetching and
decrypting what the message does not carry.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class PushRefused(Exception):
    """A push orderhub will not take: `status` 401 (signature) or 400 (malformed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Pushed:
    """One message of a push: which order, which event, and what reading the order needs."""

    push_id: str  # the platform's message id: a repeat of it is the same push
    order_id: str
    event: str  # the platform's own name for it (order.paid, trade_TradePaid, 101 …)
    paid: bool  # the event says the order is paid (a run is started at once)
    record: dict[str, Any] = field(default_factory=dict)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ('' when absent)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures, case-insensitive (hex digests)."""
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())


def need(config: Mapping[str, Any], channel: str, *keys: str) -> list[str]:
    """The settings a channel's push check needs; 401 when one is missing (nothing can be
    verified, so nothing is taken)."""
    values = [str(config.get(key) or "") for key in keys]
    missing = [k for k, v in zip(keys, values, strict=True) if not v]
    if missing:
        raise PushRefused(
            401, f"[{channel}] {', '.join(missing)} not set: pushes cannot be verified"
        )
    return values
