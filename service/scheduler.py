"""`orderhub scheduler`: pulls, the outbox sender, pushes left over and the morning summary,
on time, in one process per database (APScheduler 3).

Jobs:
- ``pull:<workflow>:<n>`` for each schedule trigger (``every: 15m`` or ``cron: …``) of each
  workflow's *active* version: `service.running.run_workflow` as the scheduler, with the
  workflow's id, so each pull runs whatever version is active at that moment. A sync job
  (every ``sync_every_s``) adds, changes and removes these jobs as versions are activated or
  rolled back: no restart.
- ``sender`` every ``sender_every_s`` (`service.sender.send_outbox`), ``pushes`` every
  ``pushes_every_s`` (`service.push`: what a stopped API process left), ``summary`` at
  ``summary_at`` in ``timezone`` (08:30 Asia/Shanghai; `service.morning`).

Never beside itself: a job runs one instance at a time (APScheduler's ``max_instances=1``),
and a pull holds the workflow's runner lease ``run:<id>`` as every runner does, so it waits
for a pull of another process instead of running beside it. Missed runs are coalesced; jobs
live in APScheduler's SQLAlchemy job store in the same database (table ``apscheduler_jobs``),
so a pull missed while the process was down runs once at start.

One scheduler per database: it holds the lease ``scheduler`` (renewed from a thread). A
second one refuses to start, naming the holder — or, with ``standby``, waits and takes over
when the first dies and its lease expires (`LEASE_TTL_S`). A scheduler that finds its lease
taken over stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from fastapi import APIRouter
from sqlalchemy import select

from engine.errors import LeaseHeld, OrderhubError, SettingsError
from engine.store import Store, leases
from service.access import SCHEDULER
from service.morning import queue_morning_summary
from service.push import PushProcessor
from service.running import run_workflow
from service.sender import report_line, send_outbox
from versions.models import ActiveVersionRow
from versions.store import get_version

log = logging.getLogger("orderhub.scheduler")

LEASE = "scheduler"
LEASE_TTL_S = 30.0
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CURRENT: Scheduler | None = None  # the scheduler of this process, for the job functions


@dataclass(frozen=True)
class ScheduleSettings:
    """The ``[scheduler]`` section."""

    summary_at: str = "08:30"
    timezone: str = "Asia/Shanghai"
    sender_every_s: float = 5.0
    pushes_every_s: float = 5.0
    sync_every_s: float = 10.0


def schedule_settings(values: Mapping[str, Any]) -> ScheduleSettings:
    """`ScheduleSettings` from a ``[scheduler]`` section; `SettingsError` naming a bad key."""
    known = ScheduleSettings.__dataclass_fields__
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(
            f"[scheduler] {unknown[0]} is not a setting (known: {', '.join(known)})"
        )
    try:
        read = ScheduleSettings(
            **{k: type(getattr(ScheduleSettings, k))(v) for k, v in values.items()}
        )
        ZoneInfo(read.timezone)
        hour, minute = (int(x) for x in read.summary_at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ZoneInfoNotFoundError:
        raise SettingsError(
            f"[scheduler] timezone {values.get('timezone')!r} is unknown; e.g. Asia/Shanghai"
        ) from None
    except (TypeError, ValueError):
        raise SettingsError(
            "[scheduler] holds a value of the wrong kind; "
            'e.g. summary_at = "08:30", sender_every_s = 5'
        ) from None
    return read


def trigger_of(options: Mapping[str, Any], timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a workflow's schedule trigger (``every`` or ``cron``)."""
    if "every" in options:
        text = str(options["every"])
        return IntervalTrigger(seconds=int(text[:-1]) * UNITS[text[-1]], timezone=UTC)
    return CronTrigger.from_crontab(str(options["cron"]), timezone=ZoneInfo(timezone))


