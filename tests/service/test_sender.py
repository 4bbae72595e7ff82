"""The outbox sender against the simulated WeCom bot (issue 9 item 6).

Within the bot's 20 messages a minute; merged when more are due; retried with backoff;
never sent twice after a crash (a killed sender); alerts before the summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions
from engine.errors import PermissionDenied
from engine.outbox import BACKOFF_S, LEASE_TTL_S
from engine.store import Store
from engine.store import stock as stock_store
from engine.store.models import OutboxMessage, utcnow
from service.access import SCHEDULER, Actor
from service.sender import outbox_status, send_outbox, status_line

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
OPS = Actor("li.wei", "ops_manager")


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorHandle]:
    with start_simulator(str(SCENARIO), options=SimOptions(timeout_sleep_s=120)) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimulatorHandle) -> SimulatorHandle:
    sim_server.reset()
    return sim_server


@pytest.fixture
def systems(sim: SimulatorHandle) -> dict[str, dict[str, Any]]:
    return {name: {**values, "timeout_s": 30.0} for name, values in sim.systems.items()}


def queue(store: Store, texts: list[str], kind: str = "low_stock", **extra: Any) -> None:
    with store.engine.begin() as conn:
        for text in texts:
            stock_store.add_outbox(conn, "wecom", {"kind": kind, "text": text, **extra})


def send(store: Store, systems: dict, **kw: Any):
    return asyncio.run(send_outbox(store, kw.pop("actor", SCHEDULER), systems, **kw))


def rows(store: Store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.query(OutboxMessage).order_by(OutboxMessage.id))


def contents(sim: SimulatorHandle) -> list[str]:
    return [m["content"] for m in sim.log("messages")]


def test_alerts_go_before_the_summary_each_alone_when_they_fit(store, sim, systems) -> None:
    queue(store, ["### Morning summary"], kind="summary", markdown=True)
    queue(store, ["SKU-1 in east below safety stock", "SKU-2 in south below safety stock"])
    report = send(store, systems)
    assert (report.sent, report.bot_messages, report.waiting) == (3, 3, 0)
    assert contents(sim) == [
        "SKU-1 in east below safety stock",
        "SKU-2 in south below safety stock",
        "### Morning summary",
    ]
    assert sim.log("messages")[2]["msgtype"] == "markdown"
    assert {r.status for r in rows(store)} == {"sent"}


def test_a_burst_of_100_alerts_is_at_most_20_bot_messages_and_loses_none(
    store, sim, systems
) -> None:
    alerts = [f"SKU-{i:03d}@east: 3 left, below the safety stock of 10" for i in range(100)]
    queue(store, alerts)
    report = send(store, systems)
    assert report.sent == 100 and report.waiting == 0 and not report.errors
    stats = sim.stats()
    assert 1 < stats["bot_messages"] <= 20
    text = "\n".join(contents(sim))
    assert all(alert in text for alert in alerts)
    assert contents(sim)[0].startswith("orderhub: ")
    assert outbox_status(store, OPS).sent == 100


@pytest.mark.parametrize("per_minute", [20, 25])
def test_the_sender_counts_the_minute_so_the_bot_never_refuses(
    store, sim, systems, per_minute
) -> None:
    """Messages arriving in rounds: the third round finds the minute used up and waits. The
    twin gives the sender a budget above the bot's 20: then the bot refuses (45009)."""
    systems["wecom"]["per_minute"] = per_minute
    reports = []
    for round_ in range(3):
        queue(store, [f"round {round_} alert {i}" for i in range(10)], kind=f"k{round_}")
        reports.append(send(store, systems))
    assert [r.sent for r in reports[:2]] == [10, 10]
    refused = sim.stats()["requests"]["wecom"] - sim.stats()["bot_messages"]
    if per_minute == 20:
        assert (reports[2].sent, reports[2].waiting, refused) == (0, 10, 0)
    else:
        assert refused >= 1 and reports[2].waiting > 0  # the bot said "too many"
    assert sim.stats()["bot_messages"] == 20
    assert status_line(outbox_status(store, OPS, systems)).startswith("outbox: 10 pending")


