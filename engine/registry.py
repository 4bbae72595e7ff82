"""The node registry: the one place that resolves ``type: stock_check`` to a class.

The project's node types register with the `node` decorator when `nodes` is imported;
third-party packages register through the ``orderhub.nodes`` entry-point group, whose
entries point at a node class (or a module that registers its classes on import).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from pydantic import BaseModel

from engine.errors import WorkflowError
from engine.params_schema import shape

T = TypeVar("T")

ENTRY_POINT_GROUP = "orderhub.nodes"

_types: dict[str, type] = {}
_loaded = False


def node(type_name: str) -> Callable[[type[T]], type[T]]:
    """Register a node type class under `type_name`; checks that it describes itself."""

    def register(cls: type[T]) -> type[T]:
        params = getattr(cls, "Params", None)
        if not (isinstance(params, type) and issubclass(params, BaseModel)):
            raise TypeError(f"node type {type_name!r} needs a pydantic `Params` model")
        outcomes = getattr(cls, "outcomes", None)
        if not isinstance(outcomes, tuple) or not all(isinstance(o, str) for o in outcomes):
            raise TypeError(f"node type {type_name!r} needs `outcomes`, a tuple of names")
        terminal = getattr(cls, "terminal", ())
        if not isinstance(terminal, tuple) or not set(terminal) <= set(outcomes):
            raise TypeError(
                f"node type {type_name!r}: `terminal` must be a tuple of its outcomes "
                f"(the ones a run may end on), got {terminal!r}"
            )
        decisions = getattr(cls, "decisions", ())
        if not isinstance(decisions, tuple) or not set(decisions) <= set(outcomes):
            raise TypeError(
                f"node type {type_name!r}: `decisions` must be a tuple of its outcomes "
                f"(the ones only a wake chooses), got {decisions!r}"
            )
        if not (cls.__doc__ or "").strip():
            raise TypeError(f"node type {type_name!r} needs a one-line docstring")
        existing = _types.get(type_name)
        if existing is not None and existing is not cls:
            raise TypeError(f"node type {type_name!r} is registered twice")
        cls.type_name = type_name  # type: ignore[attr-defined]
        cls.source = getattr(cls, "source", False)  # type: ignore[attr-defined]
        cls.side_effects = getattr(cls, "side_effects", False)  # type: ignore[attr-defined]
        cls.terminal = terminal  # type: ignore[attr-defined]
        cls.decisions = decisions  # type: ignore[attr-defined]
        _types[type_name] = cls
        return cls

    return register


def get(type_name: str) -> type | None:
    """The class registered as `type_name`, or None."""
    load()
    return _types.get(type_name)


def all_types() -> dict[str, type]:
    """Every registered node type by name, sorted."""
    load()
    return dict(sorted(_types.items()))


def describe(cls: type) -> dict[str, Any]:
    """A node type as data: summary, outcomes (and which may end a run), params with
    defaults, bounds and shape (``{warehouse: [province, …]}``)."""
    schema = cls.Params.model_json_schema()
    defs = schema.get("$defs", {})
    properties = schema.get("properties", {})
    return {
        "type": cls.type_name,
        "summary": (cls.__doc__ or "").strip().splitlines()[0],
        "outcomes": list(cls.outcomes),
        "terminal": list(cls.terminal),
        "decisions": list(cls.decisions),
        "source": cls.source,
        "side_effects": cls.side_effects,
        "params": properties,
        "shapes": {name: shape(param, defs) for name, param in properties.items()},
        "required": schema.get("required", []),
    }


def load() -> None:
    """Import the project's node types and the entry-point plug-ins, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    importlib.import_module("nodes")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not hide the project's own nodes
            raise WorkflowError(
                f"node plug-in {ep.name!r} ({ep.value}) failed to load: {exc}; "
                "fix or uninstall that package"
            ) from exc
