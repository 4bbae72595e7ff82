"""Hot-SKU early warning: a SKU selling faster every day while its stock runs short.

The rule (its numbers are `InsightParams`, edited as params of ``order_intake``): on a day
`d`, a SKU is **hot** when its units sold grew more than `hot_sku_growth_pct` % on each of
the last `hot_sku_streak_days` days (each day against the day before, the day before never
zero), it sold at least `hot_sku_min_units` on `d`, and its stock at the end of `d` (the
ERP's on-hand, summed over warehouses) covers fewer than `hot_sku_cover_days` days of `d`'s
sales (when sales are growing every day, the latest day is the honest rate: an average
would overstate the cover). The suggested reorder covers `hot_sku_reorder_days` days at that
rate, less what is on hand.

`hot_skus` (read) lists the SKUs hot on a day and the open episodes. `check_hot_skus` (the
daily job) walks the days since it last ran: a hot SKU with no open episode opens one, with
one alert and one WeCom message through the outbox in the same transaction; an episode
stays open — no second alert however many days the rule holds, through the sell-out — until
the SKU's stock covers `hot_sku_cover_days` days again (a reorder arrived, or demand fell).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from engine.store import Store
from engine.store import insights as facts_store
from engine.store import stock as stock_store
from engine.store.insight_models import HotSkuEpisode, InsightLine
from engine.store.models import Alert, InventoryRow
from service.access import Actor, require
from service.insights.common import current, last_complete_day
from service.insights.params import InsightParams, insight_params

ALERT_KIND = "hot_sku"
_CHECKED = "hot_sku.checked_through"
FIRST_LOOKBACK_DAYS = 7  # a first check looks this far back, not at the whole history
_lines = InsightLine.__table__
_episodes = HotSkuEpisode.__table__
_alerts = Alert.__table__
_inventory = InventoryRow.__table__


@dataclass(frozen=True)
class HotSku:
    """A SKU the rule holds for on `day`, with the figures behind it."""

    sku: str
    day: date
    sales: list[int]  # units sold on the streak's days, the day before it first
    growth_pct: list[float]
    on_hand: int
    cover_days: float
    reorder_qty: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}

    def message(self) -> str:
        """The alert as WeCom markdown."""
        growth = ", ".join(f"+{g:.0f}%" for g in self.growth_pct)
        return (
            f"**爆品预警 hot SKU {self.sku}** ({self.day.isoformat()})\n"
            f"> sales {' → '.join(map(str, self.sales))} units a day ({growth})\n"
            f"> on hand {self.on_hand}: {self.cover_days:.1f} days of cover at today's rate\n"
            f"> suggested reorder: **{self.reorder_qty}** units"
        )


@dataclass(frozen=True)
class Episode:
    sku: str
    started_on: date
    ended_on: date | None
    figures: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "started_on": self.started_on.isoformat(),
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
            "figures": self.figures,
        }


@dataclass(frozen=True)
class HotSkuReport:
    day: date
    params: InsightParams
    hot: list[HotSku]
    open_episodes: list[Episode]

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "rule": self.params.as_dict(),
            "hot": [h.as_dict() for h in self.hot],
            "open_episodes": [e.as_dict() for e in self.open_episodes],
        }


def hot_skus(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    day: date | None = None,
    today: date | None = None,
    params: InsightParams | None = None,
) -> HotSkuReport:
    """The SKUs the rule holds for on `day` (default: yesterday) and the open episodes."""
    require(actor, "insights.read")
    params = params or insight_params(store)
    day = day or last_complete_day(today)
    current(store, key)
    with store.engine.connect() as conn:
        sales, stock = _history(conn, day, day, params)
        hot = [h for sku in sorted(sales) if (h := evaluate(sku, day, sales, stock, params))]
        return HotSkuReport(day, params, hot, _open_episodes(conn))


def check_hot_skus(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    today: date | None = None,
    params: InsightParams | None = None,
) -> list[Episode]:
    """Walk the days not checked yet up to yesterday; open an episode (one alert, one
    message) for each SKU that turns hot, close those covered again. Returns the opened."""
    require(actor, "insights.alert")
    params = params or insight_params(store)
    last = last_complete_day(today)
    current(store, key)
    opened: list[Episode] = []
    with store.engine.begin() as conn:
        checked = facts_store.get_state(conn, _CHECKED)
        first = (
            date.fromisoformat(checked) + timedelta(days=1)
            if checked
            else last - timedelta(days=FIRST_LOOKBACK_DAYS - 1)
        )
        if first > last:
            return []
        _snapshot_inventory(conn, last)
        sales, stock = _history(conn, first, last, params)
        episodes = {e.sku: e for e in _open_episodes(conn)}
        day = first
        while day <= last:
            for sku in sorted(set(sales) | set(episodes)):
                if sku in episodes:
                    on_hand = _on_hand(stock, sku, day)
                    rate = sales.get(sku, {}).get(day, 0)
                    if on_hand is not None and _cover(on_hand, rate) >= params.hot_sku_cover_days:
                        _close(conn, episodes.pop(sku), day)
                elif hot := evaluate(sku, day, sales, stock, params):
                    episodes[sku] = _open(conn, hot)
                    opened.append(episodes[sku])
            day += timedelta(days=1)
        facts_store.set_state(conn, _CHECKED, last.isoformat())
    return opened


def evaluate(
    sku: str,
    day: date,
    sales: dict[str, dict[date, int]],
    stock: dict[str, dict[date, int]],
    params: InsightParams,
) -> HotSku | None:
    """The rule for one SKU on one day (see the module docstring), or None when it fails."""
    per_day = sales.get(sku, {})
    streak = params.hot_sku_streak_days
    units = [per_day.get(day - timedelta(days=back), 0) for back in range(streak, -1, -1)]
    if units[-1] < params.hot_sku_min_units:
        return None
    growth = []
    for before, after in zip(units, units[1:], strict=False):
        if before <= 0 or (after / before - 1) * 100 <= params.hot_sku_growth_pct:
            return None
        growth.append(round((after / before - 1) * 100, 1))
    on_hand = _on_hand(stock, sku, day)
    if on_hand is None:
        return None  # no stock figure from the ERP: cannot say how long it lasts
    cover = _cover(on_hand, units[-1])
    if cover >= params.hot_sku_cover_days:
        return None
    reorder = max(0, math.ceil(units[-1] * params.hot_sku_reorder_days) - on_hand)
    return HotSku(sku, day, units, growth, on_hand, round(cover, 2), reorder)


def _cover(on_hand: int, rate: int) -> float:
    if rate <= 0:
        return math.inf if on_hand > 0 else 0.0
    return max(on_hand, 0) / rate


def _on_hand(stock: dict[str, dict[date, int]], sku: str, day: date) -> int | None:
    """On-hand at the end of `day`: that day's figure, else the latest one before it."""
    per_day = stock.get(sku)
    if not per_day:
        return None
    if day in per_day:
        return per_day[day]
    earlier = [d for d in per_day if d <= day]
    return per_day[max(earlier)] if earlier else None


