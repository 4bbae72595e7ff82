"""Tables piped to a file are as wide as their content, not cut at 80 columns."""

from __future__ import annotations

import io

import pytest
from rich.table import Table
from typer.testing import CliRunner

from service import console as console_module
from service.cli import app
from tests.versions.documents import WORKFLOW
from versions.integrity import text_hash

cli = CliRunner()


def test_a_piped_table_is_not_cut(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # exported by some shells and by pytest's workers
    ops = ["--as", "li.wei:ops_manager", "--db", db_url]
    assert cli.invoke(app, ["versions", "save", str(WORKFLOW), "-m", "first", *ops]).exit_code == 0
    result = cli.invoke(app, ["audit", "list", *ops])
    assert result.exit_code == 0
    assert "li.wei:ops_manager" in result.stdout  # not "li.wei:op…"
    assert text_hash(WORKFLOW.read_text(encoding="utf-8")) in result.stdout  # the whole detail
    assert "…" not in result.stdout


@pytest.mark.parametrize("width", [None, 60])
def test_a_terminal_or_a_chosen_width_still_wraps(width: int | None) -> None:
    table = Table()
    table.add_column("detail")
    table.add_row("x" * 200)
    out = io.StringIO()
    if width is None:  # a terminal of 100 columns
        shown = console_module._Console(file=out, force_terminal=True, color_system=None)
        shown.size = (100, 25)
    else:
        shown = console_module._Console(file=out, width=width)
    shown.print(table)
    assert max(len(line) for line in out.getvalue().splitlines()) <= (width or 100)
