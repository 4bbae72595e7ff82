"""`workflows/order_intake.yaml` and variants of it made by text replacement."""

from __future__ import annotations

from pathlib import Path

from service.access import Actor

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
BASE = WORKFLOW.read_text(encoding="utf-8")

LI = Actor("li.wei", "ops_manager")
AUDITOR = Actor("zhao.min", "auditor")


def variant(*replacements: tuple[str, str], text: str = BASE) -> str:
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


SAFETY_20 = variant(("    default: 10\n", "    default: 20\n"))

STOCK_SAFETY_20 = variant(
    ('with: {safety_stock: "{{ params.safety_stock }}"}', "with: {safety_stock: 20}")
)

# the same document with keys reordered and flow style changed: no semantic change
REORDERED = variant(
    (
        "  - id: pull\n    type: pull\n",
        "  - type: pull\n    id: pull\n",
    ),
    (
        "    routes: {unique: split, duplicate: review}",
        "    routes:\n      duplicate: review\n      unique: split",
    ),
    (
        '    with: {safety_stock: "{{ params.safety_stock }}"}\n'
        "    routes: {ok: waybill, low: hold, out: out_of_stock}",
        "    routes: {out: out_of_stock, ok: waybill, low: hold}\n"
        "    with:\n      safety_stock: '{{ params.safety_stock }}'",
    ),
)


def _block(node_id: str) -> str:
    start = BASE.index(f"  - id: {node_id}\n")
    end = BASE.find("\n  - id: ", start + 1)
    return BASE[start : end + 1]


# the stock check taken out: split goes straight to the waybill
WITHOUT_STOCK = variant(
    ("    next: stock\n", "    next: waybill\n"),
    (_block("stock"), ""),
    (_block("hold"), ""),
    (_block("out_of_stock"), ""),
)

INVALID = variant(("    type: stock_check\n", "    type: stock_chek\n"))

# VIP orders skip the stock check: stock is still there but no longer guards the waybill
BYPASS_STOCK = variant(
    ("    next: stock\n", "    next: vip\n"),
    (
        "  - id: stock\n",
        "  - id: vip\n    type: condition\n    with: {when: 'order.amount > 2000'}\n"
        "    routes: {true: waybill, false: stock}\n\n  - id: stock\n",
    ),
)

STOCK_10 = variant(
    ('with: {safety_stock: "{{ params.safety_stock }}"}', "with: {safety_stock: 10}")
)
STOCK_20 = variant(("with: {safety_stock: 10}", "with: {safety_stock: 20}"), text=STOCK_10)
