"""Every label the editor uses is in the one table, in Chinese and English alike."""

from __future__ import annotations

import re
import string
from pathlib import Path

from ui.labels import LABELS, t

UI = Path(__file__).resolve().parents[2] / "ui"
CALL = re.compile(r"""\btr?\(\s*f?["']([a-z][\w.]*)["']""")


def test_every_label_used_in_ui_is_in_the_table() -> None:
    used = {m for p in UI.glob("*.py") for m in CALL.findall(p.read_text(encoding="utf-8"))}
    assert len(used) > 50
    assert sorted(used - set(LABELS)) == []


def test_both_languages_have_every_label_with_the_same_placeholders() -> None:
    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key
        assert names(zh) == names(en), key
    assert t("save.done", number=3) == "已保存 v3"
    assert t("save.done", "en", number=3) == "Saved v3"


def test_every_role_and_page_has_a_label() -> None:
    from service.access import ROLES

    pages = ("workflow", "history", "queues", "orders", "dashboard", "audit")
    missing = [f"role.{r}" for r in ROLES if f"role.{r}" not in LABELS]
    missing += [f"page.{p}" for p in pages if f"page.{p}" not in LABELS]
    assert missing == []


def test_every_decision_and_breaker_state_has_a_label() -> None:
    from service.review import DECISIONS

    keys = [f"q.{d}" for d in DECISIONS]
    keys += [f"d.state.{s}" for s in ("closed", "open", "half_open")]
    keys += [f"d.breaker.{a}" for a in ("open", "close")]
    assert [k for k in keys if k not in LABELS] == []
