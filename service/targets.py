"""Which workflow a run uses: a stored workflow's active (or named) version, or a file.

A file whose content is a saved version runs as that version; any other file runs as a
draft, and its runs are marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import NotFound
from engine.loader import load_workflow
from engine.store import Store
from engine.workflow import Workflow
from versions.store import find_by_hash, get_version


@dataclass(frozen=True)
class Target:
    workflow: Workflow
    draft: bool
    label: str  # "order_intake v3", or "order_intake (draft from FILE)"


def is_file(ref: str) -> bool:
    return Path(ref).is_file()


def load_file(path: str) -> Workflow:
    """Validate a workflow file (raises ValidationError before anything is written)."""
    return load_workflow(path)


def resolve(store: Store, ref: str, workflow: Workflow | None = None) -> Target:
    """The workflow `ref` names: a file path, ``ID`` (its active version) or ``ID@vN``."""
    if workflow is not None or is_file(ref):
        wf = workflow or load_file(ref)
        saved = find_by_hash(store, wf.id, wf.content_hash)
        if saved is not None:
            return Target(wf, False, saved.label)
        return Target(wf, True, f"{wf.id} (draft from {ref}, not a saved version)")
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        raise NotFound(f"{ref}: no such workflow file")
    workflow_id, _, number = ref.partition("@v")
    version = get_version(store, workflow_id, int(number) if number.isdigit() else None)
    return Target(version.workflow(), False, version.label)
