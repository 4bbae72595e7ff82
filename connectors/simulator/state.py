"""The simulator's memory: orders per channel indexed by update time, records, faults, limits."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.simulator.cipher import Vault
from connectors.simulator.outbound import OutboundBook

CST = timezone(timedelta(hours=8))
SYSTEMS = ("youzan", "douyin", "h5", "erp", "sf", "wecom")
CHANNELS = ("youzan", "douyin", "h5")
DECRYPTING = ("youzan", "douyin")
FAULT_MODES = ("error", "timeout", "rate_limit", "down")
FAULT_CALLS = ("decrypt", "outbound")
RECEIVER_VARIANTS = ("encrypted", "plain")
DELAY_KEY = "sim_answer_delay_s"

DEFAULT_CREDENTIALS: dict[str, dict[str, str]] = {
    "youzan": {"access_token": "sim-youzan-token"},
    "douyin": {
        "app_key": "sim-douyin-app",
        "app_secret": "sim-douyin-secret",
        "access_token": "sim-douyin-token",
    },
    "h5": {"api_key": "sim-h5-key", "webhook_secret": "sim-h5-webhook-secret"},
    "erp": {"acct": "sim-acct", "user": "sim-user", "password": "sim-erp-password"},
    "sf": {
        "partner_id": "SIMPARTNER",
        "check_word": "sim-sf-checkword",
        "monthly_card": "7551234567",
    },
    "wecom": {"key": "sim-wecom-key"},
}


@dataclass
class SimOptions:
    """Switches for the documented variants and limits of the platforms.

    `sf_duplicate`: what SF answers to a repeated orderId — ``"error_8016"`` (error 8016
    duplicated order; the client then queries EXP_RECE_SEARCH_ORDER_RESP) or
    ``"first_waybill"`` (success with the first waybill again). `sf_rate_limit_per_s`: SF's
    test-environment limit (A1005) when set, e.g. 30. `wecom_per_minute`: messages per
    minute per bot key (errcode 45009). `timeout_sleep_s`: how long a ``timeout`` fault
    holds back the answer (the call still lands); set it past the client's timeout.
    `receivers`: how Youzan and Douyin hand out receiver name, phone and address —
    ``"encrypted"`` (ciphertexts to open with the platform's decrypt API, as today's
    platforms do) or ``"plain"`` (the older plain fields). `erp_outbound_after_s`: when set,
    every tracking upload books a sales outbound bill in the ERP that many seconds later
    (simulator clock; 0 = at once), lowering its on-hand (see `outbound`); None: the ERP
    never books one, as within a single scenario day.
    """

    sf_duplicate: str = "error_8016"
    sf_rate_limit_per_s: int | None = None
    wecom_per_minute: int | None = 20
    max_window_s: int = 86400
    max_page_size: int = 100
    timeout_sleep_s: float = 6.0
    malformed: list[str] = field(default_factory=list)
    sf_undeliverable: list[str] = field(default_factory=list)
    decrypt_refused: list[str] = field(default_factory=list)
    receivers: str = "encrypted"
    erp_outbound_after_s: float | None = None

    def __post_init__(self) -> None:
        if self.receivers not in RECEIVER_VARIANTS:
            raise ValueError(
                f"receivers must be one of {RECEIVER_VARIANTS}, not {self.receivers!r}"
            )


class ChannelStore:
    """One channel's orders (canonical dicts) with a sorted (updated epoch, order id) index."""

    def __init__(self, orders: list[dict[str, Any]], render: Callable[[dict], dict]) -> None:
        self.orders = {o["order_id"]: dict(o) for o in orders}
        self.index = sorted((epoch(o["updated_at"]), o["order_id"]) for o in orders)
        self.render = render
        self._rendered: dict[str, dict] = {}

    def window(self, start: float, end: float) -> tuple[int, int]:
        """Index bounds of the orders with start <= updated < end."""
        lo = bisect.bisect_left(self.index, (start, ""))
        hi = bisect.bisect_left(self.index, (end, ""))
        return lo, hi

    def record(self, order_id: str) -> dict:
        """The platform-shaped record of one order (rendered once, until it changes)."""
        rec = self._rendered.get(order_id)
        if rec is None:
            rec = self._rendered[order_id] = self.render(self.orders[order_id])
        return rec

    def records(self, lo: int, hi: int) -> list[dict]:
        return [self.record(oid) for _, oid in self.index[lo:hi]]

    def ship(self, order_id: str, now: float) -> None:
        """Mark the order shipped and move it to `now` in the update-time index."""
        order = self.orders[order_id]
        old = (epoch(order["updated_at"]), order_id)
        pos = bisect.bisect_left(self.index, old)
        if pos < len(self.index) and self.index[pos] == old:
            del self.index[pos]
        order["status"] = "shipped"
        order["updated_at"] = iso(int(now))
        bisect.insort(self.index, (epoch(order["updated_at"]), order_id))
        self._rendered.pop(order_id, None)


