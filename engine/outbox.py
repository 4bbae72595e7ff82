"""Sending what the outbox holds: messages written with the events that caused them."""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import ConnectorError, RateLimited
from engine.store import Store
from engine.store.models import OutboxMessage, utcnow

MAX_ATTEMPTS = 5


async def drain_outbox(store: Store, connectors: object, limit: int = 100) -> int:
    """Send pending messages, oldest first; stop at a rate limit. Returns how many were sent."""
    sent = 0
    with store.session() as session:
        pending = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        session.commit()
        for message in pending:
            try:
                await _send(connectors, message)
            except RateLimited:
                break  # the bot takes 20 a minute: the rest waits for the next drain
            except ConnectorError as exc:
                message.attempts += 1
                message.error = str(exc)
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = "failed"
            else:
                message.status, message.sent_at = "sent", utcnow()
                sent += 1
            session.commit()
    return sent


async def _send(connectors: object, message: OutboxMessage) -> None:
    if message.target != "wecom":
        raise ConnectorError(message.target, "no such notification target")
    await connectors.wecom.send(message.payload["text"])
