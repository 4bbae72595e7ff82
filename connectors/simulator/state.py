"""The simulator's memory: orders per channel indexed by update time, records, faults, limits."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.simulator.aftersales_book import AfterSalesBook
from connectors.simulator.cipher import Vault
from connectors.simulator.faults import Fault, FaultBook, FaultPlan, Played, parse_plan
from connectors.simulator.outbound import OutboundBook
from connectors.simulator.stats import build_stats

CST = timezone(timedelta(hours=8))
SYSTEMS = ("youzan", "douyin", "h5", "erp", "sf", "zto", "wecom")
CHANNELS = ("youzan", "douyin", "h5")
CARRIERS = ("sf", "zto")
DECRYPTING = ("youzan", "douyin")
RECEIVER_VARIANTS = ("encrypted", "plain")
ZTO_DUPLICATE_VARIANTS = ("first_waybill", "refused", "new_waybill")
DELAY_KEY = "sim_answer_delay_s"

DEFAULT_CREDENTIALS: dict[str, dict[str, str]] = {
    "youzan": {
        "access_token": "sim-youzan-token",
        "client_id": "sim-youzan-client",
        "client_secret": "sim-youzan-client-secret",
    },
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
    "zto": {
        "app_key": "sim-zto-appkey",
        "app_secret": "sim-zto-secret",
        "account_id": "SIMZTO",
        "account_password": "ZTO123",
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
    never books one, as within a single scenario day. `zto_duplicate`: what ZTO answers to a
    repeated partnerOrderCode (its document does not say) — ``"first_waybill"`` (success with
    the first bill code), ``"refused"`` (a business refusal; the client then asks
    getOrderInfo) or ``"new_waybill"`` (a second waybill: the case the client must prevent
    by asking before it creates again). `live_minutes`: live mode (see `live`) — the day's
    order times are moved onto that many minutes from the simulator's start, the channels'
    list APIs show an order only once its update time has come, and `push_share` of the paid
    orders are pushed to ``{push_url}/{channel}`` (e.g. ``http://127.0.0.1:8000/hooks``) as
    they are paid; None: the whole day is there at once (batch).
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
    zto_duplicate: str = "first_waybill"
    live_minutes: float | None = None
    push_url: str | None = None
    push_share: float = 0.3

    def __post_init__(self) -> None:
        if self.receivers not in RECEIVER_VARIANTS:
            raise ValueError(
                f"receivers must be one of {RECEIVER_VARIANTS}, not {self.receivers!r}"
            )
        if self.zto_duplicate not in ZTO_DUPLICATE_VARIANTS:
            raise ValueError(
                f"zto_duplicate must be one of {ZTO_DUPLICATE_VARIANTS}, not {self.zto_duplicate!r}"
            )
        if self.live_minutes is not None and self.live_minutes <= 0:
            raise ValueError(f"live_minutes must be above 0, not {self.live_minutes!r}")
        if not 0 <= self.push_share <= 1:
            raise ValueError(f"push_share must be from 0 to 1, not {self.push_share!r}")


class ChannelStore:
    """One channel's orders (canonical dicts) with a sorted (updated epoch, order id) index.

    With `now` (live mode) a window never reaches past `now()`: orders updated later are not
    there yet."""

    def __init__(
        self,
        orders: list[dict[str, Any]],
        render: Callable[[dict], dict],
        now: Callable[[], float] | None = None,
    ) -> None:
        self.orders = {o["order_id"]: dict(o) for o in orders}
        self.index = sorted((epoch(o["updated_at"]), o["order_id"]) for o in orders)
        self.render = render
        self.now = now
        self._rendered: dict[str, dict] = {}

    def window(self, start: float, end: float) -> tuple[int, int]:
        """Index bounds of the orders with start <= updated < end (and updated <= now)."""
        if self.now is not None:
            end = min(end, int(self.now()) + 1)
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
        self.orders[order_id]["status"] = "shipped"
        self.touch(order_id, now)

    def touch(self, order_id: str, now: float) -> str:
        """Give the order the update time `now` (it moves in the index); return the old one."""
        order = self.orders[order_id]
        before = order["updated_at"]
        old = (epoch(before), order_id)
        pos = bisect.bisect_left(self.index, old)
        if pos < len(self.index) and self.index[pos] == old:
            del self.index[pos]
        order["updated_at"] = iso(int(now))
        bisect.insort(self.index, (epoch(order["updated_at"]), order_id))
        self._rendered.pop(order_id, None)
        return before


@dataclass
class SimState:
    """Everything the simulated systems remember between requests."""

    scenario: dict[str, Any]
    credentials: dict[str, dict[str, str]]
    options: SimOptions
    channels: dict[str, ChannelStore] = field(default_factory=dict)
    waybills: dict[str, dict] = field(default_factory=dict)
    zto_orders: dict[str, list[dict]] = field(default_factory=dict)
    waybill_log: list[dict] = field(default_factory=list)
    uploads: list[dict] = field(default_factory=list)
    outbound: OutboundBook = field(default_factory=OutboundBook)
    after_sales: AfterSalesBook = field(default_factory=AfterSalesBook)
    messages: list[dict] = field(default_factory=list)
    moves: list[dict] = field(default_factory=list)
    pages: dict[str, tuple[Any, dict]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    faults: FaultBook = field(default_factory=FaultBook)
    initial_faults: FaultPlan = field(default_factory=FaultPlan)
    sessions: set[str] = field(default_factory=set)
    _bot_times: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _sf_times: deque = field(default_factory=deque)
    renderers: dict[str, Callable[[dict], dict]] = field(default_factory=dict)
    vault: Vault = field(default_factory=Vault)
    clock: Callable[[], float] = time.time
    waybill_seq: int = 0
    #: goods received into the ERP since the scenario loaded: (sku, warehouse) -> quantity
    receipts: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def reset(self) -> None:
        """Back to the scenario as loaded: orders unshipped, nothing recorded, the faults of
        the scenario (and of ``--faults``) armed again and their window clock restarted."""
        for ch in CHANNELS:
            orders = self.scenario.get("channels", {}).get(ch, [])
            render = _malformed(ch, self.renderers[ch], set(self.options.malformed))
            live = self.options.live_minutes is not None
            self.channels[ch] = ChannelStore(orders, render, self.now if live else None)
        for records in (self.waybills, self.zto_orders, self.pages):
            records.clear()
        for log in (self.waybill_log, self.uploads, self.messages, self.moves):
            log.clear()
        self.outbound.clear()
        self.after_sales.load(self.scenario)
        self.counters.clear()
        self.faults.restart()
        self.faults.arm(self.initial_faults)
        self.sessions.clear()
        self._bot_times.clear()
        self._sf_times.clear()
        self.waybill_seq = 0
        self.receipts.clear()

    def now(self) -> float:
        """The simulator's clock now (`clock` may be swapped, e.g. by a test)."""
        return self.clock()

    def stats(self, prefixes: list[str] | None = None) -> dict[str, Any]:
        """`/_sim/stats` (see `stats.build_stats`)."""
        return build_stats(self, prefixes or [])

    def record_upload(self, upload: dict) -> None:
        """Record a tracking upload ({"channel", "order_id", …}) stamped with the time it
        came (`at`, epoch s); with `erp_outbound_after_s` set, the ERP books the order out
        that many seconds later."""
        self.uploads.append({**upload, "at": self.clock()})
        after = self.options.erp_outbound_after_s
        if after is not None:
            order = self.channels[upload["channel"]].orders[upload["order_id"]]
            self.outbound.book(self.scenario, upload["channel"], order, self.clock() + after)

    def record_waybill(
        self, carrier: str, key: str, waybill_no: str, order_ref: str, **extra: Any
    ) -> dict:
        """Log a waybill a carrier made (for the once-only counters); return the record.

        `order_ref` is the ``channel:order_id`` the client wrote on the waybill (its remark),
        else the key."""
        record = {
            "carrier": carrier,
            "key": key,
            "waybill_no": waybill_no,
            "order_ref": order_ref or key,
            "at": self.clock(),
            **extra,
        }
        self.waybill_log.append(record)
        return record

    def on_hand(self) -> list[dict]:
        """The ERP's on-hand rows now: the scenario's, less the outbound bills booked, plus
        the goods received (`receive`)."""
        rows = self.outbound.on_hand(self.scenario["inventory"], self.clock())
        if not self.receipts:
            return rows
        known = {(r["sku"], r["warehouse"]) for r in rows}
        more = [
            {"sku": sku, "warehouse": wh, "on_hand": 0}
            for sku, wh in self.receipts
            if (sku, wh) not in known
        ]
        return [
            {**r, "on_hand": r["on_hand"] + self.receipts.get((r["sku"], r["warehouse"]), 0)}
            for r in [*rows, *more]
        ]

    def receive(self, sku: str, warehouse: str, qty: int) -> None:
        """A purchase arrives: the ERP's on-hand of SKU@warehouse rises by `qty`."""
        self.receipts[(sku, warehouse)] += qty

    def counters_for(self, prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in self.counters.items() if k.startswith(prefix)}

    def add_fault(self, system: str, mode: str, count: int, call: str | None = None) -> None:
        """Make the next `count` calls of `system` (only its `call` kind, if given) fail."""
        self.faults.arm(FaultPlan(faults=[Fault(system=system, mode=mode, count=count, call=call)]))

    def take_fault(self, system: str, request: Any, call: str | None = None) -> Played | None:
        """Count one call of `system` (of kind `call`); return the failure to answer with.

        Latency and a ``timeout`` are not returned: the call is processed (it lands) and
        its answer is held back (see `DelayAnswers`), as when a slow gateway loses the
        reply.
        """
        self.counters["req_" + system] += 1
        if call:
            self.counters[f"call_{system}:{call}"] += 1
        played = self.faults.play(system, call)
        if played.delay_s:
            self.counters["delayed_" + system] += 1
            self.counters["delay_ms_" + system] += round(played.delay_s * 1000)
            scope_state = request.scope.setdefault("state", {})
            scope_state[DELAY_KEY] = scope_state.get(DELAY_KEY, 0.0) + played.delay_s
        if played.mode in (None, "timeout"):
            return None
        return played

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
    faults: FaultPlan | None = None,
) -> SimState:
    """Fresh state for a scenario: every channel's orders indexed, nothing recorded yet,
    the scenario's `faults` and then `faults` armed.

    `vault` holds the receiver ciphertexts the `renderers` seal (a new one when None).
    """
    creds = {s: dict(DEFAULT_CREDENTIALS[s]) for s in SYSTEMS}
    for system, values in (credentials or {}).items():
        creds.setdefault(system, {}).update(values)
    options = options or SimOptions()
    if scenario.get("after_sales") and options.erp_outbound_after_s is None:
        options.erp_outbound_after_s = 0.0  # packed orders are booked out (their serials)
    initial = parse_plan(scenario.get("faults"), "the scenario's faults")
    if faults is not None:
        initial = FaultPlan(
            seed=faults.seed if faults.seed is not None else initial.seed,
            faults=[*initial.faults, *faults.faults],
        )
    state = SimState(
        scenario=scenario,
        credentials=creds,
        options=options,
        renderers=renderers,
        vault=vault or Vault(),
        faults=FaultBook(time.time, timeout_hold_s=options.timeout_sleep_s),
        initial_faults=initial,
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
