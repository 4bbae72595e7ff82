"""The history generator: deterministic, planted findings where they belong, CSV exports."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from connectors.simulator.history import ORDER_COLUMNS, generate_history


def test_same_seed_same_history_and_flat_has_no_hot_sku() -> None:
    one = generate_history(35, 40, 9)
    assert json.dumps(one, ensure_ascii=False) == json.dumps(
        generate_history(35, 40, 9), ensure_ascii=False
    )
    flat = generate_history(35, 40, 9, flat=True)
    assert flat["expected"]["hot_sku"] is None
    assert all(i["sku"] != "LIP-101" for o in flat["channels"]["youzan"] for i in o["items"])


def test_planted_hot_sku_sells_out_inside_the_window(planted: dict[str, Any]) -> None:
    hot = planted["expected"]["hot_sku"]
    assert hot["sku"] == "LIP-101"
    window = planted["expected"]["window"]
    assert window["first_day"] < hot["launched_on"] < hot["sells_out_on"] <= window["last_day"]


def test_channels_complete_payment_differently(planted: dict[str, Any]) -> None:
    funnel = planted["expected"]["funnel"]
    completion = {c: f["payment_completion"] for c, f in funnel.items()}
    assert completion["youzan"] > completion["h5"] > completion["douyin"]
    for f in funnel.values():
        assert f["created"] > f["paid"] > f["shipped"] > f["returned"] > 0


def test_exports_have_one_row_per_line(planted: dict[str, Any]) -> None:
    with open(planted["files"]["youzan"], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == ORDER_COLUMNS
    assert len({r["order_id"] for r in rows}) == planted["expected"]["funnel"]["youzan"]["created"]
    assert planted["manifest"]["files"]["stock"].endswith(".stock.csv")


@pytest.mark.parametrize(("days", "flat"), [(20, True), (30, False)])
def test_too_short_a_history_is_refused(days: int, flat: bool) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_history(days, 50, 1, flat=flat)
