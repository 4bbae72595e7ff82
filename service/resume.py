"""Finishing runs that something woke, each on the workflow version it is pinned to.

The engine's `Environments` builds a run environment per (workflow, version) from a loader;
this module gives it the one that reads saved versions (`versions.store`), so a process may
finish any run whose version was saved — a draft run finishes only in the process that runs
that draft (it stays ``woken`` until then).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors import build_connectors
from engine.dispatch import EmbeddedDispatcher, Environments, Load, woken_runs
from engine.errors import LeaseHeld
from engine.outbox import drain_outbox
from engine.runner import RunEnv
from engine.store import Store, leases
from engine.workflow import Workflow
from versions.store import find_by_hash

#: how many times a run of a workflow re-lists the runs woken while it went
MAX_ROUNDS = 5


def version_loader(store: Store) -> Load:
    """Build a version's workflow from the version store (None: never saved)."""

    def load(workflow_id: str, version: str) -> Workflow | None:
        saved = find_by_hash(store, workflow_id, version)
        return saved.workflow() if saved is not None else None

    return load


def environments_around(env: RunEnv) -> Environments:
    """`env` plus any saved version of the store, sharing its writer and connectors."""
    return Environments.of(env, load=version_loader(env.store))


async def finish_woken(
    envs: Environments,
    workflow_id: str,
    *,
    concurrency: int = 32,
    on_done: Any = None,
    tried: set[int] | None = None,
) -> int:
    """Finish the woken runs of a workflow (of any version), again while new ones appear
    (a run may wake others); returns how many were finished here."""
    tried = set() if tried is None else tried
    done = 0
    for _ in range(MAX_ROUNDS):
        todo = [r for r in woken_runs(envs.store, workflow_id) if r not in tried]
        if not todo:
            break
        tried.update(todo)
        await EmbeddedDispatcher(envs, concurrency).run_all(todo, on_done=on_done)
        envs.writer.commit()
        done += len(todo)
    return done


async def finish_runs(
    store: Store,
    systems: dict[str, dict[str, Any]],
    run_ids: Iterable[int],
    *,
    concurrency: int = 8,
) -> dict[int, str | None]:
    """Finish these runs now (each on its version) with connectors built from `systems`;
    run id -> its outcome (None: its version could not be built here)."""
    connectors = build_connectors(systems)
    envs = Environments(store, connectors, load=version_loader(store))
    outcomes: dict[int, str | None] = {}
    try:
        await EmbeddedDispatcher(envs, concurrency).run_all(
            list(run_ids), on_done=lambda run_id, outcome: outcomes.__setitem__(run_id, outcome)
        )
        envs.writer.commit()
        await drain_outbox(store, connectors)
    finally:
        envs.close()
        await connectors.aclose()
    return outcomes


async def finish_unless_running(
    store: Store,
    systems: dict[str, dict[str, Any]],
    lease_names: Iterable[str],
    run_ids: list[int],
    holder: str,
    *,
    wait_s: float,
) -> bool:
    """Finish woken runs now, holding their workflows' runner leases (`lease_names`, waiting
    up to `wait_s` for each); False, with nothing done, when a runner holds one: it finishes
    them before it ends. The doors that wake runs (a queue decision, a scan) continue them
    through this."""
    held = []
    try:
        for name in sorted(set(lease_names)):
            held.append(await leases.wait_for(store, name, holder, wait_s=wait_s))
    except LeaseHeld:
        return False
    else:
        await finish_runs(store, systems, run_ids)
        return True
    finally:
        for lease in held:
            leases.release(store, lease)
