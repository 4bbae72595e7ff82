"""Use cases: take a channel's push, and run the pushed orders through the active workflow.

`receive_push(store, channel, headers, body, systems)` is what ``POST /hooks/{channel}``
calls. The signature is the caller's credential, checked before anything is read (a bad one
is `PushRefused` 401, and nothing is written); a malformed message is `PushRefused` 400. The
messages are stored in one transaction, once per (channel, message id) — a platform sending
the same message again is taken as the same push — and the answer the platform waits for is
returned at once: processing is asynchronous.

`PushProcessor.run_once(store)` processes what is stored: for each workflow whose active
version has a ``{type: webhook, channel: …}`` trigger, it takes the lease of the workflow's
runner (``run:<id>``, the same one a pull holds, so a push never runs beside a pull), reads
each pushed paid order (fetching and decrypting what the message does not carry), upserts it
and starts its run exactly as a pull does (`engine.ingest.store_orders`), marks the pushes
done in the same transaction, and finishes the runs. An order pushed and later pulled, or
pulled and later pushed, is one order (upserted on (channel, order id)) and ships once; a
push no active workflow takes, or one that is not "paid", is kept as ``ignored``: the next
pull takes that order. The hooks' worker calls it as soon as a push is stored, the scheduler
every few seconds for what a stopped process left. Pushes are not audited one by one: the
``pushes`` table is their record, and they act as the scheduler (`access.SCHEDULER`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from connectors import Connectors, douyin, h5, youzan
from connectors.pushes import Pushed, PushRefused
from engine.dispatch import EmbeddedDispatcher
from engine.errors import ConnectorError, NotFound, Rejected
from engine.ingest import IngestResult, PrepareContext, store_orders
from engine.runner import RunEnv, Runner
from engine.store import Store, leases
from engine.store.db import insert_for
from engine.store.models import PushRow, utcnow
from engine.workflow import Workflow
from service.access import SCHEDULER, Actor, require
from service.running import lease_name
from versions.models import ActiveVersionRow
from versions.store import get_version

log = logging.getLogger("orderhub.push")

READERS: dict[str, Callable[..., list[Pushed]]] = {
    "h5": h5.read_push,
    "youzan": youzan.read_push,
    "douyin": douyin.read_push,
}
ACKS: dict[str, dict[str, Any]] = {"h5": h5.ACK, "youzan": youzan.ACK, "douyin": douyin.ACK}
_pushes = PushRow.__table__

__all__ = ["PushProcessor", "PushReceipt", "PushRefused", "ProcessReport", "receive_push"]


@dataclass(frozen=True)
class PushReceipt:
    """What a push stored, and the answer its platform waits for."""

    channel: str
    stored: int  # new messages
    repeated: int  # messages stored before (the platform sent them again)
    ack: dict[str, Any]


@dataclass
class ProcessReport:
    """What one processing pass did."""

    done: int = 0  # pushes whose order was stored (and its run started, if it changed)
    runs: int = 0
    ignored: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def receive_push(
    store: Store,
    channel: str,
    headers: Mapping[str, str],
    body: bytes,
    systems: Mapping[str, Mapping[str, Any]],
    *,
    now: float | None = None,
) -> PushReceipt:
    """Verify and store one push (see the module docstring)."""
    reader = READERS.get(channel)
    if reader is None:
        raise NotFound(f"no push intake for {channel!r} (channels: {', '.join(READERS)})")
    pushed = reader(body, headers, systems.get(channel) or {}, time.time() if now is None else now)
    stored = 0
    if pushed:
        received = utcnow()
        rows = [
            {"channel": channel, "push_id": p.push_id[:128], "order_id": p.order_id[:64],
             "event": p.event[:64], "body": {"paid": p.paid, "record": p.record},
             "status": "received", "received_at": received}
            for p in pushed
        ]  # fmt: skip
        with store.engine.begin() as conn:
            statement = insert_for(conn, _pushes).on_conflict_do_nothing(
                index_elements=["channel", "push_id"]
            )
            # the rows inserted come back (rowcount of a many-row insert is -1 on psycopg)
            stored = len(conn.execute(statement.returning(_pushes.c.push_id), rows).all())
    return PushReceipt(channel, stored, len(pushed) - stored, ACKS[channel])


class PushProcessor:
    """Processes stored pushes with one set of connectors and one run environment per
    active workflow version (kept between passes; `aclose` lets them go)."""

    def __init__(
        self,
        systems: Mapping[str, Mapping[str, Any]],
        *,
        actor: Actor = SCHEDULER,
        concurrency: int = 32,
        wait_s: float = 600.0,
        batch: int = 500,
    ) -> None:
        self.systems = {k: dict(v) for k, v in systems.items()}
        self.actor = actor
        self.concurrency = concurrency
        self.wait_s = wait_s
        self.batch = batch
        self._connectors: Connectors | None = None
        self._envs: dict[tuple[str, str], RunEnv] = {}

    async def run_once(self, store: Store) -> ProcessReport:
        """Process every stored push not processed yet, `batch` at a time."""
        require(self.actor, "runs.start")
        report = ProcessReport()
        after = 0  # a push a passing fault kept is tried again on the next pass, not this one
        while True:
            with store.engine.connect() as conn:
                rows = conn.execute(
                    select(_pushes.c.id, _pushes.c.channel, _pushes.c.order_id, _pushes.c.body)
                    .where(_pushes.c.status == "received", _pushes.c.id > after)
                    .order_by(_pushes.c.id)
                    .limit(self.batch)
                ).all()
            if not rows:
                return report
            await self._process(store, rows, report)
            after = rows[-1].id

    async def aclose(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
        if self._connectors is not None:
            await self._connectors.aclose()
            self._connectors = None

    async def _process(self, store: Store, rows: list[Any], report: ProcessReport) -> None:
        takers = self._takers(store)
        by_workflow: dict[str, list[Any]] = {}
        ignored: dict[int, str] = {}
        for row in rows:
            if not row.body.get("paid"):
                ignored[row.id] = "not a paid order: the next pull takes it"
                continue
            wanted = [wf_id for wf_id, (_, channels) in takers.items() if row.channel in channels]
            if not wanted:
                ignored[row.id] = (
                    f"no active workflow takes {row.channel} pushes: the next pull takes it"
                )
            for wf_id in wanted:
                by_workflow.setdefault(wf_id, []).append(row)
        if ignored:
            with store.engine.begin() as conn:
                for push_id, why in ignored.items():
                    _mark(conn, [push_id], "ignored", why)
            report.ignored += len(ignored)
        mine: set[int] = set()  # done in this pass: a second workflow taking them runs them too
        for wf_id, taken in by_workflow.items():
            await self._run(store, takers[wf_id][0], taken, report, mine)

    def _takers(self, store: Store) -> dict[str, tuple[Workflow, set[str]]]:
        """Active workflows with webhook triggers: id -> (workflow, channels it takes)."""
        with store.session() as session:
            ids = list(session.scalars(select(ActiveVersionRow.workflow_id)))
        takers = {}
        for wf_id in ids:
            version = get_version(store, wf_id)
            wf = self._workflow(wf_id, version)
            channels = {str(t.options.get("channel")) for t in wf.triggers if t.type == "webhook"}
            if channels:
                takers[wf_id] = (wf, channels)
        return takers

    def _workflow(self, wf_id: str, version: Any) -> Workflow:
        env = self._envs.get((wf_id, version.content_hash))
        return env.workflow if env is not None else version.workflow()

    async def _run(
        self, store: Store, wf: Workflow, rows: list[Any], report: ProcessReport, mine: set[int]
    ) -> None:
        holder = f"{self.actor} (pushes)"
        lease = await leases.wait_for(
            store, lease_name(wf.id), holder, wait_s=self.wait_s, poll_s=0.1
        )
        with leases.kept(store, lease):
            rows = _still_received(store, rows, mine)  # another process may have run them
            if not rows:
                return
            env = await self._env(store, wf)
            read = await asyncio.gather(*(self._read(row) for row in rows))
            good = [
                (row, got) for row, got in zip(rows, read, strict=True) if isinstance(got, tuple)
            ]
            refused = [
                (row, got)
                for row, got in zip(rows, read, strict=True)
                if isinstance(got, str) and got.startswith("refused")
            ]
            result = IngestResult()
            env.writer.commit()  # nothing of ours may hold the database while orders are stored
            with store.engine.begin() as conn:
                store_orders(env, conn, [got for _, got in good], result)
                _mark(conn, [row.id for row, _ in good], "done", None)
                for row, why in refused:
                    _mark(conn, [row.id], "failed", why)
            mine.update(row.id for row, _ in good)
            report.done += len(good)
            report.failed += len(refused)
            report.runs += len(result.runs)

            def done(_run_id: int, outcome: str | None) -> None:
                key = outcome or "unfinished"
                report.outcomes[key] = report.outcomes.get(key, 0) + 1

            await EmbeddedDispatcher(Runner(env), self.concurrency).run_all(
                result.runs, on_done=done
            )
            env.writer.commit()

    async def _read(self, row: Any) -> tuple[dict, dict] | str:
        """The pushed order as (canonical, raw); a string saying why not: "refused: …" when
        the channel refused (kept as failed), else a passing fault (tried again next pass)."""
        connectors = self._connectors_now()
        try:
            return await connectors.channels[row.channel].pushed_order(row.body["record"])
        except KeyError:
            return f"refused: no [{row.channel}] settings to read its orders with"
        except Rejected as exc:
            return f"refused: {exc}"
        except ConnectorError as exc:
            log.warning("push %s of %s not read yet: %s", row.id, row.channel, exc)
            return f"later: {exc}"

    async def _env(self, store: Store, wf: Workflow) -> RunEnv:
        key = (wf.id, wf.content_hash)
        env = self._envs.get(key)
        if env is None:
            for old in [k for k in self._envs if k[0] == wf.id]:
                self._envs.pop(old).close()
            env = RunEnv(wf, store, self._connectors_now())
            result = IngestResult()
            for node in env.nodes.values():  # catalogue and stock, once per version
                if hasattr(node, "prepare"):
                    await node.prepare(PrepareContext(env, result))
            self._envs[key] = env
        return env

    def _connectors_now(self) -> Connectors:
        if self._connectors is None:
            from connectors import build_connectors

            self._connectors = build_connectors(self.systems)
        return self._connectors


def _still_received(store: Store, rows: list[Any], mine: set[int]) -> list[Any]:
    """The rows no other process has processed meanwhile (and those this pass did)."""
    with store.engine.connect() as conn:
        fresh = set(
            conn.execute(
                select(_pushes.c.id).where(
                    _pushes.c.id.in_([r.id for r in rows]), _pushes.c.status == "received"
                )
            ).scalars()
        )
    return [r for r in rows if r.id in fresh or r.id in mine]


def _mark(conn: Any, ids: list[int], status: str, error: str | None) -> None:
    if ids:
        conn.execute(
            update(_pushes)
            .where(_pushes.c.id.in_(ids))
            .values(status=status, error=error, processed_at=utcnow())
        )
