"""The editor's pages through Streamlit's AppTest (no browser), on a store with a real day.

Each test signs in with a password, acts on a page as a person would, and checks what the
service layer then holds: the saved version and its diff, the active version after a
rollback, the queue item after a release, and that a warehouse user never sees a phone.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from connectors.simulator.server import start_simulator
from engine.settings import render_toml
from engine.store import Store, open_store
from engine.store.models import OrderRow
from nodes.rules import normalise_phone
from service import review, versioning
from service.access import Actor
from tests.ui.conftest import PASSWORD, WORKFLOW
from ui.labels import LABELS

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
LI = Actor("li.wei", "ops_manager")
ZHAO = Actor("zhao.min", "ops_manager")


@pytest.fixture
def store(ui_db: str) -> Any:
    s = open_store(ui_db)
    yield s
    s.dispose()


def signed_in(user: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.text_input(key="signin_user").input(user)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page shows as text (tables and JSON included)."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "text", "code", "error", "info", "success", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [e.value.to_string() for e in at.dataframe]
    parts += [str(e.value) for e in at.json]
    parts += [str(e.options) for e in at.selectbox]
    parts += [str(e.label) for e in at.expander]
    return "\n".join(parts)


def phones(store: Store) -> list[str]:
    with store.session() as session:
        rows = session.scalars(select(OrderRow.canonical)).all()
    found = {normalise_phone((r.get("receiver") or {}).get("phone", "")) for r in rows}
    return sorted(p for p in found if len(p) == 11)


def test_sign_in_refuses_a_wrong_password_and_shows_only_the_roles_pages(ui_db: str) -> None:
    at = signed_in("li.wei", "not the password")
    assert "wrong user name or password" in texts(at)
    assert at.text_input(key="signin_user").value == "li.wei"  # still on the sign-in form
    at = signed_in("wu.lei")
    assert at.radio(key="page").options == ["流程", "版本历史", "订单", "概览"]
    assert "此角色只能查看流程。" in texts(at)  # warehouse: no forms to edit
    at.selectbox(key="lang").select("en").run()
    assert at.title[0].value == "Workflow"
    at = signed_in("wang.fang")
    assert "待处理队列" in at.radio(key="page").options
    assert "审计日志" not in at.radio(key="page").options


def test_an_idle_session_is_signed_out(ui_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in("li.wei")
    assert at.radio(key="page").value == "workflow"
    monkeypatch.setenv("ORDERHUB_UI_IDLE_S", "0")
    at.run()
    assert "长时间未操作，已自动退出，请重新登录。" in texts(at)
    assert not at.radio


def test_editing_a_threshold_saves_a_version_whose_diff_is_exactly_that_threshold(
    store: Store,
) -> None:
    at = signed_in("li.wei")
    at.number_input(key="param_safety_stock").set_value(15).run()
    at.text_input(key="save_message").input("live-stream sale: more safety stock")
    at.button(key="preview_button").click().run()
    shown = texts(at)
    assert "params.safety_stock.default: 10 → 15" in shown
    assert "100 个订单中有" in shown  # the 7-day replay ran over the day's orders
    assert at.button(key="save").disabled  # the replay changes outcomes: confirm first
    at.checkbox(key="save_confirm").check().run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    assert "已保存 v2" in texts(at)
    active = versioning.show_version(store, LI, "order_intake", None)
    assert (active.number, active.author) == (2, "li.wei")
    diff = versioning.diff_versions(store, LI, "order_intake", 1, 2)
    assert [str(c) for c in diff.changes] == ["params.safety_stock.default: 10 → 15"]
    save = [e for e in versioning.audit_entries(store, LI) if e.action == "save"][-1]
    assert save.detail["replay"]["orders"] == 100 and save.detail["confirmed"] is True


def test_a_save_after_someone_elses_shows_their_change(store: Store) -> None:
    at = signed_in("li.wei")
    at.number_input(key="param_safety_stock").set_value(12).run()
    text = WORKFLOW.read_text(encoding="utf-8").replace("default: 60", "default: 90", 1)
    asyncio.run(versioning.save_version(store, ZHAO, text, base=1, message="wider window"))
    at.button(key="preview_button").click().run()
    shown = texts(at)
    assert "有人在此期间保存了 v2，他们的改动：" in shown
    assert "params.dedup_window_minutes.default: 60 → 90" in shown
    at.button(key="rebase").click().run()
    assert "正在编辑：基于 v2（未生效）" in texts(at)


def test_a_rollback_from_the_history_page_makes_the_old_version_active(store: Store) -> None:
    text = WORKFLOW.read_text(encoding="utf-8").replace("default: 60", "default: 90", 1)
    asyncio.run(versioning.save_version(store, ZHAO, text, base=1, message="wider window"))
    versioning.activate_version(store, ZHAO, "order_intake", 2)
    at = go(signed_in("li.wei"), "history")
    assert "params.dedup_window_minutes.default: 60 → 90" in texts(at)  # v1 → v2 compared
    at.text_input(key="rb_reason").input("the wider window sent too much to review")
    at.button(key="rollback").click().run()
    assert not at.exception, at.exception
    active = versioning.show_version(store, LI, "order_intake", None)
    first = versioning.show_version(store, LI, "order_intake", 1)
    assert active.number == 3 and active.content_hash == first.content_hash
    assert "已回滚：v3 现为生效版本（内容同 v1）" in texts(at)


def test_a_release_on_the_queues_page_is_recorded_and_audited(store: Store) -> None:
    waiting = review.list_items(store, Actor("wang.fang", "reviewer"), "review")
    assert waiting, "the generated day plants possible duplicates"
    ref = waiting[0].ref
    at = go(signed_in("wang.fang"), "queues")
    at.selectbox(key="q_queue").select("review").run()
    at.text_input(key="q_reason").input("same buyer ordered twice on purpose")
    at.button(key=f"release_{ref}").click().run()
    assert not at.exception, at.exception
    assert f"{ref}：released" in texts(at)
    items = review.list_items(store, LI, "review", status=None)
    assert [i.status for i in items if i.ref == ref] == ["released"]
    last = versioning.audit_entries(store, LI)[-1]
    assert (last.action, last.subject, last.actor) == ("review.decide", ref, "wang.fang")


def test_a_release_on_the_queues_page_ships_the_order_when_the_settings_name_the_systems(
    store: Store,
    day_store: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With orderhub.toml naming the systems, the release continues the order's run in the
    same click: it gets one waybill and its tracking upload, as `queue decide` does."""
    waiting = review.list_items(store, Actor("wang.fang", "reviewer"), "review")
    ref = waiting[0].ref
    with start_simulator(str(day_store[0].parent / "day.json"), in_process=True) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        at = go(signed_in("wang.fang"), "queues")
        at.selectbox(key="q_queue").select("review").run()
        at.text_input(key="q_reason").input("same buyer ordered twice on purpose")
        at.button(key=f"release_{ref}").click().run()
        assert not at.exception, at.exception
        channel, order_id = ref.split(":", 1)
        waybills = [w for w in sim.log("waybills") if w["order_ref"] == ref]
        uploads = [u for u in sim.log("uploads") if u["order_id"] == order_id]
    assert len(waybills) == 1 and len(uploads) == 1, (waybills, uploads)
    with store.session() as session:
        status = session.scalar(
            select(OrderRow.status).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        )
    assert status == "shipped"


