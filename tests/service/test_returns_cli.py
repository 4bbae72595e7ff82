"""`orderhub returns …` through the command line: the warehouse scans a parcel in (without the
systems' settings: the next run of after_sales takes it to the inspection), records its
inspection (with them: refunded in the same command) — phones masked, errors one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from connectors.simulator.aftersales_gen import generate_after_sales
from connectors.simulator.generator import write_scenario
from connectors.simulator.server import start_simulator
from engine.settings import render_toml
from service.after_sales_report import compare_after_sales
from service.cli import app
from service.scenarios import read_scenario

ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()
WAREHOUSE = ["--as", "wang.fang:warehouse"]


def invoke(*args: str) -> Any:
    return cli.invoke(app, list(args))


def test_scan_then_inspection_then_the_refund_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = generate_after_sales(150, 2)
    path = tmp_path / "after-sales-150-s2.json"
    write_scenario(data, path)
    info = read_scenario(path)
    since = info.since.strftime("%Y-%m-%dT%H:%M:%S%z")
    db = ["--db", str(tmp_path / "as.db")]
    with start_simulator(str(path)) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        cfg = ["--config", str(config)]
        intake = str(ROOT / "workflows" / "order_intake.yaml")
        after_sales = str(ROOT / "workflows" / "after_sales.yaml")
        until = info.until.strftime("%Y-%m-%dT%H:%M:%S%z")
        done = invoke("run", intake, *cfg, *db, "--since", since, "--until", until, "-q")
        assert done.exit_code == 0, done.output
        report = tmp_path / "r.json"

        def run_after_sales() -> dict[str, Any]:
            result = invoke(
                "run", after_sales, *cfg, *db, "--since", since, "--report", str(report)
            )
            assert result.exit_code == 0, result.output
            return json.loads(report.read_text(encoding="utf-8"))

        first = run_after_sales()
        listed = invoke("returns", "list", *db, *WAREHOUSE, "--json")
        assert listed.exit_code == 0, listed.output
        parcels = json.loads(listed.output)
        pick = next(
            p for p in parcels
            if p["inspect"] and data["expected"]["states"][p["ref"]] == "refunded"
        )  # fmt: skip
        assert first["states"][pick["ref"]] == "awaiting_return"
        phones = {o["receiver"]["phone"] for rows in data["channels"].values() for o in rows}
        phones = {phone for phone in phones if len(phone) >= 7}
        assert not any(phone in listed.output for phone in phones)  # masked for the warehouse
        assert all("****" in p["phone"] for p in parcels)

        monkeypatch.delenv("ORDERHUB_CONFIG", raising=False)  # no settings: the scan only wakes
        scanned = invoke("returns", "scan", pick["tracking_no"], *db, *WAREHOUSE)
        assert scanned.exit_code == 0, scanned.output
        assert "orderhub returns inspect " + pick["ref"] in scanned.output
        again = invoke("returns", "scan", pick["ref"], *db, *WAREHOUSE)
        assert again.exit_code == 1
        assert "scanned in already by wang.fang:warehouse" in again.output
        assert run_after_sales()["states"][pick["ref"]] == "awaiting_inspection"

        fact = data["returns"][pick["ref"]]
        serials = [arg for sn in fact["serials"] for arg in ("--serial", sn)]
        refused = invoke("returns", "inspect", pick["ref"], "--result", "broken", *db, *WAREHOUSE)
        assert refused.exit_code == 1
        assert "result must be one of passed, damaged, serial_mismatch, missing_parts" in (
            refused.output
        )
        no_note = invoke("returns", "inspect", pick["ref"], "--result", "damaged", *db, *WAREHOUSE)
        assert no_note.exit_code == 1 and "note" in no_note.output
        finance = invoke("returns", "inspect", pick["ref"], "--result", "passed", *db,
                         "--as", "qian.li:finance")  # fmt: skip
        assert finance.exit_code == 1 and "finance" in finance.output
        # with the systems' settings at hand the inspection's run goes on in the same command
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        inspected = invoke(
            "returns", "inspect", pick["ref"], "--result", "passed", "--note", "as new",
            "--photo", "box.jpg", "--photo", "unit.jpg", *serials, *db, *WAREHOUSE,
        )  # fmt: skip
        assert inspected.exit_code == 0, inspected.output
        assert "went on: the request is now refunded" in inspected.output
        counts = httpx.get(f"{sim.base_url}/_sim/after_sales").json()
        assert counts["requests"][pick["ref"]]["refund"] == 1  # before any other run
        final = run_after_sales()
        counts = httpx.get(f"{sim.base_url}/_sim/after_sales").json()
    assert final["states"][pick["ref"]] == "refunded"
    assert counts["requests"][pick["ref"]]["refund"] == 1
    assert pick["ref"] in final["restock"]
    audit = invoke("audit", "list", *db, "--as", "zhao.min:auditor", "--json")
    assert audit.exit_code == 0, audit.output
    assert "returns.scan" in audit.output and "returns.inspect" in audit.output


def test_run_with_the_scenario_reproduces_the_first_run_oracle(tmp_path: Path) -> None:
    path = tmp_path / "as.json"
    made = invoke("scenario", "generate", "--kind", "after_sales", "--orders", "150", "--seed",
                  "4", "-o", str(path))  # fmt: skip
    assert made.exit_code == 0, made.output
    data = json.loads(path.read_text(encoding="utf-8"))
    db, report = ["--db", str(tmp_path / "s.db")], tmp_path / "r.json"
    intake = str(ROOT / "workflows" / "order_intake.yaml")
    after_sales = str(ROOT / "workflows" / "after_sales.yaml")
    assert invoke("run", intake, "--scenario", str(path), *db, "-q").exit_code == 0
    done = invoke("run", after_sales, "--scenario", str(path), *db, "--report", str(report))
    assert done.exit_code == 0, done.output
    got = json.loads(report.read_text(encoding="utf-8"))
    assert compare_after_sales(got, data["expected_first_run"]) == []


@pytest.mark.parametrize("what", ["NOPE123", "youzan:999"])
def test_an_unknown_parcel_is_one_line_saying_what_to_give(tmp_path: Path, what: str) -> None:
    result = invoke("returns", "scan", what, "--db", str(tmp_path / "e.db"), *WAREHOUSE)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "no expected return" in result.output and "channel:aftersale_id" in result.output
