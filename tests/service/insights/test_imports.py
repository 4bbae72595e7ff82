"""Importing history: a bad row stops the file with FILE:LINE, writes nothing, names no
phone; roles are checked in the service layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.errors import InputError, PermissionDenied
from engine.store import Store
from engine.store import insights as facts_store
from engine.store.insight_models import InsightLine, InsightOrder
from engine.store.models import OrderRow
from service.access import Actor
from service.insights.channels import channel_health
from service.insights.facts import refresh
from service.insights.hot_skus import check_hot_skus
from service.insights.imports import import_orders
from service.insights.inputs import insight_settings
from tests.service.insights.conftest import KEY, OPS, load


def _first_row_from(lines: list[str], line: int) -> int:
    """The first line number >= `line` that starts an order (its order columns count)."""
    while lines[line - 1].split(",")[0] == lines[line - 2].split(",")[0]:
        line += 1
    return line


def _broken(source: Path, tmp_path: Path, line: int, column: str, value: str) -> Path:
    lines = source.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    out = tmp_path / "broken.csv"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("status", "WAIT_BUYER_PAY", "status 'WAIT_BUYER_PAY' is not one of"),
        ("created_at", "2026-13-01", "created_at '2026-13-01' is not a time"),
        ("qty", "0", "qty '0' is not a positive whole number"),
    ],
)
def test_a_bad_row_imports_nothing(
    store: Store, planted: dict[str, Any], tmp_path: Path, column: str, value: str, says: str
) -> None:
    source = planted["files"]["h5"]
    line = _first_row_from(source.read_text(encoding="utf-8").splitlines(), 40)
    broken = _broken(source, tmp_path, line, column, value)
    with pytest.raises(InputError) as caught:
        import_orders(store, OPS, broken, "h5")
    message = str(caught.value)
    assert message.startswith(f"{broken}:{line}:") and says in message
    assert "\n" not in message
    phone = source.read_text(encoding="utf-8").splitlines()[line - 1].split(",")[9]
    assert phone not in message
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderRow)).scalar_one() == 0


def test_rows_of_one_order_must_be_together(store: Store, tmp_path: Path) -> None:
    head = "order_id,status,created_at,paid_at,sku,qty,price\n"
    row = "{},paid,2026-01-02 10:00:00,2026-01-02 10:01:00,LIP-001,1,129.00\n"
    path = tmp_path / "unsorted.csv"
    path.write_text(head + row.format("A1") + row.format("B1") + row.format("A1"), "utf-8")
    with pytest.raises(InputError, match="appears again after other orders"):
        import_orders(store, OPS, path, "h5")


def test_facts_written_by_the_import_are_those_a_refresh_derives(
    store: Store, planted: dict[str, Any]
) -> None:
    load(store, planted)
    written = _facts(store)
    assert refresh(store, KEY).indexed == 0  # nothing stale after the import
    with store.engine.begin() as conn:
        facts_store.clear_facts(conn)
    assert refresh(store, KEY).indexed == len(written[0])
    assert _facts(store) == written


def _facts(store: Store) -> tuple[list[Any], list[Any]]:
    with store.engine.connect() as conn:
        orders = conn.execute(select(InsightOrder).order_by(InsightOrder.order_pk)).all()
        lines = conn.execute(
            select(InsightLine).order_by(InsightLine.order_pk, InsightLine.sku)
        ).all()
    return [tuple(r) for r in orders], [tuple(r) for r in lines]


@pytest.mark.parametrize("role", ["warehouse", "reviewer"])
def test_roles_without_insights_read_are_refused(store: Store, role: str) -> None:
    with pytest.raises(PermissionDenied, match="insights.read"):
        channel_health(store, Actor("x", role), key=KEY)


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_readers_may_not_raise_alerts_or_import(store: Store, role: str, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="insights.alert"):
        check_hot_skus(store, Actor("x", role), key=KEY)
    with pytest.raises(PermissionDenied, match="history.import"):
        import_orders(store, Actor("x", role), tmp_path / "any.csv", "h5")


def test_customer_keys_need_a_key() -> None:
    with pytest.raises(InputError, match=r"\[insights\]"):
        insight_settings(None, env={}).require_key()
    with pytest.raises(InputError, match="too short"):
        insight_settings(None, env={"ORDERHUB_INSIGHTS_KEY": "short"})
    assert insight_settings(None, env={"ORDERHUB_INSIGHTS_KEY": "x" * 20}).require_key()
