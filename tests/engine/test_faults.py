"""What a failed step leads to: backup route only when nothing can have landed, else wait."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.errors import BreakerOpen, ConflictError, Rejected, Timeout, Unavailable
from engine.faults import decide, waiting_note
from engine.workflow import NodeSpec

WAYBILL = NodeSpec(
    "waybill", "waybill", {}, {}, next="shipped", on_error="exceptions",
    on_unavailable="waybill_zto",
)  # fmt: skip


def ctx(begun: dict | None = None, ended: set | None = None) -> SimpleNamespace:
    return SimpleNamespace(begun=begun or {}, ended=ended or set())


def refused_before_any_call() -> BreakerOpen:
    return BreakerOpen("sf", "circuit open")


def refused_on_a_retry() -> BreakerOpen:
    exc = BreakerOpen("sf", "circuit open")
    exc.untouched = False  # an earlier try of the same call went out (and timed out)
    return exc


@pytest.mark.parametrize(
    ("exc", "step", "kind", "target"),
    [
        (refused_before_any_call(), ctx({"k": None}), "reroute", "waybill_zto"),
        (refused_before_any_call(), ctx(), "reroute", "waybill_zto"),
        (refused_on_a_retry(), ctx({"k": None}), "wait", None),
        (refused_before_any_call(), ctx({"k": "started"}), "wait", None),  # an earlier try
        (refused_before_any_call(), ctx({"k": None}, {"w"}), "wait", None),  # made a waybill
        (Timeout("sf", "no answer"), ctx({"k": None}), "wait", None),
        (Unavailable("sf", "503"), ctx(), "wait", None),
        (Rejected("sf", "bad address"), ctx(), "route", "exceptions"),
        (ConflictError("changed after the waybill"), ctx(), "route", "exceptions"),
    ],
)  # fmt: skip
def test_decide(exc: Exception, step: SimpleNamespace, kind: str, target: str | None) -> None:
    decision = decide(WAYBILL, exc, step)
    assert (decision.kind, decision.target) == (kind, target)


def test_without_routes_a_passing_fault_waits_and_a_refusal_stops() -> None:
    bare = NodeSpec("waybill", "waybill", {}, {}, next="shipped")
    assert decide(bare, refused_before_any_call(), ctx()).kind == "wait"
    assert decide(bare, Rejected("sf", "no"), ctx()).kind == "fail"
    assert waiting_note(Timeout("sf", "no answer")).startswith("waiting for sf: sf: no answer")
