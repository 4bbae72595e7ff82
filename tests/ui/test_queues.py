"""The queues page and the dashboard's breakers through AppTest, against the simulator.

Each order offers the decisions its waiting node routes: a suspected duplicate release,
merge or cancel (a merge links it and ships nothing), an exception retry, reroute or cancel
(a reroute ships by ZTO), with the platform's raw record masked per role. A bulk decision
shows its count and decides only once that count is confirmed. Breakers are opened and
closed by hand from the dashboard, audited.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.settings import render_toml
from engine.store import Store, open_store
from engine.store.models import OrderRow
from service import queues, review, systems, versioning
from service.access import Actor
from tests.ui.conftest import build_day_store, use_copy
from tests.ui.test_app import go, signed_in, texts
from ui import queues_page

LI = Actor("li.wei", "ops_manager")
AUDITOR = Actor("qian.li", "auditor")


def _sf_refuses_the_busiest_province(scenario: dict[str, Any]) -> SimOptions:
    provinces = Counter(
        o["receiver"]["province"] for orders in scenario["channels"].values() for o in orders
    )
    return SimOptions(sf_undeliverable=[provinces.most_common(1)[0][0]])


@pytest.fixture(scope="module")
def sf_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A day of 40 orders during which SF refused the busiest province: those orders wait
    in `exceptions` at a node that routes retry, reroute (by ZTO) and cancel."""
    folder = tmp_path_factory.mktemp("editor-sf-day")
    return build_day_store(folder, 40, 5, _sf_refuses_the_busiest_province)


