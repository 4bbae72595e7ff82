"""Versions benchmark: `python -m bench.versions`. Prints figures; never fails on speed.

- diff time for two versions of a 200-node workflow (semantic and text), target < 50 ms;
- replay throughput on the 1,200-order day (orders through both versions per second),
  target: at least half the speed of a live run;
- rollback latency: from the call to the restored content being the active version, and
  to `orderhub run` resolving it, target well under 1 s.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from engine.loader import load_workflow
from engine.store import open_store
from service.scenarios import load_scenario
from service.targets import resolve
from versions.diff import semantic_diff, text_diff
from versions.replay import input_from_scenario, replay
from versions.store import rollback, save

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
DAY = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"


class _Ops:
    user, role = "bench", "ops_manager"


def big_workflow(nodes: int, threshold: int = 100) -> str:
    """A pull node, then `nodes - 2` conditions in a chain, then a finish node."""
    lines = [
        "id: big",
        "name: big",
        "params:",
        f"  limit: {{type: integer, default: {threshold}, minimum: 0}}",
        "nodes:",
        "  - {id: pull, type: pull, with: {channels: [h5]}, next: c1}",
    ]
    for i in range(1, nodes - 1):
        after = f"c{i + 1}" if i < nodes - 2 else "done"
        lines.append(
            f"  - {{id: c{i}, type: condition, with: {{when: 'order.amount > {i}'}}, "
            f"routes: {{true: {after}, false: {after}}}}}"
        )
    lines.append("  - {id: done, type: finish, with: {status: shipped}}")
    return "\n".join(lines) + "\n"


def diff_figures() -> dict[str, float]:
    old_text, new_text = big_workflow(200), big_workflow(200, threshold=150)
    old = load_workflow("big@v1", text=old_text)
    new = load_workflow("big@v2", text=new_text)
    runs = 20
    t = time.perf_counter()
    for _ in range(runs):
        changes = semantic_diff(old, new)
        text_diff(old_text, new_text, "big@v1", "big@v2")
    assert [str(c) for c in changes] == ["params.limit.default: 100 → 150"], changes
    return {"nodes": len(old.nodes), "diff_ms": 1000 * (time.perf_counter() - t) / runs}


def replay_figures() -> dict[str, float]:
    wf = load_workflow(WORKFLOW)
    edited = load_workflow(
        "edited", text=WORKFLOW.read_text(encoding="utf-8").replace("default: 10", "default: 20")
    )
    report = asyncio.run(replay(input_from_scenario(load_scenario(DAY)), wf, edited))
    return {
        "replay_orders": report.orders,
        "replay_seconds": report.seconds,
        "replay_orders_per_s": report.orders_per_second,
        "replay_changed": len(report.changed),
    }


def rollback_figures() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'v.db'}")
        text = WORKFLOW.read_text(encoding="utf-8")
        save(store, text, actor=_Ops(), base=None, message="v1")
        save(store, text.replace("default: 10", "default: 20"), actor=_Ops(), base=1, message="v2")
        t = time.perf_counter()
        done = rollback(store, "order_intake", 1, actor=_Ops(), reason="bench")
        target = resolve(store, "order_intake")
        to_run = time.perf_counter() - t
        assert target.workflow.text == text and target.label.endswith(f"v{done.version.number}")
        store.dispose()
    return {"rollback_ms": 1000 * done.seconds, "rollback_to_next_run_ms": 1000 * to_run}


def main() -> None:
    figures = {**diff_figures(), **rollback_figures(), **replay_figures()}
    for key, value in figures.items():
        print(f"  {key:<28} {value:,.2f}" if isinstance(value, float) else f"  {key:<28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
