"""The `orderhub` command line: validate, nodes, schema, scenario generate, run, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from engine import registry
from service.cli import app
from service.report import compare_with_expected

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
cli = CliRunner()


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_validate_accepts_the_shipped_workflow() -> None:
    result = cli.invoke(app, ["validate", str(WORKFLOW)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("    type: stock_check\n", "    type: stok_check\n", "stok_check", "stock_check"),
        ("routes: {ok: waybill,", "routes: {ok: waybil,", "waybil,", "waybil"),
        ("default: 10\n    minimum: 0", "default: -3\n    minimum: 0", "default: -3", "minimum"),
        ('order.status == "paid"', 'order.status = "paid"', "order.status =", "=="),
        ('order.status == "paid"', 'order.statsu == "paid"', "statsu", "statsu"),
        ("    next: stock\n", "    next: stock\n  bad indent: [\n", "bad indent", ""),
    ],
    ids=["unknown type", "missing route", "param bounds", "lone =", "unknown field", "bad yaml"],
)
def test_validate_names_file_line_and_column(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    path = broken_copy(tmp_path, old, new)
    result = cli.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    first = result.output.strip().splitlines()[0]
    file, line, column, text = first.split(":", 3)
    assert file == str(path)
    assert abs(int(line) - line_of(path, needle)) <= 1
    assert int(column) >= 1
    assert message in text


def test_run_refuses_a_broken_workflow_and_writes_nothing(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "    type: stock_check\n", "    type: stok_check\n")
    db = tmp_path / "never.db"
    result = cli.invoke(app, ["run", str(path), "--db", str(db)])
    assert result.exit_code == 1
    assert "stok_check" in result.output
    assert not db.exists()


def test_nodes_lists_every_registered_type_with_params() -> None:
    result = cli.invoke(app, ["nodes"])
    assert result.exit_code == 0
    for name in registry.all_types():
        assert name in result.output
    described = {d["type"]: d for d in json.loads(cli.invoke(app, ["nodes", "--json"]).output)}
    assert set(described) == set(registry.all_types())
    stock = described["stock_check"]
    assert stock["outcomes"] == ["ok", "low", "out"]
    assert stock["params"]["safety_stock"]["default"] == 10
    assert stock["params"]["safety_stock"]["minimum"] == 0
    assert described["pull"]["source"] is True and described["waybill"]["side_effects"] is True


def test_schema_is_a_json_schema() -> None:
    result = cli.invoke(app, ["schema"])
    assert result.exit_code == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(result.output))


def test_scenario_generate_writes_the_shared_format(tmp_path: Path) -> None:
    out = tmp_path / "day.json"
    result = cli.invoke(
        app, ["scenario", "generate", "--orders", "300", "--seed", "9", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == 1 and data["expected"]["orders_total"] == 300
    assert set(data["channels"]) == {"youzan", "douyin", "h5"}


def test_run_as_a_subprocess_reproduces_the_oracle(tmp_path: Path) -> None:
    """The command a user types, as a subprocess, on a generated day (every outcome, planted
    duplicates and near misses, purchase alerts). The 4,000-order peak day is
    `python -m bench.peak_day` (same command, same checks)."""
    from connectors.simulator.generator import generate_scenario, write_scenario

    day = tmp_path / "intake-500-s11.json"
    scenario = generate_scenario(500, 11)
    write_scenario(scenario, day)
    expected = scenario["expected"]
    assert all(expected["outcome_totals"].values()) and len(expected["outcome_totals"]) == 6
    report = tmp_path / "r.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "run",
            str(WORKFLOW),
            "--scenario",
            str(day),
            "--db",
            str(tmp_path / "r.db"),
            "--report",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "shipped" in done.stdout
    got = json.loads(report.read_text(encoding="utf-8"))
    assert compare_with_expected(got, expected) == [], done.stderr[-2000:]
    assert len(got["waybills"]) == expected["outcome_totals"]["shipped"]


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = cli.invoke(
        app,
        ["demo", "--batch", "--orders", "300", "--seed", "4", "--db", str(tmp_path / "demo.db")],
    )
    assert result.exit_code == 0, result.output
    assert "reproduces the scenario's independent oracle" in result.output


def test_run_against_a_standalone_simulator_from_the_settings_file(tmp_path: Path) -> None:
    """The code path of production: systems from orderhub.toml, pulled by time range."""
    from connectors.simulator.generator import generate_scenario, write_scenario
    from connectors.simulator.server import start_simulator
    from engine.settings import render_toml
    from service.scenarios import read_scenario

    scenario = tmp_path / "intake-400-s7.json"
    write_scenario(generate_scenario(400, 7), scenario)
    expected = json.loads(scenario.read_text(encoding="utf-8"))["expected"]
    info = read_scenario(scenario)
    with start_simulator(str(scenario)) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        report = tmp_path / "r.json"
        result = cli.invoke(
            app,
            [
                "run",
                str(WORKFLOW),
                "--config",
                str(config),
                "--db",
                str(tmp_path / "r.db"),
                "--report",
                str(report),
                "--since",
                info.since.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "--until",
                info.until.strftime("%Y-%m-%dT%H:%M:%S%z"),
            ],
        )
        assert result.exit_code == 0, result.output
        assert sim.stats()["waybills_created"] == expected["outcome_totals"]["shipped"]
    got = json.loads(report.read_text(encoding="utf-8"))
    assert compare_with_expected(got, expected) == [], result.output[-2000:]


def test_simulator_command_prints_settings_that_point_at_it(tmp_path: Path) -> None:
    from connectors.simulator.server import free_port

    port = free_port("127.0.0.1")
    scenario = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "simulator",
            "--scenario",
            str(scenario),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(12)]
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    text = "".join(lines)
    assert "[youzan]" in text
    assert f'base_url = "http://127.0.0.1:{port}"' in text
