"""`orderhub scenario generate --kind history`, `orderhub import …` and `orderhub insights …`
end to end on a SQLite file: the commands a brand would type, their JSON and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

cli = CliRunner()
KEY_ENV = {"ORDERHUB_INSIGHTS_KEY": "cli-test-key-0123456789", "ORDERHUB_CONFIG": ""}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("cli")
    manifest = folder / "h.json"
    out = cli.invoke(
        app,
        ["scenario", "generate", "--kind", "history", "--days", "35", "--orders-per-day",
         "60", "--seed", "8", "-o", str(manifest)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    db = f"sqlite:///{folder / 'x.db'}"
    for channel in ("youzan", "douyin", "h5"):
        out = cli.invoke(
            app,
            ["import", "orders", str(folder / f"h.{channel}.csv"), "--channel", channel,
             "--db", db, "--as", "li.wei:ops_manager", "--json"],
            env=KEY_ENV,
        )  # fmt: skip
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["runs_started"] == 0
    out = cli.invoke(
        app, ["import", "stock", str(folder / "h.stock.csv"), "--db", db, "--as", "li.wei:admin"]
    )
    assert out.exit_code == 0, out.output
    return manifest, db


def test_channels_as_json_match_the_manifest(loaded: tuple[Path, str]) -> None:
    manifest, db = loaded
    expected = json.loads(manifest.read_text(encoding="utf-8"))["expected"]
    out = cli.invoke(
        app,
        ["insights", "channels", "--days", "35", "--today", "2026-02-05", "--db", db,
         "--as", "zhao.min:finance", "--json"],
        env=KEY_ENV,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    got = {c["channel"]: c["current"] for c in json.loads(out.output)["channels"]}
    for channel, funnel in expected["funnel"].items():
        assert got[channel]["created"] == funnel["created"]
        assert got[channel]["paid"] == funnel["paid"]


def test_summary_prints_markdown(loaded: tuple[Path, str]) -> None:
    _, db = loaded
    out = cli.invoke(
        app,
        ["insights", "summary", "--today", "2026-02-05", "--db", db, "--as", "z:auditor"],
        env=KEY_ENV,
    )
    assert out.exit_code == 0, out.output
    assert out.output.startswith("### 爆品预警 Hot SKUs")


def test_without_a_key_the_error_says_how_to_set_one(loaded: tuple[Path, str]) -> None:
    _, db = loaded
    out = cli.invoke(
        app,
        ["insights", "customers", "--db", db, "--as", "z:auditor"],
        env={"ORDERHUB_INSIGHTS_KEY": "", "ORDERHUB_CONFIG": ""},
    )
    assert out.exit_code == 1
    assert "set `key` in the [insights] section" in out.output


def test_a_role_without_insights_is_refused_in_one_line(loaded: tuple[Path, str]) -> None:
    _, db = loaded
    out = cli.invoke(app, ["insights", "forecast", "--db", db, "--as", "w:warehouse"], env=KEY_ENV)
    assert out.exit_code == 1
    assert out.output.strip().count("\n") == 0 and "insights.read" in out.output