def _history(
    conn: Any, first: date, last: date, params: InsightParams
) -> tuple[dict[str, dict[date, int]], dict[str, dict[date, int]]]:
    """Units sold per SKU and day, and on-hand per SKU and day, for checking [first, last]."""
    since = first - timedelta(days=params.hot_sku_streak_days)
    sales: dict[str, dict[date, int]] = {}
    rows = conn.execute(
        select(_lines.c.sku, _lines.c.day, func.sum(_lines.c.qty))
        .where(_lines.c.day.between(since, last))
        .group_by(_lines.c.sku, _lines.c.day)
    )
    for sku, day, units in rows:
        sales.setdefault(sku, {})[day] = int(units)
    stock = facts_store.stock_by_day(conn, first, last)
    for sku, (day, on_hand) in facts_store.last_stock_before(conn, first).items():
        stock.setdefault(sku, {}).setdefault(day, on_hand)
    return sales, stock


def _snapshot_inventory(conn: Any, day: date) -> None:
    """Record the ERP's current on-hand as `day`'s end-of-day stock where the ERP sync has
    stock and no figure for that day was imported (live use: the morning after)."""
    rows = [
        {"day": day, "sku": r.sku, "warehouse": r.warehouse, "on_hand": r.on_hand}
        for r in conn.execute(
            select(_inventory.c.sku, _inventory.c.warehouse, _inventory.c.on_hand)
        )
    ]
    if not rows:
        return
    known = facts_store.stock_by_day(conn, day, day)
    facts_store.save_stock_days(conn, [r for r in rows if r["sku"] not in known])


def _open_episodes(conn: Any) -> list[Episode]:
    rows = conn.execute(
        select(_episodes).where(_episodes.c.ended_on.is_(None)).order_by(_episodes.c.sku)
    )
    return [Episode(r.sku, r.started_on, r.ended_on, r.figures) for r in rows]


def _open(conn: Any, hot: HotSku) -> Episode:
    subject = f"{hot.sku}@{hot.day.isoformat()}"
    message = hot.message()
    stock_store.raise_alert(conn, ALERT_KIND, subject, message, None)
    alert_id = conn.execute(
        select(_alerts.c.id).where(_alerts.c.kind == ALERT_KIND, _alerts.c.subject == subject)
    ).scalar()
    figures = hot.as_dict()
    conn.execute(
        insert(_episodes).values(
            sku=hot.sku, started_on=hot.day, alert_id=alert_id, figures=figures
        )
    )
    stock_store.add_outbox(conn, "wecom", {"kind": ALERT_KIND, "text": message})
    return Episode(hot.sku, hot.day, None, figures)


def _close(conn: Any, episode: Episode, day: date) -> None:
    conn.execute(
        update(_episodes)
        .where(_episodes.c.sku == episode.sku, _episodes.c.started_on == episode.started_on)
        .values(ended_on=day)
    )
