"""SF Express return pickups: `EXP_RECE_CREATE_REVERSE_ORDER`.

Same gateway, signing and answers as `connectors.sf` (whose `_call` this reuses). A reverse
order's msgData (PLATFORMS.md, marked assumed there): ``orderId`` (orderhub's effect key),
``cargoDetails``, ``contactInfoList`` with contactType 1 the customer (where the courier
picks up) and 2 the warehouse, ``monthlyCard``, ``payMethod``, ``sendStartTm``; the
``remark`` carries the after-sales ref. A repeated orderId (8016) or a timeout is
reconciled by `EXP_RECE_SEARCH_ORDER_RESP`, as for waybills, so a pickup is booked once.
(The simulator answers `EXP_RECE_SEARCH_ROUTES` too; orderhub does not ask it yet: the
warehouse's scan is what tells a return arrived.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.sf import SfConnector, _contact
from engine.errors import Rejected

REVERSE = "EXP_RECE_CREATE_REVERSE_ORDER"


class SfReturns(SfConnector):
    """Books SF return pickups, once per key, and asks where parcels are."""

    async def create_return(
        self, key: str, ref: str, customer: dict, warehouse: dict, cargo: list[dict],
        pickup_at: datetime | None = None,
    ) -> str:  # fmt: skip
        """The return waybill number of the pickup booked under `key` (booked once)."""
        msg: dict[str, Any] = {
            "orderId": key,
            "language": "zh-CN",
            "cargoDetails": cargo,
            "contactInfoList": [_contact(1, customer), _contact(2, warehouse)],
            "monthlyCard": self._monthly_card,
            "payMethod": 1,
            "expressTypeId": 1,
            "remark": ref,
        }
        if pickup_at is not None:
            msg["sendStartTm"] = pickup_at.strftime("%Y-%m-%d %H:%M:%S")
        waybill = await self._call(
            REVERSE, msg, retry=True, reconcile=lambda: self.search_order(key)
        )
        if waybill is None:
            waybill = await self.search_order(key)
        if waybill is None:
            raise Rejected("sf", "the reverse order was accepted without a waybill number")
        return waybill
