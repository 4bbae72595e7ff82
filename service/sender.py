"""Use cases: send the outbox to the team's WeCom bot, and say where the outbox stands.

`send_outbox(store, actor, systems)` is one pass of the sender (`engine.outbox.send_due`):
`orderhub outbox send` calls it once (or every few seconds with ``--every``), the scheduler
every few seconds as the scheduler. It needs `outbox.send` (admin, ops_manager, the
scheduler). Passes are not audited: they change no one's data, and the outbox rows record
what was sent, when, and in which bot message. The bot's limit is ``[wecom] per_minute``
(default 20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.wecom import WecomConnector
from engine.errors import SettingsError
from engine.outbox import PER_MINUTE, SendReport, send_due
from engine.store import Store, leases
from engine.store import outbox as outbox_store
from engine.store.models import utcnow
from service.access import Actor, require


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox at a glance."""

    pending: int
    sending: int
    sent: int
    failed: int
    unsure: int
    oldest_pending_s: float | None
    bot_messages_last_minute: int
    per_minute: int


async def send_outbox(
    store: Store,
    actor: Actor,
    systems: dict[str, dict[str, Any]],
    *,
    clock: Callable[[], datetime] = utcnow,
    claim_first: bool = True,
) -> SendReport:
    """One pass of the sender to the [wecom] bot in `systems` (see `engine.outbox`)."""
    require(actor, "outbox.send")
    config = systems.get("wecom")
    if not config:
        raise SettingsError("no [wecom] section in the settings; add one")
    bot = WecomConnector(config)
    try:
        return await send_due(
            store,
            bot,
            holder=leases.holder_name(str(actor)),
            per_minute=per_minute_of(config),
            clock=clock,
            claim_first=claim_first,
        )
    finally:
        await bot.aclose()


def outbox_status(
    store: Store, actor: Actor, systems: dict[str, dict[str, Any]] | None = None
) -> OutboxStatus:
    """Messages by state, the oldest pending one's age, the bot's last minute."""
    require(actor, "outbox.status")
    with store.engine.connect() as conn:
        counts = outbox_store.counts(conn)
    by = counts["by_status"]
    return OutboxStatus(
        pending=by.get("pending", 0),
        sending=by.get("sending", 0),
        sent=by.get("sent", 0),
        failed=by.get("failed", 0),
        unsure=by.get("unsure", 0),
        oldest_pending_s=counts["oldest_pending_s"],
        bot_messages_last_minute=counts["bot_messages_last_minute"],
        per_minute=per_minute_of((systems or {}).get("wecom") or {}),
    )


def status_line(status: OutboxStatus) -> str:
    """``outbox: 3 pending (oldest 12 s), 40 sent, 0 failed, 0 unsure; bot 5/20 this minute``"""
    oldest = (
        f" (oldest {status.oldest_pending_s:.0f} s)" if status.oldest_pending_s is not None else ""
    )
    sending = f", {status.sending} sending" if status.sending else ""
    return (
        f"outbox: {status.pending} pending{oldest}{sending}, {status.sent} sent, "
        f"{status.failed} failed, {status.unsure} unsure; bot "
        f"{status.bot_messages_last_minute}/{status.per_minute} this minute"
    )


def report_line(report: SendReport) -> str:
    """One line for a pass: what went out, what waits, what ended badly."""
    if report.busy:
        return f"outbox: another sender is at work ({report.busy}); it sends them"
    line = (
        f"outbox: sent {report.sent} in {report.bot_messages} bot messages, "
        f"{report.waiting} waiting"
    )
    if report.failed or report.unsure:
        line += f", {report.failed} failed, {report.unsure} unsure"
    if report.errors:
        line += f" (last error: {report.errors[-1]})"
    return line


def per_minute_of(config: dict[str, Any]) -> int:
    try:
        return int(config.get("per_minute", PER_MINUTE))
    except (TypeError, ValueError):
        raise SettingsError(
            f"[wecom] per_minute = {config.get('per_minute')!r} is not a number; set it to e.g. 20"
        ) from None
