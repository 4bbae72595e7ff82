"""`orderhub demo` shows the hub alive, and Ctrl-C stops all of it (issue 10, item 9).

The live demo runs as a subprocess with a small day over one minute: its banner names the
sign-ins (real passwords), a token and the processes; the API shows orders shipped, some of
them pushed by the simulator and the rest pulled by the scheduler; the editor answers. Then
SIGINT: exit 0, no process of the demo left (each child runs in a process group of its own,
so the groups must be empty: the editor's Streamlit too), its folder gone. Waits are hang
guards only. `stop_group` has a twin: stopping only the process a child is leaves what it
started running. Linux: processes are read from /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.simulator.server import free_port
from engine.store import open_store
from service.demo_cli import DEMO_USERS, stop_group
from service.passwords import sign_in

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 900.0  # a loaded 2-core machine took minutes to start Streamlit; not a timing

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)"
)


def _group_and_state(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[2]), fields[0]  # pgrp, state


def _left(groups: set[int], pids: set[int]) -> list[int]:
    """Processes (not zombies) that are in `pids` or in a process group of `groups`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        got = _group_and_state(int(entry.name))
        if got is not None and got[1] != "Z" and (int(entry.name) in pids or got[0] in groups):
            found.append(int(entry.name))
    return found


def _wait_for(what: str, check: Callable[[], Any], demo: subprocess.Popen, out: Path) -> Any:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        if demo.poll() is not None:
            pytest.fail(
                f"the demo ended (exit {demo.returncode}) before {what}:\n{out.read_text()}"
            )
        time.sleep(1)
    pytest.fail(f"no {what} within {HANG_GUARD_S:g} s (hang guard):\n{out.read_text()}")


def _counts(api: str, token: str) -> tuple[int, int]:
    """(orders in, orders shipped) as the API shows them."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
            everyone = client.get("/orders", params={"limit": 1}).json()["total"]
            shipped = client.get("/orders", params={"limit": 1, "status": "shipped"}).json()
            return everyone, shipped["total"]
    except httpx.HTTPError:
        return 0, 0


def test_the_live_demo_ships_orders_and_ctrl_c_stops_all_of_it(tmp_path: Path) -> None:
    here = tmp_path / "tmp"
    here.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ORDERHUB_DB", "ORDERHUB_CONFIG")}
    env["TMPDIR"] = str(here)
    api_port, ui_port = free_port(), free_port()
    command = [sys.executable, "-m", "service.cli", "demo", "--orders", "30", "--minutes", "1"]
    command += ["--port", str(api_port), "--ui-port", str(ui_port)]
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        demo = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    pids: dict[str, int] = {}
    try:
        banner = _wait_for("its banner", lambda: "processes:" in out.read_text(), demo, out)
        assert banner
        text = out.read_text()
        pids = {name: int(pid) for name, pid in re.findall(r"(\w+) pid (\d+)", text)}
        assert set(pids) == {"API", "editor", "simulator"}
        token = re.search(r"Bearer (oht_[\w-]+)", text).group(1)  # type: ignore[union-attr]
        db = re.search(r"queue list --db (\S+)", text).group(1)  # type: ignore[union-attr]
        simulator = re.search(r"simulator  (http://\S+)/_sim/stats", text).group(1)  # type: ignore[union-attr]
        api, editor = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
        assert f"editor     {editor}" in text

        store = open_store(db)
        try:
            for user, role in DEMO_USERS:
                password = re.search(rf"^\s+{user}\s+{role}\s+(\S+)$", text, re.M).group(1)  # type: ignore[union-attr]
                assert sign_in(store, user, password).roles == (role,)
        finally:
            store.dispose()

        def pushed() -> int:
            return httpx.get(simulator + "/_sim/stats", timeout=30).json()["live_pushes"]["acked"]

        acked = _wait_for("a push acknowledged", pushed, demo, out)
        # more orders in than were pushed: the scheduler pulled the others; some shipped
        _wait_for(
            "orders pulled and shipped",
            lambda: (lambda got: got[0] > acked and got[1] > 0)(_counts(api, token)),
            demo,
            out,
        )
        assert httpx.get(editor + "/", timeout=30).status_code == 200
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)  # to the demo alone, as a terminal's Ctrl-C is
        try:
            code = demo.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            for pgid in {demo.pid, *pids.values()}:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
            raise
    output = out.read_text()
    assert code == 0, output
    assert "the demo stopped: every process it started has ended" in output
    assert _left({demo.pid, *pids.values()}, set(pids.values())) == []
    assert list(here.glob("orderhub-demo-*")) == []


def _started_a_grandchild() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        ["sh", "-c", "sleep 600 & echo $!; wait"],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def test_stop_group_ends_what_a_child_started() -> None:
    proc, grandchild = _started_a_grandchild()
    stop_group(proc, wait_s=1)
    assert proc.returncode is not None
    assert _left({proc.pid}, {grandchild}) == []


def test_twin_stopping_only_the_child_leaves_what_it_started() -> None:
    proc, grandchild = _started_a_grandchild()
    try:
        proc.terminate()
        proc.wait(timeout=HANG_GUARD_S)
        assert _left({proc.pid}, {grandchild}) == [grandchild]  # an orphan
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
