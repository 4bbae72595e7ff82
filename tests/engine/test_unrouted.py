"""Every outcome a node type can emit is routed, unless the type says the run may end on it.

The validator names each unrouted outcome at its node; a version saved before that rule
still lists, shows and diffs but is refused to run with the validator's message; and at run
time an outcome with nowhere to go (a plug-in emitting one it never declared) fails the run
loudly instead of completing it with the order half done.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from typer.testing import CliRunner

from engine import registry
from engine.dispatch import unfinished_runs
from engine.errors import ValidationError
from engine.ingest import Batch, SourceContext, ingest
from engine.loader import check_workflow, load_workflow
from engine.node import BaseNode, Outcome
from engine.registry import node
from engine.runner import RunEnv, Runner
from engine.store import Store, open_store
from engine.store.models import OrderRow, RunRow
from nodes.stock import StockCheck
from service.cli import app
from tests.engine.documents import VALID, broken

ROOT = Path(__file__).resolve().parents[2]
INTAKE = (ROOT / "workflows" / "order_intake.yaml").read_text(encoding="utf-8")
SCENARIO = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"


def test_each_unrouted_outcome_is_named_at_its_node():
    text = broken("routes: {ok: waybill, low: review, out: review}", "routes: {ok: waybill}")
    problems = [p for p in check_workflow("intake.yaml", text=text) if "nowhere" in p.message]
    assert [(p.line, p.column, p.message.split(":")[0]) for p in problems] == [
        (27, 5, "node 'stock' routes outcome 'low' of t_stock nowhere"),
        (27, 5, "node 'stock' routes outcome 'out' of t_stock nowhere"),
    ]


def test_next_routes_every_outcome_and_a_terminal_outcome_may_end_the_run():
    text = broken("routes: {ok: waybill, low: review, out: review}", "next: waybill")
    assert check_workflow("intake.yaml", text=text) == []
    assert "routes:" not in VALID.split("id: shipped")[1]  # t_end's `done` goes nowhere: fine
    assert check_workflow("intake.yaml", text=VALID) == []


def test_terminal_must_name_outcomes_of_the_type():
    with pytest.raises(TypeError, match="`terminal` must be a tuple of its outcomes"):

        @node("t_bad_terminal")
        class Bad:
            """Declares an end outcome it cannot emit."""

            class Params(BaseModel):
                pass

            outcomes = ("a",)
            terminal = ("b",)

    described = {d["type"]: d for d in map(registry.describe, registry.all_types().values())}
    assert described["finish"]["terminal"] == ["done"]
    assert described["exception_route"]["terminal"] == ["queued"]
    assert described["stock_check"]["terminal"] == []


# --- run time: an outcome the graph cannot route fails the run ---------------------------

FEED = [
    {
        "channel": "h5",
        "order_id": f"H{n}",
        "created_at": "2026-01-10T08:00:00+08:00",
        "updated_at": "2026-01-10T08:00:00+08:00",
        "status": "paid",
        "amount": 10,
    }
    for n in range(3)
]


@node("t_feed")
class TFeed(BaseNode):
    """Yield the orders of FEED (a source for this module's runs)."""

    class Params(BaseModel):
        pass

    outcomes = ("pulled",)
    source = True

    async def pull(self, ctx: SourceContext):
        yield Batch("t_feed", datetime(2026, 1, 10, tzinfo=UTC), [(o, dict(o)) for o in FEED])


@node("t_liar")
class TLiar(BaseNode):
    """Declares `a` but emits `b` (a plug-in bug the validator cannot see)."""

    class Params(BaseModel):
        pass

    outcomes = ("a",)

    async def run(self, order, ctx) -> Outcome:
        return Outcome("b")


GUARDED = """\
id: guarded
name: guarded
nodes:
  - {id: feed, type: t_feed, next: liar}
  - {id: liar, type: t_liar, routes: {a: done}}
  - {id: done, type: finish, with: {status: done}}
"""


def test_an_outcome_with_nowhere_to_go_fails_the_run_loudly(store: Store):
    workflow = load_workflow("guarded.yaml", text=GUARDED)

    async def go() -> list[str | None]:
        env = RunEnv(workflow, store, connectors=None)
        try:
            await ingest(env)
            runner = Runner(env)
            return [await runner.finish(r) for r in unfinished_runs(store, "guarded", env.version)]
        finally:
            env.close()

    assert asyncio.run(go()) == ["failed"] * 3
    with store.session() as session:
        runs = session.execute(select(RunRow.status, RunRow.error)).all()
        orders = session.execute(select(OrderRow.status, OrderRow.reason)).all()
    assert {status for status, _ in runs} == {"failed"}
    assert all("took outcome 'b', which the workflow routes nowhere" in e for _, e in runs)
    assert {status for status, _ in orders} == {"failed"}
    assert all("routes nowhere" in reason for _, reason in orders)


# --- a version saved before the rule ----------------------------------------------------

cli = CliRunner()
LI = ["--as", "li.wei:ops_manager"]
NO_OUT = INTAKE.replace(
    "    routes: {ok: waybill, low: hold, out: out_of_stock}\n",
    "    routes: {ok: waybill, low: hold}\n",
).replace(
    "  - id: out_of_stock\n    type: exception_route\n"
    "    description: waits for the ERP to report stock, then reserves it, oldest paid first\n"
    "    with: {queue: held, status: out_of_stock}\n"
    "    routes: {restocked: waybill, cancel: cancelled}\n\n",
    "",
)

STOCK_LINE = NO_OUT.splitlines().index("  - id: stock") + 1


def test_a_version_saved_before_the_rule_lists_shows_and_diffs_but_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert NO_OUT != INTAKE and "out_of_stock" not in NO_OUT
    db = ["--db", str(tmp_path / "v.db")]
    first, old = tmp_path / "first.yaml", tmp_path / "old.yaml"
    first.write_text(INTAKE, encoding="utf-8")
    old.write_text(NO_OUT, encoding="utf-8")
    assert cli.invoke(app, ["versions", "save", str(first), "-m", "1", *LI, *db]).exit_code == 0
    with monkeypatch.context() as before_the_rule:  # `out` could end a run back then
        before_the_rule.setattr(StockCheck, "terminal", ("ok", "low", "out"))
        saved = cli.invoke(app, ["versions", "save", str(old), "-m", "2", "--base", "1", *LI, *db])
        assert saved.exit_code == 0, saved.output
    assert any("routes outcome 'out'" in p.message for p in check_workflow("old.yaml", text=NO_OUT))

    for args in (["list", "order_intake"], ["show", "order_intake", "2"]):
        shown = cli.invoke(app, ["versions", *args, *LI, *db])
        assert shown.exit_code == 0, shown.output
    diff = cli.invoke(app, ["versions", "diff", "order_intake", "1", "2", *LI, *db])
    assert diff.exit_code == 0, diff.output
    assert "out_of_stock" in diff.output

    activated = cli.invoke(app, ["versions", "activate", "order_intake", "2", *LI, *db])
    assert activated.exit_code == 0, activated.output
    ran = cli.invoke(app, ["run", "order_intake", "--scenario", str(SCENARIO), *db])
    assert ran.exit_code == 1
    assert (
        f"order_intake@v2:{STOCK_LINE}:5: node 'stock' routes outcome 'out' of stock_check "
        "nowhere" in ran.output
    ), ran.output
    back = cli.invoke(app, ["versions", "rollback", "order_intake", "2", "--reason", "r", *LI, *db])
    assert back.exit_code == 1 and "routes outcome 'out'" in back.output
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        with store.session() as session:
            assert session.scalars(select(RunRow.id)).all() == []  # refused before any run
    finally:
        store.dispose()


def test_a_saved_document_keeps_newer_rule_problems_as_refusals():
    text = broken("routes: {ok: waybill, low: review, out: review}", "routes: {ok: waybill}")
    text = broken("""'order.status == "paid"'""", """'order.amount > "500"'""", text)
    with pytest.raises(ValidationError):
        load_workflow("v3", text=text)  # a new document: refused
    saved = load_workflow("v3", text=text, saved=True)  # a saved one: loads, cannot run
    assert [p.message.split(":")[0] for p in saved.refusals] == [
        '> compares a number (order.amount) with a string ("500"), which zen refuses at run '
        "time; write the number without quotes",
        "node 'stock' routes outcome 'low' of t_stock nowhere",
        "node 'stock' routes outcome 'out' of t_stock nowhere",
    ]
    with pytest.raises(ValidationError) as caught:
        saved.check_runnable()
    assert str(caught.value).splitlines()[0].startswith("v3:19:32: > compares a number")
    broken_yaml = broken("type: t_stock", "type: t_stok", text)
    with pytest.raises(ValidationError):  # any other problem still refuses the load
        load_workflow("v3", text=broken_yaml, saved=True)
