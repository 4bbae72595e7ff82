"""`orderhub scheduler` (issue 9 item 5): pulls of the active version as the scheduler,
following activation and rollback without a restart; never beside another runner of the
workflow; one scheduler per database, and a standby takes over when it dies.

Short intervals (a 2 s schedule trigger), no assertion about how fast anything happens:
every wait polls with a generous deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.simulator.server import settings_for
from engine.settings import render_toml
from engine.store import Store, leases
from service.access import Actor
from service.running import lease_name
from service.scheduler import LEASE, LEASE_TTL_S, Scheduler, ScheduleSettings, schedule_settings
from versions import audit
from versions import store as vstore

ROOT = Path(__file__).resolve().parents[2]
OPS = Actor("li.wei", "ops_manager")
#: systems where nothing listens: a pull ends at once with every channel "not pulled"
NOWHERE = {
    name: {**values, "retries": 0} for name, values in settings_for("http://127.0.0.1:9").items()
}
QUICK = ScheduleSettings(sync_every_s=1, sender_every_s=3600, pushes_every_s=3600)
DEADLINE_S = 120


def every_2s(note: str = "") -> str:
    text = (ROOT / "workflows" / "order_intake.yaml").read_text(encoding="utf-8")
    text = text.replace("{type: schedule, every: 15m}", "{type: schedule, every: 2s}")
    assert "every: 2s" in text
    return text + (f"\n# {note}\n" if note else "")


def scheduled_versions(store: Store) -> list[str]:
    """The versions the scheduler's runs ran, in order."""
    return [
        e.detail["version"]
        for e in audit.list_entries(store, subject="workflow:order_intake")
        if e.action == "run.start" and e.actor == "scheduler"
    ]


async def until(what: Callable[[], bool], message: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not what():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.2)


async def test_pulls_run_the_active_version_and_follow_activation_and_rollback(store) -> None:
    vstore.save(store, every_2s(), actor=OPS, base=None, message="v1")
    vstore.save(store, every_2s("v2"), actor=OPS, base=1, message="v2")
    stop = asyncio.Event()
    task = asyncio.create_task(Scheduler(store, NOWHERE, QUICK).run(stop))
    try:
        await until(lambda: "order_intake v1" in scheduled_versions(store), "no scheduled run")
        vstore.activate(store, "order_intake", 2, actor=OPS)
        await until(lambda: scheduled_versions(store)[-1] == "order_intake v2", "v2 never ran")
        vstore.rollback(store, "order_intake", 1, actor=OPS, reason="v2 misroutes")
        await until(lambda: scheduled_versions(store)[-1] == "order_intake v3", "rollback not run")
    finally:
        stop.set()
        await task
    assert leases.current(store, LEASE) is None  # let go when it stopped


