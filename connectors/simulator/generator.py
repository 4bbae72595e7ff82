"""The project's own scenario generator, in the shared scenario format (format 1).

`generate_scenario(orders, seed)` builds one day of orders across the three channels —
mostly ordinary paid orders, plus ~1% unpaid, ~1% invalid (the three reasons in turn),
~2.5% planted duplicates with two near misses for every three duplicates, and a few
SKU@warehouse pairs kept short of stock — and attaches `expected` from the independent
oracle plus `planted`. Deterministic for a given seed (`random.Random(seed)` only).
Standard library only.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from connectors.simulator.catalogue import (
    CHANNELS,
    DEFAULT_WAREHOUSE,
    GEOGRAPHY,
    GIVEN_NAME_CHARS,
    SKUS,
    STREETS,
    SURNAMES,
    TIGHT_PAIRS,
    UNKNOWN_SKU,
    WAREHOUSES,
)
from connectors.simulator.oracle import expected_outcomes

__all__ = ["FORMAT", "generate_scenario", "write_scenario"]

_T = TypeVar("_T")

FORMAT = 1
DEDUP_WINDOW_MINUTES = 60
SAFETY_STOCK = 10
UNPAID_SHARE = 0.01
INVALID_SHARE = 0.01
DUPLICATE_SHARE = 0.025
TIGHT_SCALE_ORDERS = 1200  # TIGHT_PAIRS are sized for a day of this many orders
DAY_SECONDS = 24 * 3600
INVALID_REASONS = ("missing_receiver_phone", "unknown_sku", "bad_quantity")
NEAR_MISS_KINDS = ("other_sku", "other_address", "later")
DUPLICATE_VARIANTS = ("same", "plus86", "spaced", "fullwidth")

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_PROVINCES = list(GEOGRAPHY)
_CHANNEL_NAMES = list(CHANNELS)


def generate_scenario(orders: int, seed: int, *, day: str = "2026-01-10") -> dict[str, Any]:
    """One day of `orders` orders as a format-1 scenario, with `expected` and `planted`."""
    if orders < 0:
        raise ValueError("orders must be >= 0")
    gen = _Generator(random.Random(seed), orders)
    drafts = gen.build()
    start = datetime.fromisoformat(f"{day}T00:00:00+08:00")
    scenario: dict[str, Any] = {
        "scenario": f"intake-{orders}-s{seed}",
        "format": FORMAT,
        "window": {
            "start": start.isoformat(),
            "end": (start + timedelta(days=1)).isoformat(),
        },
        "rules": {"dedup_window_minutes": DEDUP_WINDOW_MINUTES, "safety_stock": SAFETY_STOCK},
        "warehouses": [dict(w, provinces=list(w["provinces"])) for w in WAREHOUSES],
        "default_warehouse": DEFAULT_WAREHOUSE,
        "skus": [dict(s) for s in SKUS],
        "inventory": gen.inventory(),
        "channels": _finalise(drafts, start),
    }
    expected = expected_outcomes(scenario)
    expected["planted"] = {"dup": gen.n_dup, "near_miss": gen.n_near}
    scenario["expected"] = expected
    return scenario


def write_scenario(scenario: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a scenario as the shared files are written (UTF-8, indent=1)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(scenario, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


class _Generator:
    """Draft orders as dicts with internal `_channel`/`_created`/`_paid`/`_updated` fields."""

    def __init__(self, rng: random.Random, orders: int) -> None:
        self.rng = rng
        self.orders = orders
        self.phones: set[str] = set()
        self.tight = _tight_plan(orders)
        tight_skus = {sku for sku, *_ in TIGHT_PAIRS}
        self.pool = [s for s in SKUS if s["sku"] not in tight_skus]
        self.plenty = max(100_000, orders * 2)
        n_tight = sum(count for _, _, _, count in self.tight)
        self.n_unpaid = _share(orders, UNPAID_SHARE)
        self.n_invalid = _share(orders, INVALID_SHARE)
        self.n_dup = _share(orders, DUPLICATE_SHARE)
        self.n_near = self.n_dup * 2 // 3
        fixed = n_tight + self.n_unpaid + self.n_invalid
        if orders - fixed - 2 * (self.n_dup + self.n_near) < 0:  # too small a day to plant
            self.n_dup = self.n_near = 0
        self.n_regular = orders - fixed - self.n_dup - self.n_near
        if self.n_regular < 0:
            raise ValueError(f"{orders} orders are too few for a scenario")

    def build(self) -> list[dict[str, Any]]:
        rng = self.rng
        regular = [self._order(variants=True) for _ in range(self.n_regular)]
        drafts = list(regular)
        bases = rng.sample(range(self.n_regular), self.n_dup + self.n_near)
        for index in bases[: self.n_dup]:
            drafts.append(self._duplicate(regular[index], rng.choice(DUPLICATE_VARIANTS)))
        for i, index in enumerate(bases[self.n_dup :]):
            drafts.append(self._near_miss(regular[index], NEAR_MISS_KINDS[i % 3]))
        for _ in range(self.n_unpaid):
            draft = self._order(variants=True)
            draft.update(status="unpaid", _paid=None)
            draft["_updated"] = draft["_created"] + rng.randint(300, 900)
            drafts.append(draft)
        for i in range(self.n_invalid):
            drafts.append(self._invalid(INVALID_REASONS[i % 3]))
        for sku, warehouse, _, count in self.tight:
            drafts.extend(self._tight_order(sku, warehouse) for _ in range(count))
        rng.shuffle(drafts)
        return drafts

    def inventory(self) -> list[dict[str, Any]]:
        tight = {(sku, wh): on_hand for sku, wh, on_hand, _ in self.tight}
        return [
            {
                "sku": s["sku"],
                "warehouse": w["code"],
                "on_hand": tight.get((s["sku"], w["code"]), self.plenty),
            }
            for s in SKUS
            for w in WAREHOUSES
        ]

    # -- order drafts -------------------------------------------------------------------

    def _order(
        self,
        *,
        variants: bool = False,
        province: str | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        rnd = self.rng.random
        province = province or _pick(rnd, _PROVINCES)
        city, district = _pick(rnd, GEOGRAPHY[province])
        given = _pick(rnd, GIVEN_NAME_CHARS) + (_pick(rnd, GIVEN_NAME_CHARS) if rnd() < 0.5 else "")
        name = _pick(rnd, SURNAMES) + given
        phone = self._new_phone()
        if variants:
            roll = rnd()
            if roll < 0.004:
                phone = "+86 " + phone
            elif roll < 0.006:
                phone = _spaced_phone(phone)
        address = (
            f"{_pick(rnd, STREETS)}{_between(rnd, 1, 999)}号{_between(rnd, 1, 30)}幢"
            f"{_between(rnd, 1, 28)}{_between(rnd, 1, 99):02d}室"
        )
        created = int(rnd() * DAY_SECONDS)
        paid = created + _between(rnd, 5, 300)
        return {
            "_channel": _pick(rnd, _CHANNEL_NAMES),
            "_created": created,
            "_paid": paid,
            "_updated": paid + _between(rnd, 5, 900),
            "status": "paid",
            "buyer": {"nick": name},
            "receiver": {
                "name": name,
                "phone": phone,
                "province": province,
                "city": city,
                "district": district,
                "address": address,
            },
            "items": items if items is not None else self._items(),
        }

    def _items(self, avoid: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        rnd = self.rng.random
        while True:
            roll = rnd()
            count = 1 if roll < 0.62 else 2 if roll < 0.81 else 3
            chosen: list[dict[str, str]] = []
            while len(chosen) < count:
                entry = _pick(rnd, self.pool)
                if entry not in chosen:
                    chosen.append(entry)
            if tuple(sorted(s["sku"] for s in chosen)) != avoid:
                break
        return [_line(s, 1 if rnd() < 0.76 else 2) for s in chosen]

    def _new_phone(self) -> str:
        while True:
            phone = f"1{_between(self.rng.random, 30, 99)}{int(self.rng.random() * 10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _copy(self, base: dict[str, Any], minutes: int) -> dict[str, Any]:
        """The same buyer ordering again `minutes` later, on any channel."""
        rng = self.rng
        created = base["_created"] + minutes * 60
        paid = created + rng.randint(5, 300)
        return {
            **base,
            "_channel": rng.choice(list(CHANNELS)),
            "_created": created,
            "_paid": paid,
            "_updated": paid + rng.randint(5, 900),
            "buyer": dict(base["buyer"]),
            "receiver": dict(base["receiver"]),
            "items": [dict(item) for item in base["items"]],
        }

    def _duplicate(self, base: dict[str, Any], variant: str) -> dict[str, Any]:
        dup = self._copy(base, self.rng.randint(1, DEDUP_WINDOW_MINUTES - 1))
        receiver = dup["receiver"]
        digits = receiver["phone"].removeprefix("+86 ").replace(" ", "")
        if variant == "plus86":
            receiver["phone"] = "+86 " + digits
        elif variant == "spaced":
            receiver["phone"] = _spaced_phone(digits)
            receiver["address"] = " " + receiver["address"].replace("号", "号 ", 1) + " "
        elif variant == "fullwidth":
            receiver["address"] = receiver["address"].translate(_FULLWIDTH)
        return dup

    def _near_miss(self, base: dict[str, Any], kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "later":
            return self._copy(base, rng.randint(DEDUP_WINDOW_MINUTES + 1, 180))
        near = self._copy(base, rng.randint(1, DEDUP_WINDOW_MINUTES - 1))
        if kind == "other_sku":
            near["items"] = self._items(avoid=tuple(sorted(i["sku"] for i in base["items"])))
        else:
            near["receiver"]["address"] += "B"
        return near

    def _invalid(self, reason: str) -> dict[str, Any]:
        draft = self._order()
        items = draft["items"]
        bad = self.rng.randrange(len(items))
        if reason == "missing_receiver_phone":
            draft["receiver"]["phone"] = ""
        elif reason == "unknown_sku":
            items[bad] = _line(UNKNOWN_SKU, 1)
        else:
            items[bad]["qty"] = 0
        return draft

    def _tight_order(self, sku: str, warehouse: str) -> dict[str, Any]:
        provinces = next(w["provinces"] for w in WAREHOUSES if w["code"] == warehouse)
        entry = next(s for s in SKUS if s["sku"] == sku)
        return self._order(province=self.rng.choice(provinces), items=[_line(entry, 1)])


def _tight_plan(orders: int) -> list[tuple[str, str, int, int]]:
    """(sku, warehouse, on_hand, orders asking for it), scaled with the day's size."""
    scale = orders / TIGHT_SCALE_ORDERS
    plan = []
    for sku, warehouse, on_hand, beyond in TIGHT_PAIRS[: min(3, orders // 100)]:
        stock = max(SAFETY_STOCK + 2, round(on_hand * scale))
        plan.append((sku, warehouse, stock, stock + max(1, round(beyond * scale))))
    return plan


def _pick(rnd: Callable[[], float], seq: Sequence[_T]) -> _T:
    """A uniform choice from `rnd()` alone: cheaper than `Random.choice` at 50,000 orders."""
    return seq[int(rnd() * len(seq))]


def _between(rnd: Callable[[], float], low: int, high: int) -> int:
    """A uniform integer in [low, high] from `rnd()` alone."""
    return low + int(rnd() * (high - low + 1))


def _share(orders: int, share: float) -> int:
    count = round(orders * share)
    return max(1, count) if orders >= 50 else count


def _line(entry: dict[str, str], qty: int) -> dict[str, Any]:
    return {"sku": entry["sku"], "title": entry["title"], "qty": qty, "price": entry["price"]}


def _spaced_phone(digits: str) -> str:
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def _amount(items: list[dict[str, Any]]) -> str:
    cents = sum(int(item["price"].replace(".", "")) * item["qty"] for item in items)
    return f"{cents // 100}.{cents % 100:02d}"


def _finalise(drafts: list[dict[str, Any]], start: datetime) -> dict[str, list[dict[str, Any]]]:
    """Number the orders per channel in creation order and render canonical orders."""
    by_channel: dict[str, list[tuple[int, int, dict[str, Any]]]] = {c: [] for c in CHANNELS}
    for index, draft in enumerate(drafts):
        by_channel[draft["_channel"]].append((draft["_created"], index, draft))
    stamp_cache: dict[int, str] = {}

    def stamp(offset: int) -> str:
        text = stamp_cache.get(offset)
        if text is None:
            text = stamp_cache[offset] = (start + timedelta(seconds=offset)).isoformat()
        return text

    channels: dict[str, list[dict[str, Any]]] = {}
    for channel, rows in by_channel.items():
        rows.sort(key=lambda row: row[:2])
        prefix = CHANNELS[channel]
        rendered = []
        for seq, (created, _, draft) in enumerate(rows, start=1):
            created_at = stamp(created)
            order_day = created_at[:10].replace("-", "")
            rendered.append(
                {
                    "order_id": f"{prefix}{order_day}{seq:06d}",
                    "created_at": created_at,
                    "paid_at": None if draft["_paid"] is None else stamp(draft["_paid"]),
                    "updated_at": stamp(draft["_updated"]),
                    "status": draft["status"],
                    "buyer": draft["buyer"],
                    "receiver": draft["receiver"],
                    "items": draft["items"],
                    "amount": _amount(draft["items"]),
                }
            )
        channels[channel] = rendered
    return channels
