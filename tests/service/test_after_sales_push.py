"""After-sales pushes: the H5 mall's checked, stored once, a run started (duplicates, older
copies and bad signatures change nothing); Youzan's and Douyin's read again from the
platform."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from connectors.h5_aftersales import push_signature
from connectors.simulator.aftersales_gen import generate_after_sales
from connectors.simulator.generator import write_scenario
from connectors.simulator.server import SimulatorHandle, settings_for, start_simulator
from engine.errors import InvalidInput, PermissionDenied
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import OrderRow, RunRow
from service.access import Actor
from service.after_sales_push import receive_h5_push, receive_platform_push

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = load_workflow(ROOT / "workflows" / "after_sales.yaml")
SYSTEMS = settings_for("http://127.0.0.1:9")  # nothing is called: the push carries it all
SECRET = SYSTEMS["h5"]["webhook_secret"]
WEBHOOK = Actor("scheduler", "scheduler")


def body(updated: str = "2026-01-11T10:00:00+08:00", status: str = "waiting_seller") -> bytes:
    push = {
        "event_id": "E1",
        "aftersale_id": "AS900001",
        "order_id": "H5O1",
        "type": "return_refund",
        "status": status,
        "lines": [{"line_id": "H5O1-1", "sku": "LIP-1", "qty": 1}],
        "refund_fen": 12900,
        "buyer_return": {"company": "YTO", "tracking_no": "YT1"},
        "updated_at": updated,
    }
    return json.dumps(push).encode()


def push(store: Store, data: bytes, *, secret: str = SECRET, ts: float | None = None) -> Any:
    stamp = str(int(ts if ts is not None else time.time()))
    return asyncio.run(
        receive_h5_push(
            store, WEBHOOK, str(ROOT / "workflows" / "after_sales.yaml"), systems=SYSTEMS,
            body=data, timestamp=stamp, signature=push_signature(secret, stamp, data),
            workflow=WORKFLOW,
        )
    )  # fmt: skip


def counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        items = session.scalar(
            select(func.count()).select_from(OrderRow).where(OrderRow.kind == "after_sale")
        )
        return items, session.scalar(select(func.count()).select_from(RunRow))


def test_a_push_is_stored_once_with_its_run(store: Store) -> None:
    first = push(store, body())
    assert first.ref == "h5:as-AS900001" and first.new_run is not None
    assert push(store, body()).new_run is None  # the same push again
    later = push(store, body("2026-01-11T11:00:00+08:00", "waiting_return"))
    assert later.new_run not in (None, first.new_run)
    assert push(store, body("2026-01-11T10:30:00+08:00")).new_run is None  # out of order
    assert counts(store) == (1, 2)
    with store.session() as session:
        canonical = session.scalar(select(OrderRow.canonical).where(OrderRow.kind == "after_sale"))
    assert canonical["after_sale"]["status"] == "waiting_return"
    assert canonical["after_sale"]["refund"] == "129.00"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"secret": "wrong"}, PermissionDenied), ({"ts": time.time() - 3600}, InvalidInput)],
    ids=["bad signature", "replayed an hour later"],
)
def test_a_push_that_does_not_check_out_writes_nothing(
    store: Store, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        push(store, body(), **kwargs)
    assert counts(store) == (0, 0)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatorHandle, dict]]:
    data = generate_after_sales(150, 2)
    path = tmp_path_factory.mktemp("push") / "as.json"
    write_scenario(data, path)
    with start_simulator(str(path)) as handle:
        yield handle, data


def youzan_push(refund_id: str, kind: str = "trade_refund_BuyerCreated") -> bytes:
    msg = quote(json.dumps({"tid": "T", "oids": "", "refund_id": refund_id, "refunded_fee": "0"}))
    return json.dumps({"type": kind, "msg": msg, "version": 1}).encode()


def douyin_push(*pairs: tuple[str, str]) -> bytes:
    return json.dumps(
        [{"tag": tag, "msg_id": f"m{n}", "data": json.dumps({"aftersale_id": int(aid)})}
         for n, (tag, aid) in enumerate(pairs)]
    ).encode()  # fmt: skip


def platform_push(store: Store, sim: SimulatorHandle, channel: str, data: bytes) -> list:
    return asyncio.run(
        receive_platform_push(
            store, WEBHOOK, str(ROOT / "workflows" / "after_sales.yaml"), systems=sim.systems,
            channel=channel, body=data, workflow=WORKFLOW,
        )
    )  # fmt: skip


def test_platform_pushes_are_hints_read_again_from_the_platform(
    store: Store, sim: tuple[SimulatorHandle, dict]
) -> None:
    handle, data = sim
    handle.reset()
    youzan = next(r for r in data["after_sales"] if r["channel"] == "youzan")
    douyin = next(r for r in data["after_sales"] if r["channel"] == "douyin")
    (first,) = platform_push(store, handle, "youzan", youzan_push(youzan["aftersale_id"]))
    assert first.ref == f"youzan:as-{youzan['aftersale_id']}" and first.new_run is not None
    (again,) = platform_push(store, handle, "youzan", youzan_push(youzan["aftersale_id"]))
    assert again.new_run is None  # a duplicate push changes nothing
    assert platform_push(store, handle, "youzan", youzan_push("1", "trade_TradeCreate")) == []
    both = platform_push(
        store, handle, "douyin", douyin_push(("200", douyin["aftersale_id"]), ("999", "1"))
    )
    assert [r.ref for r in both] == [f"douyin:as-{douyin['aftersale_id']}"]
    assert counts(store) == (2, 2)


def test_a_push_for_a_request_the_platform_does_not_know_is_one_clear_error(
    store: Store, sim: tuple[SimulatorHandle, dict]
) -> None:
    with pytest.raises(InvalidInput, match="could not be read"):
        platform_push(store, sim[0], "youzan", youzan_push("999999"))
    assert counts(store) == (0, 0)
