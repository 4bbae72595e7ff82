"""The outbox in the store: queue a notification, claim it for a bot message, mark the result.

A row's life: ``pending`` → ``sending`` (claimed under a `bundle` id, committed before the
call) → ``sent``. A passing failure puts it back to ``pending`` with a later `not_before`; a
refusal, or the last try, makes it ``failed``. A row still ``sending`` when the next sender
starts belonged to a sender that died mid-call: it becomes ``unsure`` and is never sent again
(a bot message has no idempotency key, so "at most once" is the only safe promise).

Every function takes a connection and leaves committing to the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from engine.store.models import OutboxMessage, utcnow

_outbox = OutboxMessage.__table__

#: lower goes first: alerts (breakers, purchase alerts, channels not pulled) before reminders
#: before the morning summary; a kind not named here is an alert
PRIORITY = {"reminder": 1, "summary": 2}
#: the states whose claims count against a bot's messages a minute
CLAIMED = ("sending", "sent", "unsure")


@dataclass(frozen=True)
class Queued:
    """A due message as the sender reads it."""

    id: int
    kind: str
    priority: int
    text: str
    markdown: bool
    attempts: int


def priority_of(kind: str) -> int:
    return PRIORITY.get(kind, 0)


def add(conn: Any, target: str, payload: dict[str, Any]) -> None:
    """Queue `payload` ({"kind", "text", "markdown"?}) for `target`, in the caller's transaction."""
    kind = str(payload.get("kind") or "message")
    conn.execute(
        insert(_outbox).values(
            target=target,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=utcnow(),
            kind=kind,
            priority=priority_of(kind),
        )
    )


def due(conn: Any, target: str, now: datetime, limit: int = 1000) -> list[Queued]:
    """Pending messages whose backoff has passed: most urgent first, then oldest."""
    rows = conn.execute(
        select(_outbox.c.id, _outbox.c.kind, _outbox.c.priority, _outbox.c.payload)
        .add_columns(_outbox.c.attempts)
        .where(
            _outbox.c.target == target,
            _outbox.c.status == "pending",
            (_outbox.c.not_before.is_(None)) | (_outbox.c.not_before <= now),
        )
        .order_by(_outbox.c.priority, _outbox.c.id)
        .limit(limit)
    ).all()
    return [
        Queued(
            r.id,
            r.kind,
            r.priority,
            str(r.payload.get("text", "")),
            bool(r.payload.get("markdown")),
            r.attempts,
        )
        for r in rows
    ]


def bundles_since(conn: Any, target: str, since: datetime) -> int:
    """Bot messages claimed for `target` since `since` (sent, in flight or unsure)."""
    return conn.execute(
        select(func.count(func.distinct(_outbox.c.bundle))).where(
            _outbox.c.target == target,
            _outbox.c.claimed_at >= since,
            _outbox.c.status.in_(CLAIMED),
        )
    ).scalar_one()


def claim(conn: Any, ids: list[int], now: datetime) -> str | None:
    """Mark `ids` as being sent in one bot message; its bundle id, or None if one was taken."""
    bundle = uuid.uuid4().hex
    done = conn.execute(
        update(_outbox)
        .where(_outbox.c.id.in_(ids), _outbox.c.status == "pending")
        .values(status="sending", bundle=bundle, claimed_at=now)
    ).rowcount
    return bundle if done == len(ids) else None


def sent(conn: Any, bundle: str, now: datetime) -> None:
    conn.execute(
        update(_outbox).where(_outbox.c.bundle == bundle).values(status="sent", sent_at=now)
    )


def retry_later(conn: Any, bundle: str, error: str, not_before: datetime, last: bool) -> None:
    """Back to pending after a passing failure (one more try counted), or failed if `last`."""
    conn.execute(
        update(_outbox)
        .where(_outbox.c.bundle == bundle)
        .values(
            status="failed" if last else "pending",
            attempts=_outbox.c.attempts + 1,
            error=error,
            not_before=not_before,
            bundle=None if not last else _outbox.c.bundle,
            claimed_at=None if not last else _outbox.c.claimed_at,
        )
    )


def put_back(conn: Any, bundle: str, not_before: datetime) -> None:
    """Unclaim without counting a try (the bot said "too many": nothing was sent)."""
    conn.execute(
        update(_outbox)
        .where(_outbox.c.bundle == bundle)
        .values(status="pending", bundle=None, claimed_at=None, not_before=not_before)
    )


def give_up(conn: Any, bundle: str, status: str, error: str) -> None:
    """End the bundle's messages as `failed` (refused) or `unsure` (may have been sent)."""
    conn.execute(
        update(_outbox)
        .where(_outbox.c.bundle == bundle)
        .values(status=status, error=error, attempts=_outbox.c.attempts + 1)
    )


def orphans_unsure(conn: Any, target: str) -> int:
    """Claims left `sending` by a sender that died mid-call become `unsure`; how many."""
    return conn.execute(
        update(_outbox)
        .where(_outbox.c.target == target, _outbox.c.status == "sending")
        .values(status="unsure", error="the sender stopped while sending; not sent again")
    ).rowcount


def counts(conn: Any, now: datetime | None = None) -> dict[str, Any]:
    """Rows by status, the oldest pending one's age in seconds, bot messages in the last minute."""
    now = now or utcnow()
    by_status = dict(
        conn.execute(select(_outbox.c.status, func.count()).group_by(_outbox.c.status)).all()
    )
    oldest = conn.execute(
        select(func.min(_outbox.c.created_at)).where(_outbox.c.status == "pending")
    ).scalar_one()
    minute = conn.execute(
        select(func.count(func.distinct(_outbox.c.bundle))).where(
            _outbox.c.claimed_at >= now - timedelta(seconds=60),
            _outbox.c.status.in_(CLAIMED),
        )
    ).scalar_one()
    return {
        "by_status": by_status,
        "oldest_pending_s": (now - oldest).total_seconds() if oldest else None,
        "bot_messages_last_minute": minute,
    }