@dataclass
class SimState:
    """Everything the simulated systems remember between requests."""

    scenario: dict[str, Any]
    credentials: dict[str, dict[str, str]]
    options: SimOptions
    channels: dict[str, ChannelStore] = field(default_factory=dict)
    waybills: dict[str, dict] = field(default_factory=dict)
    waybill_log: list[dict] = field(default_factory=list)
    uploads: list[dict] = field(default_factory=list)
    outbound: OutboundBook = field(default_factory=OutboundBook)
    messages: list[dict] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    faults: dict[str, list] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    _bot_times: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _sf_times: deque = field(default_factory=deque)
    renderers: dict[str, Callable[[dict], dict]] = field(default_factory=dict)
    vault: Vault = field(default_factory=Vault)
    clock: Callable[[], float] = time.time
    waybill_seq: int = 0

    def reset(self) -> None:
        """Back to the scenario as loaded: orders unshipped, nothing recorded, no faults."""
        for ch in CHANNELS:
            orders = self.scenario.get("channels", {}).get(ch, [])
            render = _malformed(ch, self.renderers[ch], set(self.options.malformed))
            self.channels[ch] = ChannelStore(orders, render)
        self.waybills.clear()
        self.waybill_log.clear()
        self.uploads.clear()
        self.outbound.clear()
        self.messages.clear()
        self.counters.clear()
        self.faults.clear()
        self.sessions.clear()
        self._bot_times.clear()
        self._sf_times.clear()
        self.waybill_seq = 0

    def stats(self) -> dict[str, Any]:
        per_channel = {ch: 0 for ch in CHANNELS}
        for up in self.uploads:
            per_channel[up["channel"]] += 1
        return {
            "waybills_created": len(self.waybills),
            "create_calls": self.counters["sf_create_calls"],
            "duplicate_refusals": self.counters["sf_duplicates"],
            "undeliverable": self.counters["sf_undeliverable"],
            "uploads": per_channel,
            "uploads_total": len(self.uploads),
            "uploaded_orders": len({(u["channel"], u["order_id"]) for u in self.uploads}),
            "bot_messages": len(self.messages),
            "decrypt_calls": {ch: self.counters[f"decrypt_calls_{ch}"] for ch in DECRYPTING},
            "decrypted": {ch: self.counters[f"decrypted_{ch}"] for ch in DECRYPTING},
            "trade_get_calls": self.counters["trade_get_youzan"],
            "requests": dict(self.counters_for("req_")),
        }

    def record_upload(self, upload: dict) -> None:
        """Record a tracking upload ({"channel", "order_id", …}); with
        `erp_outbound_after_s` set, the ERP books the order out that many seconds later."""
        self.uploads.append(upload)
        after = self.options.erp_outbound_after_s
        if after is not None:
            order = self.channels[upload["channel"]].orders[upload["order_id"]]
            self.outbound.book(self.scenario, upload["channel"], order, self.clock() + after)

    def on_hand(self) -> list[dict]:
        """The ERP's on-hand rows now: the scenario's, less the outbound bills booked."""
        return self.outbound.on_hand(self.scenario["inventory"], self.clock())

    def counters_for(self, prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in self.counters.items() if k.startswith(prefix)}

    def add_fault(self, system: str, mode: str, count: int, call: str | None = None) -> None:
        """Make the next `count` calls of `system` (only its `call` kind, if given) fail."""
        self.faults[f"{system}:{call}" if call else system] = [mode, count]

    def take_fault(self, system: str, request: Any, call: str | None = None) -> str | None:
        """Count one call of `system`; return the fault mode to play, if any.

        A fault set for the `call` kind (e.g. ``"decrypt"``) is played before one set
        for the whole system. A ``timeout`` fault is not returned: the call is processed
        (it lands) and its answer is held back `timeout_sleep_s` (see `DelayAnswers`), as
        when a slow gateway loses the reply.
        """
        self.counters["req_" + system] += 1
        key = f"{system}:{call}" if call and f"{system}:{call}" in self.faults else system
        fault = self.faults.get(key)
        if not fault:
            return None
        mode, count = fault
        if count <= 1:
            del self.faults[key]
        else:
            fault[1] = count - 1
        if mode == "timeout":
            request.scope.setdefault("state", {})[DELAY_KEY] = self.options.timeout_sleep_s
            return None
        return mode

    def allow_bot(self, key: str) -> bool:
        """Sliding one-minute window per bot key."""
        limit = self.options.wecom_per_minute
        return limit is None or _allow(self._bot_times[key], limit, 60.0, self.clock())

    def allow_sf(self) -> bool:
        limit = self.options.sf_rate_limit_per_s
        return limit is None or _allow(self._sf_times, limit, 1.0, self.clock())


