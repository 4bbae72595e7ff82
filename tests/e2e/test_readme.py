"""The README's examples work as written: its shell blocks, run in order in one shell.

What it does: every fenced block of the README that starts with ```sh is extracted in
order and the blocks are pasted, one after the other, into ONE bash process (as a newcomer
pastes them into one terminal), in a fresh folder holding the project's files as a clone
would (git's tracked and not-ignored files; no .venv, no databases). That folder's `.venv`
links to the virtualenv running this test, so `. .venv/bin/activate` works, and its `bin` is
on PATH. The shell runs with `set -e -o pipefail`: the first command that fails stops it, and
the test names the block (its line in README.md) it was in.

Convention: a block that must not be run here is preceded, on the line just above its
opening fence, by an HTML comment, invisible on GitHub:

    <!-- readme-test: skip (why) -->

The reason is required. Skipped today: `make demo`/`make test` (make installs into .venv
itself, and `make test` is the suite this test is part of), `pip install` (the venv is set
up already: an editable install from the copy would re-point the venv at it),
`runs retry 812 813` (example run numbers; the README's day has no failed runs), and the
commands that run until stopped or prompt for a password (`orderhub scheduler`,
`users passwd` with `orderhub ui`, `orderhub serve` with its curl).

Two things are changed on the way, both so that the examples can run on a shared machine:
the simulator's example ports (8900, 8901, 8765) become free ports, and background jobs (the
simulators the README starts with `&`) are stopped when the shell ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")
PORTS = ("8900", "8901", "8765")
DEADLINE_S = 1800  # generous: the machine may be busy; the blocks take 1-3 minutes alone


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence in README.md
    text: str
    skip: str | None  # the reason, when marked


def blocks(readme: str) -> list[Block]:
    """Every ```sh block in order, with the skip mark on the line above it, if any."""
    lines = readme.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            above = lines[start - 1] if start else ""
            mark = SKIP.search(above)
            found.append(Block(start + 1, "\n".join(body), mark["why"] if mark else None))
        i += 1
    return found


def test_the_skip_marks_are_few_and_say_why() -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    assert len(found) >= 8
    skipped = [b for b in found if b.skip]
    assert all(b.skip and b.skip.strip() for b in skipped)
    # make, pip, example run numbers, and three commands that run until stopped (scheduler,
    # editor, API server) or ask for a password
    assert len(skipped) <= 6, [b.line for b in skipped]
    # a mark that is not directly above a fence would silently do nothing
    marks = len(SKIP.findall(README.read_text(encoding="utf-8")))
    assert marks == len(skipped)


def fresh_clone(into: Path) -> None:
    """The project's files as a clone has them (plus files not yet committed, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the work tree
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def script(found: list[Block]) -> str:
    ports = {port: free_port() for port in PORTS}
    parts = [
        "set -e -o pipefail",
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    ]
    for block in found:
        if block.skip:
            continue
        text = block.text
        for old, new in ports.items():
            text = text.replace(old, new)
        parts.append(f'echo "::README.md:{block.line} at $(date +%T)" >&2')
        parts.append(text)
    parts.append("echo '::done' >&2")
    return "\n".join(parts) + "\n"


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs the project's virtualenv")
def test_the_readme_blocks_run_in_order(tmp_path: Path) -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    here = tmp_path / "clone"
    here.mkdir()
    fresh_clone(here)
    (here / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ORDERHUB_") and k not in ("VIRTUAL_ENV", "COLUMNS")
    }
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path)
    (here / "readme.sh").write_text(script(found), encoding="utf-8")
    before = {p.name for p in here.iterdir()}
    process = subprocess.Popen(
        ["bash", "readme.sh"],
        cwd=here,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=DEADLINE_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything a block left running
        process.wait()
    reached = [line for line in err.splitlines() if line.startswith("::")]
    where = reached[-1][2:] if reached else "before the first block"
    assert process.returncode == 0 and reached[-1:] == ["::done"], (
        f"the README's commands failed in the block at {where} (exit {process.returncode});\n"
        f"blocks reached: {reached}\nstderr (end):\n{err[-3000:]}\nstdout (end):\n{out[-2000:]}"
    )
    created = sorted({p.name for p in here.iterdir()} - before)
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *created],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    left = [name for name in created if name not in ignored]
    assert left == [], f"files the README makes that .gitignore does not cover: {left}"
