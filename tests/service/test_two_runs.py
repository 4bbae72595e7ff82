"""Two `orderhub run` at once on one database (issue 7, item 6): both end correctly.

The second waits for the first with one line saying who runs the workflow since when, and
goes on when it is free (or gives up after --wait with one line); orders are upserted
race-safely; no order gets a second waybill or upload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import settings_for, start_simulator
from engine.settings import render_toml
from engine.store import leases, open_store
from service.report import compare_with_expected
from service.scenarios import read_scenario

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
STAMP = "%Y-%m-%dT%H:%M:%S%z"
ORDERS = 300


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day") / f"intake-{ORDERS}.json"
    write_scenario(generate_scenario(ORDERS, 23), path)
    return path


def expected(day: Path) -> dict:
    return json.loads(day.read_text(encoding="utf-8"))["expected"]


def start_run(tmp_path: Path, name: str, db: str, *args: str) -> tuple[subprocess.Popen, Path]:
    """`orderhub run` as a user starts it; stderr goes to a file the test can watch."""
    err = tmp_path / f"{name}.err"
    env = {**os.environ, "ORDERHUB_LOG": str(tmp_path / "orderhub.log")}
    command = [sys.executable, "-m", "service.cli", "run", str(WORKFLOW), "--db", db]
    command += ["--report", str(tmp_path / f"{name}.json"), "--quiet", *args]
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    return proc, err


def finish(proc: subprocess.Popen, err: Path) -> tuple[str, str]:
    out, _ = proc.communicate(timeout=900)
    stderr = err.read_text(encoding="utf-8")
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    return out, stderr


def report_of(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))


def wait_until(condition, what: str, limit_s: float = 600) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def test_two_scenario_runs_on_one_fresh_database_both_match_the_oracle(
    tmp_path: Path, db_url: str, day: Path
) -> None:
    """The report of issue 7: two `run --scenario` started together on a fresh database."""
    runs = [start_run(tmp_path, name, db_url, "--scenario", str(day)) for name in "ab"]
    outs = [finish(proc, err)[0] for proc, err in runs]
    for name in "ab":
        assert compare_with_expected(report_of(tmp_path, name), expected(day)) == []
    # one of them ran the orders; the other found them run already and made no second run
    counts = sorted(int(out.split(" runs in ")[0].rsplit(" ", 1)[1]) for out in outs)
    assert counts == [0, ORDERS], outs


def test_a_second_runner_waits_for_the_first_then_goes_on(
    tmp_path: Path, db_url: str, day: Path
) -> None:
    """Both runners start while the workflow is held; each says once who holds it and since
    when; once it is free they take turns, and one simulator sees one waybill and one
    upload per shipped order."""
    store = open_store(db_url)
    info = read_scenario(day)
    # held for an hour: runners that start slowly on a busy machine must still find it held
    holder = leases.acquire(store, "run:order_intake", "zhao.min (pid 7 on office)", ttl_s=3600)
    try:
        with start_simulator(str(day)) as sim:
            config = tmp_path / "orderhub.toml"
            config.write_text(render_toml(sim.systems), encoding="utf-8")
            window = ["--since", info.since.strftime(STAMP), "--until", info.until.strftime(STAMP)]
            runs = [
                start_run(tmp_path, name, db_url, "--config", str(config), *window) for name in "ab"
            ]
            wait_until(
                lambda: all("waiting:" in err.read_text(encoding="utf-8") for _, err in runs),
                "both runners to say they wait",
            )
            leases.release(store, holder)
            results = [finish(proc, err) for proc, err in runs]
            stats = sim.stats()
    finally:
        leases.release(store, holder)
        store.dispose()
    for _, stderr in results:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert lines[0].startswith(
            "waiting: order_intake is being run by zhao.min (pid 7 on office) since 20"
        )
        assert lines[0].endswith("UTC; this run goes on when it ends")
    for name in "ab":
        assert compare_with_expected(report_of(tmp_path, name), expected(day)) == []
    shipped = expected(day)["outcome_totals"]["shipped"]
    assert stats["waybills_created"] == shipped
    assert stats["uploads_total"] == stats["uploaded_orders"] == shipped


def test_a_runner_that_cannot_wait_longer_refuses_in_one_line(tmp_path: Path, db_url: str) -> None:
    store = open_store(db_url)
    leases.acquire(store, "run:order_intake", "zhao.min (pid 7 on office)")
    config = tmp_path / "orderhub.toml"  # systems nobody calls: it refuses before pulling
    config.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    try:
        proc, err = start_run(tmp_path, "late", db_url, "--config", str(config), "--wait", "0")
        out, _ = proc.communicate(timeout=600)
        stderr = err.read_text(encoding="utf-8")
        assert proc.returncode == 1, stderr
        assert out == ""
        assert stderr.startswith(
            "error: order_intake is being run by zhao.min (pid 7 on office) since 20"
        )
        assert "gave up after waiting 0 s: try again when it has ended" in stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 0
    finally:
        store.dispose()
