"""Multi-day order histories to learn from: the insights' scenarios.

`generate_history(days, orders_per_day, seed)` builds `days` days of orders across the three
channels ending the day before the window's end, with:

- a weekly pattern (weekends busier) and promotion days (listed in `promotions`, plus one
  two days after the last day: tomorrow, seen from the export's day — a planned event);
- channels with different payment completion (Youzan's mini-program 89%, H5 80%, Douyin
  67%); unpaid orders are closed (`cancelled`, no `paid_at`), a few paid ones are refunded
  before shipping (`cancelled` with `paid_at`), the rest shipped and some returned;
- repeat customers across channels (one phone, spelled differently per channel) and a
  planted group of trial buyers who buy small and return about 60% of what they buy;
- a planted hot SKU: a new lip glaze launched late in the window whose sales grow ~30% a
  day until it sells out, restocked a few days later (skipped with ``flat=True``);
- the ERP's stock of every SKU@warehouse at the end of each day (normal SKUs are reordered
  long before they run low), and each channel's daily ad spend.

`expected` is computed by `history_oracle.expected_history` from the rendered data alone;
`history_export.write_history` writes the manifest and the back-office exports.
Deterministic for a given seed (`random.Random(seed)` only). Standard library only.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import Any

from connectors.simulator.catalogue import (
    CHANNELS,
    DEFAULT_WAREHOUSE,
    GEOGRAPHY,
    GIVEN_NAME_CHARS,
    SKUS,
    STREETS,
    SURNAMES,
    WAREHOUSES,
)
from connectors.simulator.history_export import ORDER_COLUMNS, history_files, write_history
from connectors.simulator.history_oracle import expected_history

__all__ = [
    "HOT_SKU",
    "ORDER_COLUMNS",
    "generate_history",
    "history_files",
    "write_history",
]

LOCAL = timezone(timedelta(hours=8))
HOT_SKU = {"sku": "LIP-101", "title": "镜面水光唇釉 #01", "price": "139.00"}
CHANNEL_SHARE = {"youzan": 0.45, "douyin": 0.35, "h5": 0.20}
PAYMENT_COMPLETION = {"youzan": 0.89, "douyin": 0.67, "h5": 0.80}
AD_SPEND_PER_ORDER = {"youzan": 6.0, "douyin": 18.0, "h5": 3.0}  # yuan per created order
WEEKDAY = (0.92, 0.93, 0.95, 1.0, 1.04, 1.12, 1.04)  # Monday first
PROMOTION_LIFT = 2.2
PROMOTION_EVERY = 28  # days; the first one on day 17
REFUND_BEFORE_SHIPPING = 0.01
RETURN_RATE = {"regular": 0.03, "occasional": 0.06}
TRIAL_RETURNS = {3: 2, 4: (2, 3), 5: 3, 6: 4}  # orders -> returned orders (~60%)
HOT_GROWTH = 1.3
HOT_STOCK_DAYS = 60  # launch stock in units of the first day's sales
MIN_DAYS_FOR_HOT = 35
REORDER_AT, ORDER_UP_TO = 25, 45  # days of a pair's mean demand (normal SKUs)
_HOURS = (1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4, 3.5, 3.5, 3.5, 3.5, 3.5, 3.8, 4,
          4.5, 5.5, 6, 5, 3)  # fmt: skip
_PROMO_HOURS = tuple(w * (2.0 if h >= 20 else 1.0) for h, w in enumerate(_HOURS))
_CUM_HOURS = {_HOURS: list(accumulate(_HOURS)), _PROMO_HOURS: list(accumulate(_PROMO_HOURS))}
_CHEAP = [s for s in SKUS if s["price"] in ("89.00", "99.00")]
_POPULARITY = list(accumulate(1.0 / (1 + i) ** 0.6 for i in range(len(SKUS))))
_WAREHOUSE_OF = {p: w["code"] for w in WAREHOUSES for p in w["provinces"]}  # type: ignore[union-attr]
_EAST = [p for p, code in _WAREHOUSE_OF.items() if code == "east"]


def generate_history(
    days: int,
    orders_per_day: int,
    seed: int,
    *,
    start: str = "2026-01-01",
    flat: bool = False,
) -> dict[str, Any]:
    """`days` days of about `orders_per_day` orders from `start`, with `expected`."""
    if days < 21:
        raise ValueError("a history needs at least 21 days (three weeks to compare)")
    if orders_per_day < 20:
        raise ValueError("a history needs at least 20 orders a day")
    if not flat and days < MIN_DAYS_FOR_HOT:
        raise ValueError(
            f"a planted hot SKU needs at least {MIN_DAYS_FOR_HOT} days; use more days or flat"
        )
    gen = _History(random.Random(seed), days, orders_per_day, date.fromisoformat(start), flat)
    gen.build()
    history: dict[str, Any] = {
        "scenario": f"history-{days}x{orders_per_day}-s{seed}" + ("-flat" if flat else ""),
        "kind": "history",
        "format": 1,
        "window": {
            "start": _at(gen.start, 0).isoformat(),
            "end": _at(gen.start + timedelta(days=days), 0).isoformat(),
        },
        "warehouses": [dict(w, provinces=list(w["provinces"])) for w in WAREHOUSES],
        "default_warehouse": DEFAULT_WAREHOUSE,
        "skus": [dict(s) for s in SKUS] + ([] if flat else [dict(HOT_SKU)]),
        "promotions": [
            {"day": (gen.start + timedelta(days=d)).isoformat(), "name": f"会员日大促 {i + 1}"}
            for i, d in enumerate(gen.promotions)
        ],
        "channels": gen.render(),
        "stock": gen.stock(),
        "ad_spend": gen.ad_spend(),
    }
    planted: dict[str, Any] = {"trial_buyers": sorted(gen.trial_phones)}
    if not flat:
        planted["hot_sku"] = {"sku": HOT_SKU["sku"], "launched_on": gen.day(gen.launch)}
    history["expected"] = expected_history(history, planted)
    return history


class _Customer:
    __slots__ = ("kind", "name", "phone", "province", "city", "district", "address")

    def __init__(self, kind: str, name: str, phone: str, place: tuple[str, str, str, str]):
        self.kind = kind
        self.name = name
        self.phone = phone
        self.province, self.city, self.district, self.address = place


class _History:
    """Draft orders as dicts: `_day`, `_created` (s into the day), `_paid`, `_shipped`,
    `_returned` (s from the window start or None), `_channel`, `_customer`, `lines`."""

    def __init__(self, rng: random.Random, days: int, n: int, start: date, flat: bool) -> None:
        self.rng, self.days, self.n, self.start, self.flat = rng, days, n, start, flat
        self.drafts: list[dict[str, Any]] = []
        self.phones: set[str] = set()
        self.trial_phones: list[str] = []
        self.promotions = list(range(17, days, PROMOTION_EVERY))
        self.promotions.append(days + 1)  # the day after the export's day: a planned event
        self.launch = max(7, days - 24)
        paid_total = days * n * 0.8
        self.regular = [self._customer("regular") for _ in range(max(5, int(paid_total / 27)))]
        self.occasional = [
            self._customer("occasional") for _ in range(max(20, int(paid_total * 0.63 / 1.6)))
        ]
        self.trial = [self._customer("trial") for _ in range(max(10, int(days * n / 75)))]
        self.trial_phones = [c.phone for c in self.trial]
        self._days: dict[int, str] = {}
        self.hot_stock: dict[int, int] = {}

    def day(self, index: int) -> str:
        return (self.start + timedelta(days=index)).isoformat()

    # -- orders ---------------------------------------------------------------------------

    def build(self) -> None:
        rnd = self.rng.random
        channels = list(CHANNEL_SHARE)
        channel_cum = list(accumulate(CHANNEL_SHARE.values()))
        for d in range(self.days):
            promo = d in self.promotions
            trend = 1 + 0.1 * d / self.days
            count = self.n * WEEKDAY[(self.start + timedelta(days=d)).weekday()] * trend
            count = round(count * (PROMOTION_LIFT if promo else 1) * (0.95 + 0.1 * rnd()))
            hours = _PROMO_HOURS if promo else _HOURS
            for _ in range(count):
                channel = channels[min(bisect(channel_cum, rnd() * channel_cum[-1]), 2)]
                if rnd() < PAYMENT_COMPLETION[channel]:
                    pool = self.regular if rnd() < 0.37 else self.occasional
                    customer = pool[int(rnd() * len(pool))]
                    self._paid_order(d, channel, customer, self._lines(customer.kind), hours)
                else:
                    customer = self.occasional[int(rnd() * len(self.occasional))]
                    self._unpaid_order(d, channel, customer, hours)
        self._trial_orders()
        if not self.flat:
            self._hot_orders()

    def _paid_order(
        self,
        d: int,
        channel: str,
        customer: _Customer,
        lines: list[dict[str, Any]],
        hours: tuple[float, ...],
        *,
        returned: bool | None = None,
    ) -> dict[str, Any]:
        rnd = self.rng.random
        created = d * 86400 + self._second(hours)
        paid = created + 5 + int(rnd() * 600)
        draft = self._draft(d, channel, customer, lines, created)
        draft["_paid"] = paid
        if returned is None and rnd() < REFUND_BEFORE_SHIPPING:
            draft["status"] = "cancelled"  # refunded before it shipped
            draft["_updated"] = paid + 600 + int(rnd() * 7200)
            return draft
        shipped = paid + 3600 * (2 + int(rnd() * 28))
        draft["_shipped"] = shipped
        if returned is None:
            returned = rnd() < RETURN_RATE[customer.kind]
        back = shipped + 86400 * (3 + int(rnd() * 6))
        if returned and back < self.days * 86400:
            draft.update(status="returned", _returned=back, _updated=back)
        elif shipped < self.days * 86400:
            draft.update(status="shipped", _updated=shipped)
        else:  # still in the warehouse at the window's end
            draft.update(status="paid", _shipped=None, _updated=paid)
        return draft

    def _unpaid_order(
        self, d: int, channel: str, customer: _Customer, hours: tuple[float, ...]
    ) -> None:
        created = d * 86400 + self._second(hours)
        draft = self._draft(d, channel, customer, self._lines(customer.kind), created)
        closes = created + 1800  # the platform closes unpaid orders after 30 minutes
        if closes < self.days * 86400:
            draft.update(status="cancelled", _updated=closes)
        else:
            draft.update(status="unpaid", _updated=created)

    def _draft(
        self, d: int, channel: str, customer: _Customer, lines: list[dict[str, Any]], created: int
    ) -> dict[str, Any]:
        draft = {
            "_day": d,
            "_channel": channel,
            "_customer": customer,
            "_created": created,
            "_paid": None,
            "_shipped": None,
            "_returned": None,
            "_updated": created,
            "status": "unpaid",
            "lines": lines,
        }
        self.drafts.append(draft)
        return draft

    def _trial_orders(self) -> None:
        """Each trial buyer: 3-6 small orders early enough to be returned in the window."""
        rng = self.rng
        last_day = self.days - 14
        for customer in self.trial:
            n = rng.choice((3, 4, 5, 6))
            back = TRIAL_RETURNS[n]
            returns = back if isinstance(back, int) else rng.choice(back)
            flags = [True] * returns + [False] * (n - returns)
            rng.shuffle(flags)
            for flag in flags:
                d = rng.randrange(0, last_day)
                hours = _PROMO_HOURS if d in self.promotions else _HOURS
                channel = self._abandoned(d, customer, hours)
                self._paid_order(d, channel, customer, self._lines("trial"), hours, returned=flag)

    def _hot_orders(self) -> None:
        """The launch: sales grow ~30% a day (always > 25%) until the stock runs out."""
        rng = self.rng
        base = max(3, round(self.n / 60))
        stock = base * HOT_STOCK_DAYS
        self.hot_stock[self.launch - 1] = stock
        demand = 0
        sold_out = None
        for d in range(self.launch, self.days):
            k = d - self.launch
            if sold_out is None:
                planned = round(base * HOT_GROWTH**k * (0.96 + 0.08 * rng.random()))
                demand = max(planned, math.ceil(demand * 1.25) if demand else base)
                sold = min(demand, stock)
                if sold == stock:
                    sold_out = d
            elif d < sold_out + 4:
                sold = 0  # out of stock: the listing shows sold out
            else:
                if d == sold_out + 4:
                    stock += demand * 40  # the reorder arrives
                sold = min(stock, round(demand * (0.95 + 0.1 * rng.random())))  # plateau
            stock -= sold
            self.hot_stock[d] = stock
            self._hot_day(d, sold)

    def _hot_day(self, d: int, units: int) -> None:
        rnd = self.rng.random
        hours = _PROMO_HOURS if d in self.promotions else _HOURS
        while units > 0:
            qty = min(units, 1 if rnd() < 0.8 else 2)
            units -= qty
            customer = self.occasional[int(rnd() * len(self.occasional))]
            channel = self._abandoned(d, customer, hours)
            line = _line(HOT_SKU, qty)
            draft = self._paid_order(d, channel, customer, [line], hours, returned=False)
            draft["_east"] = True  # the launch ships from the east warehouse only

    def _abandoned(self, d: int, customer: _Customer, hours: tuple[float, ...]) -> str:
        """A channel for a planted paid order, after the unpaid tries its completion implies."""
        rnd = self.rng.random
        channels = list(CHANNEL_SHARE)
        while True:
            channel = channels[min(int(rnd() * 3), 2)]
            if rnd() < PAYMENT_COMPLETION[channel]:
                return channel
            self._unpaid_order(d, channel, customer, hours)

    def _lines(self, kind: str) -> list[dict[str, Any]]:
        rnd = self.rng.random
        if kind == "trial":
            return [_line(_CHEAP[int(rnd() * len(_CHEAP))], 1)]
        count = (2 if rnd() < 0.6 else 3) if kind == "regular" else (1 if rnd() < 0.75 else 2)
        chosen: list[dict[str, str]] = []
        while len(chosen) < count:
            entry = SKUS[bisect(_POPULARITY, rnd() * _POPULARITY[-1])]
            if entry not in chosen:
                chosen.append(entry)
        most = 2 if kind == "regular" else 1
        return [_line(s, 1 + int(rnd() * most)) for s in chosen]

    def _second(self, hours: tuple[float, ...]) -> int:
        cum = _CUM_HOURS[hours]
        hour = bisect(cum, self.rng.random() * cum[-1])
        return min(hour, 23) * 3600 + int(self.rng.random() * 3600)

    def _customer(self, kind: str) -> _Customer:
        rnd = self.rng.random
        while True:
            phone = f"1{30 + int(rnd() * 70)}{int(rnd() * 10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                break
        province = list(GEOGRAPHY)[int(rnd() * len(GEOGRAPHY))]
        city, district = GEOGRAPHY[province][int(rnd() * len(GEOGRAPHY[province]))]
        street = STREETS[int(rnd() * len(STREETS))]
        address = (
            f"{street}{1 + int(rnd() * 999)}号{1 + int(rnd() * 30)}幢{1 + int(rnd() * 2800)}室"
        )
        name = (
            SURNAMES[int(rnd() * len(SURNAMES))]
            + GIVEN_NAME_CHARS[int(rnd() * len(GIVEN_NAME_CHARS))]
        )
        return _Customer(kind, name, phone, (province, city, district, address))

    # -- rendering ------------------------------------------------------------------------

    def render(self) -> dict[str, list[dict[str, Any]]]:
        """Canonical orders per channel, numbered per channel and day in creation order."""
        self.drafts.sort(key=lambda draft: (draft["_created"], draft["_channel"]))
        seqs: dict[tuple[str, int], int] = {}
        out: dict[str, list[dict[str, Any]]] = {c: [] for c in CHANNELS}
        rnd = self.rng.random
        for draft in self.drafts:
            channel, d = draft["_channel"], draft["_day"]
            seq = seqs[(channel, d)] = seqs.get((channel, d), 0) + 1
            customer: _Customer = draft["_customer"]
            province = customer.province
            city, district = customer.city, customer.district
            if draft.get("_east") and _WAREHOUSE_OF.get(province) != "east":
                province = _EAST[int(rnd() * len(_EAST))]
                city, district = GEOGRAPHY[province][0]
            out[channel].append(
                {
                    "order_id": f"{CHANNELS[channel]}{self.day(d).replace('-', '')}{seq:06d}",
                    "created_at": self._stamp(draft["_created"]),
                    "paid_at": self._stamp(draft["_paid"]),
                    "shipped_at": self._stamp(draft["_shipped"]),
                    "returned_at": self._stamp(draft["_returned"]),
                    "updated_at": self._stamp(draft["_updated"]),
                    "status": draft["status"],
                    "buyer": {"nick": customer.name},
                    "receiver": {
                        "name": customer.name,
                        "phone": _spelling(customer.phone, channel, rnd()),
                        "province": province,
                        "city": city,
                        "district": district,
                        "address": customer.address,
                    },
                    "items": draft["lines"],
                    "amount": _amount(draft["lines"]),
                    "warehouse": _WAREHOUSE_OF.get(province, DEFAULT_WAREHOUSE),
                }
            )
        return out

    def stock(self) -> list[dict[str, Any]]:
        """End-of-day on-hand per SKU@warehouse; normal pairs reordered at 25 days' demand."""
        demand: dict[tuple[str, str], list[int]] = {}
        for draft in self.drafts:
            if draft["_paid"] is None or draft["status"] == "cancelled":
                continue
            if draft["lines"][0]["sku"] == HOT_SKU["sku"]:
                continue
            warehouse = _WAREHOUSE_OF.get(draft["_customer"].province, DEFAULT_WAREHOUSE)
            day = draft["_paid"] // 86400
            for line in draft["lines"]:
                per_day = demand.setdefault((line["sku"], warehouse), [0] * self.days)
                per_day[min(day, self.days - 1)] += line["qty"]
        rows = []
        for sku in SKUS:
            for w in WAREHOUSES:
                per_day = demand.get((sku["sku"], str(w["code"])), [0] * self.days)
                mean = max(1.0, sum(per_day) / self.days)
                on_hand = math.ceil(mean * ORDER_UP_TO)
                for d, sold in enumerate(per_day):
                    on_hand -= sold
                    if on_hand < mean * REORDER_AT:
                        on_hand = math.ceil(mean * ORDER_UP_TO)  # the reorder arrives
                    rows.append(_stock_row(self.day(d), sku["sku"], str(w["code"]), on_hand))
        if not self.flat:
            for d in range(self.launch - 1, self.days):
                rows.append(_stock_row(self.day(d), HOT_SKU["sku"], "east", self.hot_stock[d]))
        rows.sort(key=lambda r: (r["day"], r["sku"], r["warehouse"]))
        return rows

    def ad_spend(self) -> list[dict[str, Any]]:
        created: dict[tuple[int, str], int] = {}
        for draft in self.drafts:
            key = (draft["_day"], draft["_channel"])
            created[key] = created.get(key, 0) + 1
        return [
            {
                "day": self.day(d),
                "channel": channel,
                "amount": f"{created.get((d, channel), 0) * per_order:.2f}",
            }
            for d in range(self.days)
            for channel, per_order in AD_SPEND_PER_ORDER.items()
        ]

    def _stamp(self, offset: int | None) -> str | None:
        """ISO 8601 local time of `offset` seconds after the window's start (+08:00)."""
        if offset is None:
            return None
        day, second = divmod(offset, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = self.day(day)
        minute, sec = divmod(second, 60)
        return f"{prefix}T{minute // 60:02d}:{minute % 60:02d}:{sec:02d}+08:00"


def _at(start: date, offset: int) -> datetime:
    return datetime(start.year, start.month, start.day, tzinfo=LOCAL) + timedelta(seconds=offset)


def _stock_row(day: str, sku: str, warehouse: str, on_hand: int) -> dict[str, Any]:
    return {"day": day, "sku": sku, "warehouse": warehouse, "on_hand": on_hand}


def _spelling(phone: str, channel: str, roll: float) -> str:
    """How a channel's back office spells a phone: Douyin often with +86, H5 sometimes spaced."""
    if channel == "douyin" and roll < 0.3:
        return "+86 " + phone
    if channel == "h5" and roll < 0.1:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone


def _line(entry: dict[str, str], qty: int) -> dict[str, Any]:
    return {"sku": entry["sku"], "title": entry["title"], "qty": qty, "price": entry["price"]}


def _amount(lines: list[dict[str, Any]]) -> str:
    cents = sum(int(line["price"].replace(".", "")) * line["qty"] for line in lines)
    return f"{cents // 100}.{cents % 100:02d}"
