"""The simulator's live mode: a generated day arriving over a few minutes (issue 10, item 9).

The day's times move onto the window; the channels' list APIs show an order only once its
time has come (the clock is the one thing swapped: `SimState.clock`); the twin shows that a
batch simulator shows the whole day at once, so the hiding is the live mode's doing. That
pushes reach a real service is shown by the live demo's test (tests/service/test_live_demo.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.simulator.app import create_app
from connectors.simulator.generator import generate_scenario
from connectors.simulator.live import Pusher, live_scenario, pushed
from connectors.simulator.state import CHANNELS, SimOptions, epoch

MINUTES = 5.0
H5_KEY = {"Authorization": "Bearer sim-h5-key"}


@pytest.fixture(scope="module")
def day() -> dict[str, Any]:
    return generate_scenario(200, 3)


def test_the_day_moves_onto_the_window_in_order(day: dict[str, Any]) -> None:
    start = 1_900_000_000.0
    live = live_scenario(day, start, MINUTES)
    end = start + MINUTES * 60
    for channel in CHANNELS:
        before, after = day["channels"][channel], live["channels"][channel]
        assert [o["order_id"] for o in before] == [o["order_id"] for o in after]
        for old, new in zip(before, after, strict=True):
            assert start <= epoch(new["created_at"]) <= epoch(new["updated_at"]) <= end + 1
            if old["paid_at"]:
                assert epoch(new["created_at"]) <= epoch(new["paid_at"]) <= end + 1
        created = [epoch(o["created_at"]) for o in after]
        assert created == sorted(created)  # the day's order kept
    assert day["channels"]["h5"][0]["created_at"].startswith("2026-01-10")  # a copy


async def _h5_ids(app: Any, clock: float, since: float) -> set[str]:
    """Every H5 order the list API shows at `clock`, updated from `since` on (two days)."""
    app.state.sim.clock = lambda: clock
    ids: set[str] = set()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        for day in (0, 1):
            start, end = since + day * 86400, since + (day + 1) * 86400
            window = {"updated_after": _iso(start), "updated_before": _iso(end), "limit": "100"}
            cursor = None
            while True:
                params = {**window, "cursor": cursor} if cursor else window
                page = (await client.get("/h5/api/orders", params=params, headers=H5_KEY)).json()
                ids |= {o["order_id"] for o in page["orders"]}
                cursor = page["next_cursor"]
                if not cursor:
                    break
    return ids


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


async def test_orders_show_once_their_time_has_come(day: dict[str, Any]) -> None:
    app = create_app(day, options=SimOptions(live_minutes=MINUTES))
    window = app.state.sim.scenario["window"]
    start, end = epoch(window["start"]), epoch(window["end"])
    everyone = {o["order_id"] for o in day["channels"]["h5"]}
    early = await _h5_ids(app, start + MINUTES * 60 / 4, start - 60)
    middle = await _h5_ids(app, start + MINUTES * 60 / 2, start - 60)
    late = await _h5_ids(app, end + 120, start - 60)
    assert early < middle < late == everyone
    updated = {
        o["order_id"]: epoch(o["updated_at"]) for o in app.state.sim.scenario["channels"]["h5"]
    }
    assert all(updated[i] <= start + MINUTES * 60 / 2 for i in middle)


async def test_twin_a_batch_simulator_shows_the_whole_day_at_once(day: dict[str, Any]) -> None:
    app = create_app(day)  # no live_minutes: the mechanism off
    start = epoch(day["window"]["start"])  # the day's first second: nothing has come yet
    assert await _h5_ids(app, start, start - 60) == {o["order_id"] for o in day["channels"]["h5"]}


def test_the_pushed_share_is_paid_orders_and_the_same_each_time(day: dict[str, Any]) -> None:
    orders = [(ch, o) for ch in CHANNELS for o in day["channels"][ch]]
    paid = [(ch, o) for ch, o in orders if o["status"] == "paid" and o["paid_at"]]
    picked = [(ch, o) for ch, o in orders if pushed(ch, o, 0.3)]
    assert set(map(id, (o for _, o in picked))) <= set(map(id, (o for _, o in paid)))
    assert 0.15 * len(paid) < len(picked) < 0.45 * len(paid)
    assert picked == [(ch, o) for ch, o in orders if pushed(ch, o, 0.3)]
    assert not any(pushed(ch, o, 0) for ch, o in orders)
    assert all(pushed(ch, o, 1) for ch, o in paid)


def test_the_pusher_sends_them_in_paid_order(day: dict[str, Any]) -> None:
    options = SimOptions(live_minutes=MINUTES, push_url="http://127.0.0.1:9/hooks")
    state = create_app(day, options=options).state.sim
    pusher = Pusher(state, "http://127.0.0.1:9/hooks", 0.3)
    due = list(reversed(pusher.due))
    assert due and [d[0] for d in due] == sorted(d[0] for d in due)
    paid = {
        (ch, o["order_id"]): epoch(o["paid_at"])
        for ch in CHANNELS
        for o in state.scenario["channels"][ch]
        if o["paid_at"]
    }
    assert all(paid[(ch, oid)] == when for when, ch, oid in due)


@pytest.mark.parametrize("minutes", [0, -1])
def test_live_minutes_must_be_above_zero(minutes: float) -> None:
    with pytest.raises(ValueError, match="live_minutes"):
        SimOptions(live_minutes=minutes)
