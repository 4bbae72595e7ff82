"""Typed errors (issue 9, item 1): the service layer raises NotFound, InvalidInput, Conflict and
PermissionDenied with messages that name no CLI flag; the CLI maps them in one place and adds
its own option where a message is about one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import errors
from service.cli import app

ROOT = Path(__file__).resolve().parents[2]
cli = CliRunner()
#: the doors: they may name their own flags
DOORS = {"cli.py", "cli_common.py", "versions_cli.py", "people_cli.py", "runs_cli.py"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def raised_texts(path: Path) -> list[tuple[int, str]]:
    """The literal text of every `raise X(…)` in a module, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            for arg in ast.walk(node.exc):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((node.lineno, arg.value))
    return found


def use_case_modules() -> list[Path]:
    modules = [p for p in (ROOT / "service").rglob("*.py") if p.name not in DOORS]
    modules += list((ROOT / "versions").rglob("*.py"))
    return [p for p in modules if not p.name.endswith("_cli.py")]


@pytest.mark.parametrize("path", use_case_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_use_case_messages_name_no_cli_flag(path: Path) -> None:
    flagged = [(line, text) for line, text in raised_texts(path) if FLAG.search(text)]
    assert flagged == [], f"{path.name}: a door adds its own flags; say what is needed instead"


def test_the_four_kinds_every_door_maps() -> None:
    assert issubclass(errors.InputError, errors.InvalidInput)
    assert issubclass(errors.LeaseHeld, errors.Conflict)
    assert errors.Conflict is errors.ConflictError
    for kind in (errors.NotFound, errors.InvalidInput, errors.Conflict, errors.PermissionDenied):
        assert issubclass(kind, errors.OrderhubError)
        assert not issubclass(kind, errors.WorkflowError)


def test_the_cli_adds_its_option_to_an_invalid_input_and_maps_the_rest_to_one_line(
    tmp_path: Path,
) -> None:
    db = ["--db", str(tmp_path / "o.db"), "--as", "li.wei:ops_manager"]
    empty = cli.invoke(app, ["runs", "retry", "1", "--reason", " ", *db])
    assert empty.exit_code == 1
    assert empty.output == (
        'error: a retry needs a reason; it goes in the audit log (give it with --reason "…")\n'
    )
    missing = cli.invoke(app, ["runs", "retry", "7", "--reason", "SF fixed", *db])
    assert missing.exit_code == 1
    assert missing.output == "error: no run 7; nothing was sent back\n"
    shown = cli.invoke(app, ["orders", "show", "h5:H1", *db])
    assert shown.output == "error: no order h5:H1; the list of orders shows the newest ones\n"
