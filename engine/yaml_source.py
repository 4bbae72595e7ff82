"""YAML with marks: plain data plus the 1-based position of every mapping key and value.

`parse` composes the YAML node graph (PyYAML's safe resolver) and walks it, so that later
checks can say ``file:line:column`` for any element of the document by its path, e.g.
``("nodes", 2, "with", "safety_stock")``. Duplicate mapping keys and syntax errors come
back as `Problem` objects instead of exceptions.

Workflow text comes from people (the API, the editor), so the parser is bounded: a document
over `MAX_BYTES` is refused before it is read, and while composing, every alias counts the
nodes it stands for, so a "billion laughs" document (anchors of lists of aliases of anchors)
is refused at the alias that passes `MAX_ALIAS_NODES` instead of being expanded; nesting
deeper than `MAX_DEPTH` and an alias inside its own anchor are refused the same way.
Merge keys (``<<: *defaults``) keep working: each counts as the nodes it copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from engine.errors import Problem

Path = tuple[str | int, ...]

#: the largest workflow document accepted, in bytes of UTF-8
MAX_BYTES = 1_000_000
#: the most nodes all aliases of one document may stand for (each alias counts its subtree)
MAX_ALIAS_NODES = 10_000
#: the deepest nesting of mappings and lists accepted
MAX_DEPTH = 64


@dataclass(frozen=True)
class Spot:
    """Where one element was written: its key (for mapping entries) and its value, 1-based."""

    line: int
    column: int
    key_line: int
    key_column: int
    #: the scalar's style: None (plain), "'" or '"' (quoted), "|" or ">" (block); or "{"/"["
    style: str | None = None
    #: True when the scalar value fits on its line (so offsets inside it map to columns)
    single_line: bool = True

    def value_column(self, offset: int) -> int:
        """The column of character `offset` of a single-line scalar value."""
        if not self.single_line or self.style in ("|", ">", "{", "["):
            return self.column
        return self.column + (1 if self.style in ("'", '"') else 0) + offset


@dataclass
class Document:
    """A parsed YAML document: its data (None on syntax errors) and the spot of each path."""

    file: str
    text: str
    data: Any
    spots: dict[Path, Spot]

    def at(self, path: Path, *, key: bool = False, offset: int = 0) -> tuple[int, int]:
        """The (line, column) of `path`, or of its nearest written ancestor."""
        while path not in self.spots and path:
            path = path[:-1]
        spot = self.spots.get(path)
        if spot is None:
            return (1, 1)
        if key:
            return (spot.key_line, spot.key_column)
        return (spot.line, spot.value_column(offset))

    def problem(self, path: Path, message: str, *, key: bool = False, offset: int = 0) -> Problem:
        """A `Problem` located at `path` (its key when `key`, else its value)."""
        line, column = self.at(path, key=key, offset=offset)
        return Problem(self.file, line, column, message)


def parse(text: str, file: str) -> tuple[Document, list[Problem]]:
    """Parse `text`; returns the document and the syntax, size or duplicate-key problems."""
    too_big = size_problem(text, file)
    if too_big is not None:
        return Document(file, text, None, {}), [too_big]
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters at once
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return Document(file, text, None, {}), [
            Problem(file, line, column, f"character U+{exc.character:04X} is not allowed in YAML")
        ]
    try:
        node = loader.get_single_node()
    except _Refused as exc:
        mark = exc.mark
        return Document(file, text, None, {}), [
            Problem(file, mark.line + 1, mark.column + 1, exc.message)
        ]
    except yaml.MarkedYAMLError as exc:
        return Document(file, text, None, {}), [_syntax_problem(exc, file)]
    except yaml.YAMLError as exc:
        return Document(file, text, None, {}), [Problem(file, 1, 1, f"YAML: {exc}")]
    finally:
        loader.dispose()
    walker = _Walker(loader, file)
    data = walker.walk(node, (), None) if node is not None else None
    return Document(file, text, data, walker.spots), walker.problems


def size_problem(text: str, file: str, size: int | None = None) -> Problem | None:
    """A problem when `text` (or a file of `size` bytes starting with it) is over
    `MAX_BYTES`, located where the document passes the limit."""
    if size is None:
        if len(text) <= MAX_BYTES // 4:
            return None
        size = len(text.encode("utf-8"))
    if size <= MAX_BYTES:
        return None
    head = text.encode("utf-8")[:MAX_BYTES].decode("utf-8", errors="ignore")
    line = head.count("\n") + 1
    column = len(head) - (head.rfind("\n") + 1) + 1
    return Problem(
        file,
        line,
        column,
        f"the document is {size:,} bytes, over the limit of {MAX_BYTES:,} bytes "
        f"({MAX_BYTES / 1e6:g} MB) for a workflow: split it or remove what it does not need",
    )


# --- private helpers -------------------------------------------------------------------


class _Refused(Exception):
    """A document the bounded loader will not compose (too many alias nodes, too deep)."""

    def __init__(self, message: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing with counted aliases and a bounded depth."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, once composed
        self._alias_nodes = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _Refused(
                    "YAML alias inside its own anchor (a recursive document); "
                    "write the value out instead",
                    mark,
                )
            self._alias_nodes += size
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise _Refused(
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes by here "
                    "(nested aliases multiply); write the values out or use fewer aliases",
                    mark,
                )
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(
                f"nested deeper than {MAX_DEPTH} levels; a workflow needs far fewer",
                self.peek_event().start_mark,
            )
        node = super().compose_node(parent, index)
        self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(c), 1) for c in children)
        return node


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = f"{exc.context}: {exc.problem}" if exc.context else str(exc.problem)
    text = text.replace("found '?'", "found a new key")
    text = text.replace("'<block mapping start>'", "a new mapping")
    if "'\\t'" in text:
        text += " (indent with spaces, not tabs)"
    if "mapping values are not allowed" in text or "expected <block end>" in text:
        text += " (check the indentation of this line and the one above)"
    if exc.context_mark and exc.context_mark is not mark:
        text += f" (the {exc.context.split()[-1] if exc.context else 'block'} began at line "
        text += f"{exc.context_mark.line + 1})"
    return Problem(file, line, column, f"YAML syntax: {' '.join(text.split())}")


class _Walker:
    """Builds plain data from composed nodes, recording a `Spot` for every path."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.spots: dict[Path, Spot] = {}
        self.problems: list[Problem] = []

    def walk(self, node: yaml.Node, path: Path, key_node: yaml.Node | None) -> Any:
        start = node.start_mark
        key_mark = key_node.start_mark if key_node is not None else start
        style = getattr(node, "style", None)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            style = "{" if node.flow_style else None
            if isinstance(node, yaml.SequenceNode) and node.flow_style:
                style = "["
        single = node.end_mark.line == start.line
        self.spots[path] = Spot(
            start.line + 1, start.column + 1, key_mark.line + 1, key_mark.column + 1, style, single
        )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i), None) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # keep dates as written: the schema speaks JSON types
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        own = {id(k) for k, _ in node.value}
        self.loader.flatten_mapping(node)  # resolve `<<:` merge keys
        result: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            first = seen.get(key)
            if first is not None and id(first) in own and id(key_node) in own:
                mark = key_node.start_mark
                self.problems.append(
                    Problem(
                        self.file,
                        mark.line + 1,
                        mark.column + 1,
                        f"duplicate key {key!r} (first written at line "
                        f"{first.start_mark.line + 1}); remove one of them",
                    )
                )
                continue
            seen[key] = key_node
            result[key] = self.walk(value_node, (*path, key), key_node)
        return result

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            return str(self.loader.construct_object(node, deep=True))
        if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() in ("true", "false"):
            return node.value.lower()  # `routes: {true: a, false: b}` → "true" / "false"
        return node.value  # every other key as written (`on`, `yes`, `1` stay strings)
