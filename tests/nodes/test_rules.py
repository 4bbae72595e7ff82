"""Normalisation and validity rules, as the scenario README states them."""

from __future__ import annotations

import pytest

from engine.order import Order
from nodes.rules import full_address, key_part, normalise_phone, order_problems

CATALOGUE = frozenset({"LIP-001", "EYE-002"})


def make_order(**overrides: object) -> Order:
    data = {
        "channel": "h5",
        "order_id": "H1",
        "created_at": "2026-01-10T10:00:00+08:00",
        "updated_at": "2026-01-10T10:05:00+08:00",
        "status": "paid",
        "receiver": {
            "name": "王英",
            "phone": "13812345678",
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "address": "科技园路576号11幢2296室",
        },
        "items": [{"sku": "LIP-001", "qty": 1, "price": "129.00"}],
        "amount": "129.00",
    }
    for key, value in overrides.items():
        if key in ("phone", "address", "province"):
            data["receiver"][key] = value
        else:
            data[key] = value
    return Order.model_validate(data)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("８６13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86138123456", "86138123456"),  # 11 digits: the 86 is part of the number
        ("", ""),
        ("无", ""),
    ],
)
def test_phone_normalisation(raw: str, normal: str) -> None:
    assert normalise_phone(raw) == normal


@pytest.mark.parametrize(
    "address",
    ["科技园路576号11幢2296室", " 科技园路576号 11幢2296室 ", "科技园路５７６号１１幢２２９６室"],
)
def test_address_variants_normalise_alike(address: str) -> None:
    assert (
        full_address(make_order(address=address)) == "上海市上海市浦东新区科技园路576号11幢2296室"
    )


def test_sku_key_part_is_a_sorted_set() -> None:
    order = make_order(
        items=[
            {"sku": "EYE-002", "qty": 1, "price": "1"},
            {"sku": "LIP-001", "qty": 2, "price": "1"},
            {"sku": "EYE-002", "qty": 1, "price": "1"},
        ]
    )
    assert key_part(order, "items.sku") == "EYE-002,LIP-001"


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({}, []),
        ({"phone": ""}, ["missing_receiver_phone"]),
        ({"phone": "n/a"}, ["missing_receiver_phone"]),
        ({"items": [{"sku": "NOPE-1", "qty": 1, "price": "1"}]}, ["unknown_sku"]),
        ({"items": [{"sku": "LIP-001", "qty": 0, "price": "1"}]}, ["bad_quantity"]),
        ({"items": [{"sku": "LIP-001", "qty": -2, "price": "1"}]}, ["bad_quantity"]),
        (
            {"phone": "", "items": [{"sku": "NOPE-1", "qty": 0, "price": "1"}]},
            ["missing_receiver_phone", "unknown_sku", "bad_quantity"],
        ),
    ],
)
def test_order_problems_in_rule_order(overrides: dict, problems: list[str]) -> None:
    assert order_problems(make_order(**overrides), CATALOGUE) == problems