@pytest.fixture
def sf_store(
    sf_day: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    s = open_store(use_copy(sf_day[0], tmp_path, monkeypatch))
    yield s
    s.dispose()


@pytest.fixture
def store(ui_db: str) -> Any:
    s = open_store(ui_db)
    yield s
    s.dispose()


def status_of(store: Store, ref: str) -> str | None:
    channel, order_id = ref.split(":", 1)
    with store.session() as session:
        return session.scalar(
            select(OrderRow.status).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        )


def waiting_in(store: Store, queue: str) -> list[queues.Waiting]:
    return queues.list_queue(store, LI, queue=queue, limit=500).items


def headings(at: Any) -> list[str]:
    return [h.value for h in at.subheader]


def decision_buttons(at: Any, ref: str) -> list[str]:
    return sorted(b.key.removesuffix(f"_{ref}") for b in at.button if b.key.endswith(f"_{ref}"))


def test_a_merge_on_the_review_queue_links_the_order_and_ships_nothing(
    store: Store,
    day_store: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = next(i for i in waiting_in(store, "review") if i.detail.get("duplicate_of"))
    ref, original = item.ref, str(item.detail["duplicate_of"])
    with start_simulator(str(day_store[0].parent / "day.json"), in_process=True) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        at = go(signed_in("wang.fang"), "queues")
        at.selectbox(key="q_queue").select("review").run()
        assert decision_buttons(at, ref) == ["cancel", "merge", "release"]
        beside = [d.value for d in at.dataframe if ref in d.value.columns]
        assert beside and original in beside[0].columns  # side by side with its original
        at.text_input(key="q_reason").input("the buyer paid twice for one parcel")
        at.button(key=f"merge_{ref}").click().run()
        assert not at.exception, at.exception
        waybills = [w for w in sim.log("waybills") if w["order_ref"] == ref]
        uploads = [u for u in sim.log("uploads") if u["order_id"] == ref.split(":", 1)[1]]
    assert (waybills, uploads) == ([], [])
    assert status_of(store, ref) == "merged"
    last = versioning.audit_entries(store, LI)[-1]
    assert (last.action, last.subject, last.actor) == ("review.decide", ref, "wang.fang")
    assert last.detail["merged_into"] == original
    assert f"{ref}：merged" in texts(at)


def test_a_reroute_on_the_exceptions_queue_ships_by_zto(
    sf_store: Store,
    sf_day: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = [i for i in waiting_in(sf_store, "exceptions") if "filterResult 3" in i.reason]
    assert refused, "SF refused the busiest province"
    ref = refused[0].ref
    with start_simulator(str(sf_day[0].parent / "day.json"), in_process=True) as sim:
        config = tmp_path / "orderhub.toml"
        config.write_text(render_toml(sim.systems), encoding="utf-8")
        monkeypatch.setenv("ORDERHUB_CONFIG", str(config))
        at = go(signed_in("li.wei"), "queues")
        at.selectbox(key="q_queue").select("exceptions").run()
        assert decision_buttons(at, ref) == ["cancel", "reroute", "retry"]
        shown = texts(at)
        assert "filterResult 3" in shown and ref.split(":", 1)[1] in shown  # the raw record
        at.text_input(key="q_reason").input("SF does not serve the address; ZTO does")
        at.button(key=f"reroute_{ref}").click().run()
        assert not at.exception, at.exception
        waybills = [w for w in sim.log("waybills") if w["order_ref"] == ref]
        uploads = [u for u in sim.log("uploads") if u["order_id"] == ref.split(":", 1)[1]]
    assert [w["carrier"] for w in waybills] == ["zto"] and len(uploads) == 1
    assert status_of(sf_store, ref) == "shipped"
    assert f"{ref}：rerouted" in texts(at)


@pytest.mark.parametrize(("user", "full"), [("qian.li", False), ("li.wei", True)])
def test_the_raw_record_of_an_exception_shows_the_phone_only_to_roles_that_may(
    sf_store: Store, user: str, full: bool
) -> None:
    """The auditor sees the h5 order's raw record with the phone masked; the ops manager's
    twin shows the record does carry the phone in full."""
    item = next(
        i
        for i in waiting_in(sf_store, "exceptions")
        if i.ref.startswith("h5:") and "filterResult 3" in i.reason
    )
    phone = str(queues.platform_record(sf_store, LI, item.ref)["receiver"]["phone"])
    assert len(phone) == 11
    at = go(signed_in(user), "queues")
    at.selectbox(key="q_queue").select("exceptions").run()
    shown = texts(at)
    assert item.ref.split(":", 1)[1] in shown
    assert (phone in shown) is full
    assert (f"{phone[:3]}****{phone[-4:]}" in shown) is not full
    if not full:  # the auditor may look, not decide
        assert not [b for b in at.button if b.key and b.key.endswith(item.ref)]


def _bulk_after_the_queue_moved(store: Store) -> tuple[Any, int]:
    """Show the bulk form for the SF-refused exceptions, confirm the count shown after
    someone else decided one of them meanwhile; the page and the count that was shown."""
    refused = [i.ref for i in waiting_in(store, "exceptions") if "filterResult" in i.reason]
    n = len(refused)
    assert n >= 3
    at = go(signed_in("li.wei"), "queues")
    at.selectbox(key="q_queue").select("exceptions").run()
    at.text_input(key="q_filter").input("filterresult").run()
    at.text_input(key="q_reason").input("those addresses are out of reach this week")
    at.selectbox(key="bulk_decision").select("cancel").run()
    assert f"批量处理：exceptions 中有 {n} 个订单符合筛选" in texts(at)
    assert at.button(key="bulk_decide").disabled  # the count comes first
    reviewer = Actor("wang.fang", "reviewer")
    asyncio.run(review.decide(store, reviewer, refused[0], "cancel", "gone"))
    ticks = [c for c in at.checkbox if c.key.startswith("bulk_confirm_")]
    assert len(ticks) == 1
    ticks[0].check().run()
    return at, n


def test_a_bulk_decision_decides_only_the_count_that_was_confirmed(sf_store: Store) -> None:
    """The tick names the count shown: when the queue moves before the click, the tick no
    longer holds and nothing is decided; confirmed again, every matching order is decided
    (each audited)."""
    at, n = _bulk_after_the_queue_moved(sf_store)
    assert f"批量处理：exceptions 中有 {n - 1} 个订单符合筛选" in texts(at)
    assert at.button(key="bulk_decide").disabled  # the tick was for n: untick
    assert len(_refused_waiting(sf_store)) == n - 1  # nothing more was decided
    at.checkbox(key=f"bulk_confirm_exceptions_filterresult_{n - 1}_cancel").check().run()
    at.button(key="bulk_decide").click().run()
    assert not at.exception, at.exception
    assert f"已对 {n - 1} 个订单执行「取消」" in texts(at)
    assert _refused_waiting(sf_store) == []
    decided = [e for e in versioning.audit_entries(sf_store, LI) if e.action == "review.decide"]
    assert Counter(e.actor for e in decided) == {"li.wei": n - 1, "wang.fang": 1}


def test_without_the_count_in_the_tick_a_moved_queue_is_decided_unseen(
    sf_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin: with the count left out of the confirmation, the tick given for n orders
    enables the button for the n - 1 now matching, and one click decides them."""
    monkeypatch.setattr(queues_page, "CONFIRM_COUNT", False)
    at, n = _bulk_after_the_queue_moved(sf_store)
    assert not at.button(key="bulk_decide").disabled
    at.button(key="bulk_decide").click().run()
    assert _refused_waiting(sf_store) == []


def _refused_waiting(store: Store) -> list[str]:
    return [i.ref for i in waiting_in(store, "exceptions") if "filterResult" in i.reason]


def test_breakers_are_opened_and_closed_by_hand_from_the_dashboard_audited(
    store: Store,
) -> None:
    at = go(signed_in("li.wei"), "dashboard")
    assert "外部系统（熔断器）" in headings(at)
    at.selectbox(key="brk_system").select("sf")
    at.radio(key="brk_action").set_value("open")
    at.text_input(key="brk_reason").input("SF maintenance window tonight")
    at.button(key="brk_apply").click().run()
    assert not at.exception, at.exception
    sf = next(v for v in systems.list_systems(store, LI) if v.system == "sf")
    assert (sf.state, sf.by_hand) == ("open", True)
    assert "sf：已熔断" in texts(at)
    at.radio(key="brk_action").set_value("close")
    at.text_input(key="brk_reason").input("SF is back")
    at.button(key="brk_apply").click().run()
    sf = next(v for v in systems.list_systems(store, LI) if v.system == "sf")
    assert sf.state == "closed"
    changes = [e for e in versioning.audit_entries(store, LI) if e.action.startswith("breaker.")]
    assert [(e.action, e.subject, e.actor, e.reason) for e in changes] == [
        ("breaker.open", "system:sf", "li.wei", "SF maintenance window tonight"),
        ("breaker.close", "system:sf", "li.wei", "SF is back"),
    ]


def test_the_auditor_sees_the_breakers_but_may_not_change_them(ui_db: str) -> None:
    at = go(signed_in("qian.li"), "dashboard")
    assert "外部系统（熔断器）" in headings(at)
    assert not [b for b in at.button if b.key == "brk_apply"]
    at = go(signed_in("wang.fang"), "dashboard")  # a reviewer does not watch systems
    assert "外部系统（熔断器）" not in headings(at)
