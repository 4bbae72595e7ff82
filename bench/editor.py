"""Editor benchmark: `python -m bench.editor`. Prints figures; never fails on speed.

- first render of the workflow page (the server's script run, through Streamlit's AppTest,
  signed in) for the shipped workflow, target < 2 s, and a 200-node workflow, target < 5 s;
- a save with its replay: `preview_save` (diff + replay) then `save_version` (which
  replays again) on a store holding the 1,200-order day, target < 10 s for 7 such days.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.versions import big_workflow
from engine.store import open_store
from service import editing, versioning
from service.access import Actor
from service.editing import preview_save
from service.passwords import set_password
from service.roles import grant
from service.scenarios import load_scenario
from service.versioning import save_version
from versions.replay import input_from_scenario

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
APP = ROOT / "ui" / "app.py"
DAY = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
BOSS = Actor("boss", "admin")
PASSWORD = "bench-password"


def render_seconds(text: str) -> float:
    """Sign in, then time the first full run of the workflow page for `text`."""
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        store = open_store(url)
        grant(store, BOSS, "boss", "admin", "bench")
        set_password(store, BOSS, "boss", PASSWORD)
        asyncio.run(save_version(store, BOSS, text, base=None, message="bench"))
        store.dispose()
        os.environ["ORDERHUB_DB"] = url
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.run()
        at.text_input(key="signin_user").input("boss")
        at.text_input(key="signin_password").input(PASSWORD)
        started = time.perf_counter()
        at.button[0].click().run()  # signs in and draws the workflow page
        seconds = time.perf_counter() - started
        assert not at.exception, at.exception
        assert at.radio(key="page").value == "workflow"
        return seconds


def save_seconds() -> dict[str, float]:
    """Preview (diff + replay) and save of a threshold change over the 1,200-order day
    (one day: a store's seven days would replay about seven times as many orders)."""
    data = input_from_scenario(load_scenario(str(DAY)))
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        text = WORKFLOW.read_text(encoding="utf-8")
        asyncio.run(save_version(store, BOSS, text, base=None, message="bench"))
        candidate = text.replace("default: 10", "default: 15", 1)
        # the fixture day (January 2026) stands in for the store's last days of orders
        original = editing.input_from_store
        editing.input_from_store = versioning.input_from_store = lambda *_: data
        try:
            started = time.perf_counter()
            preview = asyncio.run(preview_save(store, BOSS, candidate, base=1))
            previewed = time.perf_counter() - started
            started = time.perf_counter()
            asyncio.run(
                save_version(
                    store, BOSS, candidate, base=1, message="bench", confirm=True, replay_days=7
                )
            )
            saved = time.perf_counter() - started
        finally:
            editing.input_from_store = versioning.input_from_store = original
            store.dispose()
    assert preview.report is not None
    return {
        "orders": preview.report.orders,
        "changed": len(preview.report.changed),
        "preview_s": round(previewed, 2),
        "save_s": round(saved, 2),
    }


def main() -> None:
    shipped = render_seconds(WORKFLOW.read_text(encoding="utf-8"))
    big = render_seconds(big_workflow(200))
    print(
        f"workflow page, first render: shipped {shipped:.2f} s (target < 2), "
        f"200 nodes {big:.2f} s (target < 5)"
    )
    figures = save_seconds()
    print(
        f"save with replay over {figures['orders']} orders ({figures['changed']} changed): "
        f"preview {figures['preview_s']} s, save {figures['save_s']} s "
        "(target for 7 days of 1,200: < 10 s)"
    )


if __name__ == "__main__":
    main()
