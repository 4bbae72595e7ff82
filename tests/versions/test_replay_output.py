"""What `orderhub versions replay` prints: never Python's None, and a hint when the range of
days holds no orders."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner

from engine.ingest import IngestResult, store_orders
from engine.loader import load_workflow
from engine.runner import RunEnv
from engine.store import Store
from service import versioning
from service.cli import app
from service.scenarios import load_scenario
from tests.versions.documents import AUDITOR, LI, WORKFLOW
from tests.versions.test_replay import SCENARIO, without_stock_check
from versions.replay import input_from_scenario, order_dates
from versions.store import save

cli = CliRunner()


def seed_orders(store: Store) -> None:
    """The 1,200-order day (all created 2026-01-10) stored as pulled, not yet run."""
    data = input_from_scenario(load_scenario(SCENARIO))
    env = RunEnv(load_workflow(WORKFLOW), store, connectors=None, draft=True, dry_run=True)
    with store.engine.begin() as conn:
        store_orders(env, conn, data.orders, IngestResult())
    env.close()


def test_an_empty_range_says_which_days_the_store_holds(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    seed_orders(store)
    report = asyncio.run(versioning.replay_version(store, AUDITOR, "order_intake", "1", days=7))
    assert report.orders == 0
    first, last = order_dates(store) or (None, None)
    assert (first.date(), last.date()) == (date(2026, 1, 9), date(2026, 1, 10))  # +08:00 day
    needed = (datetime.now(UTC).replace(tzinfo=None) - first).days + 1
    assert report.hint == (
        "no order in the store was created in the last 7 day(s); it holds orders created "
        f"2026-01-09 to 2026-01-10 (UTC): replay the last {needed} days to include them all, "
        "or a scenario's orders"
    )
    wide = asyncio.run(versioning.replay_version(store, AUDITOR, "order_intake", "1", days=needed))
    assert wide.orders == 1200 and wide.hint is None


def test_an_empty_store_says_so(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    report = asyncio.run(versioning.replay_version(store, AUDITOR, "order_intake", "1"))
    assert report.orders == 0
    assert report.hint == "the store holds no orders yet: replay a scenario's orders instead"


def test_the_printed_report_has_no_python_none(db_url: str, tmp_path: Path) -> None:
    db = ["--db", db_url]
    saved = cli.invoke(
        app, ["versions", "save", str(WORKFLOW), "-m", "first", *db, "--as", "li.wei:ops_manager"]
    )
    assert saved.exit_code == 0, saved.output
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(without_stock_check(), encoding="utf-8")
    args = ["versions", "replay", "order_intake", str(candidate), "--scenario", str(SCENARIO)]
    done = cli.invoke(app, [*args, *db, "--as", "zhao.min:auditor"])
    assert done.exit_code == 0, done.output
    assert "queue held → none" in done.stdout  # the change is there, in words
    assert "None" not in done.stdout

    empty = cli.invoke(
        app, ["versions", "replay", "order_intake", "1", *db, "--as", "zhao.min:auditor"]
    )
    assert empty.exit_code == 0
    assert "# replayed 0 orders" in empty.stdout
    assert "hint: the store holds no orders yet" in empty.stdout
