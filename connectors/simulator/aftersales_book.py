"""The simulated platforms' after-sales requests (a scenario's ``after_sales``) and the
counters that prove each refund happened once.

Each request moves through the platform's states as orderhub and the buyer act:
``waiting_seller`` → (seller agrees the return) ``waiting_return`` → (buyer ships) ``parcel_sent``
→ (seller agrees the refund) ``success``; or ``refused`` / ``closed``. Every change bumps
its `version` (Youzan's stale check) and its update time (Douyin's `update_time`). The
awkward cases a scenario can ask for, per request:

- ``stale_once``: the first agree or refuse is answered "stale version" (the buyer edited
  the request after orderhub read it): the client must re-read and act again;
- ``buyer_cancels``: the buyer cancels while the parcel travels — the request is closed
  when the seller agrees the return;
- ``system_refund``: the platform agreed by itself at its deadline (``SYSTEM_REFUND``):
  the request is ``success`` from the start and a seller agree is refused as done;
- ``refund_before_arrival``: once the return is agreed the platform refunds by itself
  (``SYSTEM_REFUND``) while the parcel is still on its way;
- gifts: lines with ``gift: true`` (refund 0);
- partial quantities: a line's ``qty`` below the order's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATES = ("waiting_seller", "waiting_return", "parcel_sent", "success", "refused", "closed")


class ActError(Exception):
    """An act the platform refuses: `kind` is stale, state or unknown."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Request:
    channel: str
    aftersale_id: str
    order_id: str
    type: str  # refund_only, return_refund, exchange
    lines: list[dict[str, Any]]
    refund_fen: int
    created: float
    updated: float
    buyer_tracking: dict[str, str] | None = None
    stale_once: bool = False
    buyer_cancels: bool = False
    system_refund: bool = False
    refund_before_arrival: bool = False
    state: str = "waiting_seller"
    version: int = 1
    tracking: dict[str, str] | None = None
    refund_kind: str = "BUYER_APPLY_REFUND"
    remark: str = ""

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.aftersale_id}"


@dataclass
class AfterSalesBook:
    """Every channel's after-sales requests, and what orderhub did to them."""

    requests: dict[str, Request] = field(default_factory=dict)  # by ref
    acts: Counter = field(default_factory=Counter)  # (ref, act) -> times it took effect
    reverse_orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # SF orderId ->

    def load(self, scenario: dict[str, Any]) -> None:
        self.requests.clear()
        self.acts.clear()
        self.reverse_orders.clear()
        for raw in scenario.get("after_sales") or []:
            req = Request(
                channel=raw["channel"],
                aftersale_id=str(raw["aftersale_id"]),
                order_id=str(raw["order_id"]),
                type=raw["type"],
                lines=[dict(line) for line in raw["lines"]],
                refund_fen=int(raw["refund_fen"]),
                created=_epoch(raw["created_at"]),
                updated=_epoch(raw["updated_at"]),
                buyer_tracking=raw.get("buyer_tracking"),
                stale_once=bool(raw.get("stale_once")),
                buyer_cancels=bool(raw.get("buyer_cancels")),
                system_refund=bool(raw.get("system_refund")),
                refund_before_arrival=bool(raw.get("refund_before_arrival")),
            )
            if req.system_refund:
                req.state, req.refund_kind = "success", "SYSTEM_REFUND"
                self.acts[(req.ref, "system_refund")] += 1
            self.requests[req.ref] = req

    def of(self, channel: str) -> list[Request]:
        found = [r for r in self.requests.values() if r.channel == channel]
        return sorted(found, key=lambda r: (r.updated, r.aftersale_id))

    def get(self, channel: str, aftersale_id: str) -> Request:
        req = self.requests.get(f"{channel}:{aftersale_id}")
        if req is None:
            raise ActError("unknown", f"after-sales {aftersale_id} not found")
        return req

    def agree_return(self, req: Request, version: int | None, now: float) -> None:
        self._check(req, version, ("waiting_seller",), now)
        self.acts[(req.ref, "agree_return")] += 1
        if req.buyer_cancels:  # the buyer cancels while the parcel is on its way
            self._move(req, "closed", now)
            return
        self._move(req, "waiting_return", now)
        if req.buyer_tracking:  # the buyer ships it at once with their own carrier
            req.tracking = dict(req.buyer_tracking)
            self._move(req, "parcel_sent", now)
        if req.refund_before_arrival:  # the platform refunds by itself while it travels
            req.refund_kind = "SYSTEM_REFUND"
            self.acts[(req.ref, "system_refund")] += 1
            self._move(req, "success", now)

    def pickup_booked(self, ref: str, tracking: dict[str, str], now: float) -> None:
        """SF's reverse order for the request's parcel: the courier picks it up."""
        req = self.requests.get(ref)
        if req is not None and req.state == "waiting_return":
            req.tracking = tracking
            self._move(req, "parcel_sent", now)

    def agree_refund(self, req: Request, version: int | None, now: float) -> None:
        allowed = ("waiting_seller",) if req.type == "refund_only" else ("parcel_sent",)
        if req.type == "refund_only" and req.state == "waiting_seller":
            allowed = ("waiting_seller",)
        self._check(req, version, (*allowed, "waiting_return"), now)
        self.acts[(req.ref, "refund")] += 1
        self._move(req, "success", now)

    def agree_exchange(self, req: Request, version: int | None, now: float) -> None:
        self._check(req, version, ("parcel_sent", "waiting_return"), now)
        self.acts[(req.ref, "exchange")] += 1
        self._move(req, "success", now)

    def refuse(self, req: Request, version: int | None, remark: str, now: float) -> None:
        self._check(req, version, ("waiting_seller", "waiting_return", "parcel_sent"), now)
        self.acts[(req.ref, "refuse")] += 1
        req.remark = remark
        self._move(req, "refused", now)

    def counts(self) -> dict[str, Any]:
        """`/_sim/after_sales`: each request's state and how often each act took effect."""
        per: dict[str, dict[str, Any]] = {}
        for req in self.requests.values():
            per[req.ref] = {"state": req.state, "version": req.version, "remark": req.remark}
        for (ref, act), n in self.acts.items():
            per.setdefault(ref, {})[act] = n
        refunds = sum(n for (_, act), n in self.acts.items() if act == "refund")
        twice = sorted(ref for (ref, act), n in self.acts.items() if act == "refund" and n > 1)
        return {
            "requests": per,
            "refunds": refunds,
            "refunded_twice": twice,
            "reverse_orders": len(self.reverse_orders),
        }

    def _check(
        self, req: Request, version: int | None, states: tuple[str, ...], now: float
    ) -> None:
        if req.stale_once:  # the buyer edited it after orderhub read it
            req.stale_once = False
            req.version += 1
            req.updated = max(req.updated + 1, now)
            raise ActError("stale", "version is stale; read the request again")
        if version is not None and version != req.version:
            raise ActError("stale", "version is stale; read the request again")
        if req.state not in states:
            raise ActError("state", f"the request is {req.state}; this act is not allowed")

    def _move(self, req: Request, state: str, now: float) -> None:
        req.state = state
        req.version += 1
        req.updated = max(req.updated + 1, now)


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()
