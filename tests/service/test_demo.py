"""`orderhub demo --batch` cleans up after itself: its temporary folder goes unless --keep."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

cli = CliRunner()


@pytest.fixture
def tmpdir_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of this process and its children go under a folder of the test's."""
    here = tmp_path / "tmp"
    here.mkdir()
    monkeypatch.setenv("TMPDIR", str(here))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    return here


def test_demo_leaves_no_folder_behind(tmpdir_here: Path) -> None:
    result = cli.invoke(app, ["demo", "--batch", "--orders", "60"])
    assert result.exit_code == 0, result.output
    assert "reproduces the scenario's independent oracle exactly" in result.stdout
    assert list(tmpdir_here.glob("orderhub-demo-*")) == []


def test_demo_keep_keeps_it(tmpdir_here: Path) -> None:
    result = cli.invoke(app, ["demo", "--batch", "--orders", "60", "--keep"])
    assert result.exit_code == 0, result.output
    [kept] = tmpdir_here.glob("orderhub-demo-*")
    assert f"kept the scenario, database and report in {kept}" in result.stdout.replace("\n", "")
    assert {p.name for p in kept.iterdir()} >= {"demo.db", "report.json", "intake-60-s42.json"}