class Scheduler:
    """The one scheduler of a database (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        systems: dict[str, dict[str, Any]],
        settings: ScheduleSettings | None = None,
        *,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.systems = systems
        self.settings = settings or ScheduleSettings()
        self.holder = holder or leases.holder_name("scheduler")
        self.pushes = PushProcessor(systems)
        self._aps: AsyncIOScheduler | None = None

    async def run(
        self,
        stop: asyncio.Event,
        *,
        standby: bool = False,
        on_wait: Callable[[LeaseHeld], None] | None = None,
    ) -> None:
        """Schedule until `stop` is set (or the lease is taken over). Raises `LeaseHeld` when
        another scheduler holds the database, unless `standby` (then it waits for it)."""
        global _CURRENT
        if standby:
            lease = await leases.wait_for(
                self.store,
                LEASE,
                self.holder,
                wait_s=float("inf"),
                ttl_s=LEASE_TTL_S,
                on_wait=on_wait,
            )
        else:
            lease = leases.acquire(self.store, LEASE, self.holder, ttl_s=LEASE_TTL_S)
        with leases.kept(self.store, lease):
            _CURRENT = self
            self._aps = aps = AsyncIOScheduler(
                jobstores={"default": SQLAlchemyJobStore(engine=self.store.engine)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                timezone=UTC,
            )
            aps.start()
            try:
                self._fixed_jobs()
                self.sync()
                log.info("scheduler started: %s", ", ".join(sorted(j.id for j in aps.get_jobs())))
                while not stop.is_set() and not lease.lost:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                if lease.lost:
                    log.warning("another scheduler took this database over; stopping")
            finally:
                aps.shutdown(wait=False)
                _CURRENT = None
                await self.pushes.aclose()

    def sync(self) -> None:
        """Make the pull jobs those of the active versions' schedule triggers now."""
        aps = self._aps
        assert aps is not None
        wanted: dict[str, BaseTrigger] = {}
        with self.store.session() as session:
            workflow_ids = list(session.scalars(select(ActiveVersionRow.workflow_id)))
        for wf_id in workflow_ids:
            try:
                triggers = get_version(self.store, wf_id).workflow().triggers
            except OrderhubError as exc:
                log.warning("%s: its active version cannot be scheduled: %s", wf_id, exc)
                continue
            schedules = [t for t in triggers if t.type == "schedule"]
            for n, trigger in enumerate(schedules, 1):
                wanted[f"pull:{wf_id}:{n}"] = trigger_of(trigger.options, self.settings.timezone)
        have = {job.id: job for job in aps.get_jobs() if job.id.startswith("pull:")}
        for job_id, job in have.items():
            if job_id not in wanted:
                job.remove()
        for job_id, trigger in wanted.items():
            job = have.get(job_id)
            if job is None:
                wf_id = job_id.split(":")[1]
                aps.add_job(scheduled_pull, trigger, args=[wf_id], id=job_id, name=job_id)
            elif str(job.trigger) != str(trigger):
                job.reschedule(trigger)

    def _fixed_jobs(self) -> None:
        aps, s = self._aps, self.settings
        assert aps is not None
        hour, minute = (int(x) for x in s.summary_at.split(":"))
        jobs: list[tuple[Callable[..., Any], BaseTrigger, str]] = [
            (sync_job, IntervalTrigger(seconds=s.sync_every_s, timezone=UTC), "sync"),
            (sender_job, IntervalTrigger(seconds=s.sender_every_s, timezone=UTC), "sender"),
            (pushes_job, IntervalTrigger(seconds=s.pushes_every_s, timezone=UTC), "pushes"),
            (
                summary_job,
                CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(s.timezone)),
                "summary",
            ),
        ]
        for func, trigger, job_id in jobs:
            aps.add_job(func, trigger, id=job_id, name=job_id, replace_existing=True)


def scheduler_router(
    store: Store, systems: dict[str, dict[str, Any]], settings: ScheduleSettings | None = None
) -> APIRouter:
    """A router with no routes whose lifespan runs the scheduler beside the API, in the
    server's event loop (``orderhub serve --with-scheduler``: one brand on one machine).
    When another scheduler holds the database, the server runs without one and says so."""
    scheduler = Scheduler(store, systems, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(stop))
        try:
            yield
        finally:
            stop.set()
            try:
                await task
            except LeaseHeld as held:
                log.warning("ran without a scheduler: %s", held)

    router = APIRouter(lifespan=lifespan)
    router.scheduler = scheduler  # type: ignore[attr-defined]
    return router


# -- the jobs: module functions, so APScheduler's job store can name them ------------------


async def scheduled_pull(workflow_id: str) -> None:
    """Pull and run the workflow's active version, as the scheduler."""
    me = _running()
    try:
        outcome = await run_workflow(me.store, SCHEDULER, workflow_id, systems=me.systems)
    except OrderhubError as exc:
        log.warning("scheduled pull of %s did not run: %s", workflow_id, exc)
        return
    summary = outcome.summary
    log.info(
        "pulled %s (%s): %d orders, %d changed, %d runs",
        workflow_id,
        outcome.version,
        summary.pulled,
        summary.changed,
        summary.runs,
    )


async def sender_job() -> None:
    me = _running()
    try:
        report = await send_outbox(me.store, SCHEDULER, me.systems)
    except OrderhubError as exc:
        log.warning("the sender did not run: %s", exc)
        return
    if report.sent or report.failed or report.unsure:
        log.info(report_line(report))


async def pushes_job() -> None:
    me = _running()
    try:
        await me.pushes.run_once(me.store)
    except OrderhubError as exc:
        log.warning("stored pushes not processed: %s", exc)


async def summary_job() -> None:
    me = _running()
    queue_morning_summary(me.store, SCHEDULER, timezone=me.settings.timezone)


async def sync_job() -> None:
    _running().sync()


def _running() -> Scheduler:
    if _CURRENT is None:
        raise RuntimeError("a scheduler job ran with no scheduler in this process")
    return _CURRENT