@pytest.mark.parametrize(
    ("user", "sees_phones"), [("wu.lei", False), ("qian.li", False), ("li.wei", True)]
)
def test_a_warehouse_user_never_sees_a_full_phone_number(
    store: Store, user: str, sees_phones: bool
) -> None:
    """Every page the role has, and an order found by its phone; the auditor may not see
    phones either; the ops manager's twin run shows the check catches a phone on a page."""
    numbers = phones(store)
    assert len(numbers) > 50
    at = signed_in(user)
    shown = []
    for page in _pages(at):  # the orders page last
        go(at, page)
        shown.append(texts(at))
    at.text_input(key="o_search").input(numbers[0]).run()
    shown.append(texts(at))
    assert not at.exception, at.exception
    assert re.search(r"找到 [1-9]\d* 个订单", shown[-1])
    visible = [n for n in numbers if any(n in page for page in shown)]
    if sees_phones:
        assert numbers[0] in visible
    else:
        assert visible == []
        assert f"{numbers[0][:3]}****{numbers[0][-4:]}" in shown[-1]


def _pages(at: AppTest) -> list[str]:
    names = {zh: key.removeprefix("page.") for key, (zh, _) in LABELS.items()}
    pages = [names[label] for label in at.radio(key="page").options]
    assert "orders" in pages
    return [p for p in pages if p != "orders"] + ["orders"]
