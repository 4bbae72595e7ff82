"""The page faults of a channel's order listing: a page served twice, an order that moves.

Each channel's list handler describes its page as bounds in its `ChannelStore` index —
``(lo, hi)`` the window, ``[first, top)`` the page asked for — and renders the answer from
them; `serve_page` plays the page faults around that:

- ``page_twice``: the answer is the previous page served for the same window, again (it
  plays only when there is one);
- ``order_moves``: before the page is read, one order of the window on another page gets
  the simulator's now as its update time, so it moves while the window is read: the
  window's first order when the page asked for is not the first page (an order already
  read by a client paging forwards, whose leaving shifts an unread order into a read
  page), else the first order after the page. Every move is logged (`/_sim/log?kind=moves`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.simulator.state import SimState, iso

Bounds = tuple[int, int, int, int]


def serve_page(
    state: SimState,
    channel: str,
    window: Any,
    bounds: Callable[[], Bounds],
    render: Callable[[Bounds], dict],
) -> dict:
    """The page answer for `window` (any hashable naming the query but its page), after the
    page faults armed for `channel` have played."""
    store = state.channels[channel]
    previous = state.pages.get(channel)
    applicable = set()
    if previous is not None and previous[0] == window:
        applicable.add("page_twice")
    place = bounds()
    victim = _victim(place)
    if victim is not None:
        applicable.add("order_moves")
    played = state.faults.play_page(channel, applicable) if applicable else None
    if played == "page_twice" and previous is not None:
        state.counters[f"page_twice_{channel}"] += 1
        return previous[1]
    if played == "order_moves" and victim is not None:
        order_id = store.index[victim][1]
        before = store.touch(order_id, state.clock())
        state.counters[f"order_moves_{channel}"] += 1
        state.moves.append(
            {"channel": channel, "order_id": order_id, "from": before,
             "to": iso(int(state.clock()))}
        )  # fmt: skip
        place = bounds()
    body = render(place)
    state.pages[channel] = (window, body)
    return body


def _victim(place: Bounds) -> int | None:
    """The index of the order to move: the window's first when the page is not the first
    page, else the first after the page; None when the window is that one page."""
    lo, hi, first, top = place
    if lo < first <= hi:
        return lo
    if top < hi:
        return top
    return None
