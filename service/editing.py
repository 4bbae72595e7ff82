"""What the editor needs beyond the other use cases: node counts, a save preview, order search.

`node_counts` says, per node of a workflow, how many orders wait there now (runs standing
at it, open queue items it put there) and how many passed it today (China time).
`preview_save` is what a save would do, shown before it: the semantic and text diff against
the version the draft was edited from, the change someone else saved meanwhile, the
critical changes that need a confirmation, and the what-if replay on the last days' orders.
`order_figures` counts orders per day (China time), channel and status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from engine.errors import NotFound
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import OrderRow, QueueItem, RunRow, StepRow, utc
from service.access import Actor, require
from versions import store as vstore
from versions.diff import critical_changes, semantic_diff, text_diff
from versions.replay import ReplayReport, input_from_store, replay

CHINA = ZoneInfo("Asia/Shanghai")
REPLAY_DAYS = 7
_OPEN_RUN = ("pending", "running", "retry", "waiting")


@dataclass(frozen=True)
class NodeCount:
    waiting: int = 0
    passed_today: int = 0


@dataclass
class Preview:
    """What saving `text` on top of version `base` would do; nothing is written."""

    workflow_id: str
    base: int | None
    changes: list[str]
    text: str
    critical: list[str]
    latest: int | None  # the workflow's newest version number
    meanwhile: list[str] = field(default_factory=list)  # base → latest, when someone saved
    report: ReplayReport | None = None  # None: no active version to compare with

    @property
    def someone_saved(self) -> bool:
        return self.latest is not None and self.latest != self.base

    @property
    def needs_confirm(self) -> bool:
        return bool(self.critical) or bool(self.report and self.report.changed)


def node_counts(
    store: Store, actor: Actor, workflow_id: str, *, now: datetime | None = None
) -> dict[str, NodeCount]:
    """Per node id: orders waiting there now, and steps there since midnight China time."""
    require(actor, "versions.show")
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(CHINA).date(), time(), CHINA)
    with store.engine.connect() as conn:
        passed = dict(
            conn.execute(
                select(StepRow.node_id, func.count())
                .join(RunRow, RunRow.id == StepRow.run_id)
                .where(RunRow.workflow_id == workflow_id, StepRow.started_at >= utc(midnight))
                .group_by(StepRow.node_id)
            ).all()
        )
        standing = dict(
            conn.execute(
                select(RunRow.position, func.count())
                .where(RunRow.workflow_id == workflow_id, RunRow.status.in_(_OPEN_RUN))
                .group_by(RunRow.position)
            ).all()
        )
        queued = dict(
            conn.execute(
                select(StepRow.node_id, func.count(func.distinct(QueueItem.id)))
                .join(StepRow, StepRow.run_id == QueueItem.run_id)
                .join(RunRow, RunRow.id == QueueItem.run_id)
                .where(
                    QueueItem.status == "open",
                    RunRow.workflow_id == workflow_id,
                    StepRow.node_type == "exception_route",
                )
                .group_by(StepRow.node_id)
            ).all()
        )
    nodes = set(passed) | set(standing) | set(queued)
    return {
        n: NodeCount(standing.get(n, 0) + queued.get(n, 0), passed.get(n, 0))
        for n in nodes
        if n is not None
    }


async def preview_save(
    store: Store,
    actor: Actor,
    text: str,
    *,
    base: int | None,
    days: int = REPLAY_DAYS,
    now: datetime | None = None,
) -> Preview:
    """Validate `text` (a `ValidationError` lists its problems), diff it, replay it."""
    require(actor, "versions.replay")
    candidate = load_workflow("<draft>", text=text)
    versions = vstore.list_versions(store, candidate.id)
    latest = versions[-1] if versions else None
    changes: list[str] = []
    diff = ""
    critical: list[str] = []
    meanwhile: list[str] = []
    if base is not None:
        edited_from = vstore.get_version(store, candidate.id, base)
        old = edited_from.workflow()
        changed = semantic_diff(old, candidate)
        changes = [str(c) for c in changed]
        diff = text_diff(
            edited_from.text, text, f"{candidate.id}@v{base}", f"{candidate.id} (draft)"
        )
        if latest is not None and latest.number != base:
            meanwhile = [str(c) for c in semantic_diff(old, latest.workflow())]
    if latest is not None:
        critical = [str(c) for c in critical_changes(semantic_diff(latest.workflow(), candidate))]
    report = None
    try:
        active = vstore.get_version(store, candidate.id).workflow()
    except NotFound:
        active = None
    if active is not None:
        data = input_from_store(store, days, now or datetime.now(UTC))
        report = await replay(data, active, candidate)
    return Preview(
        candidate.id,
        base,
        changes,
        diff,
        critical,
        latest.number if latest else None,
        meanwhile,
        report,
    )


def order_figures(
    store: Store, actor: Actor, *, days: int = 7, now: datetime | None = None
) -> list[tuple[str, str, str, int]]:
    """(day in China time, channel, status, orders) for the last `days` days."""
    require(actor, "orders.list")
    since = utc((now or datetime.now(UTC)) - timedelta(days=days))
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(OrderRow.created_at, OrderRow.channel, OrderRow.status).where(
                OrderRow.created_at >= since
            )
        ).all()
    counts: dict[tuple[str, str, str], int] = {}
    for created, channel, status in rows:
        day = created.replace(tzinfo=UTC).astimezone(CHINA).date().isoformat()
        counts[(day, channel, status)] = counts.get((day, channel, status), 0) + 1
    return [(*k, n) for k, n in sorted(counts.items())]
