"""What `orderhub run` shows while it works (issue 7, item 10): progress on a terminal,
nothing in a pipe, one line with --quiet, pages and warnings as they come with --verbose."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.simulator.generator import generate_scenario, write_scenario
from service.scenarios import read_scenario

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
ORDERS = 300
STAMP = "%Y-%m-%dT%H:%M:%S%z"
PAGE = re.compile(r"^(youzan|douyin|h5): page of (\d+) orders stored \((\d+) so far\)$")


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day") / f"intake-{ORDERS}.json"
    write_scenario(generate_scenario(ORDERS, 5), path)
    return path


def command(day: Path, tmp_path: Path, *flags: str) -> list[str]:
    db = str(tmp_path / "o.db")
    return [sys.executable, "-m", "service.cli", "run", WORKFLOW, "--scenario", str(day)] + [
        "--db",
        db,
        *flags,
    ]


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "ORDERHUB_LOG": str(tmp_path / "orderhub.log"), **extra}


def piped(day: Path, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command(day, tmp_path, *flags),
        cwd=ROOT,
        env=env(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_in_a_pipe_it_shows_no_progress_only_the_summary(day: Path, tmp_path: Path) -> None:
    done = piped(day, tmp_path)
    assert done.stderr == ""
    assert done.stdout.startswith("workflow: order_intake (draft from")
    assert "orderhub run" in done.stdout and "runs finished" in done.stdout
    assert "\r" not in done.stdout and "\x1b" not in done.stdout


def test_quiet_prints_one_summary_line(day: Path, tmp_path: Path) -> None:
    done = piped(day, tmp_path, "--quiet")
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert re.fullmatch(
        rf"order_intake \(draft from .*\): pulled {ORDERS}, new or changed {ORDERS}, "
        rf"{ORDERS} runs in [\d.]+ s \(\d+ orders/s\); shipped \d+, .*",
        lines[0],
    )


def test_verbose_prints_every_page_per_channel(day: Path, tmp_path: Path) -> None:
    done = piped(day, tmp_path, "--verbose")
    pages = [PAGE.match(line) for line in done.stderr.splitlines()]
    assert pages and all(pages), done.stderr
    so_far: dict[str, int] = {}
    for page in pages:
        channel, orders, total = page.group(1), int(page.group(2)), int(page.group(3))
        so_far[channel] = so_far.get(channel, 0) + orders
        assert so_far[channel] == total
    assert set(so_far) == {"youzan", "douyin", "h5"}
    assert sum(so_far.values()) == ORDERS
    assert "runs finished" in done.stdout


def test_verbose_prints_warnings_as_they_happen(day: Path, tmp_path: Path) -> None:
    """The ERP answers nothing (a closed port): each refresh warns at once, not only at the
    end; without --verbose the warnings are listed after the summary."""
    from connectors.simulator.server import start_simulator
    from engine.settings import render_toml

    with start_simulator(str(day)) as sim:
        systems = {**sim.systems, "erp": {**sim.systems["erp"], "base_url": "http://127.0.0.1:9"}}
        systems["erp"]["retries"] = 0
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(systems), encoding="utf-8")
        info = read_scenario(day)
        window = [info.since.strftime(STAMP), info.until.strftime(STAMP)]
        flags = ["--config", str(config), "--db", str(tmp_path / "o.db")]
        flags += ["--since", window[0], "--until", window[1]]
        base = [sys.executable, "-m", "service.cli", "run", WORKFLOW, *flags]
        verbose = subprocess.run(
            [*base, "--verbose"], cwd=ROOT, env=env(tmp_path), capture_output=True, text=True
        )
    lines = verbose.stderr.splitlines()
    warnings = [i for i, line in enumerate(lines) if line.startswith("warning: ")]
    pages = [i for i, line in enumerate(lines) if PAGE.match(line)]
    assert warnings and pages, verbose.stderr
    assert min(warnings) < max(pages)  # a warning came before the pull had ended
    assert "ERP" in lines[warnings[0]] or "erp" in lines[warnings[0]]


def test_on_a_terminal_it_shows_orders_pulled_per_channel_and_runs_done(
    day: Path, tmp_path: Path
) -> None:
    main, terminal = pty.openpty()
    out = (tmp_path / "stdout").open("w")
    proc = subprocess.Popen(
        command(day, tmp_path),
        cwd=ROOT,
        env=env(tmp_path, TERM="xterm-256color", COLUMNS="120"),
        stdout=out,
        stderr=terminal,
    )
    os.close(terminal)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end closed: the run is over
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(timeout=900) == 0, shown.decode(errors="replace")[-3000:]
    os.close(main)
    out.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", errors="replace"))
    for channel in ("youzan", "douyin", "h5"):
        assert f"pulled {channel}" in text
    assert re.search(rf"runs\s.*{ORDERS}/{ORDERS}\s+[\d,]+ orders/s", text), text[-2000:]
    assert "runs finished" in (tmp_path / "stdout").read_text(encoding="utf-8")
