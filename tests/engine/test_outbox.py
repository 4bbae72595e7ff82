"""`engine.outbox.plan`: which bot messages a pass sends (alone when they fit, else merged)."""

from __future__ import annotations

from engine.outbox import TEXT_LIMIT, plan
from engine.store.outbox import Queued, priority_of


def queued(n: int, kind: str = "low_stock", start: int = 1, text: str = "SKU-{} low") -> list:
    return [
        Queued(i, kind, priority_of(kind), text.format(i), False, 0)
        for i in range(start, start + n)
    ]


def test_each_message_goes_alone_when_all_fit_the_budget() -> None:
    bundles = plan(queued(3), budget=20)
    assert [b.ids for b in bundles] == [[1], [2], [3]]
    assert bundles[0].text == "SKU-1 low"


def test_more_than_the_budget_are_merged_per_kind_and_none_is_left_out() -> None:
    due = sorted(queued(30) + queued(5, "pull", 100), key=lambda q: (q.priority, q.id))
    bundles = plan(due, budget=20)
    assert len(bundles) == 2
    alerts, pulls = bundles
    assert alerts.ids == list(range(1, 31)) and pulls.ids == list(range(100, 105))
    assert alerts.text.startswith("orderhub: 30 purchase alerts")
    assert all(f"SKU-{i} low" in alerts.text for i in range(1, 31))


def test_a_merged_kind_is_split_at_the_bots_byte_limit() -> None:
    due = queued(100, text="SKU-{} in east: 3 left, below the safety stock of 10; reorder")
    bundles = plan(due, budget=5)
    assert 1 < len(bundles) <= 5
    assert sorted(i for b in bundles for i in b.ids) == list(range(1, 101))
    assert all(len(b.text.encode()) <= TEXT_LIMIT for b in bundles)
    assert bundles[0].text.startswith(f"orderhub: {len(bundles[0].ids)} purchase alerts (1/")


def test_the_budget_caps_bot_messages_and_the_most_urgent_kind_goes_first() -> None:
    summary = Queued(1, "summary", priority_of("summary"), "morning summary", True, 0)
    alerts = queued(3, start=2)
    due = sorted([summary, *alerts], key=lambda q: (q.priority, q.id))
    bundles = plan(due, budget=1)
    assert [b.ids for b in bundles] == [[2, 3, 4]]  # the alerts, merged; the summary waits
    assert plan(due, budget=0) == []


def test_a_message_over_the_limit_is_cut_not_refused() -> None:
    (bundle,) = plan(queued(1, text="x" * 5000 + "{}"), budget=1)
    assert len(bundle.text.encode()) <= TEXT_LIMIT and bundle.text.endswith("…")
