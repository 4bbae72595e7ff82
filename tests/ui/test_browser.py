"""The editor in a real headless Chromium (Debian's, driven by Playwright), started with
`orderhub ui` on a loopback port over a store holding a generated day.

An operations manager signs in, clicks a node of the workflow graph to open its form,
raises the safety stock, sees the diff and the replay, saves, and rolls back on the history
page; a reviewer releases a suspected duplicate; a warehouse
user finds an order by phone and sees it masked. Screenshots of the workflow graph, the diff,
the queues page and the dashboard go to the test's folder. The page may talk to no host but
loopback. Every wait is for an element the action produces, with generous deadlines.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from engine.store import open_store
from engine.store.models import OrderRow
from nodes.rules import normalise_phone
from service import review, versioning
from service.access import Actor
from tests.ui.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 120_000
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LI = Actor("li.wei", "ops_manager")


@pytest.fixture
def editor(ui_db: str, tmp_path: Path) -> Iterator[str]:
    """`orderhub ui` on a free loopback port; its URL once /_stcore/health answers ok."""
    if not Path(CHROMIUM).exists():
        pytest.fail("no Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run does)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    orderhub = Path(sys.executable).with_name("orderhub")
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [str(orderhub), "ui", "--port", str(port), "--db", ui_db],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=5) as poll:  # one client: each new one loads the CA bundle
            while True:
                try:
                    if poll.get(f"{url}/_stcore/health").text == "ok":
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, (tmp_path / "ui.log").read_text()
                assert time.monotonic() < deadline, "the editor did not answer in 120 s"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def sign_in(page: Page, url: str, user: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stAppViewContainer"]')
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def open_page(page: Page, name: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run an input started."""
    page.wait_for_timeout(300)  # let the run start; the wait below is the real one
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)


def shot(page: Page, folder: Path, name: str) -> None:
    page.wait_for_timeout(500)  # layout and fit-to-view settle; not an assertion
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_editor_end_to_end_in_chromium(editor: str, ui_db: str, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    elsewhere: list[str] = []

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        host = urlparse(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort()

    store = open_store(ui_db)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        context.route("**/*", guard)
        page = context.new_page()
        try:
            # an operations manager raises the safety stock and saves it with its replay
            sign_in(page, editor, "li.wei")
            flow = page.frame_locator('iframe[title="streamlit_flow.streamlit_flow"]')
            graph = flow.locator(".react-flow__node")
            expect(graph.first).to_be_visible()
            nodes = versioning.show_version(store, LI, "order_intake", 1).workflow().nodes
            expect(graph).to_have_count(len(nodes))
            shot(page, shots, "workflow-graph")  # after the layout has settled
            spots = {(b["x"], b["y"]) for b in (n.bounding_box() for n in graph.all()) if b}
            assert len(spots) == len(nodes)  # laid out, not stacked at one spot
            # a click on a node opens its form
            flow.locator('.react-flow__node[data-id="waybill_zto"]').click()
            expect(page.get_by_text("waybill_zto · 类型：")).to_be_visible()
            settle(page)
            box = page.get_by_role("spinbutton", name="safety_stock")
            box.fill("15")
            box.press("Enter")
            expect(box).to_have_value("15")
            expect(page.get_by_text("草稿有 1 处改动")).to_be_visible()
            settle(page)
            page.get_by_role("tab", name="保存").click()
            message = page.get_by_label("保存说明")
            message.fill("live-stream sale: more safety stock")
            message.press("Enter")
            settle(page)
            page.get_by_role("button", name="预览改动与回放").click()
            expect(page.get_by_text("params.safety_stock.default: 10 → 15")).to_be_visible()
            expect(page.get_by_text(re.compile(r"100 个订单中有 \d+ 个结果会改变"))).to_be_visible()
            shot(page, shots, "save-diff-replay")
            page.get_by_text("我已看过改动和回放，确认保存").click()
            page.get_by_role("button", name="保存新版本").click()
            expect(page.get_by_text("已保存 v2")).to_be_visible()
            assert versioning.show_version(store, LI, "order_intake", None).number == 2

            # the history page: the diff side by side, then a rollback in two clicks
            open_page(page, "版本历史")
            expect(page.get_by_text("params.safety_stock.default: 10 → 15")).to_be_visible()
            expect(page.locator("table.diff")).to_be_visible()
            shot(page, shots, "history-diff")
            page.get_by_label("原因").fill("the sale was postponed")
            page.get_by_label("原因").press("Enter")
            settle(page)
            page.get_by_role("button", name="回滚到 v1").click()
            expect(page.get_by_text("已回滚：v3 现为生效版本（内容同 v1）")).to_be_visible()
            active = versioning.show_version(store, LI, "order_intake", None)
            first = versioning.show_version(store, LI, "order_intake", 1)
            assert (active.number, active.content_hash) == (3, first.content_hash)
            page.get_by_role("button", name="退出登录").click()

            # a reviewer releases a suspected duplicate
            reviewer = Actor("wang.fang", "reviewer")
            ref = review.list_items(store, reviewer, "review")[0].ref
            sign_in(page, editor, "wang.fang")
            open_page(page, "待处理队列")
            page.get_by_label("决定原因").fill("the buyer ordered twice on purpose")
            page.get_by_label("决定原因").press("Enter")
            settle(page)
            page.get_by_text(f"review · {ref}", exact=False).click()
            shot(page, shots, "queues")
            page.get_by_role("button", name="放行", exact=True).first.click()
            expect(page.get_by_text(f"{ref}：released")).to_be_visible()
            decided = review.list_items(store, reviewer, "review", status=None)
            assert [i.status for i in decided if i.ref == ref] == ["released"]
            open_page(page, "概览")
            expect(page.get_by_text("今日订单状态")).to_be_visible()
            shot(page, shots, "dashboard")
            page.get_by_role("button", name="退出登录").click()

            # a warehouse user finds an order by phone: masked
            with store.session() as session:
                canon = session.scalars(select(OrderRow.canonical)).first()
            phone = normalise_phone(canon["receiver"]["phone"])
            sign_in(page, editor, "wu.lei")
            open_page(page, "订单")
            search = page.get_by_label("订单号或手机号")
            search.fill(phone)
            search.press("Enter")
            settle(page)
            expect(page.get_by_text(re.compile(r"找到 [1-9]\d* 个订单"))).to_be_visible()
            masked = f"{phone[:3]}****{phone[-4:]}"
            expect(page.get_by_text(masked, exact=False).first).to_be_visible()
            shown = page.locator('[data-testid="stMain"]').inner_text()  # not the search box
            assert masked in shown and phone not in shown
        finally:
            browser.close()
            store.dispose()
    assert elsewhere == []
    assert sorted(p.name for p in shots.iterdir()) == [
        "dashboard.png",
        "history-diff.png",
        "queues.png",
        "save-diff-replay.png",
        "workflow-graph.png",
    ]
