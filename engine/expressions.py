"""Expressions and ``{{ … }}`` templates, in zen-engine's expression language, with guardrails.

    order.amount > 2000 and order.category == "electronics"

An expression reads three roots: ``order.<field>`` (the canonical order as plain data),
``params.<name>`` (the workflow's params) and ``state.<node_id>.<key>`` (what earlier steps
recorded). zen does the evaluation; measured here with a compiled expression, its cost is
mostly converting the data dict on every call: 1.4 M/s for ``x`` over ``{"x": 1}``,
0.35 M/s for a two-comparison condition over a two-key order, and only ~45 k/s over a full
order (5 lines) plus params and state. So pass only what an expression reads
(`referenced_fields` says what) when it runs per order.

The guardrails are ours: expressions are compiled once, a lone ``=`` (zen would silently
assign) is refused, zen's Rust error text becomes one line with a column, and a condition
holds only when its result is exactly ``True``.

zen returns every number as a float; `render` turns integral floats back into ints so that
``"{{ params.safety_stock }}"`` stays an int. zen refuses `Decimal` in its data, so pass
numbers as int or float (``Order.as_data()`` gives `amount` as a string such as
"2500.00", which zen cannot compare with a number).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import zen

from engine.errors import WorkflowError

__all__ = [
    "Expression",
    "ExpressionError",
    "compile_expression",
    "referenced_fields",
    "references",
    "render",
    "template_parts",
]


class ExpressionError(WorkflowError):
    """An expression does not compile or failed to evaluate; `column` is 1-based or None."""

    def __init__(self, message: str, *, source: str = "", column: int | None = None) -> None:
        self.message = message
        self.source = source
        self.column = column
        where = f" (column {column})" if column else ""
        super().__init__(f"{message}{where}")


class Expression:
    """A compiled expression: compile once with `compile_expression`, evaluate many times."""

    __slots__ = ("source", "_compiled")

    def __init__(self, source: str, compiled: Any) -> None:
        self.source = source
        self._compiled = compiled

    def evaluate(self, data: dict) -> Any:
        """The expression's value over `data` (``{"order": …, "params": …, "state": …}``)."""
        try:
            return self._compiled.evaluate(data)
        except RuntimeError as exc:
            message, column = _zen_error(exc)
            raise ExpressionError(
                f"expression {self.source!r} failed: {message}", source=self.source, column=column
            ) from None
        except TypeError as exc:
            raise ExpressionError(
                f"expression {self.source!r} got data it cannot read ({exc}); "
                "pass plain JSON-like data with numbers as int or float",
                source=self.source,
            ) from None

    def test(self, data: dict) -> bool:
        """True only when the result is exactly True (not 1, not "yes", not a list)."""
        return self.evaluate(data) is True

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(src: str) -> Expression:
    """Compile `src`; raises `ExpressionError` with a one-line message and a 1-based column."""
    if not isinstance(src, str) or not src.strip():
        raise ExpressionError("empty expression; write a condition such as order.amount > 0")
    tokens = _tokens(src)
    for kind, text, offset in tokens:
        if kind == "op" and text in ("'", '"', "`"):
            raise ExpressionError(
                f"unterminated string in {src!r}: close the {text} opened here",
                source=src,
                column=offset + 1,
            )
        if kind == "op" and text == "=":
            raise ExpressionError(
                f"lone '=' in {src!r}: zen would assign, not compare; write '==' to compare",
                source=src,
                column=offset + 1,
            )
    try:
        compiled = zen.compile_expression(src)
    except RuntimeError as exc:
        message, column = _zen_error(exc)
        raise ExpressionError(
            f"bad expression {src!r}: {message}", source=src, column=column
        ) from None
    return Expression(src, compiled)


def referenced_fields(src: str) -> set[str]:
    """The dotted names `src` reads, e.g. ``{"order.amount", "params.x"}`` (indexes dropped)."""
    return {name for name, _ in references(src)}


