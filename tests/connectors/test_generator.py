"""The project's scenario generator: shared format, realistic mix, deterministic, scales."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.oracle import expected_outcomes, normalize_phone

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ORDER_KEYS = [
    "order_id",
    "created_at",
    "paid_at",
    "updated_at",
    "status",
    "buyer",
    "receiver",
    "items",
    "amount",
]
ID_FORMAT = {"youzan": r"YZ\d{14}", "douyin": r"DY\d{14}", "h5": r"H5\d{14}"}


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return generate_scenario(2000, 7)


@pytest.fixture(scope="module")
def shared() -> dict[str, Any]:
    return json.loads((FIXTURES / "intake-1200-s7.json").read_text(encoding="utf-8"))


def _orders(sc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(ch, o) for ch, orders in sc["channels"].items() for o in orders]


def test_same_seed_same_output_and_seeds_differ() -> None:
    one = generate_scenario(300, 5)
    assert json.dumps(one, ensure_ascii=False) == json.dumps(
        generate_scenario(300, 5), ensure_ascii=False
    )
    other = generate_scenario(300, 6)
    assert other["channels"] != one["channels"]
    assert other["scenario"] == "intake-300-s6"


def test_format_has_every_key_of_the_shared_files(
    scenario: dict[str, Any], shared: dict[str, Any]
) -> None:
    assert list(scenario) == list(shared)
    assert scenario["format"] == 1
    assert scenario["scenario"] == "intake-2000-s7"
    assert scenario["window"] == shared["window"]
    assert scenario["rules"] == shared["rules"]
    assert scenario["warehouses"] == shared["warehouses"]
    assert scenario["default_warehouse"] == shared["default_warehouse"]
    assert scenario["skus"] == shared["skus"]
    assert [(r["sku"], r["warehouse"]) for r in scenario["inventory"]] == [
        (r["sku"], r["warehouse"]) for r in shared["inventory"]
    ]
    assert list(scenario["channels"]) == list(shared["channels"])
    assert list(scenario["expected"]) == list(shared["expected"])
    for channel, order in _orders(scenario):
        assert list(order) == ORDER_KEYS
        assert re.fullmatch(ID_FORMAT[channel], order["order_id"])
        assert order["order_id"][2:10] == order["created_at"][:10].replace("-", "")
        assert list(order["receiver"]) == list(shared["channels"]["youzan"][0]["receiver"])
        assert order["status"] in {"paid", "unpaid"}


def test_orders_are_internally_consistent(scenario: dict[str, Any]) -> None:
    refs = set()
    for channel, order in _orders(scenario):
        refs.add(f"{channel}:{order['order_id']}")
        created = datetime.fromisoformat(order["created_at"])
        updated = datetime.fromisoformat(order["updated_at"])
        if order["status"] == "paid":
            paid = datetime.fromisoformat(order["paid_at"])
            assert created < paid < updated
        else:
            assert order["paid_at"] is None
            assert created < updated
        cents = sum(int(i["price"].replace(".", "")) * i["qty"] for i in order["items"])
        assert order["amount"] == f"{cents // 100}.{cents % 100:02d}"
        assert len({i["sku"] for i in order["items"]}) == len(order["items"])
    assert len(refs) == 2000
    for orders in scenario["channels"].values():
        assert [o["created_at"] for o in orders] == sorted(o["created_at"] for o in orders)


def test_expected_comes_from_the_oracle(scenario: dict[str, Any]) -> None:
    expected = dict(scenario["expected"])
    assert expected.pop("planted") == {"dup": 50, "near_miss": 33}
    assert expected == expected_outcomes(scenario)


def test_every_outcome_and_reason_is_present(scenario: dict[str, Any]) -> None:
    expected = scenario["expected"]
    assert expected["orders_total"] == 2000
    assert sum(expected["outcome_totals"].values()) == 2000
    assert all(expected["outcome_totals"][name] > 0 for name in expected["outcome_totals"])
    assert len(expected["outcome_totals"]) == 6
    assert set(expected["invalid_reasons"].values()) == {
        "missing_receiver_phone",
        "unknown_sku",
        "bad_quantity",
    }
    assert expected["purchase_alerts"]
    assert set(expected["stock_counts"]) == set(expected["purchase_alerts"])
    for counts in expected["stock_counts"].values():
        assert all(counts[name] > 0 for name in ("shipped", "held_low_stock", "out_of_stock"))


def test_distribution_is_realistic(scenario: dict[str, Any]) -> None:
    orders = _orders(scenario)
    totals = scenario["expected"]["outcome_totals"]
    assert 10 <= totals["awaiting_payment"] <= 30
    assert 10 <= totals["invalid"] <= 30
    assert totals["shipped"] > 0.85 * len(orders)
    shares = Counter(ch for ch, _ in orders)
    assert all(0.25 < shares[ch] / len(orders) < 0.42 for ch in ("youzan", "douyin", "h5"))
    lines = Counter(len(o["items"]) for _, o in orders)
    assert lines[1] > lines[2] > 0 and lines[3] > 0
    phones = [o["receiver"]["phone"] for _, o in orders]
    assert any(p.startswith("+86 ") for p in phones)
    assert any(re.fullmatch(r"\d{3} \d{4} \d{4}", p) for p in phones)
    assert any(p == "" for p in phones)
    addresses = [o["receiver"]["address"] for _, o in orders]
    assert any(a != a.strip() for a in addresses)
    assert any(re.search("[０-９]", a) for a in addresses)
    end = scenario["window"]["end"]
    assert any(
        datetime.fromisoformat(o["updated_at"]) > datetime.fromisoformat(end) for _, o in orders
    )
    assert len(scenario["expected"]["warehouses"]) == len(orders) - sum(
        totals[k] for k in ("awaiting_payment", "invalid", "duplicate_review")
    )


def test_planted_counts_match_the_oracle(scenario: dict[str, Any]) -> None:
    expected = scenario["expected"]
    assert expected["planted"]["dup"] == len(expected["duplicates"])
    assert expected["planted"]["dup"] == expected["outcome_totals"]["duplicate_review"]
    # Near misses: a second order from the same phone that is not a duplicate.
    by_phone = Counter(
        normalize_phone(o["receiver"]["phone"])
        for ch, o in _orders(scenario)
        if f"{ch}:{o['order_id']}" not in expected["duplicates"]
    )
    by_phone.pop("", None)
    assert sum(n - 1 for n in by_phone.values()) == expected["planted"]["near_miss"]


def test_write_scenario_round_trips(tmp_path: Path) -> None:
    sc = generate_scenario(120, 3)
    path = tmp_path / "intake-120-s3.json"
    write_scenario(sc, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == sc
    assert text == json.dumps(sc, ensure_ascii=False, indent=1) + "\n"
    assert "华东仓" in text


@pytest.mark.parametrize("orders", [0, 1, 49, 100])
def test_small_days_still_work(orders: int) -> None:
    sc = generate_scenario(orders, 1)
    assert sc["expected"]["orders_total"] == orders
    assert sc["expected"]["planted"]["dup"] == len(sc["expected"]["duplicates"])


def test_fifty_thousand_orders() -> None:
    sc = generate_scenario(50_000, 11)
    assert sum(len(orders) for orders in sc["channels"].values()) == 50_000
    assert sc["expected"]["orders_total"] == 50_000
