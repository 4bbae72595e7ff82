"""A person's decision resumes the run at once, through the CLI over the simulator.

`orderhub run` parks suspected duplicates in review and low-stock orders in held; then
`orderhub queue decide`: a released duplicate has its one waybill and one tracking upload
before the command returns, a merge ships nothing and names the order it duplicates, a
decision the node does not route is refused, and a bulk decision shows its count and acts
only once confirmed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.settings import render_toml
from service.cli import app
from service.scenarios import read_scenario
from tests.e2e.conftest import WORKFLOW

cli = CliRunner()
REVIEWER = ["--as", "sun.li:reviewer"]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day") / "intake-300-s5.json"
    write_scenario(generate_scenario(300, 5), path)
    return path


def queue(db: list[str], name: str) -> list[dict]:
    listed = cli.invoke(app, ["queue", "list", "--queue", name, "--json", *db, *REVIEWER])
    assert listed.exit_code == 0, listed.output
    return json.loads(listed.output)


def show(db: list[str], ref: str) -> dict:
    shown = cli.invoke(app, ["orders", "show", ref, "--json", *db, *REVIEWER])
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.output)


def test_decisions_resume_runs_through_the_cli(
    day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = read_scenario(day)
    db = ["--db", str(tmp_path / "d.db")]
    with start_simulator(str(day)) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        ran = cli.invoke(
            app,
            [
                "run",
                str(WORKFLOW),
                *db,
                "--as",
                "boss:admin",
                "--since",
                info.since.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "--until",
                info.until.strftime("%Y-%m-%dT%H:%M:%S%z"),
            ],
        )
        assert ran.exit_code == 0, ran.output  # orders wait for people and stock: the course
        review = queue(db, "review")
        assert (
            f"{len(review)} for queue review" in ran.output and "orders are waiting:" in ran.output
        )
        assert len(review) >= 3, "the scenario needs three suspected duplicates"
        released, merged, refused = (item["ref"] for item in review[:3])

        before = sim.stats()
        done = cli.invoke(
            app,
            ["queue", "decide", released, "release", "--reason", "two lipsticks on purpose"]
            + db
            + REVIEWER,
        )
        assert done.exit_code == 0, done.output
        after = sim.stats()
        assert "now shipped" in done.output
        assert after["waybills_created"] == before["waybills_created"] + 1
        assert after["uploads_total"] == before["uploads_total"] + 1
        history = show(db, released)
        assert history["order"]["status"] == "shipped"
        assert len(history["waybills"]) == 1 and history["waybills"][0]["uploaded_at"]
        (run,) = history["runs"]
        (decided,) = [s for s in run["steps"] if s["node_id"] == "review"]
        assert decided["outcome"] == "release"
        assert decided["detail"]["woken_by"] == "sun.li:reviewer"
        assert "two lipsticks on purpose" in decided["detail"]["note"]

        dup_of = next(i for i in review if i["ref"] == merged)["detail"]["duplicate_of"]
        done = cli.invoke(
            app, ["queue", "decide", merged, "merge", "--reason", "same parcel"] + db + REVIEWER
        )
        assert done.exit_code == 0, done.output
        assert sim.stats()["waybills_created"] == after["waybills_created"]  # ships nothing
        history = show(db, merged)
        assert history["order"]["status"] == "merged"
        assert history["order"]["reason"].startswith(f"merged into {dup_of}")
        assert history["waybills"] == []

        refused_out = cli.invoke(
            app, ["queue", "decide", refused, "retry", "--reason", "x"] + db + REVIEWER
        )
        assert refused_out.exit_code == 1
        assert "whose decisions are release, merge, cancel; 'retry'" in refused_out.output
        assert show(db, refused)["order"]["status"] == "duplicate_review"

        held = queue(db, "held")
        low = [i for i in held if "below safety stock" in i["reason"]]
        assert low, "the scenario needs orders held for low stock"
        bulk = ["queue", "decide", "--all", "--queue", "held", "--reason-contains"]
        bulk += ["below SAFETY", "cancel", "--reason", "customer called"] + db + REVIEWER
        asked = cli.invoke(app, bulk, input="n\n")
        assert asked.exit_code == 1
        assert f"{len(low)} orders wait in held whose reason contains" in asked.output
        assert "nothing was decided" in asked.output
        assert len(queue(db, "held")) == len(held)
        confirmed = cli.invoke(app, bulk, input="y\n")
        assert confirmed.exit_code == 0, confirmed.output
        assert f"cancel: {len(low)} orders decided and went on; now cancelled {len(low)}" in (
            confirmed.output
        )
        assert len(queue(db, "held")) == len(held) - len(low)
        assert sim.stats()["waybills_created"] == after["waybills_created"]


def test_one_bulk_reroute_ships_every_order_sf_refused_by_the_backup_carrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SF refuses a province (filterResult 3): a refusal is the one failure that goes to
    `exceptions` (a passing fault waits for SF or takes the backup route by itself). One
    bulk `reroute` over the reason sends them all through the ZTO waybill node — a new try of
    each run — and each gets exactly one waybill, at ZTO, and one upload."""
    scenario = generate_scenario(60, 9)
    path = tmp_path / "intake-60-s9.json"
    write_scenario(scenario, path)
    expected = scenario["expected"]["outcomes"]
    shipped_in = Counter(
        o["receiver"]["province"]
        for channel, orders in scenario["channels"].items()
        for o in orders
        if expected[f"{channel}:{o['order_id']}"] == "shipped"
    )
    remote = shipped_in.most_common(1)[0][0]  # the province with the most shipped orders
    info = read_scenario(path)
    db = ["--db", str(tmp_path / "o.db")]
    with start_simulator(str(path), options=SimOptions(sf_undeliverable=[remote])) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        since = info.since.strftime("%Y-%m-%dT%H:%M:%S%z")
        until = info.until.strftime("%Y-%m-%dT%H:%M:%S%z")
        ran = cli.invoke(
            app,
            ["run", str(WORKFLOW), *db, "--as", "boss:admin", "--since", since, "--until", until],
        )
        assert ran.exit_code == 0, ran.output
        parked = [q for q in queue(db, "exceptions") if "does not deliver" in q["reason"]]
        assert parked and sim.stats()["carriers"]["zto"]["created"] == 0
        uploads_before = sim.stats()["uploads_total"]

        bulk = ["queue", "decide", "--all", "--queue", "exceptions"]
        bulk += ["--reason-contains", "does not deliver", "reroute", "--reason", "ZTO goes there"]
        done = cli.invoke(app, bulk + ["--yes"] + db + REVIEWER)
        assert done.exit_code == 0, done.output
        assert f"{len(parked)} orders wait in exceptions" in done.output
        assert f"now shipped {len(parked)}" in done.output
        stats = sim.stats()
        assert stats["carriers"]["zto"]["created"] == len(parked)
        assert stats["uploads_total"] - uploads_before == len(parked)
        assert stats["orders_with_two_waybills"] == 0
        left = [q["ref"] for q in queue(db, "exceptions")]
        assert not {p["ref"] for p in parked} & set(left)
        (run,) = show(db, parked[0]["ref"])["runs"]
        tries = [(s["attempt"], s["node_id"], s["outcome"]) for s in run["steps"]][-4:]
        assert tries == [
            (1, "waybill", "error"),
            (1, "exceptions", "reroute"),
            (1, "waybill_zto", "done"),
            (1, "shipped", "done"),
        ]
