"""Checks of a workflow's graph: edges, outcomes, the source, reachability, cycles, routing.

`check_graph` takes the nodes the semantic checker read (with their registered types) and
reports, each at its place in the document: routes and `next`/`on_error`/`on_unavailable`
to missing nodes (`on_unavailable` only on a node type that calls an external system);
routes of outcomes a type cannot emit; an outcome routed nowhere that its type does not
mark as `terminal` (a run would end there with the order half done); exactly one source,
never a target; nodes the source cannot reach; and any cycle. A type's `decisions` (outcomes
only a wake chooses: a person's decision, restocked, timeout) need no route, and their
routes may lead back to an earlier node (`retry: waybill`): a person or an event takes them,
one at a time, so they cannot loop by themselves.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from engine import registry
from engine.yaml_source import Document, Path

#: report(path, message, key=…, late=…): `late` marks a rule a saved version may predate
Report = Callable[..., None]


def check_graph(
    doc: Document,
    nodes: list[tuple[int, dict]],
    ids: dict[str, int],
    types: dict[str, type],
    report: Report,
) -> str | None:
    """Report every graph problem; returns the source node's id when there is exactly one."""
    return _Graph(doc, ids, types, report).run(nodes)


def close_names(word: str, choices: Any, prefix: str = "") -> str:
    """ "; did you mean 'x'?" for the closest of `choices`, or ""."""
    match = difflib.get_close_matches(str(word), sorted(choices), n=2, cutoff=0.6)
    names = " or ".join(repr(prefix + m) for m in match)
    return f"; did you mean {names}?" if match else ""


# --- private helpers -------------------------------------------------------------------


class _Graph:
    def __init__(
        self, doc: Document, ids: dict[str, int], types: dict[str, type], report: Report
    ) -> None:
        self.doc = doc
        self.ids = ids
        self.types = types
        self.report = report
        self.edges: list[tuple[str, str, Path]] = []  # (from, to, where it is written)
        self.wakes: set[Path] = set()  # edges only a wake takes: they may lead back (retry)

    def run(self, nodes: list[tuple[int, dict]]) -> str | None:
        for index, node in nodes:
            type_name = node.get("type")
            cls = registry.get(type_name) if isinstance(type_name, str) else None
            self._edges(index, node, cls)
            self._unrouted(index, node, cls)
        return self._sources()

    def _edges(self, index: int, node: dict, cls: type | None) -> None:
        node_id = node.get("id")
        routes = node.get("routes") if isinstance(node.get("routes"), dict) else {}
        targets: list[tuple[Any, Path]] = [
            (node.get("next"), ("nodes", index, "next")),
            (node.get("on_error"), ("nodes", index, "on_error")),
            (node.get("on_unavailable"), ("nodes", index, "on_unavailable")),
        ]
        if node.get("on_unavailable") is not None and cls is not None and not cls.side_effects:
            self.report(
                ("nodes", index, "on_unavailable"),
                f"on_unavailable: node type {cls.type_name!r} calls no external system, so "
                "it is never unavailable; remove on_unavailable or move it to the node that "
                "makes the call (waybill)",
            )
        for outcome, target in routes.items():
            targets.append((target, ("nodes", index, "routes", outcome)))
            if cls is not None and outcome in cls.decisions:
                self.wakes.add(("nodes", index, "routes", outcome))
            if cls is not None and outcome not in cls.outcomes:
                emits = ", ".join(cls.outcomes) or "none"
                self.report(
                    ("nodes", index, "routes", outcome),
                    f"node type {cls.type_name!r} has no outcome {outcome!r}"
                    f"{close_names(outcome, cls.outcomes)} (its outcomes: {emits})",
                    key=True,
                )
        for target, path in targets:
            if not isinstance(target, str):
                continue
            if target not in self.ids:
                label = ".".join(str(p) for p in path[2:])
                self.report(path, f"{label}: no node {target!r}{close_names(target, self.ids)}")
            elif isinstance(node_id, str):
                self.edges.append((node_id, target, path))

    def _unrouted(self, index: int, node: dict, cls: type | None) -> None:
        """Each outcome of the type with no route and no `next`, unless the type ends on it."""
        routes = node.get("routes")
        if cls is None or isinstance(node.get("next"), str) or not isinstance(routes, dict | None):
            return
        node_id = node.get("id", f"#{index + 1}")
        for outcome in cls.outcomes:
            if outcome in (routes or {}) or outcome in cls.terminal or outcome in cls.decisions:
                continue
            self.report(
                ("nodes", index),
                f"node {node_id!r} routes outcome {outcome!r} of {cls.type_name} nowhere: "
                f"add `{outcome}: <node id>` under its routes (or a `next:`); only an "
                "outcome its type marks as an end (`orderhub nodes`) may end a run",
                late=True,
            )

    def _sources(self) -> str | None:
        sources = [nid for nid, cls in self.types.items() if cls.source]
        if not sources:
            kinds = [n for n, c in registry.all_types().items() if c.source]
            self.report(
                ("nodes",),
                "no source node: exactly one node must have a source type"
                + (f" ({', '.join(kinds)})" if kinds else ""),
                key=True,
            )
            return None
        first = sources[0]
        for extra in sources[1:]:
            self.report(
                ("nodes", self.ids[extra], "type"),
                f"second source node {extra!r}: a workflow has exactly one source "
                f"({first!r} at line {self.doc.at(('nodes', self.ids[first], 'id'))[0]})",
            )
        for origin, target, path in self.edges:
            if target in sources:
                self.report(
                    path,
                    f"{origin!r} leads to the source node {target!r}; the source starts "
                    "the flow and cannot be a target",
                )
        self._cycles()
        if len(sources) != 1:
            return None
        self._reachable(first)
        return first

    def _reachable(self, start: str) -> None:
        seen, todo = {start}, [start]
        while todo:
            current = todo.pop()
            for origin, target, _ in self.edges:
                if origin == current and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for node_id, index in self.ids.items():
            if node_id not in seen:
                self.report(
                    ("nodes", index, "id"),
                    f"node {node_id!r} is unreachable from the source {start!r}; "
                    "route an outcome to it or remove it",
                )

    def _cycles(self) -> None:
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        stack: list[str] = []

        def visit(node_id: str) -> None:
            state[node_id] = 1
            stack.append(node_id)
            for origin, target, path in self.edges:
                if origin != node_id or path in self.wakes:
                    continue
                if state.get(target) == 1:
                    loop = [*stack[stack.index(target) :], target]
                    self.report(
                        path,
                        f"cycle {' -> '.join(loop)}: the graph must not loop back; "
                        "route this outcome to a node further on",
                    )
                elif target not in state:
                    visit(target)
            stack.pop()
            state[node_id] = 2

        for node_id in self.ids:
            if node_id not in state:
                visit(node_id)
