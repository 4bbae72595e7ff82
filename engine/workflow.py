"""The workflow model: a validated YAML document, typed, as the runner and tools use it.

`engine.loader.load_workflow` builds a `Workflow` only from a document that passed both the
JSON Schema and the semantic checks; nothing past the loader sees an untyped YAML dict.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, ValidationError


@dataclass(frozen=True)
class Location:
    """Where something was written: file and 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ParamSpec:
    """A typed workflow parameter (a threshold the editor shows as a form field)."""

    name: str
    type: str  # integer, number, string, boolean
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    enum: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph as written, with its `with:` values resolved against params."""

    id: str
    type: str
    config: dict[str, Any]  # `with:` after templates were rendered
    written: dict[str, Any]  # `with:` as written, templates kept
    next: str | None = None
    routes: dict[str, str] = field(default_factory=dict)
    on_error: str | None = None  # a refusal (Rejected) or a conflict goes here
    on_unavailable: str | None = None  # the backup path while the node's system is down
    critical: bool = False
    description: str = ""
    location: Location | None = None

    def target(self, outcome: str) -> str | None:
        """The node an outcome leads to, or None when the run ends here."""
        return self.routes.get(outcome, self.next)


@dataclass(frozen=True)
class Trigger:
    type: str  # schedule, webhook, manual
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Workflow:
    """A whole validated workflow document."""

    id: str
    name: str
    params: dict[str, ParamSpec]
    values: dict[str, Any]  # every param's value (its default unless overridden)
    triggers: tuple[Trigger, ...]
    nodes: dict[str, NodeSpec]  # in document order
    source: str  # id of the source node (a node type with `source = True`)
    text: str  # the document as written
    file: str = "<workflow>"
    require_approval: bool = False
    description: str = ""
    #: problems under rules newer than this saved version (an outcome routed nowhere, an
    #: expression's type): it lists, shows and diffs, but `check_runnable` refuses to run it
    refusals: tuple[Problem, ...] = ()

    @property
    def content_hash(self) -> str:
        """sha256 of the document text: the version a run records."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def check_runnable(self) -> None:
        """Raise `ValidationError` with the validator's problems when this may not run."""
        if self.refusals:
            raise ValidationError(list(self.refusals))

    @property
    def start(self) -> str | None:
        """The first per-order node: the source node's successor."""
        return self.nodes[self.source].next
