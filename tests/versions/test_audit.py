"""The hash-chained audit log: intact, edited, deleted and reordered rows."""

from __future__ import annotations

from sqlalchemy import text

from engine.store import Store
from tests.versions.documents import LI, SAFETY_20, WORKFLOW
from versions import audit
from versions.store import rollback, save


def history(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")  # rows 1 (save), 2 (activate)
    save(store, SAFETY_20, actor=LI, base=1, message="raise")  # row 3
    rollback(store, "order_intake", 1, actor=LI, reason="too many holds")  # row 4


def test_an_untouched_log_verifies(store: Store) -> None:
    history(store)
    entries = audit.list_entries(store)
    assert [e.action for e in entries] == ["save", "activate", "save", "rollback"]
    assert [e.id for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == "" and entries[1].prev_hash == entries[0].hash
    assert audit.verify(store) == []
    assert [e.id for e in audit.list_entries(store, limit=2)] == [3, 4]


def test_an_edited_row_is_detected(store: Store) -> None:
    history(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = '{\"number\": 9}' WHERE id = 3"))
    assert audit.verify(store) == ["audit row 3 was edited after it was written"]


def test_an_edited_reason_is_detected(store: Store) -> None:
    history(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET reason = 'routine' WHERE id = 4"))
    assert audit.verify(store) == ["audit row 4 was edited after it was written"]


def test_a_deleted_row_is_detected(store: Store) -> None:
    history(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    problems = audit.verify(store)
    assert problems[0] == "audit row 2 is missing (deleted)"
    assert "audit row 3 does not follow the row before it" in problems[1]


def test_a_deleted_first_row_is_detected(store: Store) -> None:
    history(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 1"))
    assert audit.verify(store)


def test_swapped_rows_are_detected(store: Store) -> None:
    history(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET id = 100 WHERE id = 3"))
        conn.execute(text("UPDATE audit_log SET id = 3 WHERE id = 4"))
        conn.execute(text("UPDATE audit_log SET id = 4 WHERE id = 100"))
    problems = audit.verify(store)
    assert "audit row 3 was edited after it was written" in problems
    assert any("does not follow" in p for p in problems)


def test_deleting_the_newest_rows_is_detected_by_the_head(store: Store) -> None:
    history(store)
    assert audit.head(store) == (4, audit.list_entries(store)[-1].hash)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= 3"))
    assert audit.verify(store) == [
        "the audit log ends at row 2 but its head says row 4: the newest rows were deleted "
        "(or the head edited)"
    ]
