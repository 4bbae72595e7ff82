"""A syntax tree for the part of zen's expression language that workflows use.

`parse` reads names with member and index access (``order.items[0].sku``, slices), numbers,
strings, backtick templates, true/false/null, arrays, intervals (``[1..10]``, ``(0..1]``),
objects, function and method calls with closures (``#``), unary ``not``/``!``/``-``/``+``,
binary operators with zen's own precedence (``or`` 10, ``and`` 15, comparisons and
``in``/``not in`` 20, ``+ -`` 30, ``* / %`` 60, ``^`` 70 (right), ``??`` 80; ``not`` binds
at 50, so ``not a == b`` is ``(not a) == b`` as in zen) and ``a ? b : c``. Anything else
raises `Unreadable`: zen has compiled the expression already, so a reader of the tree treats
an unreadable expression as unknown, never as wrong. Offsets are 0-based into the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Node", "Unreadable", "parse"]


class Unreadable(Exception):
    """The expression uses something outside the subset this parser reads."""


@dataclass
class Node:
    """One sub-expression: `kind` and its parts; `start`/`end` bound its source text.

    kinds: literal (`name` is number, string, boolean or null), name, pointer (``#``),
    member (`name` of `args[0]`), index (`args[0]` [`args[1]`]), call (`name`, `args`;
    a method call has `target`), unary and binary (`name` is the operator, at `at`),
    cond (`args` test, yes, no), list (`args`), interval, object.
    """

    kind: str
    start: int
    end: int
    name: str = ""
    args: list[Node] = field(default_factory=list)
    at: int = 0
    target: Node | None = None


def parse(src: str) -> Node:
    """The tree of `src`; raises `Unreadable` for anything outside the subset."""
    parser = _Parser(src)
    tree = parser.expression(0)
    if parser.peek() is not None:
        raise Unreadable
    return tree


# --- private helpers -------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)
  | (?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>==|!=|<=|>=|\.\.|\?\?|[-+*/%^<>!()\[\]{}.,:?\#])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_BINARY = {
    "or": 10, "and": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20, "in": 20, "not in": 20,
    "+": 30, "-": 30, "*": 60, "/": 60, "%": 60, "^": 70, "??": 80,
}  # fmt: skip
_UNARY = {"not": 50, "!": 50, "+": 200, "-": 200}
_CONSTANTS = {"true": "boolean", "false": "boolean", "null": "null"}


class _Parser:
    def __init__(self, src: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        for match in _TOKEN.finditer(src):
            if match.lastgroup == "bad":
                raise Unreadable
            if match.lastgroup != "ws":
                self.tokens.append((match.lastgroup or "op", match.group(), match.start()))
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int] | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("op", "name") and token[1] == text

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None or (text is not None and not self.at(text)):
            raise Unreadable
        self.i += 1
        return token

    def end(self) -> int:
        kind, text, offset = self.tokens[self.i - 1]
        return offset + len(text)

    def expression(self, precedence: int) -> Node:
        left = self.unary()
        while (op := self.operator()) is not None and _BINARY[op[0]] >= precedence:
            name, offset, width = op
            self.i += width
            right = self.expression(_BINARY[name] + (0 if name == "^" else 1))
            left = Node("binary", left.start, right.end, name, [left, right], offset)
        if precedence == 0 and self.at("?"):
            self.take("?")
            yes = self.expression(0)
            self.take(":")
            no = self.expression(0)
            left = Node("cond", left.start, no.end, "", [left, yes, no])
        return left

    def operator(self) -> tuple[str, int, int] | None:
        token = self.peek()
        if token is None or token[0] not in ("op", "name"):
            return None
        after = self.peek(1)
        if token[1] == "not" and after is not None and after[1] == "in":
            return "not in", token[2], 2
        return (token[1], token[2], 1) if token[1] in _BINARY else None

    def unary(self) -> Node:
        kind, text, offset = self.take()
        if kind in ("op", "name") and text in _UNARY:
            operand = self.expression(_UNARY[text])
            return Node("unary", offset, operand.end, text, [operand], offset)
        if text == "#":
            return self.postfix(Node("pointer", offset, offset + 1))
        if text in ("[", "("):
            return self.postfix(self.bracket(text, offset))
        if kind == "num":
            return Node("literal", offset, self.end(), "number")
        if kind == "str":
            return self.postfix(Node("literal", offset, self.end(), "string"))
        if text == "{":
            depth = 1
            while depth:
                token = self.take()[1]
                depth += (token == "{") - (token == "}")
            return self.postfix(Node("object", offset, self.end()))
        if kind != "name" or text in _BINARY:
            raise Unreadable
        if text in _CONSTANTS:
            return Node("literal", offset, self.end(), _CONSTANTS[text])
        if self.at("("):
            return self.postfix(Node("call", offset, 0, text, self.arguments()))
        return self.postfix(Node("name", offset, self.end(), text))

    def bracket(self, opening: str, start: int) -> Node:
        if opening == "[" and self.at("]"):
            self.take()
            return Node("list", start, self.end())
        first = self.expression(0)
        if self.at(".."):
            self.take("..")
            last = self.expression(0)
            if self.take()[1] not in ("]", ")"):
                raise Unreadable
            return Node("interval", start, self.end(), "", [first, last])
        if opening == "(":
            self.take(")")
            return Node(
                first.kind, start, self.end(), first.name, first.args, first.at, first.target
            )
        items = [first]
        while self.at(","):
            self.take(",")
            items.append(self.expression(0))
        self.take("]")
        return Node("list", start, self.end(), "", items)

    def arguments(self) -> list[Node]:
        self.take("(")
        args: list[Node] = []
        while not self.at(")"):
            if args:
                self.take(",")
            args.append(self.expression(0))
        self.take(")")
        return args

    def postfix(self, node: Node) -> Node:
        if node.kind == "call":
            node.end = self.end()
        while True:
            name = self.peek(1)
            if self.at(".") and name is not None and name[0] == "name":
                self.i += 2
                if self.at("("):
                    args = self.arguments()
                    node = Node("call", node.start, self.end(), "", args, name[2], node)
                else:
                    node = Node("member", node.start, self.end(), name[1], [node], name[2])
            elif self.at("["):
                self.take("[")
                index = self.expression(0) if not self.at(":") else None
                sliced = self.at(":")
                if sliced:
                    self.take(":")
                    if not self.at("]"):
                        self.expression(0)
                self.take("]")
                args = [node] if index is None else [node, index]
                node = Node("slice" if sliced else "index", node.start, self.end(), "", args)
            else:
                return node
