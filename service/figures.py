"""The figures `/metrics` exposes, read from the database at scrape time, so every process
(runner, scheduler, API) is counted alike and a restart loses nothing:

- runs by workflow, version, status and outcome,
- node latency by node type (steps, and the sum of their durations),
- queue depth by queue (open items),
- outbox backlog by target (messages not yet sent),
- alerts by kind.

Breakers are not kept in the database yet, so their state is not among them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from engine.store import Store
from engine.store.models import Alert, OutboxMessage, QueueItem, RunRow, StepRow
from service.access import Actor, require
from versions.models import VersionRow


@dataclass
class Figures:
    """Counts keyed by their labels."""

    runs: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    # (workflow, version, status, outcome) -> runs; version "v3" or "draft:<hash12>"
    node_steps: dict[str, tuple[int, float]] = field(default_factory=dict)
    # node type -> (steps timed, seconds in total)
    queue_depth: dict[str, int] = field(default_factory=dict)
    outbox_backlog: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)


def read_figures(store: Store, actor: Actor) -> Figures:
    require(actor, "metrics.read")
    figures = Figures()
    with store.engine.connect() as conn:
        numbers = {
            (wf, h): n
            for wf, h, n in conn.execute(
                select(
                    VersionRow.workflow_id, VersionRow.content_hash, func.max(VersionRow.number)
                ).group_by(VersionRow.workflow_id, VersionRow.content_hash)
            )
        }
        runs = conn.execute(
            select(
                RunRow.workflow_id, RunRow.version, RunRow.status, RunRow.outcome, func.count()
            ).group_by(RunRow.workflow_id, RunRow.version, RunRow.status, RunRow.outcome)
        )
        for wf, content, status, outcome, n in runs:
            number = numbers.get((wf, content))
            version = f"v{number}" if number is not None else f"draft:{content[:12]}"
            key = (wf, version, status, outcome or "")
            figures.runs[key] = figures.runs.get(key, 0) + n
        steps = conn.execute(
            select(StepRow.node_type, func.count(), func.sum(StepRow.duration_ms))
            .where(StepRow.duration_ms.is_not(None))
            .group_by(StepRow.node_type)
        )
        figures.node_steps = {t: (n, float(ms or 0) / 1000) for t, n, ms in steps}
        figures.queue_depth = dict(
            conn.execute(
                select(QueueItem.queue, func.count())
                .where(QueueItem.status == "open")
                .group_by(QueueItem.queue)
            ).all()
        )
        figures.outbox_backlog = dict(
            conn.execute(
                select(OutboxMessage.target, func.count())
                .where(OutboxMessage.status != "sent")
                .group_by(OutboxMessage.target)
            ).all()
        )
        figures.alerts = dict(
            conn.execute(select(Alert.kind, func.count()).group_by(Alert.kind)).all()
        )
    return figures
