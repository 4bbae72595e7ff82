"""Stock that comes back resumes waiting orders oldest paid first, never overselling.

Twelve orders of one SKU find it out of stock and wait in `out_of_stock`; an ERP sync brings
ten. Eight workers then resume at once (threads, each with its own connections, on SQLite
and PostgreSQL): exactly the orders a one-by-one pass oldest paid first would take resume,
each once, the reservations add up to what is on hand and the rest keep waiting.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select

from engine.dispatch import EmbeddedDispatcher, Environments, unfinished_runs
from engine.ingest import Batch, SourceContext, ingest
from engine.loader import load_workflow
from engine.node import BaseNode
from engine.registry import node
from engine.restock import resume_for_stock
from engine.runner import RunEnv
from engine.store import Store
from engine.store import stock as stock_store
from engine.store.models import InventoryRow, OrderRow, RunRow, StockMove, WaitRow
from engine.workflow import Workflow

QTYS = [3, 1, 2, 4, 1, 2, 3, 1, 2, 1, 5, 1]
START = datetime(2026, 1, 10, 1, 0, tzinfo=UTC)
FEED: list[dict] = []


@node("t_feed_refill")
class TRestockFeed(BaseNode):
    """Yield the orders of FEED."""

    class Params(BaseModel):
        pass

    outcomes = ("pulled",)
    source = True

    async def pull(self, ctx: SourceContext):
        yield Batch("t_feed_refill", START, [(o, dict(o)) for o in FEED])


WORKFLOW = """\
id: restock
name: restock
nodes:
  - {id: feed, type: t_feed_refill, next: split}
  - id: split
    type: split_warehouse
    with: {default: east, warehouses: {east: [上海市]}}
    next: stock
  - id: stock
    type: stock_check
    with: {safety_stock: SAFETY, sync_inventory: false, purchase_alert: false}
    routes: {ok: shipped, low: hold, out: out_of_stock}
  - {id: shipped, type: finish, with: {status: shipped}}
  - id: hold
    type: exception_route
    with: {queue: held, status: held_low_stock}
    routes: {restocked: shipped, release: shipped}
  - id: out_of_stock
    type: exception_route
    with: {queue: held, status: out_of_stock}
    routes: {restocked: shipped, cancel: cancelled}
  - {id: cancelled, type: finish, with: {status: cancelled}}
"""


def orders(qtys: list[int]) -> list[dict]:
    """One order per quantity, paid a minute apart (paid order: list order, created
    order reversed, so that oldest *paid* first is what is tested)."""
    made = []
    for n, qty in enumerate(qtys):
        paid = START + timedelta(minutes=n)
        made.append(
            {
                "channel": "h5",
                "order_id": f"R{n:02d}",
                "created_at": (START - timedelta(minutes=n)).isoformat(),
                "updated_at": paid.isoformat(),
                "paid_at": paid.isoformat(),
                "status": "paid",
                "amount": 10,
                "receiver": {"province": "上海市"},
                "items": [{"sku": "LIP-001", "qty": qty, "price": "1"}],
            }
        )
    return made


def run_everything(store: Store, wf: Workflow) -> None:
    async def go() -> None:
        env = RunEnv(wf, store, None)
        try:
            await ingest(env)
            runs = unfinished_runs(store, wf.id, env.version)
            await EmbeddedDispatcher(Environments.of(env)).run_all(runs)
        finally:
            env.close()

    asyncio.run(go())


def set_on_hand(store: Store, on_hand: int) -> None:
    with store.engine.begin() as conn:
        stock_store.sync_inventory(
            conn, [{"sku": "LIP-001", "warehouse": "east", "on_hand": on_hand}]
        )


def statuses(store: Store) -> dict[str, str]:
    with store.session() as session:
        rows = session.execute(select(OrderRow.order_id, OrderRow.status)).all()
    return {order_id: status for order_id, status in rows}


def greedy(qtys: list[int], available: int) -> list[int]:
    """Which orders a one-by-one pass, oldest paid first, resumes."""
    taken = []
    for n, qty in enumerate(qtys):
        if qty <= available:
            taken.append(n)
            available -= qty
    return taken


def resume_with_workers(store: Store, workers: int = 8) -> list[str]:
    start = threading.Barrier(workers)
    woken: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            woken.extend(w.ref for w in resume_for_stock(store, ["LIP-001@east"]))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    return woken


def test_restock_resumes_oldest_paid_first_with_eight_workers_and_never_oversells(
    store: Store,
) -> None:
    FEED[:] = orders(QTYS)
    wf = load_workflow("restock.yaml", text=WORKFLOW.replace("SAFETY", "0"))
    run_everything(store, wf)
    assert set(statuses(store).values()) == {"out_of_stock"}

    set_on_hand(store, 10)
    woken = resume_with_workers(store)
    expected = [f"h5:R{n:02d}" for n in greedy(QTYS, 10)]
    assert sorted(woken) == expected  # each once, exactly the ones that fit in paid order
    with store.session() as session:
        inventory = session.get(InventoryRow, ("LIP-001", "east"))
        reserved = session.scalars(select(StockMove.qty).where(StockMove.kind == "reserve"))
        assert inventory.reserved == sum(reserved) == 10 <= inventory.on_hand
        waiting = session.scalars(select(RunRow.id).where(RunRow.status == "waiting")).all()
        open_waits = session.scalars(select(WaitRow).where(WaitRow.status == "open")).all()
    assert len(waiting) == len(QTYS) - len(expected)
    assert {w.run_id for w in open_waits} == set(waiting)  # the rest keep waiting

    run_everything(store, wf)  # the woken ones finish: restocked → shipped
    shipped = sorted(f"h5:{o}" for o, s in statuses(store).items() if s == "shipped")
    assert shipped == expected

    set_on_hand(store, 14)  # four more
    woken = resume_with_workers(store)
    rest = [n for n in range(len(QTYS)) if f"h5:R{n:02d}" not in expected]
    second = [rest[i] for i in greedy([QTYS[n] for n in rest], 4)]
    assert sorted(woken) == [f"h5:R{n:02d}" for n in second]
    with store.session() as session:
        assert session.get(InventoryRow, ("LIP-001", "east")).reserved == 14


def test_a_held_order_resumes_once_its_sku_is_back_above_the_safety_level(store: Store) -> None:
    FEED[:] = orders([2])
    set_on_hand(store, 4)
    wf = load_workflow("restock.yaml", text=WORKFLOW.replace("SAFETY", "3"))
    run_everything(store, wf)
    assert statuses(store) == {"R00": "held_low_stock"}  # reserved, 2 left < 3
    assert resume_for_stock(store) == []  # nothing came in
    set_on_hand(store, 5)  # 3 available: at the safety level
    assert [w.ref for w in resume_for_stock(store)] == ["h5:R00"]
    run_everything(store, wf)
    assert statuses(store) == {"R00": "shipped"}
    with store.session() as session:
        assert session.get(InventoryRow, ("LIP-001", "east")).reserved == 2  # not twice
