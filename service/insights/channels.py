"""Channel health: each channel's funnel in a period, against the others and its own past.

For each channel and the `days` days ending `until`: orders created, paid, shipped and
returned (stages as `service.insights.facts` counts them, by the day an order was created),
payment completion (paid / created), average basket (paid amount / paid orders), return rate
(returned / shipped) and, where ad spend is given, cost per paid order — beside the same
figures for the `days` days before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select

from engine.errors import InputError
from engine.store import Store
from engine.store.insight_models import InsightOrder
from service.access import Actor, require
from service.insights.common import count_if, current, last_complete_day

_facts = InsightOrder.__table__
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Funnel:
    """One channel in one period."""

    created: int = 0
    paid: int = 0
    shipped: int = 0
    returned: int = 0
    paid_amount: Decimal = Decimal(0)
    ad_spend: Decimal | None = None

    @property
    def payment_completion(self) -> float | None:
        return round(self.paid / self.created, 4) if self.created else None

    @property
    def average_basket(self) -> Decimal | None:
        return (self.paid_amount / self.paid).quantize(_CENT, ROUND_HALF_UP) if self.paid else None

    @property
    def return_rate(self) -> float | None:
        return round(self.returned / self.shipped, 4) if self.shipped else None

    @property
    def cost_per_order(self) -> Decimal | None:
        if self.ad_spend is None or not self.paid:
            return None
        return (self.ad_spend / self.paid).quantize(_CENT, ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        money = lambda v: None if v is None else f"{v:.2f}"  # noqa: E731
        return {
            "created": self.created,
            "paid": self.paid,
            "shipped": self.shipped,
            "returned": self.returned,
            "paid_amount": money(self.paid_amount),
            "payment_completion": self.payment_completion,
            "average_basket": money(self.average_basket),
            "return_rate": self.return_rate,
            "ad_spend": money(self.ad_spend),
            "cost_per_order": money(self.cost_per_order),
        }


@dataclass(frozen=True)
class ChannelHealth:
    channel: str
    current: Funnel
    previous: Funnel

    def change(self, name: str) -> float | None:
        """Relative change of a figure against the previous period (0.1 = +10%)."""
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or not before:
            return None
        return round(float(now) / float(before) - 1, 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
            "change": {
                name: self.change(name)
                for name in ("created", "paid", "payment_completion", "average_basket")
            },
        }


@dataclass(frozen=True)
class ChannelReport:
    since: date
    until: date
    previous_since: date
    channels: list[ChannelHealth]

    @property
    def best_completion(self) -> str | None:
        ranked = [c for c in self.channels if c.current.payment_completion is not None]
        return (
            max(ranked, key=lambda c: c.current.payment_completion or 0).channel if ranked else None
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "previous": {
                "since": self.previous_since.isoformat(),
                "until": (self.since - timedelta(days=1)).isoformat(),
            },
            "best_payment_completion": self.best_completion,
            "channels": [c.as_dict() for c in self.channels],
        }


def channel_health(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    days: int = 30,
    until: date | None = None,
    today: date | None = None,
    ad_spend: dict[tuple[date, str], Decimal] | None = None,
) -> ChannelReport:
    """Every channel's funnel for the `days` days ending `until` (default: yesterday)."""
    require(actor, "insights.read")
    if days < 1:
        raise InputError(f"days {days}: look at one day or more")
    until = until or last_complete_day(today)
    since = until - timedelta(days=days - 1)
    before = since - timedelta(days=days)
    current(store, key)
    now = _funnels(store, since, until, ad_spend)
    then = _funnels(store, before, since - timedelta(days=1), ad_spend)
    names = sorted(set(now) | set(then))
    rows = [ChannelHealth(c, now.get(c, Funnel()), then.get(c, Funnel())) for c in names]
    return ChannelReport(since, until, before, rows)


def _funnels(
    store: Store, since: date, until: date, ad_spend: dict[tuple[date, str], Decimal] | None
) -> dict[str, Funnel]:
    f = _facts.c
    query = (
        select(
            f.channel,
            count_if(f.order_pk.is_not(None)),
            count_if(f.paid_day.is_not(None)),
            count_if(f.shipped.is_(True)),
            count_if(f.returned.is_(True)),
            func.sum(case((f.paid_day.is_not(None), f.amount_cents), else_=0)),
        )
        .where(f.created_day.between(since, until))
        .group_by(f.channel)
    )
    spend: dict[str, Decimal] = {}
    if ad_spend is not None:
        for (day, channel), amount in ad_spend.items():
            if since <= day <= until:
                spend[channel] = spend.get(channel, Decimal(0)) + amount
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        channel: Funnel(
            int(created),
            int(paid),
            int(shipped),
            int(returned),
            Decimal(int(cents or 0)) / 100,
            spend.get(channel) if ad_spend is not None else None,
        )
        for channel, created, paid, shipped, returned, cents in rows
    }
