"""The H5 mall's after-sales pushes: checked, stored once, a run started; duplicates, older
copies and bad signatures change nothing."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.h5_aftersales import push_signature
from connectors.simulator.server import settings_for
from engine.errors import InvalidInput, PermissionDenied
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import OrderRow, RunRow
from service.access import Actor
from service.after_sales_push import receive_h5_push

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
