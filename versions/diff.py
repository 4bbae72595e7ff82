"""Diff two workflow versions: a semantic diff keyed on node ids, and the plain text diff.

The semantic diff compares what the loader built, never the text, so reordering keys or
nodes, reformatting and comments are no change at all. Each `Change` prints as one line:

    nodes added: gift_wrap
    nodes removed: stock (critical!)
    stock.safety_stock: 10 → 20
    dedup.routes.duplicate: review → hold
    params.safety_stock.default: 10 → 20
    triggers removed: schedule every=15m

A critical node removed, unmarked or bypassed (some node it guarded is now reachable
without passing it) gives a change with `critical=True`; saving it needs a confirmation.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, fields
from typing import Any

from engine.workflow import NodeSpec, Trigger, Workflow

MISSING = "(none)"


@dataclass(frozen=True)
class Change:
    """One semantic change: `path` (``stock.safety_stock``), old and new value, or a note."""

    path: str
    old: Any = None
    new: Any = None
    note: str | None = None  # set for lines that are not `old → new` (added/removed lists)
    critical: bool = False

    def __str__(self) -> str:
        text = (
            f"{self.path}: {self.note}"
            if self.note is not None
            else (f"{self.path}: {_show(self.old)} → {_show(self.new)}")
        )
        return text + (" (critical!)" if self.critical and "(critical!)" not in text else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "note": self.note,
            "critical": self.critical,
            "line": str(self),
        }


def semantic_diff(old: Workflow, new: Workflow) -> list[Change]:
    """What changed in meaning from `old` to `new`; empty when only the formatting did."""
    changes: list[Change] = []
    for attr in ("id", "name", "description", "require_approval"):
        if getattr(old, attr) != getattr(new, attr):
            changes.append(Change(attr, getattr(old, attr), getattr(new, attr)))
    changes += _params(old, new)
    changes += _triggers(old.triggers, new.triggers)
    changes += _nodes(old, new)
    changes += _bypassed(old, new)
    return changes


def critical_changes(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.critical]


def text_diff(old_text: str, new_text: str, old_name: str = "old", new_name: str = "new") -> str:
    """The unified text diff of two documents (empty when the texts are equal)."""
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
        )
    )


# --- private helpers -------------------------------------------------------------------


def _params(old: Workflow, new: Workflow) -> list[Change]:
    changes = []
    added = [n for n in new.params if n not in old.params]
    removed = [n for n in old.params if n not in new.params]
    if added:
        changes.append(Change("params added", note=", ".join(added)))
    if removed:
        changes.append(Change("params removed", note=", ".join(removed)))
    for name in old.params.keys() & new.params.keys():
        a, b = old.params[name], new.params[name]
        for f in fields(a):
            if f.name != "name" and getattr(a, f.name) != getattr(b, f.name):
                changes.append(
                    Change(f"params.{name}.{f.name}", getattr(a, f.name), getattr(b, f.name))
                )
    return sorted(changes, key=lambda c: c.path)


def _triggers(old: tuple[Trigger, ...], new: tuple[Trigger, ...]) -> list[Change]:
    a, b = Counter(map(_trigger, old)), Counter(map(_trigger, new))
    changes = []
    if b - a:
        changes.append(Change("triggers added", note=", ".join(sorted((b - a).elements()))))
    if a - b:
        changes.append(Change("triggers removed", note=", ".join(sorted((a - b).elements()))))
    return changes


def _trigger(trigger: Trigger) -> str:
    options = " ".join(f"{k}={_show(v)}" for k, v in sorted(trigger.options.items()))
    return f"{trigger.type} {options}".strip()


def _nodes(old: Workflow, new: Workflow) -> list[Change]:
    changes = []
    added = [n for n in new.nodes if n not in old.nodes]
    removed = [n for n in old.nodes if n not in new.nodes]
    if added:
        changes.append(Change("nodes added", note=", ".join(added)))
    for node_id in removed:
        critical = old.nodes[node_id].critical
        changes.append(
            Change(
                "nodes removed",
                note=node_id + (" (critical!)" if critical else ""),
                critical=critical,
            )
        )
    for node_id in old.nodes:
        if node_id in new.nodes:
            changes += _node(old.nodes[node_id], new.nodes[node_id])
    return changes


def _node(a: NodeSpec, b: NodeSpec) -> list[Change]:
    changes = []
    for attr in ("type", "next", "on_error", "on_unavailable", "description"):
        if getattr(a, attr) != getattr(b, attr):
            changes.append(Change(f"{a.id}.{attr}", getattr(a, attr), getattr(b, attr)))
    if a.critical != b.critical:
        changes.append(Change(f"{a.id}.critical", a.critical, b.critical, critical=a.critical))
    old_with, new_with = _flatten(a.written), _flatten(b.written)
    for key in sorted(old_with.keys() | new_with.keys()):
        x, y = old_with.get(key, MISSING), new_with.get(key, MISSING)
        if x != y:
            changes.append(Change(f"{a.id}.{key}", x, y))
    for outcome in sorted(a.routes.keys() | b.routes.keys(), key=str):
        x, y = a.routes.get(outcome, MISSING), b.routes.get(outcome, MISSING)
        if x != y:
            changes.append(Change(f"{a.id}.routes.{_outcome(outcome)}", x, y))
    return changes


def _bypassed(old: Workflow, new: Workflow) -> list[Change]:
    """Critical nodes still present but no longer guarding what they guarded before."""
    changes = []
    for node_id, spec in old.nodes.items():
        if not spec.critical or node_id not in new.nodes:
            continue
        if node_id not in _reachable(new, new.source):
            changes.append(
                Change(node_id, note="no longer on any path from the source", critical=True)
            )
            continue
        guarded = _reachable(old, old.source) - _reachable(old, old.source, without=node_id)
        escaped = sorted((guarded & _reachable(new, new.source, without=node_id)) - {node_id})
        if escaped:
            changes.append(
                Change(
                    node_id,
                    note=f"bypassed: {', '.join(escaped)} now reachable without it",
                    critical=True,
                )
            )
    return changes


def _reachable(wf: Workflow, start: str, without: str | None = None) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id == without or node_id not in wf.nodes:
            continue
        seen.add(node_id)
        spec = wf.nodes[node_id]
        todo += [
            t for t in (spec.next, spec.on_error, spec.on_unavailable, *spec.routes.values()) if t
        ]
    return seen


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, path + "."))
        else:
            flat[path] = item
    return flat


def _outcome(outcome: Any) -> str:
    return str(outcome).lower() if isinstance(outcome, bool) else str(outcome)


def _show(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value, ensure_ascii=False)
