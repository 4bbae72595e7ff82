"""Types of expressions, checked at validation time against the order model.

Every sub-expression of the tree `engine.expression_ast` reads gets a type — number,
string, boolean, null, date, list, object, interval or unknown — from the `Order` model
(`engine.order.order_fields`: one source for field names and types), the workflow's params
(their declared type) and literals; ``state.<node>.<key>`` is unknown.

Only what zen refuses at run time, or what can never hold, is reported: ordering (``<`` …)
anything but numbers and dates (``order.amount > "500"``), ``==`` between a number, a
string and a boolean (never equal), ``and``/``or``/``not``/``?:`` on something that is not
true or false, arithmetic on non-numbers, ``in`` without a list on its right, a field read
on a list (always null). An expression the parser cannot read, and every sub-expression of
unknown type, passes: a gap in this checker never becomes a false error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from engine.expression_ast import Node, Unreadable, parse
from engine.order import order_fields

__all__ = ["Type", "TypeCheck", "check_types", "condition_problem", "environment", "order_type"]


@dataclass(frozen=True)
class Type:
    """What an expression yields: `kind`, a list's `item`, an object's `fields` (None: not
    known); `datetime` marks ISO 8601 text (compare it through ``date(…)``)."""

    kind: str
    item: Type | None = None
    fields: dict[str, Type] | None = field(default=None, compare=False)
    nullable: bool = False
    datetime: bool = False

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


@dataclass
class TypeCheck:
    """The type of a whole expression and its problems as (0-based offset, message)."""

    result: Type
    problems: list[tuple[int, str]]


def environment(params: dict[str, str]) -> Type:
    """What an expression reads: ``order`` (the model), ``params`` (each declared as
    integer, number, string or boolean) and ``state`` (unknown)."""
    kinds = {"integer": "number", "number": "number", "string": "string", "boolean": "boolean"}
    declared = {name: Type(kinds.get(kind, "unknown")) for name, kind in params.items()}
    return Type(
        "object",
        fields={"order": order_type(), "params": Type("object", fields=declared), "state": UNKNOWN},
    )


def check_types(src: str, env: Type) -> TypeCheck:
    """Type `src` against `env`; an expression the parser cannot read is simply unknown."""
    try:
        tree = parse(src)
    except Unreadable:
        return TypeCheck(UNKNOWN, [])
    checker = _Checker(src, env)
    return TypeCheck(checker.type(tree), checker.problems)


def condition_problem(src: str, result: Type) -> str | None:
    """Why `src`, of type `result`, cannot be a condition (it is not true/false), or None."""
    if not result.known or result.kind == "boolean":
        return None
    return f"a condition must be true or false, but {_not_boolean(src.strip(), result)}"


@lru_cache(maxsize=1)
def order_type() -> Type:
    """`Order` as an expression sees it (money as numbers, times as ISO 8601 text)."""
    tree: dict[str, Any] = {}
    for f in order_fields():
        *parents, leaf = f.path.split(".")
        branch = tree
        for part in parents:
            branch = branch[part][1]
        branch[leaf] = (f, {})
    return _object_type(tree)


# --- private helpers -------------------------------------------------------------------

UNKNOWN = Type("unknown")
NUMBER, STRING, BOOLEAN, NULL = Type("number"), Type("string"), Type("boolean"), Type("null")
_SCALARS = ("number", "string", "boolean")
_RETURNS = {
    "contains": BOOLEAN, "startsWith": BOOLEAN, "endsWith": BOOLEAN, "matches": BOOLEAN,
    "isNumeric": BOOLEAN, "some": BOOLEAN, "all": BOOLEAN, "none": BOOLEAN, "one": BOOLEAN,
    "len": NUMBER, "abs": NUMBER, "ceil": NUMBER, "floor": NUMBER, "round": NUMBER,
    "trunc": NUMBER, "sum": NUMBER, "avg": NUMBER, "min": NUMBER, "max": NUMBER,
    "median": NUMBER, "mode": NUMBER, "count": NUMBER, "number": NUMBER, "rand": NUMBER,
    "upper": STRING, "lower": STRING, "trim": STRING, "string": STRING, "join": STRING,
    "keys": Type("list"), "values": Type("list"), "split": Type("list", STRING),
    "date": Type("date"), "d": Type("date"),
}  # fmt: skip
_BINDS_AFTER_NOT = dict.fromkeys(["==", "!=", "<", ">", "<=", ">=", "in", "not in"], True)
_CLOSURES = frozenset({"all", "some", "none", "one", "filter", "map", "flatMap", "count"})


class _Checker:
    """Types a tree bottom-up, collecting problems; a wrong part becomes unknown."""

    def __init__(self, src: str, env: Type) -> None:
        self.src = src
        self.env = env
        self.pointers: list[Type] = []  # what `#` is inside each enclosing closure
        self.problems: list[tuple[int, str]] = []

    def text(self, node: Node) -> str:
        return self.src[node.start : node.end].strip()

    def what(self, node: Node, kind: Type) -> str:
        """Such as: order.amount is a number."""
        return _is(self.text(node), kind)

    def noun(self, node: Node, kind: Type) -> str:
        """Such as: a number (order.amount)."""
        return _noun(kind) + f" ({self.text(node)})" if kind.kind != "null" else "null"

    def problem(self, offset: int, message: str) -> Type:
        self.problems.append((offset, message))
        return UNKNOWN

    def type(self, node: Node) -> Type:
        rule = getattr(self, f"_{node.kind}", None)
        return rule(node) if rule is not None else UNKNOWN

    def _literal(self, node: Node) -> Type:
        return Type(node.name)

    def _name(self, node: Node) -> Type:
        return (self.env.fields or {}).get(node.name, UNKNOWN)

    def _pointer(self, node: Node) -> Type:
        return self.pointers[-1] if self.pointers else UNKNOWN

    def _list(self, node: Node) -> Type:
        items = [self.type(item) for item in node.args]
        same = items and all(t.kind == items[0].kind for t in items)
        return Type("list", items[0] if same else UNKNOWN)

    def _interval(self, node: Node) -> Type:
        for bound in node.args:
            self.type(bound)
        return Type("interval")

    def _object(self, node: Node) -> Type:
        return Type("object")

    def _member(self, node: Node) -> Type:
        base = self.type(node.args[0])
        if base.kind == "list":
            whole = self.text(node.args[0])
            return self.problem(
                node.at,
                f"{whole} is a list, so {whole}.{node.name} is always null; read one element "
                f"as {whole}[0].{node.name}, or every one with map({whole}, #.{node.name})",
            )
        if base.kind == "object" and base.fields is not None:
            return base.fields.get(node.name, UNKNOWN)
        return UNKNOWN

    def _index(self, node: Node) -> Type:
        base, _ = self.type(node.args[0]), self.type(node.args[1])
        if base.kind == "list" and base.item is not None:  # null past the end
            return Type(base.item.kind, base.item.item, base.item.fields, True, base.item.datetime)
        return STRING if base.kind == "string" else UNKNOWN

    def _slice(self, node: Node) -> Type:
        base = self.type(node.args[0])
        return base if base.kind in ("list", "string") else UNKNOWN

    def _call(self, node: Node) -> Type:
        if node.target is not None:  # a method call: its result is not known here
            self.type(node.target)
        args: list[Type] = []
        for i, arg in enumerate(node.args):
            closure = node.target is None and node.name in _CLOSURES and i == 1
            if closure:
                first = args[0]
                self.pointers.append(first.item if first.kind == "list" and first.item else UNKNOWN)
            args.append(self.type(arg))
            if closure:
                self.pointers.pop()
        if node.target is not None:
            return UNKNOWN
        if node.name == "filter" and args:
            return args[0] if args[0].kind == "list" else Type("list")
        if node.name == "map":
            return Type("list", args[1] if len(args) > 1 else UNKNOWN)
        return _RETURNS.get(node.name, UNKNOWN)

    def _cond(self, node: Node) -> Type:
        test, yes, no = (self.type(part) for part in node.args)
        self.want_boolean(node.args[0], test, "?:")
        return yes if yes.kind == no.kind else UNKNOWN

    def _unary(self, node: Node) -> Type:
        operand = self.type(node.args[0])
        if node.name in ("not", "!"):
            return self.want_boolean(node.args[0], operand, node.name)
        if operand.known and operand.kind != "number":
            return self.problem(
                node.at, f"unary {node.name} needs a number, but {self.what(node.args[0], operand)}"
            )
        return NUMBER

    def _binary(self, node: Node) -> Type:
        left, right = node.args
        op = node.name
        if _BINDS_AFTER_NOT.get(op) and left.kind == "unary" and left.name in ("not", "!"):
            inner = self.type(left.args[0])
            if inner.known and inner.kind != "boolean":  # zen reads `(not a) == b`
                body = self.src[left.args[0].start : right.end].strip()
                return self.problem(
                    left.start,
                    f"{left.name} applies before {op}, so it negates {self.text(left.args[0])}, "
                    f"{_noun(inner)}; to negate the comparison write {left.name} ({body})",
                )
        a, b = self.type(left), self.type(right)
        if op in ("and", "or"):
            self.want_boolean(left, a, op)
            self.want_boolean(right, b, op)
            return BOOLEAN if b.known else UNKNOWN
        if op in ("==", "!="):
            if a.kind in _SCALARS and b.kind in _SCALARS and a.kind != b.kind:
                never = "never equal" if op == "==" else "always different"
                return self.problem(
                    node.at,
                    f"{op} compares {self.noun(left, a)} with {self.noun(right, b)}, which are "
                    f"{never}{self.unquote(node, a, b)}",
                )
            return BOOLEAN
        if op in ("<", ">", "<=", ">="):
            for side, kind in ((left, a), (right, b)):
                if kind.known and kind.kind not in ("number", "date"):
                    return self.problem(node.at, self.ordering(node, side, kind, a, b))
            return BOOLEAN
        if op in ("in", "not in"):
            return self.membership(node, a, b)
        if op == "??":
            return Type(a.kind, a.item, a.fields, False, a.datetime) if a.known else b
        if op == "+" and a.kind == b.kind == "string":
            return STRING
        for side, kind in ((left, a), (right, b)):
            if kind.known and kind.kind not in ("number", "date"):
                joins = " (or joins two strings)" if op == "+" else ""
                return self.problem(
                    node.at, f"{op} works on numbers{joins}, but {self.what(side, kind)}"
                )
        return NUMBER if a.kind == b.kind == "number" else UNKNOWN

    def membership(self, node: Node, a: Type, b: Type) -> Type:
        left, right = node.args
        if b.known and b.kind not in ("list", "interval"):
            inside = f'; to look inside text write contains({self.text(right)}, "…")'
            return self.problem(
                node.at,
                f"{node.name} needs a list or a range on its right, e.g. order.channel in "
                f'["youzan", "h5"], but {self.what(right, b)}'
                + (inside if b.kind == "string" else ""),
            )
        item = b.item if b.kind == "list" else None
        if (
            item is not None
            and item.kind in _SCALARS
            and a.kind in _SCALARS
            and a.kind != item.kind
        ):
            return self.problem(
                node.at,
                f"{node.name} looks for {self.noun(left, a)} in a list of {item.kind}s, "
                "where it never is",
            )
        return BOOLEAN

    def ordering(self, node: Node, bad: Node, kind: Type, a: Type, b: Type) -> str:
        op, text = node.name, self.text(bad)
        if kind.datetime:
            return (
                f"{op} cannot order date-time text such as {text}; compare dates: "
                f'date({text}) {op} date("2026-01-10")'
            )
        hint = self.unquote(node, a, b)
        if hint:
            other, other_kind = (node.args[1], b) if bad is node.args[0] else (node.args[0], a)
            return (
                f"{op} compares {self.noun(other, other_kind)} with a string ({text}), which "
                f"zen refuses at run time{hint}"
            )
        return f"{op} orders numbers and dates only, but {self.what(bad, kind)}"

    def unquote(self, node: Node, a: Type, b: Type) -> str:
        """A hint to unquote a quoted number compared with a number, or ""."""
        sides = [self.text(node.args[0]), self.text(node.args[1])]
        for i, other in ((0, b), (1, a)):
            text = sides[i]
            quoted = len(text) > 1 and text[0] in "\"'" and text[-1] == text[0]
            if quoted and other.kind == "number" and _is_number(text[1:-1]):
                sides[i] = text[1:-1]
                return f"; write the number without quotes: {sides[0]} {node.name} {sides[1]}"
        return ""

    def want_boolean(self, node: Node, kind: Type, op: str) -> Type:
        if kind.known and kind.kind != "boolean":
            self.problem(
                node.start, f"{op} needs true or false, but {_not_boolean(self.text(node), kind)}"
            )
        return BOOLEAN


def _object_type(tree: dict[str, Any]) -> Type:
    fields: dict[str, Type] = {}
    for name, (f, children) in tree.items():
        if f.type == "list":
            fields[name] = Type(
                "list", _object_type(children) if children else UNKNOWN, None, f.nullable
            )
        elif f.type == "object":
            fields[name] = _object_type(children)
        else:
            kind = "string" if f.type == "datetime" else f.type
            fields[name] = Type(kind, nullable=f.nullable, datetime=f.type == "datetime")
    return Type("object", fields=fields)


def _noun(kind: Type) -> str:
    """The kind with its article: a number, an object, date-time text, null."""
    if kind.kind == "null":
        return "null"
    if kind.datetime:
        return "date-time text"
    return f"{'an' if kind.kind[:1] in 'aeiou' else 'a'} {kind.kind}"


def _is(text: str, kind: Type) -> str:
    """Such as: order.amount is a number."""
    return f"{text} is {_noun(kind)}"


def _not_boolean(text: str, kind: Type) -> str:
    """Such as: order.amount is a number; write a comparison such as order.amount > 0."""
    operand = f"({text})" if " " in text else text
    example = {
        "number": f"{operand} > 0",
        "string": f'{operand} == "…"',
        "list": f"len({text}) > 0",
    }.get(kind.kind, f"{operand} != null")
    if kind.datetime:
        example = f'date({text}) > date("2026-01-10")'
    return f"{_is(text, kind)}; write a comparison such as {example}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
