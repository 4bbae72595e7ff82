"""Reports: the daily figures per channel, and the after-sales figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from service import daily
from service.after_sales_figures import after_sales_figures
from service.api.auth import ActorDep, StoreDep, needs
from service.daily import DayFigures

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/daily", openapi_extra=needs("reports.read"))
def daily_report(
    store: StoreDep, actor: ActorDep, since: date, until: date, tz: str = daily.DEFAULT_TZ
) -> list[DayFigures]:
    """Per channel and day (by payment, in `tz`): processing time paid → tracking uploaded
    (median, p90), wrong or missed shipments, the share that needed a person, queue depth."""
    return daily.daily_figures(store, actor, since, until, tz=tz)


@router.get("/after-sales", openapi_extra=needs("reports.read"))
def after_sales_report(store: StoreDep, actor: ActorDep) -> dict[str, Any]:
    """After-sales: median cycle time (request → refund or exchange, hours) per channel and
    day, return rates per SKU and per channel, the inspection failure rate."""
    return after_sales_figures(store, actor)
