"""`orderhub versions …` and `orderhub audit …` end to end on a real database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from service.cli import app
from tests.versions.documents import SAFETY_20, WITHOUT_STOCK, WORKFLOW

cli = CliRunner()
OPS = ["--as", "li.wei:ops_manager"]
AUDITOR = ["--as", "zhao.min:auditor"]


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, [*args, "--db", db_url])
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_save_diff_rollback_and_verify(db_url: str, tmp_path: Path) -> None:
    v2 = write(tmp_path, "v2.yaml", SAFETY_20)
    assert run(db_url, "versions", "save", str(WORKFLOW), "-m", "first", *OPS)[:2] == (
        0,
        "saved order_intake v1 (active)\n",
    )
    code, out, _ = run(
        db_url, "versions", "save", v2, "-m", "raise safety stock", "--base", "1", *OPS
    )
    assert (code, out) == (0, "saved order_intake v2\n")

    code, _, err = run(db_url, "versions", "save", v2, "-m", "again", "--base", "1", *OPS)
    assert code == 1 and "error: order_intake is at v2" in err

    code, out, _ = run(db_url, "versions", "diff", "order_intake", "1", "2", *AUDITOR)
    assert code == 0
    assert "params.safety_stock.default: 10 → 20" in out and "+    default: 20" in out

    code, out, _ = run(db_url, "versions", "diff", "order_intake", "1", "2", "--json", *AUDITOR)
    assert [c["line"] for c in json.loads(out)["changes"]] == [
        "params.safety_stock.default: 10 → 20"
    ]

    assert run(db_url, "versions", "activate", "order_intake", "2", *OPS)[0] == 0
    code, out, _ = run(
        db_url, "versions", "rollback", "order_intake", "1", "--reason", "holds piling up", *OPS
    )
    assert code == 0 and out.startswith("rolled back order_intake to v1's content as v3, active")

    code, out, _ = run(db_url, "versions", "list", "order_intake", "--json", *AUDITOR)
    listed = json.loads(out)
    assert [(v["number"], v["active"]) for v in listed] == [(1, False), (2, False), (3, True)]
    code, out, _ = run(db_url, "versions", "show", "order_intake", "--json", *AUDITOR)
    assert json.loads(out)["text"] == WORKFLOW.read_text(encoding="utf-8")

    code, out, _ = run(db_url, "audit", "list", "--json", *AUDITOR)
    assert [e["action"] for e in json.loads(out)] == [
        "save",
        "activate",
        "save",
        "activate",
        "rollback",
    ]
    code, out, _ = run(db_url, "audit", "verify", *AUDITOR)
    assert code == 0 and out.startswith("audit log intact; head ")

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 4"))
    engine.dispose()
    code, out, _ = run(db_url, "audit", "verify", "--json", *AUDITOR)
    assert code == 1 and json.loads(out)["problems"][0] == "audit row 4 is missing (deleted)"


def test_an_auditor_cannot_save(db_url: str) -> None:
    code, _, err = run(db_url, "versions", "save", str(WORKFLOW), "-m", "first", *AUDITOR)
    assert code == 1
    assert "zhao.min (auditor) may not versions.save; it needs the role admin or ops_manager" in err
    assert run(db_url, "versions", "list", "order_intake", "--json", *AUDITOR)[:2] == (0, "[]\n")


def test_critical_removal_needs_confirm_and_invalid_files_show_their_place(
    db_url: str, tmp_path: Path
) -> None:
    run(db_url, "versions", "save", str(WORKFLOW), "-m", "first", *OPS)
    path = write(tmp_path, "nostock.yaml", WITHOUT_STOCK)
    code, _, err = run(db_url, "versions", "save", path, "-m", "x", "--base", "1", *OPS)
    assert code == 1 and "--confirm" in err
    code, out, _ = run(
        db_url, "versions", "save", path, "-m", "x", "--base", "1", "--confirm", *OPS
    )
    assert (code, out) == (0, "saved order_intake v2\n")

    bad = write(tmp_path, "bad.yaml", SAFETY_20.replace("type: stock_check", "type: stock_chek"))
    code, _, err = run(db_url, "versions", "save", bad, "-m", "x", "--base", "2", *OPS)
    assert code == 1 and f"{bad}:" in err and "stock_chek" in err


def test_a_malformed_actor_is_refused(db_url: str) -> None:
    code, _, err = run(db_url, "versions", "list", "order_intake", "--as", "li.wei")
    assert code == 1 and "USER:ROLE" in err
