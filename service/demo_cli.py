"""`orderhub demo` (live): the hub alive on a simulated day, until Ctrl-C.

In a temporary folder (kept with --keep) it generates a day of orders, makes a database with
the demo users (one per role, each with a password) and workflow v1 saved and active — the
project's workflow, pulling every minute and taking every channel's pushes — and starts
three processes: ``orderhub serve --with-scheduler`` (the API, the push hooks and the
scheduler), ``orderhub ui --config`` (the editor, whose decisions ship) and the simulator in
live mode (`connectors.simulator.live`: the day arrives over --minutes, a share of it pushed
to the hooks, the rest waiting for the pulls). It prints the URLs, the sign-ins and what to
try, then watches: Ctrl-C (or SIGTERM) stops every process and every process they started,
and removes the folder unless --keep; a process that stops by itself stops the demo (exit 1).

Each process runs in a process group of its own, so a Ctrl-C in the terminal reaches the
demo alone, which stops them in order: SIGINT to the group, then SIGTERM, then SIGKILL
(`stop_group`).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
import typer

from engine.errors import OrderhubError
from engine.settings import render_toml
from engine.store import Store, open_store
from service.access import Actor
from service.cli_common import database_url
from service.console import console
from service.passwords import set_password
from service.roles import grant
from service.tokens import create_token
from service.versioning import activate_version, save_version

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
#: the workflow's triggers as it ships, and in the demo: pulls every minute, every channel's
#: pushes taken (the platforms push, the demo's simulator too)
SHIPPED_TRIGGERS = "  - {type: schedule, every: 15m}\n  - {type: webhook, channel: h5}\n"
DEMO_TRIGGERS = (
    "  - {type: schedule, every: 1m}\n"
    "  - {type: webhook, channel: h5}\n"
    "  - {type: webhook, channel: youzan}\n"
    "  - {type: webhook, channel: douyin}\n"
)
#: one user per role: (user, role)
DEMO_USERS = (
    ("zhao", "admin"),
    ("li", "ops_manager"),
    ("wang", "reviewer"),
    ("chen", "warehouse"),
    ("sun", "finance"),
    ("zhou", "auditor"),
)
PUSH_SHARE = 0.3
READY_TIMEOUT_S = 300.0  # a hang guard: the editor took over a minute on a loaded 2-core box
STOP_WAIT_S = 20.0
PROGRESS_EVERY_S = 30.0


class DemoError(Exception):
    """The demo cannot go on; the message says what to do."""


@dataclass
class Child:
    """One process the demo started, in a process group of its own (its pid)."""

    name: str
    proc: subprocess.Popen
    log: Path


class LiveDemo:
    """The live demo (see the module docstring); `main` runs it and exits."""

    def __init__(
        self,
        orders: int,
        seed: int,
        db: str | None,
        keep: bool,
        minutes: float,
        port: int,
        ui_port: int,
    ) -> None:
        self.orders, self.seed, self.db, self.keep = orders, seed, db, keep
        self.minutes, self.port, self.ui_port = minutes, port, ui_port
        self.api = f"http://{HOST}:{port}"
        self.editor = f"http://{HOST}:{ui_port}"
        self.children: list[Child] = []
        self.workdir = Path()
        self.url = ""
        self.token = ""
        self.sign_ins: list[tuple[str, str, str]] = []

    def main(self) -> None:
        """Start everything, watch it until Ctrl-C, stop everything; exit 0 on Ctrl-C."""
        for port, option in ((self.port, "--port"), (self.ui_port, "--ui-port")):
            if not port_free(port):
                typer.echo(f"error: port {port} is in use; give another with {option} N", err=True)
                raise typer.Exit(1)
        self.workdir = Path(tempfile.mkdtemp(prefix="orderhub-demo-"))
        previous = signal.signal(signal.SIGTERM, _interrupt)
        code = 0
        try:
            self._start()
            code = self._watch()
        except KeyboardInterrupt:
            typer.echo("\nstopping the demo…")
        except (DemoError, OrderhubError) as exc:
            typer.echo(f"error: {exc}", err=True)
            code = 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this
            try:
                for child in reversed(self.children):
                    stop_group(child.proc)
                if self.keep:
                    console.print(
                        f"kept the scenario, database, settings and logs in {self.workdir}"
                    )
                else:
                    shutil.rmtree(self.workdir, ignore_errors=True)
            finally:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, previous)
        typer.echo("the demo stopped: every process it started has ended")
        raise typer.Exit(code)

    def _start(self) -> None:
        from connectors.simulator.generator import generate_scenario, write_scenario
        from connectors.simulator.server import free_port, settings_for

        scenario = self.workdir / f"day-{self.orders}-s{self.seed}.json"
        write_scenario(generate_scenario(self.orders, self.seed), scenario)
        simulator = f"http://{HOST}:{free_port(HOST)}"
        config = self.workdir / "orderhub.toml"
        config.write_text(render_toml(settings_for(simulator)), encoding="utf-8")
        self.url = database_url(self.db or str(self.workdir / "demo.db"))
        console.print(f"generated a day of {self.orders} orders (seed {self.seed})")
        self.sign_ins = self._prepare()
        env = {**os.environ, "ORDERHUB_CONFIG": str(config)}
        env["ORDERHUB_LOG"] = str(self.workdir / "orderhub.log")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        cli = [sys.executable, "-m", "service.cli"]
        db = ["--db", self.url, "--host", HOST]
        self._spawn("API", [*cli, "serve", *db, "--port", str(self.port), "--with-scheduler"], env)
        ui = [*cli, "ui", *db, "--port", str(self.ui_port), "--config", str(config)]
        self._spawn("editor", ui, env)
        self._wait_ready(self.api + "/healthz")
        self._wait_ready(self.editor + "/")
        options = {"live_minutes": self.minutes, "push_url": self.api + "/hooks"}
        options["push_share"] = PUSH_SHARE
        port = simulator.rsplit(":", 1)[1]
        sim = [sys.executable, "-m", "connectors.simulator", "--scenario", str(scenario)]
        sim += ["--host", HOST, "--port", port, "--options", json.dumps(options)]
        self._spawn("simulator", sim, env)
        self._wait_ready(simulator + "/_sim/stats")
        self._banner(simulator)

    def _prepare(self) -> list[tuple[str, str, str]]:
        """The demo users with roles and passwords, a token for the admin, and workflow v1
        saved and active; the sign-ins as (user, role, password)."""
        text = WORKFLOW.read_text(encoding="utf-8")
        if SHIPPED_TRIGGERS not in text:
            raise DemoError(f"{WORKFLOW.name}'s triggers changed; update demo_cli.DEMO_TRIGGERS")
        store: Store = open_store(self.url)
        try:
            admin = Actor(DEMO_USERS[0][0], "admin")
            sign_ins = []
            for user, role in DEMO_USERS:
                grant(store, admin, user, role, "the demo's users")
                password = secrets.token_urlsafe(9)
                set_password(store, admin, user, password)
                sign_ins.append((user, role, password))
            self.token = create_token(store, admin, admin.user, "admin", days=1).secret
            ops = Actor(DEMO_USERS[1][0], "ops_manager")
            demo_text = text.replace(SHIPPED_TRIGGERS, DEMO_TRIGGERS)
            message = "the demo: pulls every minute, every channel's pushes"
            version = asyncio.run(save_version(store, ops, demo_text, base=None, message=message))
            if not version.active:  # a first version is active as it is saved
                activate_version(store, ops, version.workflow_id, version.number)
        finally:
            store.dispose()
        return sign_ins

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.workdir / f"{name.lower()}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: Ctrl-C reaches the demo alone
            )
        self.children.append(Child(name, proc, log))

    def _wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise DemoError(f"{url} did not answer within {READY_TIMEOUT_S:g} s; see the logs (--keep)")

    def _check_alive(self) -> None:
        for child in self.children:
            code = child.proc.poll()
            if code is not None:
                last = _last_line(child.log)
                raise DemoError(
                    f"the {child.name} stopped (exit {code}): {last or 'no output'}; "
                    "run the demo again with --keep to read its log"
                )

    def _banner(self, simulator: str) -> None:
        pids = ", ".join(f"{c.name} pid {c.proc.pid}" for c in self.children)
        width = max(len(user) for user, _, _ in self.sign_ins)
        lines = [
            f"the day arrives over {self.minutes:g} minute{'' if self.minutes == 1 else 's'}: "
            f"about {PUSH_SHARE:.0%} of the paid orders are pushed to the API's hooks, the "
            "scheduler pulls the rest every minute (a minute behind, as it stays behind the "
            "platforms' clocks)",
            "",
            f"editor     {self.editor}    sign in as:",
            *(f"    {u:<{width}}  {r:<12} {p}" for u, r, p in self.sign_ins),
            f"API        {self.api}    (documentation: {self.api}/docs)",
            f"simulator  {simulator}/_sim/stats",
            "",
            "try:",
            f'  curl -s -H "Authorization: Bearer {self.token}" '
            f'"{self.api}/orders?status=shipped&limit=5"',
            "  the editor as wang (reviewer): possible duplicates wait in the review queue",
            "  the editor as li (ops_manager): the exceptions queue, the workflow, its versions",
            f"  ORDERHUB_TOKEN={self.token} orderhub queue list --db {self.url}",
            "",
            f"processes: {pids}",
            "Ctrl-C stops all of it"
            + ("" if self.keep else " and removes its folder (--keep keeps it)"),
        ]
        typer.echo("\n".join(lines))
        sys.stdout.flush()

    def _watch(self) -> int:
        """Until Ctrl-C: a line on the orders now and then; 1 if a process stops."""
        last = time.monotonic()
        while True:
            time.sleep(1.0)
            try:
                self._check_alive()
            except DemoError as exc:
                typer.echo(f"error: {exc}", err=True)
                return 1
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                typer.echo(self._progress())
                sys.stdout.flush()

    def _progress(self) -> str:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.api, headers=headers, timeout=10) as client:
                got = client.get("/orders", params={"limit": 1}).json()["total"]
                shipped = client.get("/orders", params={"limit": 1, "status": "shipped"})
            return f"orders in: {got}, shipped: {shipped.json()['total']}"
        except (httpx.HTTPError, KeyError, ValueError):
            return "orders: the API did not answer this time"


def stop_group(proc: subprocess.Popen, wait_s: float = STOP_WAIT_S) -> None:
    """Stop `proc` and every process of its group (its pid): SIGINT, then SIGTERM, then
    SIGKILL, each given `wait_s` (5 s for SIGTERM); return once the group is empty."""
    for sig, wait in ((signal.SIGINT, wait_s), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if not group_alive(proc):
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and group_alive(proc):
            time.sleep(0.1)


def group_alive(proc: subprocess.Popen) -> bool:
    """Whether `proc` or any process of its group still runs (reaping `proc` when it ended)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member that changed user: still there
        return True
    return True


def port_free(port: int) -> bool:
    """Whether a server may listen on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the demo as Ctrl-C does


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""
