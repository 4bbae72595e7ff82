"""Replay: the 1,200-order day through the active version and a candidate, nothing real."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from engine.loader import load_workflow
from service.scenarios import load_scenario
from versions.replay import input_from_scenario, replay

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
SCENARIO = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"


def without_stock_check() -> str:
    """The incident: someone deletes the stock check (and the paths only it led to)."""
    text = WORKFLOW.read_text(encoding="utf-8")
    start = text.index("  - id: stock\n")
    end = text.index("  - id: waybill\n")
    text = text[:start] + text[end:]
    text = text.replace("    next: stock\n", "    next: waybill\n")
    for node in ("hold", "out_of_stock"):
        start = text.index(f"  - id: {node}\n")
        end = text.index("\n\n", start) + 2 if "\n\n" in text[start:] else len(text)
        text = text[:start] + text[end:]
    return text


def test_replay_of_the_same_version_changes_nothing() -> None:
    wf = load_workflow(WORKFLOW)
    report = asyncio.run(replay(input_from_scenario(load_scenario(SCENARIO)), wf, wf))
    assert report.orders == 1200
    assert report.changed == {} and report.oversold == [] and report.changes == []


def test_removing_the_stock_check_lists_the_orders_that_would_oversell() -> None:
    active = load_workflow(WORKFLOW)
    candidate = load_workflow("candidate.yaml", text=without_stock_check())
    data = input_from_scenario(load_scenario(SCENARIO))
    report = asyncio.run(replay(data, active, candidate))
    expected = json.loads(SCENARIO.read_text(encoding="utf-8"))["expected"]
    out = sum(c["out_of_stock"] for c in expected["stock_counts"].values())
    held = sum(c["held_low_stock"] for c in expected["stock_counts"].values())
    assert any("stock" in c and "critical" in c for c in report.changes)
    assert len(report.oversold) == out  # 20 orders shipped with no stock left for them
    assert {k: len(v) for k, v in report.groups.items()} == {
        "held_low_stock → shipped; queue held → none (skips stock, skips hold, via waybill, "
        "via shipped)": held,
        "out_of_stock → shipped; queue held → none (skips stock, skips out_of_stock, "
        "via waybill, via shipped)": out,
    }
    assert set(report.oversold) <= set(report.changed)
    assert report.as_dict()["oversold"] == sorted(report.oversold)


def test_replay_from_the_cli_and_who_may_run_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    cli = CliRunner()
    db = ["--db", str(tmp_path / "v.db")]
    saved = cli.invoke(
        app, ["versions", "save", str(WORKFLOW), "-m", "first", "--as", "li.wei:ops_manager", *db]
    )
    assert saved.exit_code == 0, saved.output
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(without_stock_check(), encoding="utf-8")
    args = [
        "versions",
        "replay",
        "order_intake",
        str(candidate),
        "--scenario",
        str(SCENARIO),
        *db,
        "--json",
    ]
    denied = cli.invoke(app, [*args, "--as", "wu.lei:warehouse"])
    assert denied.exit_code == 1 and "may not versions.replay" in denied.output
    done = cli.invoke(app, [*args, "--as", "zhao.min:auditor"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert len(data["oversold"]) == 20 and len(data["changed"]) == 50


def test_a_save_whose_replay_changes_outcomes_needs_confirm_and_records_it(store) -> None:
    import pytest

    from engine.errors import InvalidInput
    from service import versioning
    from service.access import Actor
    from versions.audit import list_entries
    from versions.store import list_versions

    def save_version(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return asyncio.run(versioning.save_version(*args, **kwargs))

    li = Actor("li.wei", "ops_manager")
    save_version(store, li, str(WORKFLOW), base=None, message="first")
    lower = WORKFLOW.read_text(encoding="utf-8").replace("    default: 10", "    default: 5")
    with pytest.raises(InvalidInput, match="would be decided differently"):
        save_version(
            store, li, lower, base=1, message="less safety stock", replay_scenario=str(SCENARIO)
        )
    assert len(list_versions(store, "order_intake")) == 1  # nothing saved
    v2 = save_version(
        store,
        li,
        lower,
        base=1,
        message="less safety stock",
        confirm=True,
        replay_scenario=str(SCENARIO),
    )
    assert v2.number == 2 and v2.confirmed
    saved = [e for e in list_entries(store) if e.action == "save"][-1]
    assert saved.detail["replay"]["changed"] > 0
    assert saved.detail["replay"]["oversold"] == 0
