"""Tamper evidence: a version edited in the database is refused wherever it is loaded, and
`audit verify` names it; a log rewritten with its head is caught by a head kept elsewhere.

Each test edits the rows directly, as someone with write access to the database would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from engine.errors import InvalidInput, Tampered
from engine.store import Store
from service import versioning, workflows
from service.cli import app
from service.targets import resolve
from tests.versions.documents import AUDITOR, BASE, LI, SAFETY_20, WORKFLOW
from versions import audit
from versions import store as vstore
from versions.integrity import text_hash, verify_versions
from versions.store import get_version, list_versions, rollback, save

SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "intake-1200-s7.json"
EDITED = BASE.replace("    default: 10\n", "    default: 0\n", 1)
cli = CliRunner()


def two_versions(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")  # v1, active
    save(store, SAFETY_20, actor=LI, base=1, message="raise")  # v2


def edit_text(store: Store | Engine, number: int, text_: str, *, with_hash: bool = False) -> None:
    """UPDATE the row directly, as a person with SQL access to the database would."""
    engine = store.engine if isinstance(store, Store) else store
    sets = "text = :text" + (", content_hash = :hash" if with_hash else "")
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE workflow_versions SET {sets} WHERE number = :n"),
            {"text": text_, "hash": text_hash(text_), "n": number},
        )


def test_an_edited_text_is_refused_wherever_the_version_is_loaded(store: Store) -> None:
    two_versions(store)
    edit_text(store, 1, EDITED)
    with pytest.raises(Tampered, match=r"^order_intake v1 was edited in the database after it"):
        get_version(store, "order_intake")  # the active one: what `run order_intake` loads
    with pytest.raises(Tampered, match="no longer matches its sha256"):
        resolve(store, "order_intake")  # run
    with pytest.raises(Tampered):
        versioning.show_version(store, AUDITOR, "order_intake", 1)  # show
    with pytest.raises(Tampered):
        versioning.diff_versions(store, AUDITOR, "order_intake", 1, 2)  # diff
    with pytest.raises(Tampered):
        rollback(store, "order_intake", 1, actor=LI, reason="back")  # rollback
    with pytest.raises(Tampered):
        asyncio.run(  # replay against the active version
            versioning.replay_version(store, AUDITOR, "order_intake", "2", scenario=str(SCENARIO))
        )
    # the intact version still loads, and listing names the edited one without refusing
    assert get_version(store, "order_intake", 2).number == 2
    listed = {v.number: v.tampered for v in list_versions(store, "order_intake")}
    assert listed[2] is None and "edited in the database" in (listed[1] or "")
    page = workflows.version_page(store, AUDITOR, "order_intake", 10, 0)  # what the API lists
    assert [bool(v.tampered) for v in page.items] == [True, False]
    edit_text(store, 2, EDITED)
    with pytest.raises(Tampered):  # a save is not compared with an edited latest version
        save(store, EDITED.replace("default: 60", "default: 30"), actor=LI, base=2, message="x")


def test_the_check_is_what_refuses(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twin of the test above with the check switched off: the edited content would load
    under the old name, as the issue found it running."""
    two_versions(store)
    edit_text(store, 1, EDITED)
    monkeypatch.setattr(vstore, "check_row", lambda session, row: None)
    assert get_version(store, "order_intake").text == EDITED


def test_text_and_hash_edited_together_are_refused_by_the_audit_record(store: Store) -> None:
    two_versions(store)
    edit_text(store, 1, EDITED, with_hash=True)
    with pytest.raises(Tampered, match=r"the audit log recorded sha256 \w{12} for it"):
        get_version(store, "order_intake", 1)
    assert verify_versions(store) == [
        f"order_intake v1 was edited in the database after it was saved: the audit log "
        f"recorded sha256 {text_hash(BASE)[:12]} for it, the row now says "
        f"{text_hash(EDITED)[:12]}"
    ]


def test_audit_verify_names_an_edited_version(store: Store) -> None:
    two_versions(store)
    rollback(store, "order_intake", 1, actor=LI, reason="back")  # v3: v1's content
    problems, _ = versioning.verify_audit(store, AUDITOR)
    assert problems == []
    assert audit.list_entries(store)[-1].detail["content_hash"] == text_hash(BASE)
    edit_text(store, 3, EDITED)
    problems, _ = versioning.verify_audit(store, AUDITOR)
    assert problems == [
        "order_intake v3 was edited in the database after it was saved: its text no longer "
        f"matches its sha256 {text_hash(BASE)[:12]}"
    ]


def rewrite_log(store: Store) -> None:
    """Drop the newest audit row and point the head at the one before: consistent in itself."""
    with store.engine.begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM audit_log")).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last})
        prev = conn.execute(
            text("SELECT id, hash FROM audit_log WHERE id = :id"), {"id": last - 1}
        ).one()
        conn.execute(
            text("UPDATE audit_head SET last_id = :id, last_hash = :hash"),
            {"id": prev.id, "hash": prev.hash},
        )


def test_a_head_kept_elsewhere_catches_a_log_rewritten_with_its_head(store: Store) -> None:
    two_versions(store)
    kept_id, kept_hash = audit.head(store) or (0, "")
    assert audit.verify(store, f"{kept_id}:{kept_hash}") == []
    assert audit.verify(store, kept_hash) == []
    save(store, EDITED, actor=LI, base=2, message="later")  # the log grows past the copy
    assert audit.verify(store, kept_hash) == []
    rewrite_log(store)
    rewrite_log(store)  # back before the kept row
    assert audit.verify(store) == []  # consistent in itself: invisible without the copy
    assert audit.verify(store, kept_hash) == [
        f"the head kept elsewhere ({kept_hash[:12]}…) is not in the audit log: the log was "
        "rewritten, or cut back before that row"
    ]
    with pytest.raises(InvalidInput, match="64-digit sha256") as raised:
        audit.verify(store, "abc")
    assert raised.value.field == "head"


def test_the_cli_refuses_to_run_an_edited_version_and_verify_names_it(
    db_url: str, tmp_path: Path
) -> None:
    def orderhub(*args: str) -> tuple[int, str, str]:
        result = cli.invoke(app, [*args, "--db", db_url])
        return result.exit_code, result.stdout, result.stderr

    ops, auditor = ["--as", "li.wei:ops_manager"], ["--as", "zhao.min:auditor"]
    assert orderhub("versions", "save", str(WORKFLOW), "-m", "first", *ops)[0] == 0
    code, head, _ = orderhub("audit", "head", *auditor)
    assert code == 0 and head.startswith("2:") and len(head.strip()) == 66
    assert orderhub("audit", "verify", "--head", head.strip(), *auditor)[:2] == (
        0,
        f"audit log intact and matches the head kept elsewhere; head {head.strip()} "
        "(keep a copy elsewhere)\n",
    )

    engine = create_engine(db_url)
    edit_text(engine, 1, EDITED)
    engine.dispose()

    code, out, err = orderhub("run", "order_intake", "--scenario", str(SCENARIO), *ops)
    assert code == 1 and out == ""
    assert err.startswith("error: order_intake v1 was edited in the database after it was saved")
    assert len(err.strip().splitlines()) == 1
    code, out, err = orderhub("versions", "show", "order_intake", *auditor)
    assert (code, out) == (1, "") and "was edited in the database" in err
    code, out, err = orderhub("audit", "verify", *auditor)
    assert code == 1 and err.startswith("order_intake v1 was edited in the database")
    code, out, _ = orderhub("versions", "list", "order_intake", *auditor)
    assert code == 0 and "EDITED IN THE DATABASE" in out
