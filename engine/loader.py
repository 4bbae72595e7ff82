"""Load a workflow document: YAML (with marks) → JSON Schema → semantic checks → `Workflow`.

Every problem found is reported at once, each as ``file:line:column: message`` (1-based,
from the YAML parser's marks); only a document without problems becomes a `Workflow`.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any

import jsonschema

from engine import registry
from engine.errors import Problem, ValidationError
from engine.params_schema import editor_schema
from engine.validation import Checked, check_semantics
from engine.workflow import Location, NodeSpec, Trigger, Workflow
from engine.yaml_source import MAX_BYTES, Document, Path, parse, size_problem

SCHEMA_FILE = FsPath(__file__).with_name("schema") / "workflow.schema.json"


def load_workflow(
    source: str | os.PathLike,
    *,
    text: str | None = None,
    overrides: dict | None = None,
    saved: bool = False,
) -> Workflow:
    """The validated `Workflow` of `source` (a path, or the file name to report with `text`).

    `overrides` replaces param defaults (checked like the defaults). Raises `ValidationError`
    listing every problem found. `saved` is for a version saved earlier: problems under rules
    it may predate (an outcome routed nowhere, an expression's type) do not stop the load but
    become the workflow's `refusals`, so it can be listed, shown and diffed, never run.
    """
    file, text, problems = _read(source, text)
    if problems:
        raise ValidationError(problems)
    doc, problems, checked = _check(file, text, overrides)
    late = set(checked.late) if saved else set()
    if any(p not in late for p in problems):
        raise ValidationError(problems)
    return _build(doc, checked, tuple(p for p in problems if p in late))


def check_workflow(
    source: str | os.PathLike, *, text: str | None = None, overrides: dict | None = None
) -> list[Problem]:
    """The problems `load_workflow` would raise, sorted by position (empty when valid)."""
    file, text, problems = _read(source, text)
    if not problems:
        problems = _check(file, text, overrides)[1]
    return sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))


def workflow_schema() -> dict:
    """The workflow document's JSON Schema (draft 2020-12) for `orderhub schema` and editors:
    with each node type's params, templates allowed (`engine.params_schema`)."""
    return editor_schema(_schema(), registry.all_types())


# --- private helpers -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema())


def _read(source: str | os.PathLike, text: str | None) -> tuple[str, str, list[Problem]]:
    file = os.fspath(source)
    if text is not None:
        return file, text, []
    try:
        with open(file, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_BYTES:  # never read a huge file whole: say where it passes the limit
                head = handle.read(MAX_BYTES).decode("utf-8", errors="ignore")
                return file, "", [size_problem(head, file, size)]
            text = handle.read().decode("utf-8")
            return file, text.replace("\r\n", "\n").replace("\r", "\n"), []  # as text mode
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return file, "", [Problem(file, 1, 1, f"cannot read the workflow file: {reason}")]


def _check(file: str, text: str, overrides: dict | None) -> tuple[Document, list[Problem], Checked]:
    doc, problems = parse(text, file)
    if doc.data is None and not problems:
        problems.append(Problem(file, 1, 1, "the document is empty; start with `id:`"))
    if problems and doc.data is None:
        return doc, problems, Checked()
    problems.extend(_schema_problems(doc))
    semantic, checked = check_semantics(doc, overrides)
    problems.extend(semantic)
    return doc, list(dict.fromkeys(problems)), checked


def _schema_problems(doc: Document) -> list[Problem]:
    problems = []
    for error in _validator().iter_errors(doc.data):
        path: Path = tuple(error.absolute_path)
        label = _label(path)
        custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                    problems.append(
                        doc.problem(
                            (*path, key),
                            f"{label}: unknown key {key!r}"
                            + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + f" (allowed: {', '.join(sorted(allowed))})",
                            key=True,
                        )
                    )
        elif "propertyNames" in error.schema_path:
            problems.append(
                doc.problem((*path, str(error.instance)), _text(label, error, custom), key=True)
            )
        elif error.validator == "required":
            problems.append(doc.problem(path, f"{label}: {error.message}"))
        else:
            problems.append(doc.problem(path, _text(label, error, custom)))
    return problems


def _text(label: str, error: jsonschema.ValidationError, custom: str | None) -> str:
    if custom and error.validator == "oneOf":
        return f"{label}: {custom}"
    if custom:
        return f"{label}: {error.instance!r} {custom}"
    return f"{label}: {' '.join(error.message.split())}"


def _label(path: Path) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return text or "document"


def _build(doc: Document, checked: Checked, refusals: tuple[Problem, ...] = ()) -> Workflow:
    data: dict[str, Any] = doc.data
    nodes: dict[str, NodeSpec] = {}
    for index, node in enumerate(data["nodes"]):
        line, column = doc.at(("nodes", index, "id"))
        nodes[node["id"]] = NodeSpec(
            id=node["id"],
            type=node["type"],
            config=checked.configs[node["id"]],
            written=copy.deepcopy(node.get("with", {})),
            next=node.get("next"),
            routes=dict(node.get("routes", {})),
            on_error=node.get("on_error"),
            on_unavailable=node.get("on_unavailable"),
            critical=bool(node.get("critical", False)),
            description=node.get("description", ""),
            location=Location(doc.file, line, column),
        )
    triggers = tuple(
        Trigger(t["type"], {k: v for k, v in t.items() if k != "type"})
        for t in data.get("triggers", [])
    )
    assert checked.source is not None  # no problems means exactly one source
    return Workflow(
        id=data["id"],
        name=data["name"],
        params=checked.params,
        values=checked.values,
        triggers=triggers,
        nodes=nodes,
        source=checked.source,
        text=doc.text,
        file=doc.file,
        require_approval=bool(data.get("require_approval", False)),
        description=data.get("description", ""),
        refusals=refusals,
    )
