"""The four insights on generated histories, on SQLite and PostgreSQL: what was planted is
found, exactly where the generator counted it, and nothing is found on a flat history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.store import Store
from engine.store.insight_models import HotSkuEpisode
from engine.store.models import Alert, OrderRow, OutboxMessage, RunRow
from service.access import Actor
from service.insights.channels import channel_health
from service.insights.customers import customer_groups
from service.insights.facts import customer_key
from service.insights.forecast import MODEL, outbound_forecast
from service.insights.hot_skus import check_hot_skus
from service.insights.inputs import read_promotions
from service.insights.summary import WECOM_MARKDOWN_LIMIT, summary_markdown
from tests.service.insights.conftest import DAYS, KEY, OPS, export_day, first_day, load

AUDITOR = Actor("zhao.min", "auditor")


def _count(store: Store, model: type, *where: Any) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _daily_checks(store: Store, history: dict[str, Any]) -> list[Any]:
    """Run the hot-SKU check every morning of the history, as the scheduler would."""
    opened = []
    day = first_day(history) + timedelta(days=1)
    while day <= export_day(history):
        opened += check_hot_skus(store, OPS, key=KEY, today=day)
        day += timedelta(days=1)
    return opened


def test_import_runs_nothing_and_the_funnel_is_the_generators(
    store: Store, planted: dict[str, Any]
) -> None:
    load(store, planted)
    expected = planted["expected"]
    assert _count(store, RunRow) == 0
    assert _count(store, OrderRow, OrderRow.status != "imported") == 0
    report = channel_health(store, AUDITOR, key=KEY, days=DAYS, today=export_day(planted))
    got = {row.channel: row.current.as_dict() for row in report.channels}
    for channel, funnel in expected["funnel"].items():
        mine = got[channel]
        assert {k: mine[k] for k in funnel} == funnel, channel
    week = channel_health(store, AUDITOR, key=KEY, days=7, today=export_day(planted))
    for row in week.channels:
        want = expected["funnel_last_7_days"][row.channel]
        assert {k: row.current.as_dict()[k] for k in want} == want
        assert row.previous.created > 0  # compared with the week before
    assert report.best_completion == "youzan"


def test_one_buyer_is_one_customer_across_channels_and_spellings(
    store: Store, planted: dict[str, Any]
) -> None:
    load(store, planted)
    report = customer_groups(store, AUDITOR, key=KEY, days=DAYS, today=export_day(planted))
    assert report.customers == planted["expected"]["customers"]
    assert customer_key("+86 138 0013 8000", KEY) == customer_key("13800138000", KEY)


def test_hot_sku_is_warned_three_days_ahead_once_per_episode(
    store: Store, planted: dict[str, Any]
) -> None:
    load(store, planted)
    hot = planted["expected"]["hot_sku"]
    opened = _daily_checks(store, planted)
    assert [e.sku for e in opened] == [hot["sku"]]  # no other SKU, and one alert, not one a day
    warned = opened[0].started_on
    assert date.fromisoformat(hot["sells_out_on"]) - warned >= timedelta(days=3)
    figures = opened[0].figures
    assert figures["cover_days"] < 7 and figures["reorder_qty"] > 0
    assert all(g > 20 for g in figures["growth_pct"])
    assert _count(store, Alert, Alert.kind == "hot_sku") == 1
    assert _count(store, OutboxMessage) == 1
    with store.engine.connect() as conn:
        episode = conn.execute(select(HotSkuEpisode)).one()
    assert episode.ended_on is not None  # closed when the reorder arrived
    assert check_hot_skus(store, OPS, key=KEY, today=export_day(planted)) == []  # again: none


def test_a_flat_history_is_never_warned(store: Store, flat: dict[str, Any]) -> None:
    load(store, flat)
    assert _daily_checks(store, flat) == []
    assert _count(store, OutboxMessage) == 0


def test_the_high_return_group_comes_out_as_one_group(
    store: Store, planted: dict[str, Any]
) -> None:
    load(store, planted)
    group = planted["expected"]["high_return_group"]
    members = {customer_key(phone, KEY) for phone in group["members"]}
    report = customer_groups(
        store, AUDITOR, key=KEY, days=DAYS, today=export_day(planted), members=10_000
    )
    found = max(report.groups, key=lambda g: len(members & {m.customer_key for m in g.members}))
    keys = {m.customer_key for m in found.members}
    assert len(members & keys) == len(members)  # every planted member in this one group
    assert len(members & keys) >= 0.9 * len(keys)  # and the group is (almost) only them
    assert abs(found.return_rate - group["return_rate"]) < 0.03
    assert f"{found.return_rate:.0%} returned" in found.name
    assert all("****" in m.phone for m in found.members)  # an auditor sees no phone


def test_the_forecast_beats_same_weekday_last_week(store: Store, planted: dict[str, Any]) -> None:
    load(store, planted)
    promotions = read_promotions(planted["files"]["promotions"])
    report = outbound_forecast(
        store, AUDITOR, key=KEY, today=export_day(planted), promotions=promotions
    )
    assert report.method == MODEL, report.note
    assert report.backtest.model_wape < report.backtest.naive_wape
    assert report.promotion  # tomorrow is the planned promotion
    assert {w.warehouse for w in report.warehouses} == {"east", "south"}
    for w in report.warehouses:
        assert sum(b.orders for b in w.bands) > 0
        assert all(b.packers >= (1 if b.orders else 0) for b in w.bands)
    text = summary_markdown(store, AUDITOR, key=KEY, today=export_day(planted))
    assert "Tomorrow's outbound" in text and len(text.encode()) <= WECOM_MARKDOWN_LIMIT
