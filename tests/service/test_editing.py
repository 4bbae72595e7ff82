"""What the editor reads beyond the other use cases: node counts and the save preview, over
a real (small) day run through the shipped workflow, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.errors import PermissionDenied, ValidationError
from engine.loader import load_workflow
from engine.store import Store
from service import review
from service.access import Actor
from service.editing import NodeCount, node_counts, order_figures, preview_save
from service.intake import run_intake
from service.scenarios import read_scenario
from service.versioning import save_version
from tests.ui.conftest import yesterday

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
TEXT = WORKFLOW.read_text(encoding="utf-8")
LI = Actor("li.wei", "ops_manager")


@pytest.fixture
def day(store: Store, tmp_path: Path) -> Store:
    """Yesterday's 60 generated orders through version 1 of the shipped workflow."""
    path = tmp_path / "day.json"
    write_scenario(generate_scenario(60, 2, day=yesterday().isoformat()), path)
    asyncio.run(save_version(store, LI, WORKFLOW, base=None, message="first"))
    info = read_scenario(path)
    with start_simulator(str(path), in_process=True) as sim:
        asyncio.run(
            run_intake(
                load_workflow(WORKFLOW), store, sim.systems, since=info.since, until=info.until
            )
        )
    return store


def test_node_counts_say_what_waits_where_and_what_passed_today(day: Store) -> None:
    counts = node_counts(day, LI, "order_intake")
    assert counts["paid"].passed_today == 60  # every order, run today
    assert counts["validate"].passed_today < 60  # unpaid ones stop before
    waiting = review.list_items(day, LI)
    per_queue = {q: sum(1 for i in waiting if i.queue == q) for q in ("review", "held")}
    assert per_queue["review"] >= 1
    assert counts["review"].waiting == per_queue["review"]
    held = [counts.get(n, NodeCount()).waiting for n in ("hold", "out_of_stock")]
    assert sum(held) == per_queue["held"]
    assert counts["stock"].waiting == 0
    with pytest.raises(PermissionDenied):
        node_counts(day, Actor("x", "nobody"), "order_intake")


def test_a_preview_diffs_replays_and_names_critical_changes_and_others_saves(
    day: Store,
) -> None:
    raised = TEXT.replace("default: 10", "default: 15", 1)
    preview = asyncio.run(preview_save(day, LI, raised, base=1))
    assert preview.changes == ["params.safety_stock.default: 10 → 15"]
    assert "-    default: 10\n+    default: 15" in preview.text
    assert preview.report is not None and preview.report.orders == 60
    assert not preview.someone_saved and preview.critical == []
    unmarked = TEXT.replace("critical: true", "critical: false", 1)
    critical = asyncio.run(preview_save(day, LI, unmarked, base=1))
    assert critical.critical and critical.needs_confirm
    other = TEXT.replace("default: 60", "default: 90", 1)
    asyncio.run(save_version(day, Actor("zhao.min", "ops_manager"), other, base=1, message="x"))
    late = asyncio.run(preview_save(day, LI, raised, base=1))
    assert late.someone_saved and late.latest == 2
    assert late.meanwhile == ["params.dedup_window_minutes.default: 60 → 90"]
    with pytest.raises(ValidationError):
        asyncio.run(preview_save(day, LI, TEXT.replace("type: stock_check", "type: nope"), base=1))
    assert sum(n for *_, n in order_figures(day, LI)) == 60
