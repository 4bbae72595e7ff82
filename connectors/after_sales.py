"""What every channel's after-sales connector offers, and the one way they act on a request.

A request in orderhub's shape (`canonical`): ``{aftersale_id, order_id (the original
order), type (refund_only | return_refund | exchange), status (waiting_seller |
waiting_return | parcel_sent | success | refused | closed), version, lines [{line_id, sku,
qty, gift}], refund (yuan text), tracking {company, tracking_no} | None, system_refund,
created_at, updated_at}``.

Acting (`act`: agree_return, refund, refuse, exchange) is safe to repeat: it reads the
request first (its current version or update time is the platform's stale check) and
returns at once when the request already stands where the act would put it; a stale answer
reads again and tries once more; a refusal because the state changed reads again and counts
as done when the request is there. So a refund asked twice — a retry after a timeout, a run
resumed after a crash — refunds once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from engine.errors import Rejected

ACTS = ("agree_return", "refund", "refuse", "exchange")
#: where a request stands once an act took effect
DONE = {
    "agree_return": ("waiting_return", "parcel_sent", "success", "closed"),
    "refund": ("success",),
    "refuse": ("refused",),
    "exchange": ("success",),
}


class Stale(Rejected):
    """The platform's copy changed since it was read (version or update time)."""


class StateChanged(Rejected):
    """The request is no longer in a state that allows the act."""


class AfterSalesConnector:
    """Base of the channels' after-sales connectors (`pull`, `detail`, `act`)."""

    channel = ""

    def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        """Requests updated in [start, end): one list of (canonical, raw) per page."""
        raise NotImplementedError

    async def detail(self, aftersale_id: str) -> dict[str, Any]:
        """The request as the platform holds it now (canonical)."""
        raise NotImplementedError

    async def send(self, request: dict[str, Any], act: str, remark: str, key: str) -> None:
        """Send one act for the request as read (its version); raise Stale or StateChanged."""
        raise NotImplementedError

    async def act(self, aftersale_id: str, act: str, *, remark: str = "", key: str = "") -> dict:
        """Make `act` take effect once; return the request as it stands after it."""
        if act not in ACTS:
            raise ValueError(f"act must be one of {ACTS}")
        for attempt in range(3):
            request = await self.detail(aftersale_id)
            if request["status"] in DONE[act]:
                return request
            try:
                await self.send(request, act, remark, key)
            except Stale:
                if attempt == 2:
                    raise
                continue
            except StateChanged:
                request = await self.detail(aftersale_id)
                if request["status"] in DONE[act]:
                    return request
                raise
            return await self.detail(aftersale_id)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        raise NotImplementedError
