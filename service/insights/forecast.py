"""Tomorrow's outbound: orders to pack per warehouse and hour band, and the packers for them.

Outbound is counted as paid orders that were not refunded before shipping, by the
warehouse that packs them and the local hour they were paid (the work arriving at the
packing tables). For each warehouse, a **Poisson regression of daily orders on the day of
the week, promotion days and a trend** (statsmodels' GLM) is fitted on the `TRAIN_DAYS`
days (at least `MIN_TRAIN_DAYS`) before the day forecast; promotions (past and planned) are
known events. The day's forecast is split into hour bands by the shares those bands had on
the training days (promotion days have their own shares, their evenings are busier), and
each band gets
``ceil(orders / (packer_orders_per_hour × hours))`` packers.

statsmodels, not statsforecast or Prophet: statsforecast 2.x pulls pandas, pyarrow (170 MB)
and statsmodels itself; a GLM takes promotions as a regressor, fits in milliseconds (so the
backtest can refit for every day) and needs no JIT warm-up on a busy CI machine.

The model is checked before it is used: a **backtest** refits it for each of the last
`BACKTEST_DAYS` days on the days before, forecasts that day's bands, and compares its error
(WAPE: absolute errors over actual orders) with the **seasonal naive** forecast (the same
weekday a week earlier). If the model does not beat it, the forecast shown is the seasonal
naive one, and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.errors import InputError
from engine.store import Store
from engine.store.insight_models import InsightOrder
from service.access import Actor, require
from service.insights.common import current, today_local
from service.insights.inputs import Promotion
from service.insights.params import InsightParams, insight_params

BANDS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 24))
TRAIN_DAYS = 56
MIN_TRAIN_DAYS = 21
BACKTEST_DAYS = 28
MODEL = "poisson-glm"
NAIVE = "seasonal-naive"
UNASSIGNED = "unassigned"
_facts = InsightOrder.__table__


@dataclass(frozen=True)
class Band:
    hours: str  # "08-12"
    orders: float
    packers: int


@dataclass(frozen=True)
class WarehouseForecast:
    warehouse: str
    orders: float
    bands: list[Band]


@dataclass(frozen=True)
class Backtest:
    days: int
    model_wape: float | None
    naive_wape: float | None

    @property
    def model_wins(self) -> bool:
        return (
            self.model_wape is not None
            and self.naive_wape is not None
            and self.model_wape < self.naive_wape
        )


@dataclass(frozen=True)
class ForecastReport:
    day: date
    promotion: str | None
    method: str  # MODEL, or NAIVE when the model lost its backtest
    note: str
    backtest: Backtest
    packer_orders_per_hour: float
    warehouses: list[WarehouseForecast] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "promotion": self.promotion,
            "method": self.method,
            "note": self.note,
            "backtest": {
                "days": self.backtest.days,
                "model_wape": self.backtest.model_wape,
                "seasonal_naive_wape": self.backtest.naive_wape,
            },
            "packer_orders_per_hour": self.packer_orders_per_hour,
            "warehouses": [
                {
                    "warehouse": w.warehouse,
                    "orders": round(w.orders, 1),
                    "bands": [b.__dict__ for b in w.bands],
                }
                for w in self.warehouses
            ],
        }


def outbound_forecast(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    day: date | None = None,
    today: date | None = None,
    promotions: list[Promotion] | None = None,
    params: InsightParams | None = None,
) -> ForecastReport:
    """The forecast for `day` (default: tomorrow) from the complete days before today."""
    require(actor, "insights.read")
    params = params or insight_params(store)
    today = today or today_local()
    day = day or today + timedelta(days=1)
    last = min(today, day) - timedelta(days=1)  # the last complete day with data
    if day <= last:
        raise InputError(f"{day} is not in the future; forecast a day after {last}")
    current(store, key)
    promo_days = {p.day: p.name for p in promotions or []}
    counts = _counts(store, last - timedelta(days=TRAIN_DAYS + BACKTEST_DAYS + 7), last)
    if not counts:
        raise InputError(f"no paid orders in the {TRAIN_DAYS} days to {last}: nothing to learn")
    test = _backtest(counts, last, promo_days)
    method = MODEL if test.model_wins else NAIVE
    if method == MODEL:
        note = (
            f"Poisson GLM; backtest over {test.days} days: WAPE {test.model_wape:.1%} against "
            f"{test.naive_wape:.1%} for the same weekday last week"
        )
    else:
        note = (
            "the model did not beat the same weekday last week in its backtest "
            f"(WAPE {_pct(test.model_wape)} against {_pct(test.naive_wape)}): showing the "
            "same weekday last week instead"
        )
    rate = float(params.packer_orders_per_hour)
    warehouses = []
    for warehouse in sorted(counts):
        per_day = counts[warehouse]
        if method == MODEL:
            bands = _model_bands(per_day, day, last, promo_days)
        else:
            bands = _naive_bands(per_day, day)
        warehouses.append(
            WarehouseForecast(
                warehouse,
                sum(bands),
                [
                    Band(f"{lo:02d}-{hi:02d}", round(n, 1), math.ceil(n / (rate * (hi - lo))))
                    for (lo, hi), n in zip(BANDS, bands, strict=True)
                ],
            )
        )
    return ForecastReport(day, promo_days.get(day), method, note, test, rate, warehouses)


def _counts(store: Store, since: date, until: date) -> dict[str, dict[date, list[int]]]:
    """warehouse -> day -> orders per hour band, for the days in [since, until]."""
    f = _facts.c
    query = (
        select(f.warehouse, f.paid_day, f.paid_hour, func.count())
        .where(f.paid_day.between(since, until), f.cancelled.is_(False))
        .group_by(f.warehouse, f.paid_day, f.paid_hour)
    )
    band_of = [next(i for i, (lo, hi) in enumerate(BANDS) if lo <= h < hi) for h in range(24)]
    out: dict[str, dict[date, list[int]]] = {}
    with store.engine.connect() as conn:
        for warehouse, day, hour, n in conn.execute(query):
            per_day = out.setdefault(warehouse or UNASSIGNED, {})
            bands = per_day.setdefault(day, [0] * len(BANDS))
            bands[band_of[hour or 0]] += int(n)
    for per_day in out.values():  # days without an order are zero days, not missing ones
        d = min(per_day)
        while d <= until:
            per_day.setdefault(d, [0] * len(BANDS))
            d += timedelta(days=1)
    return out


def _backtest(
    counts: dict[str, dict[date, list[int]]], last: date, promo_days: dict[date, str]
) -> Backtest:
    model_err = naive_err = actual = 0.0
    days = 0
    for back in range(BACKTEST_DAYS - 1, -1, -1):
        target = last - timedelta(days=back)
        history_end = target - timedelta(days=1)
        for per_day in counts.values():
            if target - timedelta(days=MIN_TRAIN_DAYS) not in per_day:
                break
            truth = per_day[target]
            model = _model_bands(per_day, target, history_end, promo_days)
            naive = _naive_bands(per_day, target)
            model_err += sum(abs(m - t) for m, t in zip(model, truth, strict=True))
            naive_err += sum(abs(n - t) for n, t in zip(naive, truth, strict=True))
            actual += sum(truth)
        else:
            days += 1
    if not days or not actual:
        return Backtest(0, None, None)
    return Backtest(days, round(model_err / actual, 4), round(naive_err / actual, 4))


def _model_bands(
    per_day: dict[date, list[int]], target: date, last: date, promo_days: dict[date, str]
) -> list[float]:
    """The GLM's daily forecast for `target` from the TRAIN_DAYS days up to `last`, in bands."""
    import numpy as np
    import statsmodels.api as sm

    days = [last - timedelta(days=back) for back in range(TRAIN_DAYS - 1, -1, -1)]
    days = [d for d in days if d in per_day]
    y = np.array([sum(per_day[d]) for d in days], dtype=float)
    with_promo = any(d in promo_days for d in days)
    x = np.array([_design(d, last, promo_days, with_promo) for d in days])
    try:
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        total = float(fit.predict(np.array([_design(target, last, promo_days, with_promo)]))[0])
    except (ValueError, np.linalg.LinAlgError):
        return _naive_bands(per_day, target)
    shares = _shares(per_day, days, target in promo_days, promo_days)
    return [total * s for s in shares]


def _design(d: date, last: date, promo_days: dict[date, str], with_promo: bool) -> list[float]:
    row = [1.0] + [1.0 if d.weekday() == w else 0.0 for w in range(1, 7)]
    if with_promo:
        row.append(1.0 if d in promo_days else 0.0)
    row.append((d - last).days / TRAIN_DAYS)  # trend
    return row


def _shares(
    per_day: dict[date, list[int]], days: list[date], promo: bool, promo_days: dict[date, str]
) -> list[float]:
    """Each band's share of a day's orders on the training days like the target."""
    alike = [d for d in days if (d in promo_days) == promo] or days
    totals = [sum(per_day[d][i] for d in alike) for i in range(len(BANDS))]
    whole = sum(totals)
    return [t / whole for t in totals] if whole else [1 / len(BANDS)] * len(BANDS)


def _naive_bands(per_day: dict[date, list[int]], target: date) -> list[float]:
    """The same weekday a week earlier (a week earlier again while that is in the future)."""
    week = target - timedelta(days=7)
    while week not in per_day and week > min(per_day):
        week -= timedelta(days=7)
    return [float(n) for n in per_day.get(week, [0] * len(BANDS))]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
