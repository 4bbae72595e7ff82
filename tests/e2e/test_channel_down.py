"""One channel that cannot be pulled (its token expired) does not stop the others.

The Youzan token in the settings file is wrong, so the gateway refuses every pull with code
4203. Douyin and the H5 mall are pulled and their orders run; the team is told on WeCom;
`orderhub run` exits 1 naming Youzan. Youzan's cursor stays where it was, so once the token
is fixed the next run pulls its orders too.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.settings import render_toml
from service.cli import app
from service.scenarios import read_scenario
from tests.e2e.conftest import WORKFLOW


def test_an_expired_token_skips_that_channel_and_the_next_run_catches_up(tmp_path: Path) -> None:
    scenario = generate_scenario(90, 4)
    path = tmp_path / "intake-90-s4.json"
    write_scenario(scenario, path)
    info = read_scenario(path)
    by_channel = {
        ch: {f"{ch}:{o['order_id']}" for o in os} for ch, os in scenario["channels"].items()
    }
    assert all(by_channel.values())
    db, report, cli = str(tmp_path / "orders.db"), tmp_path / "r.json", CliRunner()
    with start_simulator(str(path)) as sim:
        systems = {name: dict(values) for name, values in sim.systems.items()}
        good_token = systems["youzan"]["access_token"]
        systems["youzan"]["access_token"] = "expired-" + good_token
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(systems), encoding="utf-8")
        run = [
            "run", str(WORKFLOW), "--config", str(config), "--db", db, "--report", str(report),
            "--since", info.since.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "--until", info.until.strftime("%Y-%m-%dT%H:%M:%S%z"),
        ]  # fmt: skip
        first = cli.invoke(app, run)
        assert first.exit_code == 1, first.output
        assert "error: youzan was not pulled" in first.output and "4203" in first.output
        got = json.loads(report.read_text(encoding="utf-8"))
        assert set(got["outcomes"]) == by_channel["douyin"] | by_channel["h5"]
        assert set(got["not_pulled"]) == {"youzan"}
        messages = [m["content"] for m in sim.log("messages")]
        assert any("youzan not pulled" in text and "4203" in text for text in messages)

        systems["youzan"]["access_token"] = good_token
        config.write_text(render_toml(systems), encoding="utf-8")
        second = cli.invoke(app, run)
        assert second.exit_code == 0, second.output
        got = json.loads(report.read_text(encoding="utf-8"))
        assert set(got["outcomes"]) == set().union(*by_channel.values())
        assert got["not_pulled"] == {}
        stats = sim.stats()
    shipped = sum(1 for outcome in got["outcomes"].values() if outcome == "shipped")
    assert stats["waybills_created"] == stats["uploads_total"] == shipped == len(got["waybills"])
