"""Stand-ins for records that cannot be read: what they keep and how they are named."""

from __future__ import annotations

from connectors.records import read_page, unreadable
from engine.unreadable import UNKNOWN_TIME, read_order


def convert(raw: dict) -> dict:
    return {"channel": "douyin", "order_id": str(raw["order_id"]), "when": raw["create_time"]}


def test_a_bad_record_becomes_a_stand_in_and_the_page_goes_on() -> None:
    page = read_page(
        [{"order_id": 1, "create_time": 5}, {"order_id": 2}, {"create_time": 7}],
        convert,
        "douyin",
        lambda raw: raw["order_id"],
    )
    assert page[0][0] == {"channel": "douyin", "order_id": "1", "when": 5}
    assert page[1][0] == {
        "channel": "douyin",
        "order_id": "2",
        "unreadable": "KeyError: 'create_time'",
    }
    assert page[2][0]["order_id"] == ""  # no id to be found: ingest names it by its record
    assert [raw for _, raw in page] == [
        {"order_id": 1, "create_time": 5},
        {"order_id": 2},
        {"create_time": 7},
    ]


def test_a_stand_in_without_an_id_is_named_by_its_record_and_is_older_than_any_copy() -> None:
    raw = {"create_time": 7}
    order, why = read_order(unreadable("douyin", None, KeyError("order_id")), raw)
    again, _ = read_order(unreadable("douyin", None, KeyError("order_id")), dict(raw))
    assert why == "unreadable platform record (KeyError: 'order_id')"
    assert order.order_id.startswith("unreadable-") and order.order_id == again.order_id
    assert order.status == "unreadable" and order.updated_at == UNKNOWN_TIME


def test_a_readable_record_is_the_order_itself() -> None:
    canonical = {
        "channel": "h5",
        "order_id": "H1",
        "created_at": "2026-01-10T10:00:00+08:00",
        "updated_at": "2026-01-10T10:00:00+08:00",
        "status": "paid",
    }
    order, why = read_order(canonical, {})
    assert why is None and order.ref == "h5:H1" and order.status == "paid"
