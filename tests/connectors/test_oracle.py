"""The oracle reproduces the shared scenarios' `expected` exactly, and applies each rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.simulator.oracle import (
    address_key,
    dedup_key,
    expected_outcomes,
    invalid_reason,
    normalize_phone,
    processing_order,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHARED = ["intake-1200-s7.json", "intake-4000-s11.json"]


@pytest.fixture(scope="module", params=SHARED)
def shared(request: pytest.FixtureRequest) -> dict[str, Any]:
    return json.loads((FIXTURES / request.param).read_text(encoding="utf-8"))


def test_reproduces_shared_expected_exactly(shared: dict[str, Any]) -> None:
    expected = {k: v for k, v in shared["expected"].items() if k != "planted"}
    got = expected_outcomes(shared)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == value, key


def test_left_out_refs_are_exactly_the_stock_counted_ones(shared: dict[str, Any]) -> None:
    got = expected_outcomes(shared)
    refs = {f"{ch}:{o['order_id']}" for ch, orders in shared["channels"].items() for o in orders}
    left_out = refs - set(got["outcomes"])
    assert len(left_out) == sum(sum(c.values()) for c in got["stock_counts"].values())
    assert all(got["warehouses"].get(ref) for ref in left_out)


# -- hand-made tables ----------------------------------------------------------------------

CATALOGUE = {"LIP-001", "EYE-001"}


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("＋８６ １３８ １２３４ ５６７８", "13812345678"),
        ("861381234567", "861381234567"),  # 12 digits: the 86 stays
        ("", ""),
        (None, ""),
        ("无", ""),
    ],
)
def test_normalize_phone(raw: str | None, normal: str) -> None:
    assert normalize_phone(raw) == normal


def _receiver(address: str, **extra: str) -> dict[str, str]:
    base = {"province": "上海市", "city": "上海市", "district": "徐汇区", "address": address}
    return base | extra


@pytest.mark.parametrize(
    "address",
    [
        "建设路936号2幢231室",
        " 建设路936号 2幢231室 ",
        "建设路９３６号２幢２３１室",
        "建设路 ９３６ 号\t2幢231室",
        "建设路936号2幢231室\u3000",
    ],
)
def test_address_variants_share_a_key(address: str) -> None:
    assert address_key(_receiver(address)) == address_key(_receiver("建设路936号2幢231室"))


def test_other_address_is_another_key() -> None:
    assert address_key(_receiver("建设路936号2幢231室B")) != address_key(
        _receiver("建设路936号2幢231室")
    )


def test_dedup_key_uses_the_sorted_set_of_skus() -> None:
    one = {"receiver": _receiver("a1", phone="138 1234 5678"), "items": []}
    one["items"] = [{"sku": "EYE-001", "qty": 1}, {"sku": "LIP-001", "qty": 2}]
    two = copy.deepcopy(one)
    two["receiver"]["phone"] = "+86 13812345678"
    two["items"] = [{"sku": "LIP-001", "qty": 1}, {"sku": "EYE-001", "qty": 1}]
    assert (
        dedup_key(one)
        == dedup_key(two)
        == ("13812345678", "上海市上海市徐汇区a1", ("EYE-001", "LIP-001"))
    )


@pytest.mark.parametrize(
    ("phone", "items", "reason"),
    [
        ("13812345678", [("LIP-001", 1)], None),
        ("", [("ZZZ-404", 0)], "missing_receiver_phone"),
        ("- -", [("LIP-001", 1)], "missing_receiver_phone"),
        ("13812345678", [("LIP-001", 0), ("ZZZ-404", 1)], "unknown_sku"),
        ("13812345678", [("LIP-001", 1), ("EYE-001", 0)], "bad_quantity"),
        ("13812345678", [("LIP-001", -1)], "bad_quantity"),
    ],
)
def test_invalid_reasons_in_order(phone: str, items: list, reason: str | None) -> None:
    order = {"receiver": {"phone": phone}, "items": [{"sku": s, "qty": q} for s, q in items]}
    assert invalid_reason(order, CATALOGUE) == reason


# -- small scenarios ---------------------------------------------------------------------


def _order(
    order_id: str,
    minute: int,
    *,
    phone: str = "13812345678",
    address: str = "建设路936号2幢231室",
    province: str = "上海市",
    items: list[tuple[str, int]] | None = None,
    status: str = "paid",
    second: int = 0,
) -> dict[str, Any]:
    created = f"2026-01-10T{minute // 60:02d}:{minute % 60:02d}:{second:02d}+08:00"
    return {
        "order_id": order_id,
        "created_at": created,
        "paid_at": created if status == "paid" else None,
        "updated_at": created,
        "status": status,
        "buyer": {"nick": "王明"},
        "receiver": {
            "name": "王明",
            "phone": phone,
            "province": province,
            "city": "x市",
            "district": "y区",
            "address": address,
        },
        "items": [
            {"sku": s, "title": s, "qty": q, "price": "1.00"}
            for s, q in (items or [("LIP-001", 1)])
        ],
        "amount": "1.00",
    }


def _scenario(
    channels: dict[str, list[dict[str, Any]]], on_hand: dict[str, int] | None = None
) -> dict[str, Any]:
    stock = {"LIP-001@east": 1000, "LIP-001@south": 1000, "EYE-001@east": 1000}
    stock |= on_hand or {}
    return {
        "rules": {"dedup_window_minutes": 60, "safety_stock": 10},
        "warehouses": [
            {"code": "east", "name": "华东仓", "provinces": ["上海市"]},
            {"code": "south", "name": "华南仓", "provinces": ["广东省"]},
        ],
        "default_warehouse": "east",
        "skus": [{"sku": s, "title": s, "price": "1.00"} for s in sorted(CATALOGUE)],
        "inventory": [
            {"sku": p.split("@")[0], "warehouse": p.split("@")[1], "on_hand": n}
            for p, n in stock.items()
        ],
        "channels": {"youzan": [], "douyin": [], "h5": []} | channels,
    }


@pytest.mark.parametrize(("gap", "is_duplicate"), [(0, True), (1, True), (60, True), (61, False)])
def test_dedup_window_is_60_minutes_inclusive(gap: int, is_duplicate: bool) -> None:
    sc = _scenario({"douyin": [_order("A", 100)], "youzan": [_order("B", 100 + gap)]})
    got = expected_outcomes(sc)
    if is_duplicate:
        assert got["duplicates"] == {"youzan:B": "douyin:A"}
        assert got["outcomes"]["youzan:B"] == "duplicate_review"
        assert "youzan:B" not in got["warehouses"]
    else:
        assert got["duplicates"] == {}
        assert got["outcomes"]["youzan:B"] == "shipped"


def test_60_minutes_and_one_second_is_not_a_duplicate() -> None:
    sc = _scenario({"h5": [_order("A", 100), _order("B", 160, second=1)]})
    assert expected_outcomes(sc)["duplicates"] == {}


def test_variants_of_phone_and_address_are_duplicates() -> None:
    later = _order("B", 130, phone="+86 138 1234 5678", address=" 建设路９３６号 2幢231室 ")
    sc = _scenario({"youzan": [_order("A", 100)], "h5": [later]})
    assert expected_outcomes(sc)["duplicates"] == {"h5:B": "youzan:A"}


@pytest.mark.parametrize(
    "earlier",
    [
        _order("A", 100, status="unpaid"),
        _order("A", 100, items=[("LIP-001", 0)]),  # bad quantity: same key, but invalid
    ],
    ids=["unpaid", "invalid"],
)
def test_unpaid_or_invalid_earlier_order_does_not_count(earlier: dict[str, Any]) -> None:
    later = _order("B", 110, items=[(i["sku"], 1) for i in earlier["items"]])
    sc = _scenario({"youzan": [earlier], "douyin": [later]})
    got = expected_outcomes(sc)
    assert dedup_key(earlier) == dedup_key(later)
    assert got["duplicates"] == {}
    assert got["outcomes"]["douyin:B"] == "shipped"


def test_flagged_duplicates_still_count_as_earlier() -> None:
    # A at 0, B at +50 (dup of A), C at +100: 100 minutes after A but 50 after B.
    sc = _scenario({"youzan": [_order("A", 0), _order("B", 50), _order("C", 100)]})
    got = expected_outcomes(sc)
    assert got["duplicates"] == {"youzan:B": "youzan:A", "youzan:C": "youzan:B"}


def test_duplicate_maps_to_the_latest_earlier_order() -> None:
    sc = _scenario(
        {"youzan": [_order("A", 0)], "douyin": [_order("B", 70)], "h5": [_order("C", 80)]}
    )
    got = expected_outcomes(sc)
    assert got["duplicates"] == {"h5:C": "douyin:B"}


def test_ties_by_channel_then_order_id() -> None:
    sc = _scenario({"youzan": [_order("A", 5)], "douyin": [_order("Z", 5)], "h5": [_order("B", 5)]})
    assert [f"{c}:{o['order_id']}" for c, o in processing_order(sc)] == [
        "douyin:Z",
        "h5:B",
        "youzan:A",
    ]
    assert expected_outcomes(sc)["duplicates"] == {"h5:B": "douyin:Z", "youzan:A": "h5:B"}


def test_warehouse_by_province_else_default() -> None:
    sc = _scenario(
        {
            "youzan": [
                _order("A", 0, phone="1", province="广东省"),
                _order("B", 0, phone="2", province="四川省"),
                _order("C", 0, phone="3", status="unpaid"),
            ]
        }
    )
    assert expected_outcomes(sc)["warehouses"] == {"youzan:A": "south", "youzan:B": "east"}


def test_stock_shipped_held_out_of_stock_and_one_alert_per_pair() -> None:
    # 13 on hand: 3 ship (13 -> 10), then held (9, 8), then a qty-9 order cannot be served.
    orders = [_order(f"O{i}", i, phone=f"1380000000{i}") for i in range(5)]
    orders.append(_order("O5", 10, phone="13800000099", items=[("LIP-001", 9)]))
    orders.append(_order("O6", 11, phone="13800000098", items=[("LIP-001", 8)]))
    got = expected_outcomes(_scenario({"youzan": orders}, {"LIP-001@east": 13}))
    assert got["stock_counts"] == {
        "LIP-001@east": {"shipped": 3, "held_low_stock": 3, "out_of_stock": 1}
    }
    assert got["purchase_alerts"] == ["LIP-001@east"]
    assert got["outcomes"] == {}  # every order touches the contended pair
    assert got["outcome_totals"]["held_low_stock"] == 3


def test_out_of_stock_reserves_nothing() -> None:
    orders = [
        _order("A", 0, phone="1", items=[("LIP-001", 1), ("EYE-001", 50)]),
        _order("B", 1, phone="2", items=[("EYE-001", 20)]),
    ]
    got = expected_outcomes(_scenario({"h5": orders}, {"EYE-001@east": 30}))
    # A asks 50 of 30: nothing reserved, so B still finds 30 and leaves 10 (not below 10).
    assert got["stock_counts"]["EYE-001@east"] == {
        "shipped": 1,
        "held_low_stock": 0,
        "out_of_stock": 1,
    }
    assert got["purchase_alerts"] == []


def test_uncontended_orders_keep_their_outcome() -> None:
    orders = [_order("A", 0, phone="1"), _order("B", 1, phone="2", items=[("EYE-001", 1)])]
    got = expected_outcomes(_scenario({"h5": orders}, {"EYE-001@east": 5}))
    assert got["outcomes"] == {"h5:A": "shipped"}
    assert got["stock_counts"] == {
        "EYE-001@east": {"shipped": 0, "held_low_stock": 1, "out_of_stock": 0}
    }