def build_state(
    scenario: dict[str, Any],
    credentials: dict[str, dict[str, str]] | None,
    options: SimOptions | None,
    renderers: dict[str, Callable[[dict], dict]],
    vault: Vault | None = None,
) -> SimState:
    """Fresh state for a scenario: every channel's orders indexed, nothing recorded yet.

    `vault` holds the receiver ciphertexts the `renderers` seal (a new one when None).
    """
    creds = {s: dict(DEFAULT_CREDENTIALS[s]) for s in SYSTEMS}
    for system, values in (credentials or {}).items():
        creds.setdefault(system, {}).update(values)
    state = SimState(
        scenario=scenario,
        credentials=creds,
        options=options or SimOptions(),
        renderers=renderers,
        vault=vault or Vault(),
    )
    state.reset()
    return state


#: the field a malformed record of each channel lacks (a path into the platform's record)
MALFORMED_FIELD = {
    "youzan": ("full_order_info", "order_info", "created"),
    "douyin": ("create_time",),
    "h5": ("created_at",),
}


def _malformed(
    channel: str, render: Callable[[dict], dict], refs: set[str]
) -> Callable[[dict], dict]:
    """`render`, except that the orders named in `refs` lose a required field."""
    if not any(ref.startswith(f"{channel}:") for ref in refs):
        return render

    def rendered(order: dict) -> dict:
        record = render(order)
        if f"{channel}:{order['order_id']}" in refs:
            *path, last = MALFORMED_FIELD[channel]
            inner = record
            for key in path:
                inner = inner[key]
            inner.pop(last, None)
        return record

    return rendered


def epoch(value: str) -> int:
    """Epoch seconds of an ISO 8601 string."""
    return int(datetime.fromisoformat(value).timestamp())


def iso(ts: int) -> str:
    """ISO 8601 string in +08:00 of epoch seconds."""
    return datetime.fromtimestamp(ts, CST).isoformat()


def _allow(times: deque, limit: int, span: float, now: float) -> bool:
    while times and now - times[0] >= span:
        times.popleft()
    if len(times) >= limit:
        return False
    times.append(now)
    return True