def test_a_passing_failure_is_retried_at_once_then_later_with_backoff(store, sim, systems) -> None:
    queue(store, ["ERP down since 21:04"])
    sim.fault("wecom", "down", count=1)
    assert send(store, systems).sent == 1  # the second call of the pass got through
    queue(store, ["SF down since 21:05"])
    sim.fault("wecom", "down", count=10)
    now = utcnow()
    report = send(store, systems, clock=lambda: now)
    assert (report.sent, report.waiting) == (0, 1)
    (_, row) = rows(store)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.not_before >= now + timedelta(seconds=BACKOFF_S - 1)
    sim.clear_faults()
    assert send(store, systems, clock=lambda: now).sent == 0  # not before its backoff
    later = now + timedelta(seconds=BACKOFF_S + 1)
    assert send(store, systems, clock=lambda: later).sent == 1
    assert contents(sim) == ["ERP down since 21:04", "SF down since 21:05"]


def test_a_rate_limit_puts_it_back_untried_and_a_refusal_fails_it(store, sim, systems) -> None:
    queue(store, ["first"])
    sim.fault("wecom", "rate_limit", count=1)
    report = send(store, systems)
    assert (report.sent, report.waiting) == (0, 1)
    (row,) = rows(store)
    assert (row.status, row.attempts, row.bundle) == ("pending", 0, None)
    systems["wecom"]["key"] = "not-the-key"
    report = asyncio.run(
        send_outbox(store, SCHEDULER, systems, clock=lambda: utcnow() + timedelta(minutes=2))
    )
    assert report.failed == 1 and "invalid webhook url" in report.errors[0]
    assert rows(store)[0].status == "failed"


def test_only_those_who_may_send_do(store, systems) -> None:
    with pytest.raises(PermissionDenied, match="may not outbox.send"):
        send(store, systems, actor=Actor("sun.li", "reviewer"))
    with pytest.raises(PermissionDenied):
        outbox_status(store, Actor("sun.li", "warehouse"))


SENDER = """
import asyncio, json, sys
from engine.store import open_store
from service.access import SCHEDULER
from service.sender import send_outbox
store = open_store(sys.argv[1])
asyncio.run(send_outbox(store, SCHEDULER, json.loads(sys.argv[2]), claim_first=sys.argv[3] == "1"))
"""


@pytest.mark.parametrize("claim_first", [True, False])
def test_a_sender_killed_mid_call_never_sends_twice(
    store, sim, systems, db_url, claim_first
) -> None:
    """The bot got the message but the sender was killed before it heard back. The next pass
    must not send it again: it was claimed (committed) before the call. The twin commits the
    claim after the call instead (a test-only switch): then the message goes twice."""
    queue(store, ["SF down since 21:04, 143 orders waiting"])
    sim.arm({"system": "wecom", "mode": "timeout", "count": 1, "hold_s": 120})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", SENDER, db_url, json.dumps(systems), "1" if claim_first else "0"]
    proc = subprocess.Popen(args, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not contents(sim) and time.monotonic() < deadline:
            assert proc.poll() is None, "the sender ended before the bot got the message"
            time.sleep(0.2)
        assert contents(sim), "the bot never got the message"
    finally:
        proc.kill()
        proc.wait()
    # the next pass, once the dead sender's lease has expired (it holds for its ttl)
    later = utcnow() + timedelta(seconds=LEASE_TTL_S + 1)
    report = send(store, systems, clock=lambda: later)
    assert report.busy is None
    if claim_first:
        assert (report.sent, report.unsure) == (0, 1)
        assert len(contents(sim)) == 1
        assert rows(store)[0].status == "unsure"
    else:
        assert len(contents(sim)) == 2  # what claiming first prevents


def test_the_outbox_commands_send_and_say_where_it_stands(
    store, sim, systems, db_url, tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from engine.settings import render_toml
    from service.cli import app

    config = tmp_path / "orderhub.toml"
    config.write_text(render_toml(systems), encoding="utf-8")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
    queue(store, ["SKU-1 low", "SKU-2 low"])
    cli = CliRunner()
    who = ["--db", db_url, "--as", "li.wei:ops_manager"]
    status = cli.invoke(app, ["outbox", "status", *who])
    assert status.exit_code == 0 and status.output.startswith("outbox: 2 pending (oldest ")
    sent = cli.invoke(app, ["outbox", "send", *who])
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip() == "outbox: sent 2 in 2 bot messages, 0 waiting"
    refused = cli.invoke(app, ["outbox", "send", "--db", db_url, "--as", "sun.li:reviewer"])
    assert refused.exit_code == 1 and "may not outbox.send" in refused.output
    status = cli.invoke(app, ["outbox", "status", *who, "--json"])
    assert json.loads(status.output)["sent"] == 2
