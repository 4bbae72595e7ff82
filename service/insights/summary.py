"""The insights' part of the morning WeCom summary: hot SKUs and tomorrow's outbound.

`summary_markdown` renders, as WeCom markdown (at most 4,096 bytes, the bot's limit), the
SKUs the hot-SKU rule holds for yesterday and the open episodes, then tomorrow's orders to
pack and packers per warehouse and hour band. The morning summary's sender calls it with
its own actor; it reads, and sends nothing itself.
"""

from __future__ import annotations

from datetime import date

from engine.errors import InputError
from engine.store import Store
from service.access import Actor
from service.insights.forecast import outbound_forecast
from service.insights.hot_skus import hot_skus
from service.insights.inputs import Promotion

WECOM_MARKDOWN_LIMIT = 4096


def summary_markdown(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    today: date | None = None,
    promotions: list[Promotion] | None = None,
) -> str:
    """Hot SKUs and tomorrow's outbound as one WeCom markdown text."""
    report = hot_skus(store, actor, key=key, today=today)
    lines = [f"### 爆品预警 Hot SKUs ({report.day.isoformat()})"]
    for hot in report.hot:
        growth = "/".join(f"+{g:.0f}%" for g in hot.growth_pct)
        lines.append(
            f"- **{hot.sku}**: {hot.sales[-1]} sold ({growth}), {hot.on_hand} on hand = "
            f'{hot.cover_days:.1f} days; reorder <font color="warning">{hot.reorder_qty}</font>'
        )
    flagged = {h.sku for h in report.hot}
    for episode in report.open_episodes:
        if episode.sku not in flagged:
            lines.append(f"- {episode.sku}: at risk since {episode.started_on.isoformat()}")
    if len(lines) == 1:
        lines.append("- none")
    try:
        forecast = outbound_forecast(store, actor, key=key, today=today, promotions=promotions)
    except InputError as exc:
        lines += ["", "### 明日出库 Tomorrow's outbound", f"- not forecast: {exc}"]
    else:
        promo = f", promotion: {forecast.promotion}" if forecast.promotion else ""
        lines += ["", f"### 明日出库 Tomorrow's outbound ({forecast.day.isoformat()}{promo})"]
        for w in forecast.warehouses:
            bands = " · ".join(f"{b.hours} {b.orders:.0f}/{b.packers}人" for b in w.bands)
            lines.append(f"- **{w.warehouse}**: {w.orders:.0f} orders ({bands})")
        lines.append(f"> {forecast.note}")
    text = "\n".join(lines)
    while len(text.encode("utf-8")) > WECOM_MARKDOWN_LIMIT:
        lines.pop(len(lines) // 2)
        text = "\n".join(lines)
    return text
