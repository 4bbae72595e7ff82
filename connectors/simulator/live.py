"""Live mode: a generated day arriving over a few minutes, a share of it pushed as it comes.

`live_scenario(scenario, start, minutes)` moves every order's times (created, paid, updated)
from the scenario's day onto `minutes` minutes from `start`, keeping their order and spacing
(a day of 24 hours in, say, 5 minutes). The state then shows an order in the channels' list
APIs only once its update time has come (`state.ChannelStore`). `Pusher` sends the paid
orders picked by `pushed` — `push_share` of them, the same ones for the same scenario — as
the channel's signed "order paid" push (`pushes.message`) to ``{push_url}/{channel}`` when
their paid time comes, each delivery tried as `pushes.deliver` tries; a push nobody
acknowledges is left to the pull, as a platform gives up in the end.

`SimOptions(live_minutes=…, push_url=…, push_share=…)` turns it on (`app.create_app` moves
the times and runs the pusher in the app's lifespan): ``orderhub simulator --live MINUTES``,
or ``start_simulator(path, options=SimOptions(live_minutes=5, push_url=…))`` from Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.simulator import pushes
from connectors.simulator.state import CHANNELS, SimState, epoch, iso

DAY_SECONDS = 24 * 3600
TIME_FIELDS = ("created_at", "paid_at", "updated_at")
TICK_S = 0.5  # how often the pusher looks for orders whose paid time has come


def live_scenario(scenario: dict[str, Any], start: float, minutes: float) -> dict[str, Any]:
    """A copy of `scenario` whose day runs from `start` (epoch s) for `minutes` minutes."""
    day = epoch(scenario["window"]["start"])
    scale = minutes * 60 / DAY_SECONDS

    def moved(value: str) -> str:
        return iso(int(start + (epoch(value) - day) * scale))

    live = copy.deepcopy(scenario)
    for orders in live.get("channels", {}).values():
        for order in orders:
            for name in TIME_FIELDS:
                if order.get(name):
                    order[name] = moved(order[name])
    live["window"] = {"start": iso(int(start)), "end": iso(int(start + minutes * 60))}
    return live


def pushed(channel: str, order: dict[str, Any], share: float) -> bool:
    """Whether the channel pushes this order (paid ones only; the same ones every time)."""
    if order.get("status") != "paid" or not order.get("paid_at"):
        return False
    return zlib.crc32(f"{channel}:{order['order_id']}".encode()) % 1000 < share * 1000


class Pusher:
    """Pushes the picked orders of `state` to ``{url}/{channel}`` as their paid time comes."""

    def __init__(self, state: SimState, url: str, share: float) -> None:
        self.state = state
        self.url = url.rstrip("/")
        due = [
            (epoch(order["paid_at"]), channel, order["order_id"])
            for channel in CHANNELS
            for order in state.scenario.get("channels", {}).get(channel, [])
            if pushed(channel, order, share)
        ]
        self.due = sorted(due, reverse=True)  # the next one last: pop() takes it

    async def run(self) -> None:
        """Push until every picked order is pushed (cancel to stop earlier)."""
        sending: set[asyncio.Task] = set()
        async with httpx.AsyncClient(timeout=30) as client:
            try:
                while self.due or sending:
                    now = self.state.clock()
                    while self.due and self.due[-1][0] <= now:
                        _, channel, order_id = self.due.pop()
                        task = asyncio.create_task(self._push(client, channel, order_id))
                        sending.add(task)
                        task.add_done_callback(sending.discard)
                    await asyncio.sleep(TICK_S)
            finally:
                for task in list(sending):
                    task.cancel()

    async def _push(self, client: httpx.AsyncClient, channel: str, order_id: str) -> None:
        headers, body = pushes.message(self.state, channel, order_id)
        url = f"{self.url}/{channel}"
        done = await pushes.deliver(client, url, headers, body, pushes.ACKS[channel])
        self.state.counters[f"pushes_{channel}"] += 1
        self.state.counters["live_pushes_" + ("acked" if done["acked"] else "unacked")] += 1


def lifespan(state: SimState) -> Any:
    """The app's lifespan in live mode: the pusher runs while the server does."""

    @contextlib.asynccontextmanager
    async def running(_app: Any) -> AsyncIterator[None]:
        options = state.options
        task = None
        if options.push_url and options.push_share > 0:
            task = asyncio.create_task(Pusher(state, options.push_url, options.push_share).run())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return running
