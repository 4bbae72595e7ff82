"""What every endpoint depends on: the store, and the actor its bearer token names.

`needs(action)` declares, in the OpenAPI document (``x-action``), the role action an endpoint's
use case checks; `PUBLIC` marks the probes that need no token. The check itself stays in the
service layer: the declaration lets the tests find, for every endpoint, a role that must be
refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.errors import Unauthenticated
from engine.store import Store
from service.access import ACTIONS, Actor
from service.tokens import authenticate

PUBLIC: dict[str, Any] = {"x-public": True}

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`orderhub token create --user U --role R`), sent as "
    "`Authorization: Bearer oht_…`.",
)


def needs(action: str) -> dict[str, Any]:
    """The OpenAPI extra naming the role action an endpoint's use case requires."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return {"x-action": action}


def store_of(request: Request) -> Store:
    """The store the app was made with."""
    return request.app.state.store


def acting(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor of the request's bearer token; 401 without a valid one."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthenticated(
            "no token given: send Authorization: Bearer <token> (an admin makes one with "
            "orderhub token create)"
        )
    return authenticate(store_of(request), credentials.credentials)


StoreDep = Annotated[Store, Depends(store_of)]
ActorDep = Annotated[Actor, Depends(acting)]
