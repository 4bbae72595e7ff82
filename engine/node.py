"""The node contract: what a node type declares and what it may touch while it runs.

A node type is a class registered with `@node("type_name")` (see `engine.registry`). It
carries its own `Params` model (validation, defaults, the editor's form), the `outcomes` it
can emit, the `terminal` ones among them (on which a run may end when the workflow routes
them nowhere; every other outcome must be routed) and a one-line docstring; the validator,
the CLI's `nodes` command and the editor read them from the class, never from a second
list. It touches the outside world only through the `StepContext` it is given, so the same
node runs in the simulator, a replay and production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from engine.order import Order


@dataclass(frozen=True)
class Wait:
    """Something a run waits for when its step ends by waiting (see `engine.waits`).

    `kind` is ``queue`` (a person's decision in the queue `key`), ``stock`` (stock of
    ``SKU@warehouse``), ``system`` (the breaker of the system `key` closing), ``time``
    (`until`) or ``event`` (something named `key` happening outside the run, such as
    ``return:youzan:R1``, a returned parcel scanned in; its waker names it). `route` is
    the route a machine waker takes (a queue's decisions are the person's); None runs the
    waiting node again. `deadline`: past it the team is reminded
    once and the node's `timeout` route, if it has one, moves the order on.
    """

    kind: str
    key: str
    reason: str
    route: str | None = None
    until: datetime | None = None
    deadline: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a step decided: the route to take, data for later steps and the order's status.

    `detail` is kept in the run's state under the node id (later steps and expressions read
    it as ``state.<node_id>.<key>``). `status` and `reason` set the order's status when given.
    """

    name: str
    detail: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    reason: str | None = None
    #: the run parks at this node until one of these wakes it (waits the workflow gives no
    #: way out of are dropped; with none left the outcome routes as usual)
    waits: tuple[Wait, ...] = ()


class BaseNode:
    """A convenient base for node types: keeps the validated params and the node's id."""

    source: ClassVar[bool] = False
    side_effects: ClassVar[bool] = False
    terminal: ClassVar[tuple[str, ...]] = ()
    decisions: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Any, node_id: str) -> None:
        self.params = params
        self.node_id = node_id


class NodeType(Protocol):
    """The shape of a node type class (documentation for plug-in authors)."""

    type_name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    outcomes: ClassVar[tuple[str, ...]]
    #: a source node runs once per trigger and yields orders instead of routing one
    source: ClassVar[bool]
    #: a node with side effects commits its step before and after its external calls
    side_effects: ClassVar[bool]
    #: outcomes on which the run may end when the workflow routes them nowhere (finish's
    #: ``done``); every other outcome needs a route or ``next`` (the validator says where)
    terminal: ClassVar[tuple[str, ...]]
    #: outcomes only a wake chooses (a person's decision, restocked, timeout): they need no
    #: route (an unrouted one is not offered) and may lead back to an earlier node (retry)
    decisions: ClassVar[tuple[str, ...]]

    def __init__(self, params: BaseModel, node_id: str) -> None: ...

    async def run(self, order: Order, ctx: StepContext) -> Outcome: ...


class StepContext(Protocol):
    """Everything a step may use: its run, the store façade, the connectors and the clock."""

    run_id: int
    node_id: str
    workflow_id: str
    version: str
    params: dict[str, Any]
    state: dict[str, Any]
    dry_run: bool
    store: Any
    connectors: Any

    def now(self) -> datetime: ...

    def effect_key(self, *parts: str) -> str: ...
