"""ERP (Kingdee) connector against the simulated K3 Cloud WebAPI."""

from __future__ import annotations

import httpx
import pytest

from connectors.erp import LOGIN_PATH, QUERY_PATH, ErpConnector
from engine.errors import Rejected


def _key(row: dict) -> tuple:
    return tuple(sorted(row.items()))


async def test_inventory_matches_the_scenario(hub, scenario):
    rows = await hub.erp.inventory()
    assert sorted(map(_key, rows)) == sorted(map(_key, scenario["inventory"]))


async def test_materials_match_the_catalogue(hub, scenario):
    rows = await hub.erp.materials()
    assert sorted(map(_key, rows)) == sorted(map(_key, scenario["skus"]))


async def test_inventory_is_read_page_by_page(systems, scenario, monkeypatch):
    monkeypatch.setattr("connectors.erp.PAGE_ROWS", 7)  # 60 rows -> 9 pages, last one short
    erp = ErpConnector(systems["erp"])
    try:
        rows = await erp.inventory()
    finally:
        await erp.aclose()
    assert len(rows) == len(scenario["inventory"]) == 60
    assert len({(r["sku"], r["warehouse"]) for r in rows}) == 60  # no page read twice


async def test_lost_session_logs_in_again(hub, sim, scenario):
    await hub.erp.inventory()
    sim.reset()  # the ERP forgets every session
    assert len(await hub.erp.inventory()) == len(scenario["inventory"])


async def test_bad_password_is_rejected_without_leaking(systems):
    erp = ErpConnector({**systems["erp"], "password": "pw-do-not-print"})
    try:
        with pytest.raises(Rejected) as err:
            await erp.inventory()
    finally:
        await erp.aclose()
    assert "pw-do-not-print" not in str(err.value)


def test_query_without_session_and_limit_over_10000(sim):
    lost = httpx.post(sim.base_url + QUERY_PATH, json={"data": {"FormId": "STK_Inventory"}})
    assert lost.json()[0][0]["Result"]["ResponseStatus"]["MsgCode"] == 1
    creds = sim.systems["erp"]
    login = {"acctID": creds["acct"], "username": creds["user"], "password": creds["password"]}
    with httpx.Client(base_url=sim.base_url) as client:
        assert client.post(LOGIN_PATH, json=login).json()["LoginResultType"] == 1
        rows = client.post(QUERY_PATH, json={"data": {"FormId": "STK_Inventory", "Limit": 5}})
        too_many = client.post(QUERY_PATH, json={"data": {"FormId": "BD_MATERIAL", "Limit": 10001}})
    assert len(rows.json()) == 5
    assert too_many.json()[0][0]["Result"]["ResponseStatus"]["IsSuccess"] is False
