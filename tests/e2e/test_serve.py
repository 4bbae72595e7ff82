"""`orderhub serve` as a person starts it: a process on a loopback port, answering the probes
without a token and everything else only with one; a wrong database URL is one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEADLINE_S = 120.0


def _orderhub(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "service.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env["ORDERHUB_LOG"] = str(tmp_path / "orderhub.log")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_serve_answers_with_a_token_and_refuses_without(tmp_path: Path) -> None:
    env = _env(tmp_path)
    made = _orderhub(
        "token",
        "create",
        "--user",
        "boss",
        "--role",
        "admin",
        "--db",
        "o.db",
        cwd=tmp_path,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    port = _free_port()
    command = [sys.executable, "-m", "service.cli", "serve", "--db", "o.db", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + DEADLINE_S
        with httpx.Client() as poll:  # one client: each new one loads the CA bundle (CPU)
            while True:
                try:
                    if poll.get(f"{url}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "orderhub serve did not answer in time"
                time.sleep(0.5)
        assert httpx.get(f"{url}/workflows").status_code == 401
        answer = httpx.get(f"{url}/workflows", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json()["total"] == 0
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=DEADLINE_S)


def test_serve_with_a_wrong_database_url_is_one_line(tmp_path: Path) -> None:
    wrong = _orderhub("serve", "--db", "mysql://x@h/db", cwd=tmp_path, env=_env(tmp_path))
    assert wrong.returncode == 1
    assert wrong.stderr.count("\n") == 1 and wrong.stderr.startswith("error: ")
