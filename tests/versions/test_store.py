"""The version store on a real database: saves, conflicts, activation, rollback."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from engine.errors import (
    Conflict,
    ConflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from engine.store import Store
from service import versioning
from tests.versions.documents import (
    AUDITOR,
    BASE,
    INVALID,
    LI,
    SAFETY_20,
    WITHOUT_STOCK,
    WORKFLOW,
)
from versions import audit
from versions.models import AuditRow, VersionRow
from versions.store import activate, get_version, list_versions, rollback, save


def rows(store: Store, table: type) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_first_save_is_version_1_and_active(store: Store) -> None:
    v = save(store, WORKFLOW, actor=LI, base=None, message="first")
    assert (v.workflow_id, v.number, v.based_on, v.author, v.active) == (
        "order_intake",
        1,
        None,
        "li.wei",
        True,
    )
    assert v.text == BASE
    assert get_version(store, "order_intake").number == 1
    assert [e.action for e in audit.list_entries(store)] == ["save", "activate"]


def test_a_save_based_on_an_old_version_is_refused_as_a_conflict(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    save(store, SAFETY_20, actor=LI, base=1, message="raise safety stock")
    other = SAFETY_20.replace("default: 60", "default: 30")
    with pytest.raises(ConflictError, match=r"order_intake is at v2.*save again based on v2"):
        save(store, other, actor=LI, base=1, message="shorter dedup window")
    with pytest.raises(ConflictError, match="not based on any version"):
        save(store, other, actor=LI, base=None, message="shorter dedup window")
    assert [v.number for v in list_versions(store, "order_intake")] == [1, 2]
    assert save(store, other, actor=LI, base=2, message="shorter dedup window").number == 3


def test_an_invalid_document_never_becomes_a_version(store: Store) -> None:
    with pytest.raises(ValidationError) as caught:
        save(store, INVALID, actor=LI, base=None, message="typo")
    assert "stock_chek" in str(caught.value)
    assert caught.value.line > 0
    assert rows(store, VersionRow) == 0
    assert rows(store, AuditRow) == 0


def test_the_same_content_again_is_refused(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    with pytest.raises(InvalidInput, match="identical to order_intake v1"):
        save(store, WORKFLOW, actor=LI, base=1, message="again")


def test_removing_the_critical_stock_check_needs_confirm(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    with pytest.raises(InvalidInput, match=r"stock \(critical!\).*save again confirming it"):
        save(store, WITHOUT_STOCK, actor=LI, base=1, message="no stock check")
    assert rows(store, VersionRow) == 1
    v = save(store, WITHOUT_STOCK, actor=LI, base=1, message="no stock check", confirm=True)
    assert v.confirmed and not v.active
    assert audit.list_entries(store)[-1].detail["confirmed_critical"]


def test_activate_switches_the_one_active_version(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    save(store, SAFETY_20, actor=LI, base=1, message="raise")
    assert get_version(store, "order_intake").number == 1
    assert activate(store, "order_intake", 2, actor=LI).active
    assert [v.number for v in list_versions(store, "order_intake") if v.active] == [2]
    with pytest.raises(Conflict, match="already active"):
        activate(store, "order_intake", 2, actor=LI)
    with pytest.raises(NotFound, match="no version 9"):
        activate(store, "order_intake", 9, actor=LI)


def test_rollback_makes_the_old_content_active_at_once(store: Store) -> None:
    """How fast a rollback is belongs to bench/versions.py, not here (a busy machine)."""
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    save(store, SAFETY_20, actor=LI, base=1, message="raise")
    activate(store, "order_intake", 2, actor=LI)
    done = rollback(store, "order_intake", 1, actor=LI, reason="too many holds")
    assert done.seconds >= 0
    assert (done.version.number, done.version.based_on, done.restored) == (3, 2, 1)
    active = get_version(store, "order_intake")
    assert active.number == 3 and active.text == BASE
    last = audit.list_entries(store)[-1]
    assert (last.action, last.reason, last.detail["restored"]) == ("rollback", "too many holds", 1)


def test_rollback_needs_a_reason_and_an_earlier_version(store: Store) -> None:
    save(store, WORKFLOW, actor=LI, base=None, message="first")
    with pytest.raises(InvalidInput, match="reason"):
        rollback(store, "order_intake", 1, actor=LI, reason=" ")
    with pytest.raises(Conflict, match="latest version"):
        rollback(store, "order_intake", 1, actor=LI, reason="why not")


def test_an_auditor_cannot_save_but_can_list_and_diff(store: Store) -> None:
    asyncio.run(versioning.save_version(store, LI, WORKFLOW, base=None, message="first"))
    asyncio.run(versioning.save_version(store, LI, SAFETY_20, base=1, message="raise"))
    with pytest.raises(PermissionDenied, match="admin or ops_manager"):
        asyncio.run(versioning.save_version(store, AUDITOR, SAFETY_20, base=2, message="nope"))
    with pytest.raises(PermissionDenied):
        versioning.rollback_version(store, AUDITOR, "order_intake", 1, reason="nope")
    assert [v.number for v in versioning.list_versions(store, AUDITOR, "order_intake")] == [1, 2]
    d = versioning.diff_versions(store, AUDITOR, "order_intake", 1, 2)
    assert [str(c) for c in d.changes] == ["params.safety_stock.default: 10 → 20"]


def test_two_saves_on_the_same_base_at_once_one_wins(store: Store) -> None:
    """Two people save on base 1 at the same moment: one gets version 2, the other a conflict."""
    import threading

    save(store, WORKFLOW, actor=LI, base=None, message="first")
    texts = [SAFETY_20, SAFETY_20.replace("default: 60", "default: 30")]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def attempt(text: str) -> None:
        barrier.wait()
        try:
            results.append(save(store, text, actor=LI, base=1, message="race").number)
        except ConflictError as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if isinstance(r, int)) == [2]
    assert sum(isinstance(r, ConflictError) for r in results) == 1
    assert [v.number for v in list_versions(store, "order_intake")] == [1, 2]


def test_a_run_is_labelled_with_the_version_it_ran_on_even_after_a_rollback(store: Store) -> None:
    from versions.store import version_at

    v1 = save(store, WORKFLOW, actor=LI, base=None, message="first")
    save(store, SAFETY_20, actor=LI, base=1, message="raise safety stock")
    v3 = rollback(store, "order_intake", 1, actor=LI, reason="oversold").version
    assert v3.content_hash == v1.content_hash and v3.number == 3
    between = v1.created_at  # a run started while v1 was the newest with this content
    assert version_at(store, "order_intake", v1.content_hash, between).number == 1
    assert version_at(store, "order_intake", v1.content_hash, v3.created_at).number == 3
    before_any = v1.created_at.replace(year=2000)  # a draft run whose content was saved later
    assert version_at(store, "order_intake", v1.content_hash, before_any).number == 1
    assert version_at(store, "order_intake", "no-such-hash", between) is None
