"""The outbox sender: due notifications to a bot, within its limit, merged when they crowd.

    report = await send_due(store, connectors.wecom)     # one pass; the scheduler repeats it

One pass, under the lease ``outbox:<target>`` (one sender per bot at a time, in any process):
1. claims a dead sender left ``sending`` become ``unsure`` — never sent again;
2. the bot's budget is `per_minute` less the bot messages claimed in the last 60 s (counted
   in the database, so restarts and other processes share it);
3. due messages (pending, backoff passed) go most urgent first (alerts, then reminders, then
   the summary). When they fit the budget each goes alone; when more are due, the messages of
   one kind are merged into one bot message (split at the bot's byte limit), and what still
   does not fit waits for the next pass — nothing is dropped;
4. each bot message is claimed and committed *before* the call, and marked sent after it: a
   crash in between leaves it ``sending``, so it is never sent twice (step 1).
A passing failure (the bot busy or unreachable) is retried at once with backoff (tenacity),
then left pending with a growing `not_before`; a rate limit puts it back untouched; a timeout
may have landed, so it becomes ``unsure``; a refusal ``failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from engine.errors import ConnectorError, LeaseHeld, RateLimited, Rejected, Timeout, Unavailable
from engine.store import Store, leases
from engine.store import outbox as outbox_store
from engine.store.models import utcnow
from engine.store.outbox import Queued

log = logging.getLogger("orderhub.outbox")

Clock = Callable[[], datetime]

PER_MINUTE = 20  # the WeCom group bot's limit
TEXT_LIMIT = 2048  # bytes of a text message (WeCom)
MARKDOWN_LIMIT = 4096  # bytes of a markdown message (WeCom)
MAX_TRIES = 5  # passes that try a message before it is failed
TRIES_NOW = 3  # calls within one pass when the bot is busy or unreachable
BACKOFF_S = 30.0  # first wait before the next pass tries a failed message; doubles each time
BACKOFF_MAX_S = 1800.0
RATE_LIMITED_WAIT_S = 60.0
#: the sender's lease, renewed while a pass runs: a sender that died is replaced this soon
LEASE_TTL_S = 15.0
LABELS = {"low_stock": "purchase alerts", "hot_sku": "hot-SKU alerts", "pull": "pull warnings"}


class Bot(Protocol):
    """What the sender needs of a bot connector (`connectors.wecom.WecomConnector`)."""

    async def send(self, content: str, *, markdown: bool = False) -> None: ...


@dataclass
class SendReport:
    """What one pass did."""

    sent: int = 0  # outbox messages delivered
    bot_messages: int = 0  # bot messages they went out in
    waiting: int = 0  # due but left for a later pass (budget, backoff)
    failed: int = 0
    unsure: int = 0  # found mid-send from a dead sender, or timed out: not sent again
    busy: str | None = None  # another sender holds the lease: who
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Bundle:
    """One bot message: the outbox rows it carries and its text."""

    ids: list[int]
    kind: str
    text: str
    markdown: bool
    attempts: int = 0  # the most tries any of its messages has had


def lease_name(target: str) -> str:
    return f"outbox:{target}"


async def send_due(
    store: Store,
    bot: Bot,
    *,
    target: str = "wecom",
    holder: str = "orderhub sender",
    per_minute: int = PER_MINUTE,
    clock: Clock = utcnow,
    claim_first: bool = True,
) -> SendReport:
    """One pass of the sender (see the module docstring). `claim_first=False` is a test-only
    switch that commits the claim after the call instead of before it (a crash then sends
    the message again), to show what claiming first prevents."""
    report = SendReport()
    try:
        with leases.hold(store, lease_name(target), holder, ttl_s=LEASE_TTL_S, clock=clock):
            await _pass(store, bot, target, per_minute, clock, claim_first, report)
    except LeaseHeld as held:
        report.busy = held.holder
    return report


async def _pass(
    store: Store,
    bot: Bot,
    target: str,
    per_minute: int,
    clock: Clock,
    claim_first: bool,
    report: SendReport,
) -> None:
    with store.engine.begin() as conn:
        report.unsure += outbox_store.orphans_unsure(conn, target)
        now = clock()
        used = outbox_store.bundles_since(conn, target, now - timedelta(seconds=60))
        queued = outbox_store.due(conn, target, now)
    budget = max(0, per_minute - used)
    bundles = plan(queued, budget)
    report.waiting = len(queued) - sum(len(b.ids) for b in bundles)
    for n, bundle in enumerate(bundles):
        if not await _send_one(store, bot, bundle, report, clock, claim_first):
            report.waiting += sum(len(b.ids) for b in bundles[n + 1 :])
            break


def plan(queued: list[Queued], budget: int) -> list[Bundle]:
    """The bot messages to send now: each message alone when all fit `budget`, else merged
    per kind (most urgent kind first), at most `budget` of them."""
    if budget <= 0 or not queued:
        return []
    if len(queued) <= budget:
        return [_alone(q) for q in queued]
    groups: dict[tuple[str, bool], list[Queued]] = {}
    for q in queued:  # already most urgent first, then oldest
        groups.setdefault((q.kind, q.markdown), []).append(q)
    bundles = [b for (kind, md), items in groups.items() for b in _merged(kind, md, items)]
    return bundles[:budget]


async def _send_one(
    store: Store, bot: Bot, bundle: Bundle, report: SendReport, clock: Clock, claim_first: bool
) -> bool:
    """Claim, send, record one bot message; False when the pass should stop (rate limited)."""
    if claim_first:
        with store.engine.begin() as conn:
            key = outbox_store.claim(conn, bundle.ids, clock())
        if key is None:
            return True  # someone else took one of them: leave it to them
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            stop=stop_after_attempt(TRIES_NOW),
            wait=wait_random_exponential(multiplier=0.5, max=4.0),
            reraise=True,
        ):
            with attempt:
                await bot.send(bundle.text, markdown=bundle.markdown)
    except RateLimited:
        if claim_first:
            with store.engine.begin() as conn:
                outbox_store.put_back(conn, key, clock() + timedelta(seconds=RATE_LIMITED_WAIT_S))
        report.waiting += len(bundle.ids)
        return False
    except Timeout as exc:  # it may have landed: never again
        _end(store, bundle, key if claim_first else None, "unsure", str(exc), clock)
        report.unsure += len(bundle.ids)
        report.errors.append(str(exc))
        return True
    except Rejected as exc:
        _end(store, bundle, key if claim_first else None, "failed", str(exc), clock)
        report.failed += len(bundle.ids)
        report.errors.append(str(exc))
        return True
    except ConnectorError as exc:  # unavailable after the tries of this pass
        if claim_first:
            tries = bundle.attempts + 1
            last = tries >= MAX_TRIES
            wait = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (tries - 1))
            with store.engine.begin() as conn:
                outbox_store.retry_later(
                    conn, key, str(exc), clock() + timedelta(seconds=wait), last
                )
            if last:
                report.failed += len(bundle.ids)
            else:
                report.waiting += len(bundle.ids)
        report.errors.append(str(exc))
        return True
    with store.engine.begin() as conn:
        if not claim_first:
            key = outbox_store.claim(conn, bundle.ids, clock())
        if key is not None:
            outbox_store.sent(conn, key, clock())
    report.sent += len(bundle.ids)
    report.bot_messages += 1
    return True


def _end(
    store: Store, bundle: Bundle, key: str | None, status: str, error: str, clock: Clock
) -> None:
    with store.engine.begin() as conn:
        key = key or outbox_store.claim(conn, bundle.ids, clock())
        if key is not None:
            outbox_store.give_up(conn, key, status, error)


def _merged(kind: str, markdown: bool, items: list[Queued]) -> list[Bundle]:
    """One kind's messages as few bot messages as the byte limit allows (none dropped)."""
    limit = MARKDOWN_LIMIT if markdown else TEXT_LIMIT
    if len(items) == 1:
        return [_alone(items[0])]
    label = LABELS.get(kind, f"{kind} messages")
    bullet = "- " if markdown else "• "
    chunks: list[list[tuple[Queued, str]]] = [[]]
    for q in items:
        line = bullet + _fit(q.text, markdown, limit // 2)
        lines = [x for _, x in chunks[-1]]
        if lines and len("\n".join([*lines, line]).encode()) + 64 > limit:  # 64: the heading
            chunks.append([])
        chunks[-1].append((q, line))
    bundles = []
    for n, chunk in enumerate(chunks, 1):
        part = f" ({n}/{len(chunks)})" if len(chunks) > 1 else ""
        head = f"orderhub: {len(chunk)} {label}{part}"
        text = "\n".join([f"**{head}**" if markdown else head, *(x for _, x in chunk)])
        tries = max(q.attempts for q, _ in chunk)
        bundles.append(Bundle([q.id for q, _ in chunk], kind, text, markdown, tries))
    return bundles


def _alone(q: Queued) -> Bundle:
    return Bundle([q.id], q.kind, _fit(q.text, q.markdown), q.markdown, q.attempts)


def _fit(text: str, markdown: bool, limit: int | None = None) -> str:
    """`text` cut to the bot's byte limit (with an ellipsis) rather than refused."""
    limit = limit or (MARKDOWN_LIMIT if markdown else TEXT_LIMIT)
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


async def drain_outbox(store: Store, connectors: object) -> int:
    """One pass of the sender to the WeCom bot of `connectors`; how many messages went out
    (0 when another sender holds the lease: it sends them)."""
    report = await send_due(store, connectors.wecom)
    return report.sent
