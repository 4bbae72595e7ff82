"""`GET /_sim/stats`: the simulator's counters, shaped so a test can prove once-only effects.

waybills_created       waybills made by every carrier
create_calls, duplicate_refusals, undeliverable     SF's (as before the second carrier)
carriers               per carrier: created, create_calls, duplicate_refusals, and
                       keys_with_two (keys that got more than one waybill)
orders_with_two_waybills   orders (by the ref written on the waybill) holding more than
                       one waybill, whichever carriers made them
uploads, uploads_total, uploaded_orders, uploads_twice (per channel: orders uploaded
                       more than once), orders_uploaded_twice
bot_messages, bot_messages_by_prefix (for the prefixes asked: ?prefix=…)
decrypt_calls, decrypted, trade_get_calls
requests               per system; calls: per system and call kind
pages_repeated, orders_moved   page faults played, per channel
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.simulator.state import SimState

CHANNELS = ("youzan", "douyin", "h5")
DECRYPTING = ("youzan", "douyin")


def build_stats(state: SimState, prefixes: list[str]) -> dict[str, Any]:
    """Every counter of `state`; `prefixes` selects `bot_messages_by_prefix`."""
    per_channel = dict.fromkeys(CHANNELS, 0)
    per_order: Counter[tuple[str, str]] = Counter()
    for up in state.uploads:
        per_channel[up["channel"]] += 1
        per_order[(up["channel"], up["order_id"])] += 1
    twice = dict.fromkeys(CHANNELS, 0)
    for (channel, _), n in per_order.items():
        twice[channel] += n > 1
    waybills_per_order = Counter(record["order_ref"] for record in state.waybill_log)
    calls: dict[str, dict[str, int]] = {}
    for name, n in state.counters_for("call_").items():
        system, _, call = name.partition(":")
        calls.setdefault(system, {})[call] = n
    return {
        "waybills_created": len(state.waybill_log),
        "create_calls": state.counters["sf_create_calls"],
        "duplicate_refusals": state.counters["sf_duplicates"],
        "undeliverable": state.counters["sf_undeliverable"],
        "carriers": {carrier: _carrier(state, carrier) for carrier in ("sf", "zto")},
        "orders_with_two_waybills": sum(n > 1 for n in waybills_per_order.values()),
        "uploads": per_channel,
        "uploads_total": len(state.uploads),
        "uploaded_orders": len(per_order),
        "uploads_twice": twice,
        "orders_uploaded_twice": sum(twice.values()),
        "bot_messages": len(state.messages),
        "bot_messages_by_prefix": {
            prefix: sum(m["content"].startswith(prefix) for m in state.messages)
            for prefix in prefixes
        },
        "decrypt_calls": {ch: state.counters[f"decrypt_calls_{ch}"] for ch in DECRYPTING},
        "decrypted": {ch: state.counters[f"decrypted_{ch}"] for ch in DECRYPTING},
        "trade_get_calls": state.counters["trade_get_youzan"],
        "requests": dict(state.counters_for("req_")),
        "calls": calls,
        "delayed": state.counters_for("delayed_"),
        "delay_ms": state.counters_for("delay_ms_"),
        "pages_repeated": {ch: state.counters[f"page_twice_{ch}"] for ch in CHANNELS},
        "orders_moved": {ch: state.counters[f"order_moves_{ch}"] for ch in CHANNELS},
        "pushes": {ch: state.counters[f"pushes_{ch}"] for ch in CHANNELS},
        "live_pushes": {k: state.counters[f"live_pushes_{k}"] for k in ("acked", "unacked")},
    }


def _carrier(state: SimState, carrier: str) -> dict[str, int]:
    records = [r for r in state.waybill_log if r["carrier"] == carrier]
    per_key = Counter(r["key"] for r in records)
    return {
        "created": len(records),
        "create_calls": state.counters[f"{carrier}_create_calls"],
        "duplicate_refusals": state.counters[f"{carrier}_duplicates"],
        "keys_with_two": sum(n > 1 for n in per_key.values()),
    }