def references(src: str) -> list[tuple[str, int]]:
    """(dotted name, 0-based offset) of every name `src` reads; closure names (#) skipped."""
    tokens = _tokens(src)
    found: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        kind, text, offset = tokens[i]
        after_dot = i > 0 and tokens[i - 1][1] == "." and tokens[i - 1][0] == "op"
        calls = i + 1 < len(tokens) and tokens[i + 1][1] == "("
        if kind != "name" or after_dot or calls or text in _KEYWORDS:
            i += 1
            continue
        segments = [] if text in ("$", "$root") else [text]
        i += 1
        while i < len(tokens):
            if tokens[i][1] == "." and i + 1 < len(tokens) and tokens[i + 1][0] == "name":
                segments.append(tokens[i + 1][1])
                i += 2
            elif tokens[i][1] == "[":
                close = _closing(tokens, i)
                inner = tokens[i + 1 : close]
                if len(inner) == 1 and inner[0][0] == "str":
                    segments.append(inner[0][1][1:-1])
                i = close + 1
            else:
                break
        if segments and segments[0] != "#":
            found.append((".".join(segments), offset))
    return found


def render(value: Any, data: dict) -> Any:
    """Render ``{{ expr }}`` templates in `value` (strings, and dicts and lists recursively).

    A string that is exactly one template becomes the typed result (integral floats become
    ints); templates inside a longer string are interpolated as text.
    """
    if isinstance(value, str):
        if "{{" not in value:
            return value
        parts = template_parts(value)
        if len(parts) == 1 and _TEMPLATE.fullmatch(value):
            return _integral(_compiled(parts[0][0]).evaluate(data))
        return _TEMPLATE.sub(lambda m: _text(_compiled(m.group(1)).evaluate(data)), value)
    if isinstance(value, dict):
        return {key: render(item, data) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, data) for item in value]
    return value


def template_parts(text: str) -> list[tuple[str, int]]:
    """Each ``{{ expr }}`` in `text` as (expr, 0-based offset of expr's first char in text)."""
    parts = []
    for match in _TEMPLATE.finditer(text):
        inner = match.group(1)
        lead = len(inner) - len(inner.lstrip())
        parts.append((inner.strip(), match.start(1) + lead))
    return parts


# --- private helpers -------------------------------------------------------------------

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<tpl>`(?:[^`\\]|\\.)*`)
  | (?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*|\#)
  | (?P<op>==|!=|<=|>=|\.\.|\?\?|&&|\|\||.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ZEN_POSITION = re.compile(r"\s*at \((\d+), (\d+)\)|\s*at (\d+)$")
_ZEN_WORDING = {
    "Unexpected end of unary expression": "the expression ends too early",
    "Unexpected token: None": "the expression ends too early",
    "Incomplete parser output": (
        "cannot read the whole expression (a stray token, an unbalanced bracket "
        "or an unknown function?)"
    ),
}


@lru_cache(maxsize=4096)
def _compiled(src: str) -> Expression:
    return compile_expression(src)


def _tokens(src: str) -> list[tuple[str, str, int]]:
    tokens = []
    for match in _TOKEN.finditer(src):
        kind = match.lastgroup or "op"
        if kind == "tpl":  # a backtick template: its ${ … } parts are expressions too
            for inner in re.finditer(r"\$\{(.*?)\}", match.group()):
                base = match.start() + inner.start(1)
                tokens.extend((k, t, base + o) for k, t, o in _tokens(inner.group(1)))
            continue
        if kind != "ws":
            tokens.append((kind, match.group(), match.start()))
    return tokens


def _closing(tokens: list[tuple[str, str, int]], start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j][1] == "[":
            depth += 1
        elif tokens[j][1] == "]":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _zen_error(exc: BaseException) -> tuple[str, int | None]:
    """zen's RuntimeError (JSON, then a Rust backtrace) as (one-line message, 1-based column)."""
    head = str(exc).split("\n\n", 1)[0].strip()
    try:
        detail = json.loads(head)
        text = str(detail.get("source") or detail.get("type") or head)
    except (ValueError, AttributeError):
        text = head.splitlines()[0] if head else type(exc).__name__
    column = None
    match = _ZEN_POSITION.search(text)
    if match:
        column = int(match.group(1) or match.group(3)) + 1
        text = text[: match.start()] + text[match.end() :]
    for zen_text, ours in _ZEN_WORDING.items():
        text = text.replace(zen_text, ours)
    text = " ".join(text.replace("; Expected", "; expected").split()).rstrip(".")
    return (text[:1].lower() + text[1:]) if text else "zen could not read it", column


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _text(value: Any) -> str:
    value = _integral(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
