"""The after-sales oracle: the final state of every request of a scenario, computed from the
scenario's facts alone (never from orderhub's code), keyed as the run report is.

The rules (the workflow's params, `RULES`):
- the platform refunded a refund-only request by itself (``system_refund``):
  ``refunded_by_platform``; a return it refunded before the parcel came back
  (``refund_before_arrival``, only returns refunded on the scan) is still scanned in and
  restocked, then ``refunded_by_platform``;
- refund only: before shipment and at most ``refund_only_max_yuan`` → ``refunded`` at once;
  otherwise a person decides (``manual``);
- return or exchange: the buyer cancelling on the way → ``closed``; a parcel not yet back →
  ``awaiting_return``; back, and neither an exchange, nor serial-tracked, nor at least
  ``inspect_min_yuan`` → ``refunded`` on the scan, restocked sellable; otherwise inspected:
  a serial that is not one shipped in the order → ``manual`` (never restocked, never
  refunded by itself); damaged or missing parts → ``refused`` with that reason, restocked
  to quarantine; passed → ``refunded`` (``exchanged`` for an exchange, with a replacement
  order), restocked sellable.
The original order is marked ``refunded`` when the refund covers its whole amount,
``partly_refunded`` otherwise, ``exchanged`` after an exchange.

`warehouse` False gives the states after a run before the warehouse scanned anything: every
parcel on its way is ``awaiting_return``.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

RULES = {"refund_only_max_yuan": 300, "inspect_min_yuan": 1000}
STATES = ("refunded", "refunded_by_platform", "refused", "exchanged", "closed",
          "awaiting_return", "manual")  # fmt: skip


def expected_after_sales(scenario: dict[str, Any], *, warehouse: bool = True) -> dict[str, Any]:
    """`expected` of an after-sales scenario (see the module docstring)."""
    rules = {**RULES, **(scenario.get("rules_after_sales") or {})}
    intake = scenario["intake_expected"]["outcomes"]
    tracked = {s["sku"] for s in scenario["skus"] if s.get("serial_tracked")}
    orders = {f"{ch}:{o['order_id']}": o for ch, rows in scenario["channels"].items() for o in rows}
    bills = {b["aftersale_ref"] for b in scenario.get("return_bills") or []}
    states: dict[str, str] = {}
    marks: dict[str, str] = {}
    restock: dict[str, dict[str, Any]] = {}
    reasons: dict[str, str] = {}
    replacements: dict[str, str] = {}
    for req in scenario.get("after_sales") or []:
        ref = f"{req['channel']}:{req['aftersale_id']}"
        order_ref = f"{req['channel']}:{req['order_id']}"
        order = orders[order_ref]
        amount = Decimal(req["refund_fen"]) / 100
        full = req["refund_fen"] == int(Decimal(order["amount"]) * 100)
        mark = "refunded" if full else "partly_refunded"
        lines: Counter[str] = Counter()
        for line in req["lines"]:
            lines[line["sku"]] += int(line["qty"])
        if req.get("system_refund"):
            states[ref], marks[order_ref] = "refunded_by_platform", mark
            continue
        if req["type"] == "refund_only":
            if intake.get(order_ref) != "shipped" and amount <= rules["refund_only_max_yuan"]:
                states[ref], marks[order_ref] = "refunded", mark
            else:
                states[ref] = "manual"
                reasons[ref] = "refund_review"
            continue
        if req.get("buyer_cancels"):
            states[ref] = "closed"
            continue
        fact = scenario["returns"][ref]
        if not fact["arrives"] or not warehouse:
            states[ref] = "awaiting_return"
            continue
        serial = any(sku in tracked for sku in lines)
        inspect = req["type"] == "exchange" or serial or amount >= rules["inspect_min_yuan"]
        if not inspect:
            by_platform = req.get("refund_before_arrival")
            states[ref] = "refunded_by_platform" if by_platform else "refunded"
            marks[order_ref] = mark
            restock[ref] = {"kind": "sellable", "lines": dict(lines)}
            continue
        shipped = {
            sn for sku, sns in (scenario.get("serials", {}).get(order_ref) or {}).items()
            for sn in sns
        }  # fmt: skip
        wanted = sum(
            int(line["qty"]) for line in req["lines"] if line["sku"] in tracked and not line["gift"]
        )
        seen = fact["serials"]
        if serial and (len(seen) < wanted or any(sn not in shipped for sn in seen)):
            states[ref], reasons[ref] = "manual", "serial_mismatch"
            continue
        if fact["condition"] != "passed":
            states[ref], reasons[ref] = "refused", fact["condition"]
            restock[ref] = {"kind": "quarantine", "lines": dict(lines)}
            continue
        if req["type"] == "exchange":
            states[ref], marks[order_ref] = "exchanged", "exchanged"
            replacements[ref] = f"{order_ref}-EX{req['aftersale_id']}"
        else:
            states[ref], marks[order_ref] = "refunded", mark
        restock[ref] = {"kind": "sellable", "lines": dict(lines)}
    totals = {**dict.fromkeys(STATES, 0), **Counter(states.values())}
    return {
        "requests_total": len(states),
        "state_totals": totals,
        "states": dict(sorted(states.items())),
        "reasons": dict(sorted(reasons.items())),
        "original_marks": dict(sorted(marks.items())),
        "restock": dict(sorted(restock.items())),
        "replacements": dict(sorted(replacements.items())),
        "return_bills_counted": sorted(r for r in restock if r in bills),
    }