async def test_a_scheduled_pull_never_runs_beside_another_runner(store) -> None:
    """A person's `orderhub run` holds the workflow: the scheduled pull that fires meanwhile
    waits for it, and runs once it is over."""
    vstore.save(store, every_2s(), actor=OPS, base=None, message="v1")
    manual = leases.acquire(store, lease_name("order_intake"), "li.wei:ops_manager (manual)")
    fired = asyncio.Event()

    class Fired(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "pull:order_intake" in record.getMessage() and "Running job" in record.getMessage():
                fired.set()

    handler = Fired()
    logging.getLogger("apscheduler").addHandler(handler)
    logging.getLogger("apscheduler").setLevel(logging.INFO)
    stop = asyncio.Event()
    task = asyncio.create_task(Scheduler(store, NOWHERE, QUICK).run(stop))
    try:
        await asyncio.wait_for(fired.wait(), DEADLINE_S)
        await asyncio.sleep(1)
        assert scheduled_versions(store) == []  # it is waiting for the manual run
        leases.release(store, manual)
        await until(lambda: scheduled_versions(store) != [], "the waiting pull never ran")
    finally:
        logging.getLogger("apscheduler").removeHandler(handler)
        stop.set()
        await task


def test_settings_of_the_scheduler_are_checked() -> None:
    assert schedule_settings({"summary_at": "07:45"}).summary_at == "07:45"
    with pytest.raises(Exception, match="timezone"):
        schedule_settings({"timezone": "Mars/Olympus"})
    with pytest.raises(Exception, match="not a setting"):
        schedule_settings({"summary": "08:30"})


def let_the_lease_expire(store: Store, name: str) -> None:
    """What `LEASE_TTL_S` of the clock passing does to a lease nobody renews any more: its
    expiry moves into the past (instead of the test waiting half a minute for it)."""
    from engine.store.leases import LeaseRow

    with store.session() as session:
        row = session.get(LeaseRow, name)
        assert row is not None
        row.expires_at -= timedelta(seconds=LEASE_TTL_S + 1)
        session.commit()


def test_a_second_scheduler_refuses_and_a_standby_takes_over_when_the_first_dies(
    store, db_url, tmp_path
) -> None:
    config = tmp_path / "orderhub.toml"
    config.write_text(render_toml(NOWHERE), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORDERHUB_CONFIG": str(config),
           "ORDERHUB_LOG": str(tmp_path / "orderhub.log")}  # fmt: skip
    command = [sys.executable, "-m", "service.cli", "scheduler", "--db", db_url]

    def holder() -> str:
        held = leases.current(store, LEASE)
        return held.holder if held else ""

    def wait_for(what: Callable[[], bool], message: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not what():
            assert time.monotonic() < deadline, message
            time.sleep(0.2)

    def wait_for_holder(pid: int) -> None:
        wait_for(lambda: f"pid {pid} " in holder(), f"pid {pid} never held the scheduler lease")

    first = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    standby = None
    said: list[str] = []
    reader = None
    try:
        wait_for_holder(first.pid)
        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=DEADLINE_S)  # fmt: skip
        assert second.returncode == 1
        assert "scheduler is held by scheduler (pid" in second.stderr
        assert "--standby" in second.stderr
        standby = subprocess.Popen([*command, "--standby"], env=env, cwd=tmp_path,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        reader = threading.Thread(target=lambda: said.extend(standby.stderr), daemon=True)
        reader.start()
        wait_for(lambda: any("standing by" in line for line in said), "the standby never waited")
        assert f"pid {first.pid} " in holder()  # it waits while the first one lives
        first.kill()  # no goodbye: nobody renews its lease, which expires
        first.wait()
        let_the_lease_expire(store, LEASE)
        wait_for_holder(standby.pid)
        standby.send_signal(signal.SIGTERM)
        standby.wait(timeout=DEADLINE_S)
        reader.join(timeout=DEADLINE_S)
        err = "".join(said)
        assert "standing by" in err and "scheduler stopped" in err
        assert standby.returncode == 0
        assert holder() == ""
    finally:
        for proc in (first, standby):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_a_pull_missed_while_it_was_down_runs_once_at_start(store) -> None:
    """The job store keeps the pull's next time; hours late, it runs once, not once per
    missed interval."""
    from datetime import UTC, datetime, timedelta

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    vstore.save(store, every_2s().replace("every: 2s", "every: 1h"), actor=OPS, base=None,
                message="hourly")  # fmt: skip
    stop = asyncio.Event()
    scheduler = Scheduler(store, NOWHERE, QUICK)
    task = asyncio.create_task(scheduler.run(stop))
    await until(lambda: scheduler._aps is not None and scheduler._aps.get_job("pull:order_intake:1")
                is not None, "no pull job")  # fmt: skip
    stop.set()
    await task
    assert scheduled_versions(store) == []  # its first time is an hour away
    jobs = SQLAlchemyJobStore(engine=store.engine)
    jobs.start(None, "default")  # type: ignore[arg-type]
    job = jobs.lookup_job("pull:order_intake:1")
    job.next_run_time = datetime.now(UTC) - timedelta(hours=3)  # down for three hours
    jobs.update_job(job)
    stop = asyncio.Event()
    task = asyncio.create_task(Scheduler(store, NOWHERE, QUICK).run(stop))
    try:
        await until(lambda: scheduled_versions(store) != [], "the missed pull never ran")
        await asyncio.sleep(2)
        assert scheduled_versions(store) == ["order_intake v1"]
    finally:
        stop.set()
        await task


def test_the_morning_summary_is_queued_once_a_day(store) -> None:
    from datetime import UTC, datetime

    from engine.store.models import OutboxMessage
    from service.access import SCHEDULER
    from service.morning import queue_morning_summary

    at = datetime(2026, 1, 11, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    assert queue_morning_summary(store, SCHEDULER, now=at)
    assert not queue_morning_summary(store, SCHEDULER, now=at)
    with store.session() as session:
        (row,) = session.query(OutboxMessage).all()
    assert (row.kind, row.priority, row.payload["markdown"]) == ("summary", 2, True)
    assert row.payload["text"].startswith("### orderhub 2026-01-10")


def test_the_scheduler_runs_beside_the_api_in_one_process(store) -> None:
    """`scheduler_router`: the scheduler lives as long as the server that mounts it."""
    import threading

    import uvicorn
    from fastapi import FastAPI

    from connectors.simulator.server import free_port
    from service.scheduler import scheduler_router

    app = FastAPI()
    app.include_router(scheduler_router(store, NOWHERE, QUICK))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not (
        leases.current(store, LEASE) and "scheduler (pid" in leases.current(store, LEASE).holder
    ):
        assert time.monotonic() < deadline and thread.is_alive(), "the scheduler never started"
        time.sleep(0.2)
    server.should_exit = True
    thread.join(timeout=DEADLINE_S)
    assert not thread.is_alive()
    assert leases.current(store, LEASE) is None  # let go with the server
