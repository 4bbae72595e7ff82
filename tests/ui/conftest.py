"""A store with a real day in it for the editor's tests, built once per test session.

Yesterday's generated orders (100, with possible duplicates, held, invalid and unpaid ones)
run through workflows/order_intake.yaml against the simulator over loopback HTTP into a
SQLite file; the users boss (admin), li.wei (ops_manager), zhao.min (ops_manager), wang.fang
(reviewer), wu.lei (warehouse) and qian.li (auditor) can sign in with `PASSWORD`. Each
test gets its own copy of the file.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.loader import load_workflow
from engine.store import open_store
from service.access import Actor
from service.intake import run_intake
from service.passwords import set_password
from service.roles import grant
from service.scenarios import read_scenario
from service.versioning import save_version

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
PASSWORD = "orderhub-demo"
USERS = {
    "boss": "admin",
    "li.wei": "ops_manager",
    "zhao.min": "ops_manager",
    "wang.fang": "reviewer",
    "wu.lei": "warehouse",
    "qian.li": "auditor",
}


def yesterday() -> date:
    """Yesterday in China time: a generated day then falls in the replay's last 7 days."""
    return (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1)).date()


def build_day_store(
    folder: Path,
    orders: int = 100,
    seed: int = 2,
    options: Callable[[dict[str, Any]], SimOptions] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """A SQLite file holding yesterday's (China time) orders run through version 1, the
    simulator started with `options(scenario)` when given."""
    scenario = generate_scenario(orders, seed, day=yesterday().isoformat())
    path = folder / "day.json"
    write_scenario(scenario, path)
    db = folder / "orderhub.db"
    store = open_store(f"sqlite:///{db}")
    boss = Actor("boss", "admin")
    try:
        for user, role in USERS.items():
            grant(store, boss, user, role, "editor tests")
            set_password(store, boss, user, PASSWORD)
        asyncio.run(save_version(store, boss, WORKFLOW, base=None, message="first"))
        info = read_scenario(path)
        chosen = options(scenario) if options is not None else None
        with start_simulator(str(path), in_process=True, options=chosen) as sim:
            asyncio.run(
                run_intake(
                    load_workflow(WORKFLOW), store, sim.systems, since=info.since, until=info.until
                )
            )
    finally:
        store.dispose()
    return db, scenario


@pytest.fixture(scope="session")
def day_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return build_day_store(tmp_path_factory.mktemp("editor-day"))


@pytest.fixture
def ui_db(
    day_store: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A copy of the day's store, named by ORDERHUB_DB for the editor; its URL."""
    return use_copy(day_store[0], tmp_path, monkeypatch)


def use_copy(db: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Copy the SQLite file `db` into `folder` and name it by ORDERHUB_DB; its URL."""
    copy = folder / "orderhub.db"
    for part in db.parent.glob(db.name + "*"):
        shutil.copy(part, folder / part.name)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("ORDERHUB_DB", url)
    monkeypatch.delenv("ORDERHUB_CONFIG", raising=False)
    return url
