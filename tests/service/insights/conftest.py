"""Generated histories for the insights' tests: small (42 days of ~100 orders), made once."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from connectors.simulator.history import generate_history, write_history
from engine.store import Store
from service.access import Actor
from service.insights.facts import refresh
from service.insights.imports import import_orders, import_stock

KEY = b"insights-test-key-0123456789"
OPS = Actor("li.wei", "ops_manager")
DAYS = 42


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A history with a planted hot SKU and a planted high-return group (seed 3)."""
    return _written(tmp_path_factory, generate_history(DAYS, 100, 3))


@pytest.fixture(scope="session")
def flat(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same kind of history without a hot SKU (seed 4)."""
    return _written(tmp_path_factory, generate_history(DAYS, 100, 4, flat=True))


def _written(factory: pytest.TempPathFactory, history: dict[str, Any]) -> dict[str, Any]:
    folder = factory.mktemp(history["scenario"])
    files = write_history(history, folder / "history.json")
    manifest = json.loads(files["manifest"].read_text(encoding="utf-8"))
    return {"files": files, "manifest": manifest, "expected": manifest["expected"]}


def load(store: Store, history: dict[str, Any]) -> None:
    """Import a written history's three channel exports and its stock, as a brand would."""
    files = history["files"]
    refresh(store, KEY)  # records the key: the import then writes the orders' facts itself
    for channel in ("youzan", "douyin", "h5"):
        import_orders(store, OPS, files[channel], channel, key=KEY)
    import_stock(store, OPS, files["stock"])


def export_day(history: dict[str, Any]) -> date:
    """The day the history was exported: the day after its last day (the tests' today)."""
    return date.fromisoformat(history["expected"]["window"]["last_day"]) + timedelta(days=1)


def first_day(history: dict[str, Any]) -> date:
    return date.fromisoformat(history["expected"]["window"]["first_day"])
