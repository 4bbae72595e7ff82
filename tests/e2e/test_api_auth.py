"""Auth for EVERY endpoint of the served OpenAPI document (issue 9, item 3), on a running
uvicorn over SQLite and PostgreSQL: no token → 401, an unknown one → 401, each role without
the endpoint's right → 403, a role with it is let in. The table is the document itself, so a
new endpoint cannot escape: one that declares no right (x-action) and is not public fails,
and so does one whose use case does not check the right it declares (the twin test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter

from engine.store import Store
from service.access import ALLOWED, ROLES
from service.api.auth import ActorDep, needs
from tests.e2e.api_server import client, fresh_database, serving, token_for
from tests.e2e.openapi_cases import minimal_request, operations

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[tuple[Store, dict[str, str]]]:
    with fresh_database(request.param) as store:
        yield store, {role: token_for(store, f"{role}.user", role) for role in ROLES}


def test_every_endpoint_refuses_no_token_and_roles_without_the_right(
    database: tuple[Store, dict[str, str]],
) -> None:
    store, role_tokens = database
    with serving(store) as url:
        problems, checked, refused = auth_problems(url, role_tokens)
    assert problems == []
    assert checked >= 30
    assert refused > 50  # the table did refuse: most endpoints are closed to some role


def test_the_table_catches_an_endpoint_that_skips_the_check(
    database: tuple[Store, dict[str, str]],
) -> None:
    """The twin: an extra router (as push intake adds one) with an endpoint that declares no
    right, and one that declares a right its code never checks, both fail the table."""
    store, role_tokens = database
    extra = APIRouter()

    @extra.get("/undeclared")
    def undeclared(actor: ActorDep) -> dict[str, str]:
        return {"who": actor.user}

    @extra.get("/unchecked", openapi_extra=needs("audit.verify"))
    def unchecked(actor: ActorDep) -> dict[str, str]:
        return {"who": actor.user}  # no use case, so nobody checks audit.verify

    with serving(store, routers=[extra]) as url:
        problems, _, _ = auth_problems(url, role_tokens)
    assert "GET /undeclared: declares no role action (x-action) and is not public" in problems
    assert "GET /unchecked: warehouse may not audit.verify, yet got 200" in problems
    assert all(p.startswith(("GET /undeclared", "GET /unchecked")) for p in problems)


def auth_problems(url: str, role_tokens: dict[str, str]) -> tuple[list[str], int, int]:
    """(what is wrong, operations checked, refusals seen) over the served document."""
    with client(url) as anonymous:
        document = anonymous.get("/openapi.json").json()
    ops = operations(document)
    problems: list[str] = []
    refused = 0
    as_role = {role: client(url, token) for role, token in role_tokens.items()}
    with client(url) as anonymous, client(url, "oht_not-a-token") as forged:
        for op in ops:
            request = minimal_request(document, op)
            if op.public:
                answer = anonymous.request(**request)
                if answer.status_code != 200:
                    problems.append(f"{op}: public, but {answer.status_code} without a token")
                continue
            if op.action is None:
                problems.append(f"{op}: declares no role action (x-action) and is not public")
                continue
            answer = anonymous.request(**request)
            if answer.status_code != 401 or answer.headers.get("www-authenticate") != "Bearer":
                problems.append(f"{op}: no token gave {answer.status_code}, not 401")
            if forged.request(**request).status_code != 401:
                problems.append(f"{op}: an unknown token was not refused with 401")
            for role in ROLES:
                may = op.action in ALLOWED[role]
                if may and op.method != "get":
                    continue  # a change by a role that may make it: not this test's business
                status = as_role[role].request(**request).status_code
                if not may and status != 403:
                    problems.append(f"{op}: {role} may not {op.action}, yet got {status}")
                refused += not may
                if may and op.method == "get" and status in (401, 403):
                    problems.append(f"{op}: {role} may {op.action}, yet got {status}")
    for each in as_role.values():
        each.close()
    return problems, len(ops), refused
