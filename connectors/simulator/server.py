"""Start the simulator: a subprocess by default (its own core), or a thread in-process."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from connectors.simulator.state import DEFAULT_CREDENTIALS, SYSTEMS, SimOptions

ROOT = Path(__file__).resolve().parents[2]


def fast_server_options() -> dict[str, str]:
    """uvicorn's `http`/`loop` choices: httptools and uvloop when importable, else defaults."""
    options: dict[str, str] = {}
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    return options


def settings_for(base_url: str, *, timeout_s: float = 5.0) -> dict[str, dict[str, Any]]:
    """The `systems` settings pointing every system at a simulator, with its test credentials."""
    return {
        system: {"base_url": base_url, "timeout_s": timeout_s, **DEFAULT_CREDENTIALS[system]}
        for system in SYSTEMS
    }


class SimulatorHandle:
    """A running simulator: `base_url`, `systems` (settings for it), `stats()`, `stop()`."""

    def __init__(self, base_url: str, stopper: Any) -> None:
        self.base_url = base_url
        self.systems = settings_for(base_url)
        self._stopper = stopper
        self._client = httpx.Client(base_url=base_url, timeout=5, verify=False)

    def stats(self, prefixes: list[str] | None = None) -> dict[str, Any]:
        """`GET /_sim/stats` (see `connectors.simulator.stats`); `prefixes` fills
        `bot_messages_by_prefix` with the number of WeCom messages starting with each."""
        return self._client.get("/_sim/stats", params={"prefix": prefixes or []}).json()

    def log(self, kind: str) -> list[dict]:
        """`GET /_sim/log?kind=waybills|uploads|messages|moves`."""
        return self._client.get("/_sim/log", params={"kind": kind}).json()

    def push(self, channel: str, order_id: str, url: str, **options: Any) -> dict[str, Any]:
        """`POST /_sim/push`: the channel pushes "order paid" for `order_id` to `url`
        (options: times, bad_signature); answers the deliveries."""
        body = {"channel": channel, "order_id": order_id, "url": url, **options}
        answer = self._client.post("/_sim/push", json=body, timeout=120)
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        self._client.post("/_sim/reset").raise_for_status()

    def receive(self, sku: str, warehouse: str, qty: int) -> None:
        """`POST /_sim/stock`: goods arrive; the ERP's on-hand of SKU@warehouse rises."""
        body = {"sku": sku, "warehouse": warehouse, "qty": qty}
        self._client.post("/_sim/stock", json=body).raise_for_status()

    def fault(self, system: str, mode: str, count: int = 1, call: str | None = None) -> None:
        """Make the next `count` calls of `system` (only its `call` kind when given, e.g.
        "decrypt", "create", the ERP's "outbound") fail with `mode`."""
        body: dict[str, Any] = {"system": system, "mode": mode, "count": count}
        if call:
            body["call"] = call
        self.arm(body)

    def arm(self, *faults: dict[str, Any], seed: int | None = None) -> dict[str, Any]:
        """`POST /_sim/faults`: arm `faults` (dicts with the fields of
        `connectors.simulator.faults.Fault`); return the armed faults."""
        plan: dict[str, Any] = {"faults": list(faults)}
        if seed is not None:
            plan["seed"] = seed
        answer = self._client.post("/_sim/faults", json=plan)
        if answer.status_code != 200:
            raise ValueError(answer.json().get("error", answer.text))
        return answer.json()

    def faults(self) -> dict[str, Any]:
        """`GET /_sim/faults`: the seed, the window clock and the armed faults."""
        return self._client.get("/_sim/faults").json()

    def clear_faults(self, *ids: str) -> None:
        """`DELETE /_sim/faults`: clear the faults with these ids, or all of them."""
        self._client.delete("/_sim/faults", params={"id": list(ids)}).raise_for_status()

    def advance_fault_clock(self, seconds: float) -> None:
        """Move the clock the fault windows are read against on by `seconds`."""
        self._client.post("/_sim/faults/clock", json={"advance_s": seconds}).raise_for_status()

    def stop(self) -> None:
        if self._stopper is not None:
            self._client.close()
            self._stopper()
            self._stopper = None

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulator(
    scenario_path: str,
    *,
    port: int = 0,
    in_process: bool = False,
    options: SimOptions | None = None,
    host: str = "127.0.0.1",
    faults: str | Path | None = None,
) -> SimulatorHandle:
    """Serve `scenario_path` on a loopback port (0 = pick a free one) and wait until it answers.

    `faults`: a faults file (JSON or YAML) armed after the scenario's own faults."""
    port = port or free_port(host)
    base_url = f"http://{host}:{port}"
    if in_process:
        stopper = _start_thread(scenario_path, host, port, options, faults)
    else:
        stopper = _start_subprocess(scenario_path, host, port, options, faults)
    try:
        _wait_ready(base_url, stopper.alive)
    except BaseException:
        stopper()
        raise
    return SimulatorHandle(base_url, stopper)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _start_subprocess(
    path: str, host: str, port: int, options: SimOptions | None, faults: str | Path | None
) -> Any:
    cmd = [sys.executable, "-m", "connectors.simulator", "--scenario", str(path)]
    cmd += ["--port", str(port), "--host", host]
    if options is not None:
        cmd += ["--options", json.dumps(asdict(options))]
    if faults is not None:
        cmd += ["--faults", str(faults)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()

    stop.proc = proc  # type: ignore[attr-defined]
    stop.alive = lambda: proc.poll() is None  # type: ignore[attr-defined]
    return stop


def _start_thread(
    path: str, host: str, port: int, options: SimOptions | None, faults: str | Path | None
) -> Any:
    import uvicorn

    from connectors.simulator.app import create_app
    from connectors.simulator.faults import load_plan

    scenario = json.loads(Path(path).read_text(encoding="utf-8"))
    plan = load_plan(faults) if faults is not None else None
    config = uvicorn.Config(
        create_app(scenario, options=options, faults=plan),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on" if options is not None and options.live_minutes is not None else "off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="orderhub-simulator", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    stop.alive = thread.is_alive  # type: ignore[attr-defined]
    return stop


#: how long a starting simulator may take to answer: importing its web stack alone took over
#: 20 s on a 2-core machine with a load average near 30; one that dies is reported at once
READY_TIMEOUT_S = 180.0


def _wait_ready(
    base_url: str, alive: Callable[[], bool], timeout_s: float = READY_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    # one client for every poll: a new httpx client (httpx.get) loads the CA bundle, ~0.3 s
    # of CPU each time, which 20 polls a second spent while the simulator was starting
    with httpx.Client(timeout=5, verify=False) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(base_url + "/_sim/stats").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not alive():
                raise RuntimeError(f"simulator at {base_url} ended before it answered")
            time.sleep(0.05)
    raise RuntimeError(f"simulator at {base_url} did not answer within {timeout_s:g} s")
