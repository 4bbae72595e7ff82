"""After-sales pushes over HTTP (``POST /hooks/{channel}/after-sales`` on a running uvicorn):
the H5 mall's signed push is acknowledged in the platform's shape and stored once with its
run; a bad signature is refused with nothing written; a channel without after-sales pushes
is 404 and a body that is not a push 422."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from connectors.h5_aftersales import push_signature
from engine.store import Store
from engine.store.models import OrderRow, RunRow
from service.hooks import hooks_router
from service.push import ACKS
from tests.e2e.api_server import serving
from tests.service.test_after_sales_push import SECRET, SYSTEMS, body


def signed(data: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"X-Timestamp": stamp, "X-Signature": push_signature(secret, stamp, data)}


def stored(store: Store) -> tuple[int, int]:
    with store.session() as session:
        items = session.scalar(
            select(func.count()).select_from(OrderRow).where(OrderRow.kind == "after_sale")
        )
        return items, session.scalar(select(func.count()).select_from(RunRow))


def test_after_sales_pushes_over_http(store: Store) -> None:
    with (
        serving(store, routers=[hooks_router(store, SYSTEMS)]) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        data = body()
        forged = http.post("/hooks/h5/after-sales", content=data, headers=signed(data, "x"))
        assert forged.status_code == 401, forged.text
        assert stored(store) == (0, 0)
        first = http.post("/hooks/h5/after-sales", content=data, headers=signed(data))
        assert first.status_code == 200, first.text
        assert first.json() == {**ACKS["h5"], "received": ["h5:as-AS900001"]}
        again = http.post("/hooks/h5/after-sales", content=data, headers=signed(data))
        assert again.status_code == 200 and stored(store) == (1, 1)
        nowhere = http.post("/hooks/jd/after-sales", content=b"{}")
        assert nowhere.status_code == 404
        garbled = http.post("/hooks/douyin/after-sales", content=b"not json")
        assert garbled.status_code == 422 and garbled.json()["field"] == "body"
