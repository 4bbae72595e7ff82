"""Who may do what: the acting user, and the one table of role → allowed actions.

Every door (CLI, API, editor, scheduler) goes through the service functions, which call
`require` before they act; the check is written here once. People act in one of `ROLES`;
orderhub's own processes act as system actors (`SCHEDULER`), whose roles no person can
be granted or claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import PermissionDenied

ROLES = ("admin", "ops_manager", "reviewer", "warehouse", "finance", "auditor")
SYSTEM_ROLES = ("scheduler",)

_READ_ALL = {
    "versions.list",
    "versions.show",
    "versions.diff",
    "versions.replay",
    "audit.list",
    "audit.verify",
    "runs.list",
    "outbox.status",
}
_CHANGE = {
    "versions.save",
    "versions.activate",
    "versions.rollback",
    "versions.approve",
    "runs.retry",
    "runs.start",
    "systems.change",
    "outbox.send",
}

_ROLES_ADMIN = {"roles.grant", "roles.revoke", "roles.list"}
_REVIEW = {"queue.list", "queue.decide"}
_ORDERS = {"orders.show", "orders.list"}  # every role; phones masked without orders.contact
_CONTACT = {"orders.contact"}  # the receiver's full phone
_ADDRESS = {"orders.address"}  # the street address: everyone but finance (DESIGN.md)
_INSIGHTS = {"insights.read"}  # channel health, hot SKUs, customer groups, the forecast
_INSIGHTS_ACT = {"insights.alert", "history.import"}  # raise hot-SKU alerts; import history
_TOKENS = {"tokens.create", "tokens.list", "tokens.revoke"}  # API tokens: admins only
_OPERATIONS = {"alerts.list", "systems.list", "metrics.read", "reports.read"}  # how it runs
_RETURNS = {"returns.list", "returns.scan", "returns.inspect"}  # returned parcels (after-sales)

ALLOWED: dict[str, frozenset[str]] = {
    "admin": frozenset(
        _READ_ALL
        | _CHANGE
        | _ROLES_ADMIN
        | _TOKENS
        | _OPERATIONS
        | _REVIEW
        | _ORDERS
        | _CONTACT
        | _ADDRESS
        | _INSIGHTS
        | _INSIGHTS_ACT
        | _RETURNS
    ),
    "ops_manager": frozenset(
        _READ_ALL
        | _CHANGE
        | _OPERATIONS
        | _REVIEW
        | _ORDERS
        | _CONTACT
        | _ADDRESS
        | _INSIGHTS
        | _INSIGHTS_ACT
        | _RETURNS
    ),
    "auditor": frozenset(
        _READ_ALL
        | _OPERATIONS
        | {"roles.list", "queue.list", "tokens.list"}
        | _ORDERS
        | _ADDRESS
        | _INSIGHTS
    ),
    "reviewer": frozenset(
        {"versions.list", "versions.show"} | _REVIEW | _ORDERS | _CONTACT | _ADDRESS
    ),
    "warehouse": frozenset({"versions.list", "versions.show"} | _ORDERS | _ADDRESS | _RETURNS),
    "finance": frozenset({"versions.list", "versions.show", "reports.read"} | _ORDERS | _INSIGHTS),
    # orderhub's own scheduler: it starts runs of active versions and sends the outbox
    "scheduler": frozenset({"runs.start", "outbox.send"}),
}
ACTIONS = frozenset().union(*ALLOWED.values())


@dataclass(frozen=True)
class Actor:
    """A user acting in a role (``li.wei:ops_manager``)."""

    user: str
    role: str

    def __str__(self) -> str:
        return f"{self.user}:{self.role}"


#: the scheduler, as its runs and audit records name it
SCHEDULER = Actor("scheduler", "scheduler")


def parse_actor(text: str) -> Actor:
    """``USER:ROLE`` as an `Actor`; raises `PermissionDenied` for a malformed value, an
    unknown role or a system role (no person acts as the scheduler)."""
    user, sep, role = text.strip().rpartition(":")
    if not sep or not user or not role:
        raise PermissionDenied(
            f"who is acting, {text!r}: write it as USER:ROLE, e.g. li.wei:ops_manager"
        )
    if role not in ROLES:
        kind = "orderhub's own role" if role in SYSTEM_ROLES else "an unknown role"
        raise PermissionDenied(
            f"who is acting, {text!r}: {role!r} is {kind}; people act as one of {', '.join(ROLES)}"
        )
    return Actor(user, role)


def allowed(actor: Actor, action: str) -> bool:
    return action in ALLOWED.get(actor.role, frozenset())


def require(actor: Actor, action: str) -> None:
    """Raise `PermissionDenied` unless the actor's role may do `action`, naming who may."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")  # a programming error, not a user's
    if not allowed(actor, action):
        roles = [role for role in ROLES if action in ALLOWED[role]]
        raise PermissionDenied(
            f"{actor.user} ({actor.role}) may not {action}; it needs the role " + " or ".join(roles)
        )
