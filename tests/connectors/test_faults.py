"""Fault plans: reading them, when each fault plays, and the control endpoint that changes them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from connectors.simulator.faults import FaultBook, FaultPlan, load_plan, parse_plan
from connectors.simulator.server import free_port, start_simulator
from engine.errors import InputError
from service.cli import app
from tests.connectors.conftest import SCENARIO_PATH

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def book_with(*faults: dict, seed: int | None = None) -> tuple[FaultBook, Clock]:
    clock = Clock()
    book = FaultBook(clock, timeout_hold_s=6.0)
    book.arm(parse_plan({"seed": seed, "faults": list(faults)}))
    return book, clock


def modes(book: FaultBook, system: str, call: str | None, n: int) -> list[str | None]:
    return [book.play(system, call).mode for _ in range(n)]


def test_a_count_plays_on_the_next_calls_only():
    book, _ = book_with({"system": "sf", "mode": "down", "count": 2})
    assert modes(book, "sf", "create", 3) == ["down", "down", None]
    assert book.describe()["faults"] == []  # spent: dropped


def test_an_outage_window_relative_to_the_start_plays_only_inside_it():
    book, clock = book_with({"system": "sf", "mode": "down", "start_s": 10, "end_s": 40})
    assert book.play("sf", "create").mode is None
    clock.now += 10
    assert book.play("sf", "create").mode == "down"
    clock.now += 29.9
    assert book.play("sf", "create").mode == "down"
    clock.now += 0.1
    assert book.play("sf", "create").mode is None


def test_an_absolute_window_and_the_fault_clock():
    start = datetime.fromtimestamp(1_000_000.0 + 3600, UTC)
    book, _ = book_with(
        {"system": "erp", "mode": "error", "start_at": start.isoformat(),
         "end_at": (start + timedelta(hours=1)).isoformat()}
    )  # fmt: skip
    assert book.play("erp", "inventory").mode is None
    book.advance(3600)  # the window clock only: no sleeping through the hour
    assert book.play("erp", "inventory").mode == "error"
    book.advance(3600)
    assert book.play("erp", "inventory").mode is None


def test_a_seeded_rate_replays_the_same_calls():
    fault = {"system": "wecom", "mode": "error", "rate": 0.3}
    first, _ = book_with(fault, seed=7)
    again, _ = book_with(fault, seed=7)
    other, _ = book_with(fault, seed=8)
    pattern = modes(first, "wecom", "send", 200)
    assert pattern == modes(again, "wecom", "send", 200)
    assert pattern != modes(other, "wecom", "send", 200)
    assert 30 < pattern.count("error") < 90  # about 30 %


def test_call_kinds_and_precedence():
    book, _ = book_with(
        {"system": "sf", "mode": "down"},
        {"system": "sf", "call": "search", "mode": "rate_limit", "retry_after_s": 3},
    )
    assert book.play("sf", "create").mode == "down"
    searched = book.play("sf", "search")
    assert (searched.mode, searched.retry_after_s) == ("rate_limit", 3)  # call-specific first


def test_latency_fixed_or_drawn_adds_up_and_a_timeout_holds_the_answer():
    book, _ = book_with(
        {"system": "youzan", "mode": "latency", "latency_s": 0.2},
        {"system": "youzan", "call": "pull", "mode": "latency", "latency_s": [0.1, 0.3]},
    )
    drawn = [book.play("youzan", "pull").delay_s for _ in range(50)]
    assert all(0.3 <= d <= 0.5 for d in drawn) and len(set(drawn)) > 1
    assert book.play("youzan", "upload").delay_s == pytest.approx(0.2)
    timeout, _ = book_with({"system": "sf", "mode": "timeout", "count": 1})
    played = timeout.play("sf", "create")
    assert (played.mode, played.delay_s) == ("timeout", 6.0)


def test_arming_the_same_id_replaces_it():
    book, _ = book_with({"system": "sf", "mode": "down", "count": 5})
    book.arm(parse_plan({"system": "sf", "mode": "down", "count": 1}))
    (fault,) = book.describe()["faults"]
    assert (fault["id"], fault["left"]) == ("sf/down", 1)
    book.arm(parse_plan([{"system": "sf", "mode": "error", "id": "mine"}]))
    book.clear(["sf/down"])
    assert [f["id"] for f in book.describe()["faults"]] == ["mine"]


@pytest.mark.parametrize(
    ("fault", "message"),
    [({"system": "fedex", "mode": "down"}, "system must be one of"),
     ({"system": "sf", "mode": "explode"}, "mode must be one of"),
     ({"system": "sf", "call": "pull", "mode": "down"}, "call of sf must be one of create"),
     ({"system": "sf", "mode": "page_twice"}, "plays on a channel's pull"),
     ({"system": "h5", "mode": "latency"}, "latency_s goes with mode latency"),
     ({"system": "h5", "mode": "latency", "latency_s": [2, 1]}, "latency_s must be"),
     ({"system": "h5", "mode": "down", "rate": 2}, "faults.0.rate"),
     ({"system": "h5", "mode": "down", "colour": "red"}, "faults.0.colour"),
     ({"system": "h5", "mode": "down", "start_at": "2026-01-10T00:00:00"}, "start_at")],
)  # fmt: skip
def test_a_bad_fault_is_one_line_saying_which_and_what_to_do(fault, message):
    with pytest.raises(InputError) as err:
        parse_plan([fault], "day.yaml")
    text = str(err.value)
    assert message in text and text.startswith("day.yaml: ") and "\n" not in text
    assert text.endswith("fix the fault and load it again")


def test_plans_read_from_json_and_yaml_files(tmp_path):
    (tmp_path / "f.json").write_text(
        json.dumps({"seed": 3, "faults": [{"system": "sf", "mode": "down", "count": 2}]})
    )
    (tmp_path / "f.yaml").write_text("- {system: h5, mode: page_twice, count: 1}\n")
    assert load_plan(tmp_path / "f.json").seed == 3
    assert load_plan(tmp_path / "f.yaml").faults[0].mode == "page_twice"
    (tmp_path / "bad.yaml").write_text("faults: [\n  {system: sf\n")
    with pytest.raises(InputError, match=r"bad.yaml:\d+:\d+: not valid JSON or YAML"):
        load_plan(tmp_path / "bad.yaml")
    with pytest.raises(InputError, match="no such faults file"):
        load_plan(tmp_path / "none.yaml")


def test_control_endpoint_shows_adds_replaces_and_clears(sim):
    url = sim.base_url + "/_sim/faults"
    assert httpx.get(url).json()["faults"] == []
    armed = httpx.post(url, json={"seed": 5, "faults": [
        {"system": "sf", "call": "create", "mode": "down", "start_s": 0, "end_s": 60},
        {"system": "youzan", "mode": "latency", "latency_s": [0.1, 0.2]},
    ]}).json()  # fmt: skip
    assert armed["armed"] == ["sf:create/down", "youzan/latency"] and armed["seed"] == 5
    httpx.post(url, json={"system": "sf", "call": "create", "mode": "down", "count": 2})
    shown = {f["id"]: f for f in httpx.get(url).json()["faults"]}
    assert shown["sf:create/down"]["left"] == 2 and "end_s" not in shown["sf:create/down"]
    assert httpx.delete(url, params={"id": "youzan/latency"}).json()["faults"][0]["id"] == (
        "sf:create/down"
    )
    assert httpx.delete(url).json()["faults"] == []
    refused = httpx.post(url, json={"system": "sf", "mode": "down", "rate": 5})
    assert refused.status_code == 400 and "rate" in refused.json()["error"]
    clock = httpx.post(url + "/clock", json={"advance_s": 90}).json()
    assert clock["now_s"] >= 90
    assert httpx.post(url + "/clock", json={"advance_s": "x"}).status_code == 400


def test_reset_arms_the_scenario_faults_again(tmp_path):
    scenario = json.loads(SCENARIO_PATH.read_text(encoding="utf-8"))
    scenario["faults"] = {"seed": 1, "faults": [{"system": "sf", "mode": "down", "count": 3}]}
    path = tmp_path / "with-faults.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    extra = tmp_path / "more.yaml"
    extra.write_text("faults:\n  - {system: wecom, mode: error, rate: 0.5}\n")
    with start_simulator(str(path), in_process=True, faults=extra) as sim:
        ids = [f["id"] for f in sim.faults()["faults"]]
        assert ids == ["sf/down", "wecom/error"]
        sim.clear_faults()
        sim.reset()
        assert [f["id"] for f in sim.faults()["faults"]] == ids


def test_cli_simulator_refuses_a_bad_faults_file_in_one_line(tmp_path):
    bad = tmp_path / "faults.yaml"
    bad.write_text("- {system: sf, mode: down, count: 0}\n")
    result = CliRunner().invoke(
        app, ["simulator", "--scenario", str(SCENARIO_PATH), "--faults", str(bad)]
    )
    assert result.exit_code == 1
    assert f"error: {bad}: faults.0.count:" in result.output
    assert result.output.count("\n") == 1


def test_cli_simulator_serves_with_the_faults_file(tmp_path):
    faults = tmp_path / "faults.yaml"
    faults.write_text("seed: 9\nfaults:\n  - {system: zto, call: create, mode: down}\n")
    port = free_port()
    cli = [sys.executable, "-m", "service.cli", "simulator", "--scenario", str(SCENARIO_PATH)]
    proc = subprocess.Popen(
        [*cli, "--port", str(port), "--faults", str(faults)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        shown = _poll(f"http://127.0.0.1:{port}/_sim/faults", deadline_s=120)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert shown["seed"] == 9 and [f["id"] for f in shown["faults"]] == ["zto:create/down"]
    assert "[zto]" in out  # the settings it prints name the backup carrier too


def _poll(url: str, deadline_s: float) -> dict:
    """GET `url` until it answers (a generous deadline: the machine may be busy)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return httpx.get(url, timeout=5).json()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_plan_model_round_trips():
    plan = parse_plan({"seed": 1, "faults": [{"system": "h5", "mode": "order_moves"}]})
    assert isinstance(plan, FaultPlan) and plan.faults[0].key == "h5/order_moves"
